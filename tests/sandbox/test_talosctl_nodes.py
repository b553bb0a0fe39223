"""The sandbox's Talos nodes: the Python API, ``python -m sandbox talos`` functions, and parallel talosctl calls."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from talosctl_testlib import QEMU, REPO_ROOT, Sandbox

from sandbox.simulators.talos import nodes_cli
from sandbox.simulators.talos.nodes import TalosNodes
from sandbox.simulators.talos.state import check_address, parse_installer, strip_port


def test_python_api_and_faults(tmp_path: Path) -> None:
    nodes = TalosNodes(tmp_path)
    added = nodes.add("10.1.0.1", "fd00::5", version="v1.13.8", schematic=QEMU, install_calls=3)
    assert [node.stage for node in added] == ["maintenance", "maintenance"]
    node = nodes.get("fd00::5")
    assert (node.talos_version, node.schematic, node.install_calls) == ("v1.13.8", QEMU, 3)
    assert node.hostname.startswith("talos-") and node.hostname == nodes.get("fd00::5").hostname
    nodes.set_fault("10.1.0.1", "unreachable")
    nodes.set_fault("10.1.0.1", "reboot-during-upgrade", calls=4)
    assert nodes.get("10.1.0.1").faults == {"unreachable": True, "reboot-during-upgrade": 4}
    assert nodes.clear_faults("10.1.0.1").faults == {}
    with pytest.raises(ValueError, match="unknown fault"):
        nodes.set_fault("10.1.0.1", "melted")
    with pytest.raises(KeyError):
        nodes.get("10.9.9.9")
    assert nodes.remove("10.1.0.1") and not nodes.remove("10.1.0.1")
    assert [node.address for node in nodes.list()] == ["fd00::5"]


def test_addresses_and_installer_images() -> None:
    assert check_address("[fd00::1]") == "fd00::1"
    for bad in ("../etc", "a/b", "", "x" * 300):
        with pytest.raises(ValueError):
            check_address(bad)
    assert strip_port("10.0.0.1:50000") == "10.0.0.1"
    assert strip_port("[fd00::1]:50000") == "fd00::1"
    assert strip_port("https://node.example:50000") == "node.example"
    assert strip_port("fd00::1") == "fd00::1"
    assert parse_installer(f"factory.talos.dev/metal-installer/{QEMU}:v1.13.9") == (QEMU, "v1.13.9")
    assert parse_installer(f"factory.talos.dev/installer-secureboot/{QEMU}:v1.13.9") == (QEMU, "v1.13.9")
    assert parse_installer(f"registry.local:5000/mirror/hcloud-installer/{QEMU}:v1.12.0") == (QEMU, "v1.12.0")
    assert parse_installer("ghcr.io/siderolabs/installer:v1.13.9")[1] == "v1.13.9"
    with pytest.raises(ValueError):
        parse_installer("nginx:latest")


def test_sandbox_cli_functions(tmp_path: Path) -> None:
    assert nodes_cli.add_nodes(tmp_path, ["10.2.0.1", "10.2.0.2"], version="v1.13.8")[0].startswith(
        "10.2.0.1: maintenance mode, Talos v1.13.8"
    )
    assert nodes_cli.set_fault(tmp_path, "10.2.0.2", "never-leaves-maintenance") == [
        "10.2.0.2: faults never-leaves-maintenance"
    ]
    listing = nodes_cli.list_nodes(tmp_path)
    assert listing[0].split() == ["ADDRESS", "STAGE", "ROLE", "VERSION", "SCHEMATIC", "ETCD", "REBOOTS", "FAULTS"]
    assert listing[2].split()[-1] == "never-leaves-maintenance"
    assert '"address": "10.2.0.1"' in nodes_cli.show(tmp_path, "10.2.0.1")[0]
    assert nodes_cli.remove_nodes(tmp_path, ["10.2.0.2", "10.2.0.3"]) == ["10.2.0.2: removed", "10.2.0.3: not found"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.simulators.talos.nodes_cli",
            "--state-dir",
            str(tmp_path),
            "fault",
            "10.2.0.1",
            "reboot-during-upgrade",
            "--calls",
            "3",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert TalosNodes(tmp_path).get("10.2.0.1").faults == {"reboot-during-upgrade": 3}
    missing = subprocess.run(
        [sys.executable, "-m", "sandbox.simulators.talos.nodes_cli", "--state-dir", str(tmp_path), "boot", "10.2.0.9"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert missing.returncode == 1 and "no Talos node 10.2.0.9" in missing.stderr


@pytest.mark.slow
def test_parallel_applies_all_land(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    addresses = [f"10.3.0.{index}" for index in range(1, 9)]
    TalosNodes(sandbox.state).add(*addresses)
    sandbox.gen_cluster()
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(
            pool.map(
                lambda address: sandbox.talosctl("apply-config", "-f", "out/worker.yaml", "-n", address, "--insecure"),
                addresses,
            )
        )
    assert [run.returncode for run in runs] == [0] * len(addresses)
    assert {sandbox.node(address)["stage"] for address in addresses} == {"running"}
    assert len([record for record in sandbox.log() if record["command"] == "apply-config"]) == len(addresses)
