"""The talosctl stand-in's realistic failures: wrong CA, wrong API, unreachable nodes, invalid configs, faults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from talosctl_testlib import Sandbox

from sandbox.simulators.talos.nodes import TalosNodes

pytestmark = pytest.mark.slow

CP, CP2, WORKER = "10.0.0.11", "10.0.0.12", "10.0.0.21"
UNKNOWN_AUTHORITY = (
    'rpc error: code = Unavailable desc = connection error: desc = "transport: authentication '
    "handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown "
    'authority"'
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configured control plane (CP) and a worker, plus CP2 still in maintenance mode; not bootstrapped."""
    root = tmp_path_factory.mktemp("template")
    sandbox = Sandbox(root)
    TalosNodes(sandbox.state).add(CP, CP2, WORKER)
    sandbox.gen_cluster()
    sandbox.ok("apply-config", "-f", "out/controlplane.yaml", "-n", CP, "--insecure")
    sandbox.ok("apply-config", "-f", "out/worker.yaml", "-n", WORKER, "--insecure")
    (sandbox.state / "logs" / "talosctl.jsonl").unlink()
    return root


@pytest.fixture
def cluster(template: Path, tmp_path: Path) -> Sandbox:
    """A copy of the template cluster for one test (state and work folder)."""
    shutil.copytree(template, tmp_path, dirs_exist_ok=True)
    return Sandbox(tmp_path)


def test_a_talosconfig_of_another_cluster_is_refused(cluster: Sandbox) -> None:
    other = cluster.work / "other"
    other.mkdir()
    cluster.ok("gen", "config", "other", "https://10.9.9.9:6443", "-o", "other/out", "--output-types", "talosconfig")
    refused = cluster.fails("version", *cluster.mtls(CP, CP, "other/out"))
    assert refused.stderr == f"error getting version: {UNKNOWN_AUTHORITY}\n"
    assert "Client:" in refused.stdout and "NODE:" not in refused.stdout


def test_the_wrong_api_for_the_node_state(cluster: Sandbox) -> None:
    maintenance = cluster.fails("apply-config", "-f", "out/controlplane.yaml", *cluster.mtls(CP2, CP2))
    assert maintenance.stderr == f"error applying new configuration: {UNKNOWN_AUTHORITY}\n"
    proxied = cluster.fails("get", "machinestatus", *cluster.mtls(CP2, CP))
    assert UNKNOWN_AUTHORITY in proxied.stderr
    insecure = cluster.fails("apply-config", "-f", "out/controlplane.yaml", "-n", CP, "--insecure")
    assert insecure.stderr.endswith('remote error: tls: certificate required"\n')
    status = yaml.safe_load(cluster.ok("get", "machinestatus", "-n", CP2, "--insecure", "-o", "yaml").stdout)
    assert status["node"] == CP2 and status["spec"]["stage"] == "maintenance"


def test_unreachable_and_unknown_nodes(cluster: Sandbox) -> None:
    TalosNodes(cluster.state).set_fault(WORKER, "unreachable")
    single = cluster.fails("get", "machinestatus", *cluster.mtls(WORKER, CP))
    assert single.stderr == (
        "1 error occurred:\n\t* 10.0.0.21: rpc error: code = Unavailable desc = connection "
        'error: desc = "transport: Error while dialing: dial tcp 10.0.0.21:50000: connect: '
        'no route to host"\n\n\n'
    )
    several = cluster.ok("version", *cluster.mtls(f"{CP},{WORKER},10.0.0.99", CP))  # version only warns
    assert several.stderr.startswith("WARNING: 2 errors occurred:\n\t* 10.0.0.21: rpc error: code = Unavailable")
    assert "\t* 10.0.0.99: rpc error" in several.stderr
    assert "\tNODE:        10.0.0.11\n" in several.stdout and "10.0.0.21" not in several.stdout
    endpoint = cluster.fails("version", *cluster.mtls(CP, "10.0.0.99"))
    assert "dial tcp 10.0.0.99:50000: connect: no route to host" in endpoint.stderr
    TalosNodes(cluster.state).clear_faults(WORKER)
    cluster.ok("version", *cluster.mtls(WORKER, CP))


