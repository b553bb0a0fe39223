"""``python -m sandbox``: start, status, logs, reset and stop background simulators in a temporary state folder."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from sandbox_testlib import QEMU_SCHEMATIC, call, free_port, sandbox_cli

pytestmark = pytest.mark.slow


def _cli(state: Path, port: int, *arguments: str) -> subprocess.CompletedProcess[str]:
    return sandbox_cli(state, {"image-factory": port, "hcloud": 0, "proxmox": 0, "charts": 0}, *arguments, timeout=30)


def _process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_start_status_reset_stop_cycle(tmp_path: Path) -> None:
    state, port = tmp_path / "state", free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        started = _cli(state, port, "start")
        assert started.returncode == 0, started.stderr
        assert f"image-factory: started at {url}" in started.stdout
        recorded = json.loads((state / "sandbox.json").read_text())["simulators"]["image-factory"]
        assert recorded["url"] == url and recorded["port"] == port and recorded["pid"] > 0
        pid = recorded["pid"]

        resident = re.search(r"talosctl: resident stand-in started \(pid (\d+)\)", started.stdout)
        assert resident, started.stdout
        resident_pid = int(resident.group(1))

        again = _cli(state, port, "start")
        assert again.returncode == 0 and "already running" in again.stdout
        assert f"talosctl: resident stand-in already running (pid {resident_pid})" in again.stdout
        assert "talosctl         resident (unix socket)     up    0 calls" in _cli(state, port, "status").stdout

        assert call(url, "POST", "/schematics", QEMU_SCHEMATIC).status == 201
        status = _cli(state, port, "status").stdout.split()
        assert status[:5] == ["image-factory", url, "up", "1", "requests"]
        logs = _cli(state, port, "logs", "image-factory", "--json", "--tail", "1").stdout.splitlines()
        assert [json.loads(line)["path"] for line in logs] == ["/schematics"]
        assert "POST   /schematics  201" in _cli(state, port, "logs", "image-factory").stdout

        assert _cli(state, port, "reset").returncode == 0
        assert _cli(state, port, "status").stdout.split()[2:4] == ["up", "0"]
        assert (
            call(url, "GET", "/schematics/" + json.loads(call(url, "POST", "/schematics", "{}").text)["id"]).status
            == 200
        )

        stopped = _cli(state, port, "stop")
        assert stopped.returncode == 0 and f"stopped (pid {pid})" in stopped.stdout
        assert f"talosctl: resident stand-in stopped (pid {resident_pid})" in stopped.stdout
        deadline = time.monotonic() + 5
        while not (_process_gone(pid) and _process_gone(resident_pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _process_gone(pid) and _process_gone(resident_pid)
        status = _cli(state, port, "status").stdout
        assert status.split()[2] == "down" and "talosctl         resident (unix socket)     down" in status
        assert json.loads((state / "sandbox.json").read_text())["simulators"]["image-factory"]["pid"] is None
        assert (state / "image-factory" / "schematics").is_dir()  # data stays for the next start
    finally:
        _cli(state, port, "stop")


def test_start_reports_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = _cli(tmp_path, port, "start")
    assert result.returncode == 1 and "already in use" in result.stderr


def test_start_reports_a_simulator_that_fails(tmp_path: Path) -> None:
    try:
        result = _cli(tmp_path, free_port(), "start", "--only", "image-factory", "--option", "image-factory.colour=red")
    finally:
        _cli(tmp_path, 0, "stop")
    assert result.returncode == 1
    assert "exited with code 1" in result.stderr and "unknown image-factory option(s): colour" in result.stderr
    assert json.loads((tmp_path / "sandbox.json").read_text())["simulators"]["image-factory"]["pid"] is None
