# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Talos node modules against the sandbox's talosctl stand-in: 3 control planes and 2 workers.

Every talosctl command line the modules run is checked against the v1.13.9 CLI reference at the end of each test.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

pytest.importorskip("sandbox.simulators.talos.nodes", reason="the sandbox is not available (installed collection)")

import ansible_collections.talosforge.cluster.plugins.modules.talos_apply_config as apply_config_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_bootstrap as bootstrap_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_etcd_snapshot as etcd_snapshot_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_health as health_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_info as info_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_kubeconfig as kubeconfig_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_reset as reset_module
import ansible_collections.talosforge.cluster.plugins.modules.talos_upgrade as upgrade_module
from ansible.module_utils.testing import patch_module_args
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.apply_config import apply_configs
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.bootstrap import bootstrap_etcd
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.etcd_snapshot import take_snapshot
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.health import HealthCheckFailed, cluster_health
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.info import read_cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.kubeconfig_fetch import keep_kubeconfig
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import NodesFailed, TalosInputError
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.reset import reset_nodes
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.upgrade import upgrade_cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.upgrade_plan import UpgradePlanError
from talos_lab import (
    ADDRESSES,
    CONTROL_PLANES,
    NEW_IMAGE,
    NEW_VERSION,
    OLD_IMAGE,
    OLD_VERSION,
    QEMU_SCHEMATIC,
    STANDIN,
    WORKERS,
    Lab,
)

pytestmark = pytest.mark.skipif(not STANDIN.exists(), reason="sandbox/bin/talosctl is not there")


def module_work(module: Any, work: Any) -> SimpleNamespace:
    """What ``Lab.run`` takes: the module's options and main(), and its work as ``run_module(params, check_mode,
    talosctl)`` (the work lives in module_utils; the module file is only its documentation, options and main())."""
    return SimpleNamespace(argument_spec=module.argument_spec, run_module=work, main=module.main)


talos_apply_config = module_work(apply_config_module, apply_configs)
talos_bootstrap = module_work(bootstrap_module, bootstrap_etcd)
talos_etcd_snapshot = module_work(etcd_snapshot_module, take_snapshot)
talos_health = module_work(health_module, cluster_health)
talos_info = module_work(info_module, read_cluster)
talos_kubeconfig = module_work(kubeconfig_module, keep_kubeconfig)
talos_reset = module_work(reset_module, reset_nodes)
talos_upgrade = module_work(upgrade_module, upgrade_cluster)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Lab:
    """Five nodes in maintenance mode with their configurations (made once, copied for each test)."""
    return Lab(tmp_path_factory.mktemp("talos-template")).create()


@pytest.fixture(scope="module")
def configured_template(template, tmp_path_factory) -> Lab:
    """The same nodes configured, not bootstrapped (made once, copied for each test)."""
    lab = template.copy_to(tmp_path_factory.mktemp("talos-configured"))
    lab.run(talos_apply_config, nodes=lab.nodes(config=True))
    lab.check_contract()
    return lab


@pytest.fixture(scope="module")
def running_template(configured_template, tmp_path_factory) -> Lab:
    """The same nodes configured and bootstrapped (made once, copied for each test)."""
    lab = configured_template.copy_to(tmp_path_factory.mktemp("talos-running"))
    lab.run(talos_bootstrap, nodes=lab.nodes())
    lab.check_contract()
    return lab


@pytest.fixture
def lab(template, tmp_path):
    lab = template.copy_to(tmp_path / "lab")
    yield lab
    lab.check_contract()


@pytest.fixture
def configured(configured_template, tmp_path):
    lab = configured_template.copy_to(tmp_path / "configured")
    yield lab
    lab.check_contract()


@pytest.fixture
def cluster(running_template, tmp_path):
    lab = running_template.copy_to(tmp_path / "cluster")
    yield lab
    lab.check_contract()


def applied(lab: Lab) -> list[list[str]]:
    """The apply-config command lines (not dry runs) of the last run."""
    return [argv for argv in lab.last.commands() if argv[0] == "apply-config" and "--dry-run" not in argv]


# --------------------------------------------------------------------------------------------------------------
# talos_apply_config
# --------------------------------------------------------------------------------------------------------------