def test_invalid_configs_are_refused_and_change_nothing(cluster: Sandbox) -> None:
    documents = list(yaml.safe_load_all((cluster.work / "out" / "controlplane.yaml").read_text()))
    documents[0]["machine"]["install"]["disks"] = "/dev/sdb"
    (cluster.work / "unknown-key.yaml").write_text(yaml.safe_dump_all(documents))
    refused = cluster.fails("apply-config", "-f", "unknown-key.yaml", "-n", CP2, "--insecure")
    # Talos's decoder's words, from Talos's own code (talos-config)
    assert refused.stderr == (
        "error applying new configuration: rpc error: code = InvalidArgument desc = error "
        "decoding document /v1alpha1/ (line 1): unknown keys found during decoding:\n"
        "machine:\n    install:\n        disks: /dev/sdb\n\n"
    )
    assert cluster.node(CP2)["stage"] == "maintenance"

    worker = list(yaml.safe_load_all((cluster.work / "out" / "worker.yaml").read_text()))
    worker[0]["machine"]["ca"]["key"] = documents[0]["machine"]["ca"]["key"]
    del worker[0]["machine"]["install"]
    (cluster.work / "semantic.yaml").write_text(yaml.safe_dump_all(worker))
    semantic = cluster.fails("apply-config", "-f", "semantic.yaml", "-n", CP2, "--insecure")
    problems = (
        "1 error occurred:\n\t* v1alpha1.Config: 2 errors occurred:\n\t* install instructions are required in "
        '"metal" mode\n\t* issuing Talos API CA key is not allowed on non-controlplane nodes (.machine.ca)'
        "\n\n\n\n"
    )
    assert semantic.stderr == f"error applying new configuration: rpc error: code = InvalidArgument desc = {problems}\n"
    assert cluster.node(CP2)["stage"] == "maintenance"
    assert cluster.fails("validate", "--config", "semantic.yaml", "--mode", "metal").stderr == problems + "\n"
    assert cluster.ok("validate", "--config", "out/worker.yaml", "--mode", "cloud").returncode == 0


