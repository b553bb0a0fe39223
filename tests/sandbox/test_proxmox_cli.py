"""``python -m sandbox`` with the HTTPS Proxmox simulator: start, status, reset and stop in a temporary state folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from proxmox_testlib import PVEClient
from sandbox_testlib import free_port, sandbox_cli

from sandbox import control
from sandbox.simulators.proxmox import ca_file

pytestmark = pytest.mark.slow


class _Running:
    def __init__(self, url: str, state_dir: Path) -> None:
        self.url, self.state_dir = url, state_dir


def _cli(state: Path, port: int, *arguments: str) -> subprocess.CompletedProcess[str]:
    return sandbox_cli(state, {"proxmox": port}, *arguments)


def test_background_proxmox_over_https(tmp_path: Path) -> None:
    state, port = tmp_path / "state", free_port()
    url = f"https://127.0.0.1:{port}"
    try:
        started = _cli(state, port, "start", "--only", "proxmox", "--option", 'proxmox.nodes=["pve1","pve2"]')
        assert started.returncode == 0, started.stderr
        assert f"proxmox: started at {url}" in started.stdout
        assert json.loads((state / "sandbox.json").read_text())["simulators"]["proxmox"]["url"] == url
        assert ca_file(state).exists()
        client = PVEClient(_Running(url, state))  # type: ignore[arg-type]
        assert [node["node"] for node in client.ok("GET", "/nodes")] == ["pve1", "pve2"]
        status = _cli(state, port, "status").stdout
        assert any(line.split()[:3] == ["proxmox", url, "up"] for line in status.splitlines())
        assert _cli(state, port, "start", "--only", "proxmox").stdout.count("already running") == 1
        assert control.health(url, context=control.tls_context(state, "proxmox", url))["name"] == "proxmox"
        assert _cli(state, port, "reset").returncode == 0
        assert ca_file(state).exists()  # reset forgets API data, not the certificate
        assert client.ok("GET", "/version")["release"] == "9.1"
        assert "proxmox: stopped" in _cli(state, port, "stop").stdout
    finally:
        _cli(state, port, "stop")


def test_options_are_listed() -> None:
    listed = _cli(Path("/nonexistent"), 0, "options").stdout
    assert "proxmox (port 0, env TALOSFORGE_SANDBOX_PORT_PROXMOX)" in listed
    assert "  token: " in listed and "  task_seconds: " in listed