def test_apply_insecure_first_then_mtls_unchanged(lab):
    planned = lab.run(talos_apply_config, check_mode=True, nodes=lab.nodes("cp1", "w1", config=True))
    assert planned["changed"] is True and applied(lab) == []
    # cp1: mTLS refused, insecure read, dry run; then, as cp1 was in maintenance mode, w1: insecure read, dry run
    assert len(lab.last.commands()) == 5
    assert all(entry["maintenance"] and entry["insecure"] for entry in planned["nodes"])
    assert {lab.node(name).stage for name in ADDRESSES} == {"maintenance"}

    result = lab.run(talos_apply_config, nodes=lab.nodes(config=True))
    assert result["changed"] is True
    assert [entry["name"] for entry in result["nodes"]] == list(ADDRESSES)
    assert all(entry["applied"] and entry["maintenance"] for entry in result["nodes"])
    assert all("--insecure" in argv for argv in applied(lab)) and len(applied(lab)) == 5
    assert {lab.node(name).stage for name in ADDRESSES} == {"running"}
    assert {lab.node(name).talos_version for name in ADDRESSES} == {OLD_VERSION}
    assert len(result["diff"]) == 5
    secrets = yaml.safe_load(Path(lab.configs / "secrets.yaml").read_text())
    token = secrets["trustdinfo"]["token"]
    assert token not in json.dumps(result)

    again = lab.run(talos_apply_config, nodes=lab.nodes(config=True))
    assert again["changed"] is False and "diff" not in again
    assert all(not entry["insecure"] and not entry["maintenance"] for entry in again["nodes"])
    assert applied(lab) == []
    assert not any("--insecure" in argv for argv in lab.last.commands())


def test_apply_a_configured_node_after_one_in_maintenance_mode(lab):
    lab.run(talos_apply_config, nodes=lab.nodes("w1", config=True))
    result = lab.run(talos_apply_config, nodes=lab.nodes("cp1", "w1", config=True))
    entries = {entry["name"]: entry for entry in result["nodes"]}
    assert entries["cp1"]["applied"] and entries["cp1"]["maintenance"]
    assert not entries["w1"]["applied"] and not entries["w1"]["insecure"] and not entries["w1"]["changed"]
    w1 = lab.node("w1").address
    probes = [argv for argv in lab.last.commands() if argv[:2] == ["get", "machinestatus"] and w1 in argv]
    # cp1 (first) was in maintenance mode, so w1 was asked on the maintenance API first, refused it, then mTLS
    assert ["--insecure" in argv for argv in probes][:2] == [True, False]


def test_apply_dry_run_decides_and_masks_the_diff(cluster):
    path = Path(cluster.config_path("w1"))
    documents = list(yaml.safe_load_all(path.read_text()))
    documents[0]["machine"]["sysctls"] = {"net.core.somaxconn": "65535"}
    path.write_text(yaml.safe_dump_all(documents))  # sorted keys: the diff shows the machine token too
    token = documents[0]["machine"]["token"]
    planned = cluster.run(talos_apply_config, check_mode=True, nodes=cluster.nodes(config=True), mode="no-reboot")
    assert planned["changed"] is True and applied(cluster) == []
    assert [entry["name"] for entry in planned["nodes"] if entry["changed"]] == ["w1"]
    (diff,) = planned["diff"]
    assert "net.core.somaxconn" in diff["prepared"] and "w1 (10.5.0.21)" in diff["prepared"]
    assert token in path.read_text() and token not in diff["prepared"]

    result = cluster.run(talos_apply_config, nodes=cluster.nodes("cp1", "w1", config=True), mode="no-reboot")
    assert result["changed"] is True and len(applied(cluster)) == 1 and "10.5.0.21" in applied(cluster)[0]
    assert cluster.run(talos_apply_config, nodes=cluster.nodes("cp1", "w1", config=True))["changed"] is False

    documents[0]["machine"]["token"] = "abcdef.0123456789abcdef"  # not an immediate change
    path.write_text(yaml.safe_dump_all(documents))
    with pytest.raises(NodesFailed) as caught:
        cluster.run(talos_apply_config, nodes=cluster.nodes("cp1", "w1", config=True), mode="no-reboot")
    assert "node w1:" in str(caught.value) and "can't be applied in immediate mode" in str(caught.value)
    assert "abcdef.0123456789abcdef" not in str(caught.value) and token not in str(caught.value)


