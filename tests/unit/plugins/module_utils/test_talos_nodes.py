# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the Talos node modules: talosctl output parsers, error classes, masking, upgrade plans."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    MASK,
    TalosOutputError,
    classify_error,
    go_duration,
    mask_config,
    normalize_version,
    parse_dry_run,
    parse_dry_run_mode,
    parse_etcd_members,
    parse_extensions,
    parse_health,
    parse_installer_image,
    parse_json_stream,
    parse_machine_status,
    parse_version,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.upgrade_plan import (
    NodeState,
    UpgradePlanError,
    UpgradeTarget,
    plan_upgrade,
)

SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
OTHER = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"

VERSION = """Client:
\tTag:         v1.13.9
\tSHA:         2e1b2b2a
\tBuilt:
\tGo version:  go1.24.9
\tOS/Arch:     linux/amd64
Server:
\tNODE:        10.5.0.2
\tTag:         v1.13.8
\tSHA:         1b2c3d4e
\tBuilt:
\tGo version:  go1.24.9
\tOS/Arch:     linux/amd64
\tEnabled:     RBAC
\tNODE:        10.5.0.3
\tTag:         v1.13.9
"""

MEMBERS = """NODE       ID                 HOSTNAME   PEER URLS               CLIENT URLS             LEARNER
10.5.0.2   2b2bf5d5be5cf1b0   cp-1       https://10.5.0.2:2380   https://10.5.0.2:2379   false
10.5.0.2   9a1c3e0d4f7b2a11   cp-2       https://10.5.0.3:2380   https://10.5.0.3:2379,https://[fd00::3]:2379   true
"""

MACHINE_STATUS = """{
    "node": "10.5.0.2",
    "metadata": {"namespace": "runtime", "type": "MachineStatuses.runtime.talos.dev", "id": "machine"},
    "spec": {"stage": "running", "status": {"ready": true, "unmetConditions": []}}
}
{
    "node": "10.5.0.3",
    "metadata": {"namespace": "runtime", "type": "MachineStatuses.runtime.talos.dev", "id": "machine"},
    "spec": {"stage": "booting", "status": {"ready": false,
             "unmetConditions": [{"name": "services", "reason": "service etcd not healthy"}]}}
}
"""

EXTENSIONS = """{"node": "10.5.0.2", "metadata": {"id": "0"},
 "spec": {"image": "", "metadata": {"name": "qemu-guest-agent", "version": "9.2.0"}}}
{"node": "10.5.0.2", "metadata": {"id": "1"},
 "spec": {"image": "", "metadata": {"name": "schematic", "version": "SCHEMATIC_ID"}}}
{"node": "10.5.0.3", "metadata": {"id": "0"},
 "spec": {"image": "", "metadata": {"name": "iscsi-tools", "version": "v0.2.0"}}}
""".replace("SCHEMATIC_ID", SCHEMATIC)

HEALTH_OK = """discovered nodes: ["10.5.0.2" "10.5.0.3"]
waiting for etcd to be healthy: ...
waiting for etcd to be healthy: OK
waiting for etcd members to be consistent across nodes: OK
waiting for apid to be ready: OK
waiting for all k8s nodes to report ready: OK
"""

HEALTH_FAILED = """discovered nodes: ["10.5.0.2" "10.5.0.3"]
waiting for etcd to be healthy: OK
waiting for kubelet to be healthy: ...
waiting for kubelet to be healthy: 1 error occurred:
\t* 10.5.0.4: service "kubelet" not in expected state "Running": current state [Preparing] Running pre state

healthcheck error: rpc error: code = DeadlineExceeded desc = context deadline exceeded
"""


# --------------------------------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------------------------------


def test_version_per_node():
    parsed = parse_version(VERSION)
    assert parsed["client"]["tag"] == "v1.13.9"
    assert parsed["servers"]["10.5.0.2"]["tag"] == "v1.13.8"
    assert parsed["servers"]["10.5.0.2"]["os_arch"] == "linux/amd64"
    assert parsed["servers"]["10.5.0.3"] == {"tag": "v1.13.9"}


def test_version_without_node_line_and_short_client():
    parsed = parse_version("Client:\n\tTalos v1.13.9\nServer:\n\tTag:         v1.13.9\n")
    assert parsed == {"client": {"tag": "v1.13.9"}, "servers": {"": {"tag": "v1.13.9"}}}