def test_apply_modes_on_a_configured_node(cluster: Sandbox) -> None:
    documents = list(yaml.safe_load_all((cluster.work / "out" / "controlplane.yaml").read_text()))
    documents[0]["machine"]["nodeLabels"]["zone"] = "a"
    (cluster.work / "labels.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    dry = cluster.ok("apply-config", "-f", "labels.yaml", *cluster.mtls(CP, CP), "--dry-run")
    assert dry.stderr.startswith(
        "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\n"
        "Config diff:\n\n--- a\n+++ b\n@@ "
    )
    assert "+        zone: a\n" in dry.stderr
    before = cluster.node(CP)
    cluster.ok("apply-config", "-f", "labels.yaml", *cluster.mtls(CP, CP))
    after = cluster.node(CP)
    assert after["reboots"] == before["reboots"] and after["config_version"] == before["config_version"] + 1

    documents[0]["machine"]["sysctls"] = {"net.core.somaxconn": "65535"}  # not applied in place
    (cluster.work / "sysctls.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    (cluster.work / "changed.yaml").write_text(
        yaml.safe_dump_all(documents, sort_keys=False).replace("debug: false", "debug: true")
    )
    no_reboot = cluster.ok("apply-config", "-f", "sysctls.yaml", *cluster.mtls(CP, CP), "--mode", "no-reboot")
    assert no_reboot.stderr == "Applied configuration without a reboot\n"
    documents[0]["machine"]["udev"] = {"rules": ["# none"]}
    (cluster.work / "udev.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    immediate = cluster.fails("apply-config", "-f", "udev.yaml", *cluster.mtls(CP, CP), "--mode", "no-reboot")
    assert "this config change can't be applied in immediate mode" in immediate.stderr
    auto = cluster.ok("apply-config", "-f", "udev.yaml", *cluster.mtls(CP, CP))
    assert auto.stderr.startswith("Applied configuration with a reboot: this config change can't be applied")
    assert cluster.node(CP)["reboots"] == before["reboots"] + 1
    staged = cluster.ok("apply-config", "-f", "labels.yaml", *cluster.mtls(CP, CP), "--mode", "staged")
    assert staged.stderr == "Staged configuration to be applied after the next reboot\n"
    assert cluster.node(CP)["staged"] is True


def test_bootstrap_rules(cluster: Sandbox) -> None:
    worker = cluster.fails("bootstrap", *cluster.mtls(WORKER, CP))
    assert worker.stderr == (
        "error executing bootstrap: 1 error occurred:\n\t* 10.0.0.21: rpc error: code = "
        "Unimplemented desc = bootstrap is only available on control plane nodes\n\n\n"
    )
    several = cluster.fails("bootstrap", *cluster.mtls(f"{CP},{WORKER}", CP))
    assert several.stderr == 'command "bootstrap" is not supported with multiple nodes\n'
    cluster.ok("bootstrap", *cluster.mtls(CP, CP))
    # a control plane configured after the bootstrap joins etcd by itself
    cluster.ok("apply-config", "-f", "out/controlplane.yaml", "-n", CP2, "--insecure")
    assert cluster.node(CP2)["etcd_member"] is True
    again = cluster.fails("bootstrap", *cluster.mtls(CP2, CP))
    assert "AlreadyExists desc = etcd data directory is not empty" in again.stderr
    health = cluster.ok(
        "health",
        *cluster.mtls(CP, CP),
        "--control-plane-nodes",
        f"{CP},{CP2}",
        "--worker-nodes",
        WORKER,
        "--server=false",
    )
    assert "discovered nodes" not in health.stderr and "waiting for apid to be ready: OK" in health.stderr


def test_insecure_calls_reach_one_node_only(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    TalosNodes(sandbox.state).add(CP, CP2)
    sandbox.gen_cluster()
    applied = sandbox.ok("apply-config", "-f", "out/controlplane.yaml", "-n", f"{CP},{CP2}", "--insecure")
    assert applied.stderr == "Applied configuration without a reboot\n"
    assert (sandbox.node(CP)["stage"], sandbox.node(CP2)["stage"]) == ("running", "maintenance")


def test_slow_install_and_a_node_that_never_leaves_maintenance(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    nodes = TalosNodes(sandbox.state)
    nodes.add(CP, install_calls=2)
    nodes.add(CP2)
    nodes.set_fault(CP2, "never-leaves-maintenance")
    sandbox.gen_cluster()
    sandbox.ok("apply-config", "-f", "out/controlplane.yaml", "-n", CP, "--insecure")
    assert sandbox.node(CP)["stage"] == "installing"
    for _call in range(2):
        assert "connect: connection refused" in sandbox.fails("version", *sandbox.mtls(CP, CP)).stderr
    sandbox.ok("version", *sandbox.mtls(CP, CP))
    assert sandbox.node(CP)["stage"] == "running"

    sandbox.ok("apply-config", "-f", "out/controlplane.yaml", "-n", CP2, "--insecure")
    stuck = sandbox.node(CP2)
    assert (stuck["stage"], stuck["role"], stuck["reboots"]) == ("maintenance", None, 1)
    assert UNKNOWN_AUTHORITY in sandbox.fails("get", "version", *sandbox.mtls(CP2, CP)).stderr


def test_upgrade_to_a_release_that_does_not_exist(cluster: Sandbox) -> None:
    missing = cluster.fails("upgrade", "--image", "ghcr.io/siderolabs/installer:v1.99.0", *cluster.mtls(CP, CP))
    assert missing.stderr.startswith(
        "error pulling upgrade image: 1 error occurred:\n\t* 10.0.0.11: rpc error: "
        'code = NotFound desc = failed to pull image "ghcr.io/siderolabs/installer:'
        'v1.99.0"'
    )
    assert cluster.node(CP)["talos_version"] == "v1.13.9"


def test_kubeconfig_merge_renames_on_conflict(cluster: Sandbox) -> None:
    cluster.ok("bootstrap", *cluster.mtls(CP, CP))
    cluster.ok("kubeconfig", "kc", *cluster.mtls(CP, CP))
    merged = cluster.ok("kubeconfig", "kc", *cluster.mtls(CP, CP))
    assert 'renamed context "admin@demo" -> "admin@demo-1"' in merged.stdout
    config = yaml.safe_load((cluster.work / "kc").read_text())
    assert [c["name"] for c in config["contexts"]] == ["admin@demo", "admin@demo-1"]
    assert config["current-context"] == "admin@demo-1"
    cluster.ok("kubeconfig", "kc", *cluster.mtls(CP, CP), "--force")
    assert len(yaml.safe_load((cluster.work / "kc").read_text())["contexts"]) == 2
    refused = cluster.fails("kubeconfig", "kc", *cluster.mtls(CP, CP), "--merge=false")
    assert refused.stderr.startswith("kubeconfig file already exists, use --force to overwrite:")


def test_upgrade_k8s_patches_the_node_configs(cluster: Sandbox) -> None:
    cluster.ok("bootstrap", *cluster.mtls(CP, CP))
    plan = cluster.ok(
        "upgrade-k8s", "--to", "1.37.0", "-n", CP, "-e", CP, "--talosconfig", "out/talosconfig", "--dry-run"
    )
    assert plan.stdout.startswith("automatically detected the lowest Kubernetes version 1.36.3\n")
    assert " > skipped in dry-run" in plan.stdout
    assert "kubelet:v1.36.3" in (cluster.state / "talos" / "nodes" / f"{WORKER}.config.yaml").read_text()
    skip = cluster.fails("upgrade-k8s", "--to", "1.38.0", "-n", CP, "-e", CP, "--talosconfig", "out/talosconfig")
    assert skip.stderr == 'unsupported upgrade path 1.36->1.38 (from "1.36.3" to "1.38.0")\n'
    cluster.ok("upgrade-k8s", "--to", "1.37.0", "-n", CP, "-e", CP, "--talosconfig", "out/talosconfig")
    assert "kubelet:v1.37.0" in (cluster.state / "talos" / "nodes" / f"{WORKER}.config.yaml").read_text()
    assert "kube-apiserver:v1.37.0" in (cluster.state / "talos" / "nodes" / f"{CP}.config.yaml").read_text()
    assert cluster.node(WORKER)["kubernetes_version"] == "1.37.0"


def test_reset_needs_wait_off_with_insecure_and_shutdown_without_reboot(cluster: Sandbox) -> None:
    refused = cluster.fails("reset", "-n", CP2, "--insecure")
    assert refused.stderr == "cannot use --wait and --insecure together\n"
    cluster.ok("reset", "-n", CP2, "--insecure", "--wait=false", "--reboot")
    cluster.ok("reset", "--graceful=false", *cluster.mtls(WORKER, CP))
    assert cluster.node(WORKER)["stage"] == "off"
    assert "no route to host" in cluster.fails("version", "-n", WORKER, "--insecure").stderr
    TalosNodes(cluster.state).boot(WORKER)
    cluster.ok("version", "-n", WORKER, "--insecure")