def test_node_that_never_leaves_maintenance_is_named(lab):
    lab.sandbox.set_fault(WORKERS["w2"], "never-leaves-maintenance")
    with pytest.raises(NodesFailed) as caught:
        lab.run(talos_apply_config, nodes=lab.nodes("cp1", "w1", "w2", config=True), wait_timeout=0.3)
    message = str(caught.value)
    assert "node w2:" in message and "did not leave maintenance mode within 0.3 s" in message
    assert [failure["name"] for failure in caught.value.failures] == ["w2"]
    assert [entry["applied"] for entry in caught.value.result["nodes"]] == [True, True, True]
    assert lab.node("w2").stage == "maintenance"
    assert [lab.node(name).stage for name in ("cp1", "w1", "cp2")] == ["running", "running", "maintenance"]


def test_bad_input_for_one_node_touches_no_node(lab):
    missing = lab.nodes(config=True)
    missing[4]["config"] = str(lab.configs / "nope.yaml")
    with pytest.raises(TalosInputError, match=r"nodes\[4\]\.config \(w2\): cannot read"):
        lab.run(talos_apply_config, nodes=missing)
    assert lab.last.commands() == []

    Path(lab.config_path("w2")).write_text("version: v1alpha1\nmachine:\n  type: worker\n")
    with pytest.raises(NodesFailed) as caught:
        lab.run(talos_apply_config, nodes=lab.nodes(config=True))
    assert [f["name"] for f in caught.value.failures] == ["w2"] and "No node was changed" in str(caught.value)
    assert applied(lab) == []
    assert {lab.node(name).stage for name in ADDRESSES} == {"maintenance"}


def test_unreachable_node_fails_the_read_phase(lab):
    lab.sandbox.set_fault(CONTROL_PLANES["cp3"], "unreachable")
    with pytest.raises(NodesFailed, match="node cp3: .*no route to host"):
        lab.run(talos_apply_config, nodes=lab.nodes(config=True))
    assert applied(lab) == []


# --------------------------------------------------------------------------------------------------------------
# talos_bootstrap, talos_kubeconfig, talos_health, talos_info
# --------------------------------------------------------------------------------------------------------------


def test_bootstrap_exactly_once(configured):
    lab = configured
    planned = lab.run(talos_bootstrap, check_mode=True, nodes=lab.nodes())
    assert planned == {"changed": True, "already_bootstrapped": False, "node": "cp1", "members": []}
    assert not any(argv[0] == "bootstrap" for argv in lab.last.commands())

    first = lab.run(talos_bootstrap, nodes=lab.nodes())
    assert first["changed"] is True and first["node"] == "cp1"
    assert [argv for argv in lab.last.commands() if argv[0] == "bootstrap"] == [
        ["bootstrap", "--talosconfig", lab.talosconfig, "--nodes", "10.5.0.11", "--endpoints", "10.5.0.11"]
    ]
    assert len(first["members"]) == 3

    second = lab.run(talos_bootstrap, nodes=list(reversed(lab.nodes())))
    assert second["changed"] is False and second["already_bootstrapped"] is True
    assert not any(argv[0] == "bootstrap" for argv in lab.last.commands())


def test_bootstrap_refuses_a_node_in_maintenance(lab):
    with pytest.raises(NodesFailed, match="node cp1: answers only the maintenance API"):
        lab.run(talos_bootstrap, nodes=lab.nodes())