def test_etcd_members_table():
    members = parse_etcd_members(MEMBERS)
    assert [member["hostname"] for member in members] == ["cp-1", "cp-2"]
    assert members[0]["id"] == "2b2bf5d5be5cf1b0" and members[0]["learner"] is False
    assert members[1]["client_urls"] == ["https://10.5.0.3:2379", "https://[fd00::3]:2379"]
    assert members[1]["learner"] is True
    assert parse_etcd_members("") == []


def test_etcd_members_bad_output():
    with pytest.raises(TalosOutputError):
        parse_etcd_members("something else entirely\n")
    with pytest.raises(TalosOutputError):
        parse_etcd_members(MEMBERS.splitlines()[0] + "\n10.5.0.2 short row\n")


def test_json_stream_objects_and_lists():
    assert parse_json_stream('{"a": 1}\n{"b": 2}\n') == [{"a": 1}, {"b": 2}]
    assert parse_json_stream('[{"a": 1}, 3]') == [{"a": 1}]
    assert parse_json_stream("  \n") == []
    with pytest.raises(TalosOutputError):
        parse_json_stream('{"a": ')


def test_machine_status():
    statuses = parse_machine_status(MACHINE_STATUS)
    assert statuses["10.5.0.2"] == {"stage": "running", "ready": True, "unmet_conditions": []}
    assert statuses["10.5.0.3"]["ready"] is False
    assert statuses["10.5.0.3"]["unmet_conditions"] == ["services: service etcd not healthy"]


def test_extensions_and_schematic():
    found = parse_extensions(EXTENSIONS)
    assert found["10.5.0.2"]["schematic"] == SCHEMATIC
    assert found["10.5.0.2"]["extensions"] == [{"name": "qemu-guest-agent", "version": "9.2.0"}]
    assert found["10.5.0.3"]["schematic"] is None


@pytest.mark.parametrize(
    ("image", "repository", "version", "schematic"),
    [
        (
            f"factory.talos.dev/metal-installer/{SCHEMATIC}:v1.13.9",
            f"factory.talos.dev/metal-installer/{SCHEMATIC}",
            "v1.13.9",
            SCHEMATIC,
        ),
        (
            f"factory.talos.dev/installer/{SCHEMATIC}:v1.13.9",
            f"factory.talos.dev/installer/{SCHEMATIC}",
            "v1.13.9",
            SCHEMATIC,
        ),
        ("ghcr.io/siderolabs/installer:v1.13.9", "ghcr.io/siderolabs/installer", "v1.13.9", None),
        (
            "registry.local:5000/siderolabs/installer:v1.13.9-beta.1",
            "registry.local:5000/siderolabs/installer",
            "v1.13.9-beta.1",
            None,
        ),
        ("registry.local:5000/installer", "registry.local:5000/installer", None, None),
        ("ghcr.io/siderolabs/installer:latest@sha256:" + "a" * 64, "ghcr.io/siderolabs/installer", None, None),
    ],
)
def test_installer_image(image, repository, version, schematic):
    ref = parse_installer_image(image)
    assert (ref.repository, ref.version, ref.schematic) == (repository, version, schematic)


def test_installer_image_rejects_garbage():
    for bad in ("", "two words"):
        with pytest.raises(ValueError):
            parse_installer_image(bad)
    with pytest.raises(ValueError, match="no Talos version tag"):
        UpgradeTarget.from_image("ghcr.io/siderolabs/installer:latest")
    assert UpgradeTarget.from_image("ghcr.io/siderolabs/installer:1.13.9").version == "v1.13.9"


def test_normalize_version():
    assert normalize_version("1.13.9") == normalize_version("v1.13.9") == "v1.13.9"
    assert normalize_version(None) is None and normalize_version("") is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "rpc error: code = Unavailable desc = connection error: transport: authentication handshake failed: "
            "tls: failed to verify certificate: x509: certificate signed by unknown authority",
            "maintenance",
        ),
        ("rpc error: code = Unimplemented desc = API is not implemented in maintenance mode", "maintenance"),
        ("remote error: tls: certificate required", "maintenance"),
        ("rpc error: code = AlreadyExists desc = etcd data directory is not empty", "already_exists"),
        (
            "rpc error: code = Unavailable desc = connection error: dial tcp 10.5.0.9:50000: connect: connection "
            "refused",
            "unreachable",
        ),
        ("context deadline exceeded", "unreachable"),
        ("rpc error: code = NotFound desc = resource not found", "not_found"),
        ("rpc error: code = Unavailable desc = error reading from server: EOF", "unreachable"),
        ("rpc error: code = Unavailable desc = etcd is not running on this node", "other"),
        ("rpc error: code = InvalidArgument desc = config validation failed", "other"),
        ("", "other"),
    ],
)
def test_classify_error(text, kind):
    assert classify_error(text) == kind


