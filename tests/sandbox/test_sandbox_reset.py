"""``python -m sandbox reset`` leaves the sandbox as a fresh ``start`` leaves it.

After a start, some state in every simulator, Talos nodes, a cluster output folder and an installed talosctl, a
reset must give back the files and folders of a fresh start (the talosctl checksum file the site run verifies
against among them), each simulator's listings as empty as after a fresh start, no Talos node, and a talosctl
downloaded from the Image Factory simulator that passes its checksum and runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
from proxmox_testlib import PVEClient
from sandbox_testlib import QEMU_SCHEMATIC, call, sandbox_cli

from sandbox.control import load_state
from sandbox.harness import RunningSimulator
from sandbox.simulators.talos.nodes import TalosNodes

pytestmark = pytest.mark.slow

PORTS = {"image-factory": 0, "hcloud": 0, "proxmox": 0, "charts": 0}
HCLOUD = {"Authorization": "Bearer sandbox-token", "Content-Type": "application/json"}
HCLOUD_LISTS = ("servers", "networks", "ssh_keys", "firewalls", "placement_groups", "load_balancers", "images")
TALOSCTL_VERSION = "v1.13.9"


def _cli(state: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    done = sandbox_cli(state, PORTS, *arguments, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _files(state: Path) -> set[str]:
    """Every file and folder of the state folder (an empty request log counts as none)."""
    return {
        str(path.relative_to(state)) + ("/" if path.is_dir() else "")
        for path in state.rglob("*")
        if not (path.suffix == ".jsonl" and path.parent.name == "logs" and path.stat().st_size == 0)
    }


def _urls(state: Path) -> dict[str, str]:
    return {name: entry["url"] for name, entry in load_state(state)["simulators"].items()}


class _Proxmox:
    """What PVEClient reads of a RunningSimulator (this one was started by ``python -m sandbox start``)."""

    def __init__(self, url: str, state: Path) -> None:
        self.url, self.state_dir = url, state


def _pve(state: Path) -> PVEClient:
    return PVEClient(cast(RunningSimulator, _Proxmox(_urls(state)["proxmox"], state)))


def _listings(state: Path) -> dict[str, Any]:
    """What each simulator lists: hcloud resources, Proxmox resources, the factory's schematics, Talos nodes."""
    urls = _urls(state)
    found: dict[str, Any] = {}
    for kind in HCLOUD_LISTS:
        reply = call(urls["hcloud"], "GET", f"/v1/{kind}", headers=HCLOUD)
        assert reply.status == 200, reply.text
        found[f"hcloud {kind}"] = [item.get("name") for item in reply.json()[kind]]
    found["proxmox resources"] = sorted(
        (item["type"], item["id"]) for item in _pve(state).ok("GET", "/cluster/resources") if item["type"] == "qemu"
    )
    content = _pve(state).ok("GET", "/nodes/pve1/storage/local/content")
    found["proxmox storage"] = sorted(item["volid"] for item in content)
    found["factory schematics"] = sorted(p.name for p in (state / "image-factory" / "schematics").glob("**/*"))
    found["talos nodes"] = [node.address for node in TalosNodes(state).list()]
    return found


def _make_state(state: Path) -> None:
    urls = _urls(state)
    assert call(urls["image-factory"], "POST", "/schematics", QEMU_SCHEMATIC).status == 201
    for kind, body in (
        ("ssh_keys", {"name": "k", "public_key": "ssh-ed25519 AAAA"}),
        ("networks", {"name": "n", "ip_range": "10.0.0.0/16"}),
    ):
        reply = call(urls["hcloud"], "POST", f"/v1/{kind}", json.dumps(body), HCLOUD)
        assert reply.status == 201, reply.text
    client = _pve(state)
    client.wait(client.ok("POST", "/nodes/pve1/qemu", vmid=100, name="vm", memory=512))
    TalosNodes(state).add("10.5.0.99")
    cluster = state / "cluster"
    cluster.mkdir()
    (cluster / "secrets.yaml").write_text("old cluster\n", encoding="utf-8")
    installed = state / "talosctl" / TALOSCTL_VERSION
    installed.mkdir(parents=True)
    (installed / "talosctl").write_text("#!/bin/sh\n", encoding="utf-8")


def _install_talosctl(state: Path, target: Path) -> Path:
    """What the talosctl role does: download from the factory, verify against the checksum file, install."""
    url = _urls(state)["image-factory"]
    reply = call(url, "GET", f"/talosctl/{TALOSCTL_VERSION}/talosctl-linux-amd64")
    assert reply.status == 200, reply.text
    sums = (state / "image-factory" / "talosctl" / "sha256sum.txt").read_text(encoding="utf-8")
    expected = dict(reversed(line.split()) for line in sums.splitlines())["talosctl-linux-amd64"]
    assert hashlib.sha256(reply.body).hexdigest() == expected
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(reply.body)
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target


def test_reset_gives_back_a_fresh_start(tmp_path: Path) -> None:
    fresh, used = tmp_path / "fresh", tmp_path / "used"
    try:
        _cli(fresh, "start")
        _cli(used, "start")
        expected_files, expected_listings = _files(fresh), _listings(fresh)
        assert "image-factory/talosctl/sha256sum.txt" in expected_files

        _make_state(used)
        assert _listings(used) != expected_listings
        _cli(used, "reset")

        assert _files(used) == expected_files, (
            f"missing: {sorted(expected_files - _files(used))}, extra: {sorted(_files(used) - expected_files)}"
        )
        assert _listings(used) == expected_listings
        talosctl = _install_talosctl(used, tmp_path / "bin" / "talosctl")
        environment = {**os.environ, "TALOSFORGE_SANDBOX_DIR": str(used)}
        version = subprocess.run(
            [str(talosctl), "version", "--client", "--short"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=30,
            check=False,
        )
        assert version.returncode == 0 and TALOSCTL_VERSION in version.stdout, version.stdout + version.stderr
    finally:
        sandbox_cli(fresh, PORTS, "stop", timeout=60)
        sandbox_cli(used, PORTS, "stop", timeout=60)
