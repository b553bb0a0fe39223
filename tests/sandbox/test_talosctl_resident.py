"""The resident talosctl stand-in answers exactly as the one-process stand-in does, and behaves like a process.

Each test runs the same command lines through sandbox/bin/talosctl twice, in two state folders: one served by a
resident stand-in (sandbox.talosctl.resident), one not (the client then runs sandbox.talosctl itself).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from talosctl_testlib import QEMU, Sandbox

from sandbox.talosctl import client, resident


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path / "served")
    with resident.running(sandbox.state):
        yield sandbox


@pytest.fixture
def alone(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "alone")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _parents(sandbox: Sandbox) -> list[int]:
    """The parent pid of each logged call: the resident stand-in's when it ran the call."""
    log = sandbox.state / "logs" / "talosctl.jsonl"
    return [json.loads(line)["ppid"] for line in log.read_text(encoding="utf-8").splitlines()]


def test_the_client_finds_the_resident_stand_in_by_state_folder(served: Sandbox, alone: Sandbox) -> None:
    pid = client.ping(str(served.state))
    assert pid and pid != os.getpid()
    assert client.ping(str(alone.state)) is None
    served.ok("version", "--help")
    alone.ok("version", "--help")
    assert _parents(served) == [pid]
    assert _parents(alone) != [pid]
    assert client.socket_address(str(served.state)) != client.socket_address(str(alone.state))


@pytest.mark.parametrize(
    "argv",
    [
        ["version", "--help"],
        ["bogus"],
        ["apply-config", "--file", "c.yaml", "--foo"],
        ["upgrade", "--wait-timeout", "10"],
        ["validate", "--config", "missing.yaml", "--mode", "metal"],
        ["get", "machinestatus", "--insecure", "--nodes", "10.5.0.99", "--output", "json"],
    ],
)
def test_the_same_answer_with_and_without_the_resident_stand_in(
    served: Sandbox, alone: Sandbox, argv: list[str]
) -> None:
    one, other = served.talosctl(*argv), alone.talosctl(*argv)
    assert (one.returncode, one.stdout, one.stderr) == (other.returncode, other.stdout, other.stderr)


def test_working_folder_umask_environment_and_stdin_travel_with_the_call(served: Sandbox, alone: Sandbox) -> None:
    results = []
    for sandbox in (served, alone):
        talosctl = f"{client.REPO}/sandbox/bin/talosctl"
        done = subprocess.run(
            [
                "sh",
                "-c",
                f"umask 027 && {talosctl} gen secrets -o secrets.yaml && exec {talosctl} gen config lab "
                f"https://10.5.0.10:6443 --with-secrets secrets.yaml --install-image "
                f"factory.talos.dev/metal-installer/{QEMU}:v1.13.9 -o relative/out",
            ],
            cwd=sandbox.work,
            env=sandbox.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        modes = [
            (sandbox.work / name).stat().st_mode & 0o777
            for name in ("secrets.yaml", "relative", "relative/out", "relative/out/worker.yaml")
        ]
        piped = sandbox.talosctl(
            "validate",
            "--config",
            "/dev/stdin",
            "--mode",
            "metal",
            stdin=(sandbox.work / "relative" / "out" / "worker.yaml").read_text(),
        )
        sandbox.env["TALOSCONFIG"] = str(sandbox.work / "relative" / "out" / "talosconfig")
        merged = sandbox.ok("config", "info")  # finds the talosconfig through the environment only
        results.append((modes, piped.returncode, piped.stdout, merged.stdout))
    served_result, alone_result = results
    assert served_result == alone_result
    # gen secrets' and gen config's own modes (0600, 0777 for folders, 0644), less the caller's umask
    assert served_result[0] == [0o600, 0o750, 0o750, 0o640]
    assert served_result[1:3] == (0, "/dev/stdin is valid for metal mode\n")
    assert served_result[3].startswith("Current context:     lab\n")


def test_a_caller_that_goes_away_ends_its_command(served: Sandbox) -> None:
    pid = client.ping(str(served.state))
    assert pid is not None
    waiting = subprocess.Popen(  # reads its config from a pipe that stays open: the command waits
        [f"{client.REPO}/sandbox/bin/talosctl", "validate", "--config", "/dev/stdin", "--mode", "metal"],
        cwd=served.work,
        env=served.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _children(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        command = _children(pid)
        assert len(command) == 1
        (child,) = command
        while not _children(child) and time.monotonic() < deadline:  # the command hands off to talos-config
            time.sleep(0.02)
        (program,) = _children(child)
        exe = Path(f"/proc/{program}/exe")
        while exe.resolve().name != "talos-config" and time.monotonic() < deadline:  # forked, not yet exec'd
            time.sleep(0.02)
        assert exe.resolve().name == "talos-config"
        waiting.kill()
        waiting.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (_children(pid) or Path(f"/proc/{program}").exists()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _children(pid)
        assert not Path(f"/proc/{program}").exists()  # talos-config ended with the command
        assert client.ping(str(served.state)) == pid  # the server itself carries on
        served.ok("version", "--help")
    finally:
        waiting.kill()
        assert waiting.stdin is not None
        waiting.stdin.close()


def test_one_resident_stand_in_per_state_folder(served: Sandbox) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "sandbox.talosctl.resident", "--state-dir", str(served.state)],
        cwd=client.REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1
    assert re.search(r"cannot listen for .*: \[Errno 98\] Address already in use", second.stderr)


def test_resident_can_be_turned_off_per_call(served: Sandbox) -> None:
    served.env[client.RESIDENT_ENV] = "0"
    served.ok("version", "--help")
    served.env.pop(client.RESIDENT_ENV)
    served.ok("version", "--help")
    server = client.ping(str(served.state))
    assert server is not None
    turned_off, resident_call = _parents(served)
    assert turned_off != server and resident_call == server


def test_the_resident_stand_in_stops_with_its_block(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path)
    with resident.running(sandbox.state) as pid:
        assert client.ping(str(sandbox.state)) == pid
    assert client.ping(str(sandbox.state)) is None
    sandbox.ok("version", "--help")  # and the client runs the command itself again
    assert _parents(sandbox) != [pid]