# --------------------------------------------------------------------------------------------------------------
# Dry run, health, masking, durations
# --------------------------------------------------------------------------------------------------------------

DRY_RUN_CHANGED = """Dry run summary:
Applied configuration without a reboot (skipped in dry-run).
Config diff:

--- a
+++ b
@@ -1,3 +1,3 @@
 machine:
-  token: abcdef.0123456789abcdef
+  token: zyxwvu.0123456789abcdef
"""

DRY_RUN_UNCHANGED = """Dry run summary:
Applied configuration without a reboot (skipped in dry-run).
Config diff:

No changes.
"""


def test_dry_run():
    changed, diff = parse_dry_run(DRY_RUN_CHANGED)
    assert changed and diff.startswith("--- a") and "+  token: zyxwvu" in diff
    assert parse_dry_run(DRY_RUN_UNCHANGED) == (False, "")
    assert parse_dry_run("") == (False, "")
    assert parse_dry_run_mode(DRY_RUN_CHANGED) == "Applied configuration without a reboot (skipped in dry-run)."
    assert parse_dry_run_mode("nothing") is None


def test_health_ok():
    parsed = parse_health(HEALTH_OK)
    assert parsed["failed_check"] is None and parsed["failed_nodes"] == {}
    assert [check["name"] for check in parsed["checks"]] == [
        "etcd to be healthy",
        "etcd members to be consistent across nodes",
        "apid to be ready",
        "all k8s nodes to report ready",
    ]
    assert all(check["ok"] for check in parsed["checks"])


def test_health_failed_names_check_and_node():
    parsed = parse_health(HEALTH_FAILED)
    assert parsed["failed_check"] == "kubelet to be healthy"
    assert list(parsed["failed_nodes"]) == ["10.5.0.4"]
    assert 'service "kubelet" not in expected state' in parsed["failed_nodes"]["10.5.0.4"]


def test_mask_config_hides_keys_and_tokens_keeps_certificates():
    text = (
        "machine:\n  token: abcdef.0123456789abcdef\n  ca:\n    crt: LS0tCRT\n    key: LS0tKEY\n"
        "cluster:\n  secretboxEncryptionSecret: c2VjcmV0\n  aescbcEncryptionSecret: ''\n"
        "  serviceAccount:\n    key: LS0tSA\n  network:\n    cni:\n      name: none\n"
        "  - privateKey: wgkey\n"
    )
    masked = mask_config(text)
    for secret in ("abcdef.0123456789abcdef", "LS0tKEY", "c2VjcmV0", "LS0tSA", "wgkey"):
        assert secret not in masked
    assert "crt: LS0tCRT" in masked and "name: none" in masked and "aescbcEncryptionSecret: ''" in masked
    assert masked.count(MASK) == 5
    diff = mask_config("-  token: old.value\n+  token: new.value\n   name: x\n")
    assert diff == f"-  token: {MASK}\n+  token: {MASK}\n   name: x\n"


def test_go_duration():
    assert go_duration(300) == "300s" and go_duration(0.5) == "0.5s" and go_duration(2.0) == "2s"
    with pytest.raises(ValueError):
        go_duration(-1)


# --------------------------------------------------------------------------------------------------------------
# plan_upgrade
# --------------------------------------------------------------------------------------------------------------

TARGET = UpgradeTarget.from_image(f"factory.talos.dev/metal-installer/{SCHEMATIC}:v1.13.9")


def state(name, role="controlplane", version="v1.13.8", schematic=SCHEMATIC, ready=True):
    return NodeState(
        name=name,
        address=f"10.0.0.{name[-1]}",
        role=role,
        version=version,
        schematic=schematic,
        ready=ready,
        stage="running" if ready else "rebooting",
    )


def actions(steps):
    return [(step.node, step.action) for step in steps]