def test_kubeconfig_written_private_and_kept(cluster):
    path = cluster.root / "kube" / "config"
    first = cluster.run(talos_kubeconfig, nodes=cluster.nodes(), path=str(path))
    assert first["changed"] is True and first["context"] == "admin@lab" and first["server"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert "client-key-data" in text and "client-key-data" not in json.dumps(first)

    again = cluster.run(talos_kubeconfig, nodes=cluster.nodes(), path=str(path))
    assert again["changed"] is False and again["reason"].startswith("up to date") and path.read_text() == text

    renewed = cluster.run(talos_kubeconfig, nodes=cluster.nodes(), path=str(path), renew_before_days=4000)
    assert renewed["changed"] is True and "expires" in renewed["reason"] and path.read_text() != text


def test_kubeconfig_merge_keeps_other_clusters(cluster):
    path = cluster.root / "merged"
    other = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "home", "cluster": {"server": "https://home:6443"}}],
        "users": [{"name": "me", "user": {"token": "t"}}],
        "contexts": [{"name": "home", "context": {"cluster": "home", "user": "me"}}],
        "current-context": "home",
    }
    path.write_text(yaml.safe_dump(other))
    os.chmod(path, 0o644)
    planned = cluster.run(talos_kubeconfig, check_mode=True, nodes=cluster.nodes(), path=str(path), merge=True)
    assert planned["changed"] is True and yaml.safe_load(path.read_text()) == other
    result = cluster.run(talos_kubeconfig, nodes=cluster.nodes(), path=str(path), merge=True)
    merged = yaml.safe_load(path.read_text())
    assert result["changed"] is True
    assert [item["name"] for item in merged["contexts"]] == ["home", "admin@lab"]
    assert merged["current-context"] == "admin@lab"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cluster.run(talos_kubeconfig, nodes=cluster.nodes(), path=str(path), merge=True)["changed"] is False
    replaced = cluster.run(talos_kubeconfig, nodes=cluster.nodes(), path=str(path))
    assert replaced["changed"] is True and "merge is false" in replaced["reason"]


def test_health_and_info(cluster):
    health = cluster.run(talos_health, nodes=cluster.nodes(), wait_timeout=5)
    assert health["changed"] is False and health["node"] == "cp1"
    assert health["checks"] and all(check["ok"] for check in health["checks"])
    argv = next(argv for argv in cluster.last.commands() if argv[0] == "health")
    assert argv[argv.index("--control-plane-nodes") + 1] == "10.5.0.11,10.5.0.12,10.5.0.13"
    assert argv[argv.index("--worker-nodes") + 1] == "10.5.0.21,10.5.0.22"

    info = cluster.run(talos_info, nodes=cluster.nodes("cp1", "cp2", "w1"))
    assert info["changed"] is False
    assert [(node["name"], node["version"], node["stage"]) for node in info["nodes"]] == [
        (name, OLD_VERSION, "running") for name in ("cp1", "cp2", "w1")
    ]
    assert {node["installer_image"] for node in info["nodes"]} == {OLD_IMAGE}
    assert all(node["ready"] and node["schematic"] for node in info["nodes"])
    assert len(info["etcd_members"]) == 3


def test_health_failure_names_check_and_node(cluster):
    cluster.sandbox.set_fault(WORKERS["w2"], "unreachable")
    with pytest.raises(HealthCheckFailed) as caught:
        cluster.run(talos_health, nodes=cluster.nodes(), wait_timeout=1)
    assert "health check '" in str(caught.value) and "w2 (" in str(caught.value)
    assert list(caught.value.failure()["details"]["failed_nodes"]) == ["w2"]
    info = cluster.run(talos_info, nodes=cluster.nodes("cp1", "w2"))
    assert [node["name"] for node in info["nodes"] if not node["reachable"]] == ["w2"]
    assert "no route to host" in info["nodes"][1]["error"] and len(info["etcd_members"]) == 3


# --------------------------------------------------------------------------------------------------------------
# talos_upgrade
# --------------------------------------------------------------------------------------------------------------


def upgrade_order(lab: Lab) -> list[str]:
    names = {address: name for name, address in ADDRESSES.items()}
    return [names[argv[argv.index("--nodes") + 1]] for argv in lab.last.commands() if argv[0] == "upgrade"]


