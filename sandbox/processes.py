"""Background processes of the sandbox (simulators, the resident talosctl stand-in): alive, reaped, stopped."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

POLL_S = 0.05


def process_state(pid: int) -> str | None:
    """The /proc state letter (R, S, Z, ...), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, PermissionError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return "?"
    return "?"


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)  # only succeeds when we are the parent (a test or a benchmark that started it)
    except (ChildProcessError, OSError):
        pass


def is_alive(pid: int | None) -> bool:
    """True for a running process; a zombie (exited, not yet reaped by its parent) is not alive."""
    if not pid:
        return False
    reap(int(pid))
    return process_state(int(pid)) not in (None, "Z", "X")


def terminate(pid: int, timeout: float, group: bool = False) -> bool:
    """SIGTERM ``pid`` (or its process group), SIGKILL after ``timeout`` seconds; False when it had to be killed."""
    send = os.killpg if group else os.kill
    try:
        send(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(POLL_S)
    try:
        send(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    reap(pid)
    return False