def test_plan_control_planes_first_in_given_order():
    nodes = [state("w1", "worker"), state("cp2"), state("w2", "worker"), state("cp1"), state("cp3")]
    steps = plan_upgrade(nodes, TARGET)
    assert actions(steps) == [
        ("cp2", "upgrade"),
        ("cp1", "upgrade"),
        ("cp3", "upgrade"),
        ("w1", "upgrade"),
        ("w2", "upgrade"),
    ]
    assert steps[0].reason == "Talos v1.13.8 -> v1.13.9"
    assert steps[0].image == TARGET.image and steps[0].to_schematic == SCHEMATIC


def test_plan_skips_nodes_on_target_version_and_schematic():
    nodes = [
        state("cp1", version="v1.13.9"),
        state("cp2", version="1.13.9", schematic=OTHER),
        state("w1", "worker", version="v1.13.9"),
    ]
    steps = plan_upgrade(nodes, TARGET)
    assert actions(steps) == [("cp1", "skip"), ("cp2", "upgrade"), ("w1", "skip")]
    assert steps[1].reason == f"schematic {OTHER} -> {SCHEMATIC}"
    assert all(step.action == "skip" for step in plan_upgrade([state("cp1", version="v1.13.9")], TARGET))


def test_plan_non_factory_image_matches_node_without_schematic():
    target = UpgradeTarget.from_image("ghcr.io/siderolabs/installer:v1.13.9")
    nodes = [
        state("cp1", version="v1.13.9", schematic=None),
        state("cp2", version="v1.13.9"),
        state("cp3", version="v1.13.9", schematic=OTHER),
    ]
    steps = plan_upgrade(nodes, target)
    assert actions(steps) == [("cp1", "skip"), ("cp2", "upgrade"), ("cp3", "skip")]  # OTHER is the default schematic


def test_plan_resume_after_interruption():
    """cp1 finished, cp2 rebooted mid-upgrade and is back on the old version but not ready yet: it goes first."""
    nodes = [state("cp1", version="v1.13.9"), state("cp3"), state("cp2", ready=False), state("w1", "worker")]
    steps = plan_upgrade(nodes, TARGET)
    assert actions(steps) == [("cp2", "upgrade"), ("cp1", "skip"), ("cp3", "upgrade"), ("w1", "upgrade")]


def test_plan_waits_for_a_node_that_finished_but_is_not_ready():
    nodes = [state("cp1"), state("cp2", version="v1.13.9", ready=False)]
    assert actions(plan_upgrade(nodes, TARGET)) == [("cp2", "wait"), ("cp1", "upgrade")]


def test_plan_refuses_when_quorum_is_at_risk():
    nodes = [state("cp1", ready=False), state("cp2", ready=False), state("cp3")]
    with pytest.raises(UpgradePlanError, match="cp1, cp2 are not ready"):
        plan_upgrade(nodes, TARGET)
    # workers that are down do not touch etcd quorum
    nodes = [state("cp1"), state("w1", "worker", ready=False), state("w2", "worker", ready=False)]
    assert actions(plan_upgrade(nodes, TARGET)) == [("cp1", "upgrade"), ("w1", "upgrade"), ("w2", "upgrade")]


def test_plan_per_node_targets_and_errors():
    other = UpgradeTarget.from_image(f"factory.talos.dev/metal-installer/{OTHER}:v1.13.9")
    steps = plan_upgrade([state("cp1"), state("w1", "worker", schematic=OTHER)], {"cp1": TARGET, "w1": other})
    assert [step.image for step in steps] == [TARGET.image, other.image]
    with pytest.raises(UpgradePlanError, match="node w1: no target image"):
        plan_upgrade([state("w1", "worker")], {"cp1": TARGET})
    with pytest.raises(UpgradePlanError, match="node x1: role"):
        plan_upgrade([state("x1", "etcd")], TARGET)


def test_plan_step_as_dict():
    step = plan_upgrade([state("cp1")], TARGET)[0]
    data = step.as_dict()
    assert data["node"] == "cp1" and data["action"] == "upgrade" and "extra" not in data


def test_plan_compares_only_the_version_when_the_schematic_is_unknown():
    unknown = state("cp1", version="v1.13.9", schematic=None)
    unknown.schematic_known = False
    steps = plan_upgrade([unknown, state("cp2", schematic=None)], TARGET)
    assert actions(steps) == [("cp1", "skip"), ("cp2", "upgrade")]
    assert "only the version was compared" in steps[0].reason
