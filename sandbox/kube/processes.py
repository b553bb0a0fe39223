"""A detached daemon (etcd, kube-apiserver, the kubelet stand-in) recorded by a pid file next to its data.

The talosctl stand-in starts these from a short-lived call, so they run in their own session and outlive it;
the pid file keeps the pid and the program, so a reused pid is never mistaken for the daemon.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ..processes import is_alive, terminate

STOP_TIMEOUT_S = 10.0


class Daemon:
    def __init__(self, pid_file: Path, log_file: Path) -> None:
        self.pid_file = pid_file
        self.log_file = log_file

    def _record(self) -> dict[str, object]:
        try:
            return json.loads(self.pid_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    @property
    def pid(self) -> int | None:
        record = self._record()
        pid = record.get("pid")
        if not isinstance(pid, int) or not is_alive(pid):
            return None
        try:
            program = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
        except OSError:
            return None
        # Empty for a moment after Popen returns: the kernel closes the exec error pipe (which Popen waits on)
        # before it has set the new program's arguments. Only another program's name means the pid was reused.
        return pid if program in ("", record.get("program")) else None

    def alive(self) -> bool:
        return self.pid is not None

    def start(self, command: list[str], env: dict[str, str] | None = None) -> int:
        self.stop()
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                close_fds=True,
            )
        self.pid_file.write_text(json.dumps({"pid": process.pid, "program": command[0]}))
        return process.pid

    def stop(self) -> None:
        pid = self.pid
        if pid is not None:
            terminate(pid, STOP_TIMEOUT_S)
        self.pid_file.unlink(missing_ok=True)

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def environment() -> dict[str, str]:
    """The daemons' environment: the caller's, without proxies (every address they use is loopback)."""
    return {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