def test_upgrade_rolls_control_planes_first_and_resumes(cluster):
    planned = cluster.run(talos_upgrade, check_mode=True, nodes=cluster.nodes("w1", "cp1"), image=NEW_IMAGE)
    assert planned["changed"] is True and upgrade_order(cluster) == []
    assert [(step["node"], step["action"], step["status"]) for step in planned["steps"]] == [
        ("cp1", "upgrade", "planned"),
        ("w1", "upgrade", "planned"),
    ]
    assert (
        planned["diff"]["after"]
        == f"cp1: {NEW_VERSION} schematic {QEMU_SCHEMATIC}\nw1: {NEW_VERSION} schematic {QEMU_SCHEMATIC}\n"
    )

    # cp2 reboots in the middle of its upgrade for longer than the task waits: the task fails naming it.
    cluster.sandbox.set_fault(CONTROL_PLANES["cp2"], "reboot-during-upgrade", calls=6)
    nodes = list(reversed(cluster.nodes()))  # the order of the list does not matter: control planes go first
    with pytest.raises(NodesFailed) as caught:
        cluster.run(talos_upgrade, nodes=nodes, image=NEW_IMAGE, wait_timeout=0.2, health_check=False)
    assert "node cp2:" in str(caught.value) and "Re-run the task to resume" in str(caught.value)
    statuses = {step["node"]: step["status"] for step in caught.value.result["steps"]}
    assert statuses == {"cp3": "upgraded", "cp2": "failed", "cp1": "pending", "w2": "pending", "w1": "pending"}
    assert cluster.node("cp1").talos_version == OLD_VERSION

    # The re-run waits for cp2 to come back, finds it upgraded, and goes on with the nodes still behind.
    resumed = cluster.run(talos_upgrade, nodes=nodes, image=NEW_IMAGE, wait_timeout=10)
    assert resumed["changed"] is True and resumed["upgraded"] == ["cp1", "w2", "w1"]
    assert upgrade_order(cluster) == ["cp1", "w2", "w1"]
    assert {step["node"]: step["status"] for step in resumed["steps"]}["cp2"] == "skipped"
    assert {(cluster.node(name).talos_version, cluster.node(name).schematic) for name in ADDRESSES} == {
        (NEW_VERSION, QEMU_SCHEMATIC)
    }
    health_runs = [argv for argv in cluster.last.commands() if argv[0] == "health"]
    assert len(health_runs) == 4  # before each of the three nodes, and once at the end

    again = cluster.run(talos_upgrade, nodes=cluster.nodes("cp2", "w2"), image=NEW_IMAGE)
    assert again["changed"] is False and again["upgraded"] == [] and upgrade_order(cluster) == []


def test_upgrade_waits_through_a_short_reboot(cluster):
    cluster.sandbox.set_fault(WORKERS["w1"], "reboot-during-upgrade", calls=2)
    result = cluster.run(talos_upgrade, nodes=cluster.nodes("w1"), image=NEW_IMAGE, health_check=False)
    (step,) = result["steps"]
    assert step["status"] == "upgraded" and "lost the connection" in step["note"]
    assert cluster.node("w1").talos_version == NEW_VERSION


def test_upgrade_refuses_when_quorum_is_at_risk_and_kubernetes(cluster):
    cluster.sandbox.set_fault(CONTROL_PLANES["cp2"], "unreachable")
    cluster.sandbox.set_fault(CONTROL_PLANES["cp3"], "unreachable")
    with pytest.raises((NodesFailed, UpgradePlanError), match="No node was upgraded"):
        cluster.run(talos_upgrade, nodes=cluster.nodes(), image=NEW_IMAGE, wait_timeout=0.1)
    assert upgrade_order(cluster) == []
    cluster.sandbox.clear_faults(CONTROL_PLANES["cp2"])
    cluster.sandbox.clear_faults(CONTROL_PLANES["cp3"])

    k8s = {"nodes": cluster.nodes("cp1"), "image": OLD_IMAGE, "kubernetes_version": "1.36.3", "health_check": False}
    planned = cluster.run(talos_upgrade, check_mode=True, **k8s)
    assert planned["kubernetes"] == {"to_version": "v1.36.3", "from_version": "v1.35.2", "changed": True,
                                     "node": "cp1"}  # fmt: skip
    assert all("--dry-run" in argv for argv in cluster.last.commands() if argv[0] == "upgrade-k8s")
    done = cluster.run(talos_upgrade, **k8s)
    assert done["kubernetes"]["changed"] is True
    again = cluster.run(talos_upgrade, **k8s)
    assert again["changed"] is False and again["kubernetes"]["changed"] is False
    assert done["upgraded"] == [] and again["upgraded"] == []


# --------------------------------------------------------------------------------------------------------------
# talos_etcd_snapshot, talos_reset
# --------------------------------------------------------------------------------------------------------------


