"""Worker tasks and their UPIDs, as PVE runs long operations (download, create, start, stop, destroy, ...).

A task starts ``running``; on a thread of its own it waits out its latency, then does its work (so its effects
appear as it ends) and ends ``stopped`` with ``exitstatus`` ``OK`` or the error message. Latency is set per task
type or for all (:meth:`Tasks.set_latency`), and :meth:`Tasks.fail_next` makes the next task(s) of a type end
with an error without doing their work. UPIDs have PVE's format (``UPID:node:pid:pstart:starttime:type:id:user:``).
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_LATENCY_S = 600.0
_PIDS = itertools.count(0x1A2B0)


class TaskError(Exception):
    """Raised by a task's work: the task ends with this message as its exitstatus."""


@dataclass
class Task:
    upid: str
    node: str
    type: str
    id: str
    user: str
    pid: int
    pstart: int
    starttime: int
    ends_after: float
    status: str = "running"
    exitstatus: str | None = None
    endtime: int | None = None
    log: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def status_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
            "status": self.status,
        }
        if self.exitstatus is not None:
            data["exitstatus"] = self.exitstatus
        return data


def make_upid(node: str, pid: int, pstart: int, starttime: int, kind: str, ident: str, user: str) -> str:
    """PVE's UPID; a ``:`` in the task's ID is written ``\\x3a`` (as for ``imgdel:local\\x3aimport/t.qcow2``)."""
    ident = ident.replace(":", "\\x3a")
    return f"UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{ident}:{user}:"


class Tasks:
    def __init__(self, default_latency: float) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        self._latency: dict[str | None, float] = {None: default_latency}
        self._failures: list[dict[str, Any]] = []
        self._boot = time.monotonic()

    # --- settings (tests and /_sandbox/) ----------------------------------------------------------------------
    def set_latency(self, seconds: float, kind: str | None = None) -> None:
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_LATENCY_S:
            raise ValueError(f"task latency must be a number of seconds from 0 to {MAX_LATENCY_S:.0f}")
        with self._lock:
            self._latency[kind] = float(seconds)

    def latency(self) -> dict[str, float]:
        with self._lock:
            return {kind or "*": seconds for kind, seconds in self._latency.items()}

    def fail_next(self, kind: str, message: str = "simulated task failure", count: int = 1) -> None:
        if not isinstance(count, int) or not 1 <= count <= 10_000:
            raise ValueError("count must be an integer from 1 to 10000")
        with self._lock:
            self._failures.append({"type": kind, "message": str(message), "count": count})

    def failures(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(item) for item in self._failures]

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def clear(self, default_latency: float) -> None:
        with self._lock:
            self._tasks.clear()
            self._failures.clear()
            self._latency = {None: default_latency}

    def _take_failure(self, kind: str) -> str | None:
        with self._lock:
            for item in self._failures:
                if item["type"] in (kind, "*"):
                    item["count"] -= 1
                    if item["count"] <= 0:
                        self._failures.remove(item)
                    return str(item["message"])
        return None

    # --- running ----------------------------------------------------------------------------------------------
    def start(
        self,
        node: str,
        kind: str,
        ident: str,
        user: str,
        work: Callable[[Task], None],
        on_failure: Callable[[Task, str], None] | None = None,
    ) -> Task:
        """Create a running task and run ``work`` on its own thread; returns at once with the task."""
        with self._lock:
            latency = self._latency.get(kind, self._latency[None])
        pid = next(_PIDS)
        pstart = int((time.monotonic() - self._boot) * 100) + 1000
        starttime = int(time.time())
        task = Task(
            make_upid(node, pid, pstart, starttime, kind, ident, user),
            node,
            kind,
            ident.replace(":", "\\x3a"),
            user,
            pid,
            pstart,
            starttime,
            time.monotonic() + latency,
        )
        with self._lock:
            self._tasks[task.upid] = task
        failure = self._take_failure(kind)
        thread = threading.Thread(target=self._run, args=(task, work, on_failure, failure), daemon=True)
        thread.name = f"pve-task-{kind}-{ident}"
        thread.start()
        return task

    def _run(
        self,
        task: Task,
        work: Callable[[Task], None],
        on_failure: Callable[[Task, str], None] | None,
        injected: str | None,
    ) -> None:
        remaining = task.ends_after - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)  # the task's latency passes first, so its effects appear when it ends
        error = injected
        if error is None:
            try:
                work(task)
            except TaskError as problem:
                error = str(problem)
            except Exception as problem:  # a simulator bug still ends the task, with the reason
                error = f"simulator error: {type(problem).__name__}: {problem}"
                traceback.print_exc(file=sys.stderr)
        if error is not None and on_failure is not None:
            on_failure(task, error)
        with self._lock:
            if error is None:
                task.log.append("TASK OK")
                task.exitstatus = "OK"
            else:
                task.log.append(f"TASK ERROR: {error}")
                task.exitstatus = error
            task.status = "stopped"
            task.endtime = int(time.time())
        task.done.set()

    def get(self, upid: str) -> Task | None:
        with self._lock:
            return self._tasks.get(upid)

    def all(self) -> list[Task]:
        with self._lock:
            return list(self._tasks.values())

    def wait_all(self, timeout: float = 30.0) -> bool:
        """Wait (bounded) until every task has stopped; for tests and shutdown."""
        deadline = time.monotonic() + timeout
        for task in self.all():
            if not task.done.wait(max(deadline - time.monotonic(), 0)):
                return False
        return True