def test_etcd_snapshot(cluster):
    path = cluster.root / "backups" / "etcd.db"
    planned = cluster.run(talos_etcd_snapshot, check_mode=True, nodes=cluster.nodes(), path=str(path))
    assert planned == {"changed": True, "path": str(path)} and not path.exists()
    taken = cluster.run(talos_etcd_snapshot, nodes=cluster.nodes(), path=str(path))
    data = path.read_bytes()
    assert taken["changed"] is True and taken["node"] == "cp1"
    assert taken["size"] == len(data) > 0 and taken["sha256"] == hashlib.sha256(data).hexdigest()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["etcd.db"]
    kept = cluster.run(talos_etcd_snapshot, nodes=cluster.nodes(), path=str(path))
    assert kept["changed"] is False and kept["sha256"] == taken["sha256"]
    assert cluster.run(talos_etcd_snapshot, nodes=cluster.nodes(), path=str(path), force=True)["changed"] is True


def test_reset_a_worker(cluster):
    planned = cluster.run(talos_reset, check_mode=True, nodes=cluster.nodes("w2"))
    assert planned["nodes"] == [
        {"name": "w2", "role": "worker", "changed": True, "actions": ["reset --graceful --wipe-mode all"],
         "status": "planned"}
    ]  # fmt: skip
    assert cluster.node("w2").stage == "running"
    result = cluster.run(talos_reset, nodes=cluster.nodes("w2"))
    assert result["changed"] is True and result["nodes"][0]["status"] == "reset"
    assert cluster.node("w2").stage == "off"
    with pytest.raises(NodesFailed, match="node w2:"):
        cluster.run(talos_reset, nodes=cluster.nodes("w2"))
    again = cluster.run(talos_reset, nodes=cluster.nodes("w2"), ignore_unreachable=True)
    assert again["changed"] is False and again["nodes"][0]["status"] == "unreachable"


def test_reset_control_plane_leaves_etcd_and_keeps_the_last_members(cluster):
    with pytest.raises(TalosInputError, match="would remove every etcd member"):
        cluster.run(talos_reset, nodes=cluster.nodes("cp1", "cp2", "cp3"))
    result = cluster.run(talos_reset, nodes=cluster.nodes("cp3"), reboot=True)
    assert result["nodes"][0]["actions"] == ["etcd leave", "reset --graceful --wipe-mode all --reboot"]
    assert [argv[:2] for argv in cluster.last.commands() if argv[0] in ("etcd", "reset")][-2:] == [
        ["etcd", "leave"],
        ["reset", "--graceful"],
    ]
    assert cluster.node("cp3").stage == "maintenance"
    info = cluster.run(talos_info, nodes=cluster.nodes("cp1"))
    assert len(info["etcd_members"]) == 2
    again = cluster.run(talos_reset, nodes=cluster.nodes("cp3"), reboot=True)
    assert again["changed"] is False and again["nodes"][0]["status"] == "already reset"


# --------------------------------------------------------------------------------------------------------------
# Through main(), as Ansible runs the modules
# --------------------------------------------------------------------------------------------------------------


def test_main_reports_failures_with_the_node(cluster, capsys, monkeypatch):
    monkeypatch.setenv("TALOSFORGE_SANDBOX_DIR", str(cluster.state))
    monkeypatch.setenv("TALOSFORGE_TALOSCTL", str(STANDIN))
    cluster.sandbox.set_fault(WORKERS["w1"], "unreachable")
    args = {"talosconfig": cluster.talosconfig, "nodes": cluster.nodes(config=True), "_ansible_diff": True}
    with patch_module_args(args), pytest.raises(SystemExit):
        talos_apply_config.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "node w1:" in result["msg"]
    assert [failure["name"] for failure in result["failures"]] == ["w1"]
    (failure,) = result["failures"]
    assert failure["failure"]["code"] == "unreachable" and failure["failure"]["details"]["node"] == "w1"
    assert failure["failure"]["request"].startswith("talosctl get machinestatus")
    args = {"talosconfig": cluster.talosconfig, "nodes": cluster.nodes("cp1", "w1")}
    with patch_module_args(args), pytest.raises(SystemExit):
        talos_info.main()
    result = json.loads(capsys.readouterr().out)
    assert result["changed"] is False and [node["reachable"] for node in result["nodes"]] == [True, False]
