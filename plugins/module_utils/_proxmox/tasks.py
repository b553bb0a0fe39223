# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Waiting on PVE: many UPID tasks (or guest agents) polled concurrently, all within one bounded time.

A UPID is ``UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:``; its status lives at
``/nodes/<node>/tasks/<upid>/status`` and moves from ``running`` to ``stopped`` with an ``exitstatus`` of ``OK``
(or ``WARNINGS: n``) on success and an error text otherwise. A failed task is reported with the tail of its log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    ProxmoxClient,
    ProxmoxError,
    quote,
)

LOG_TAIL = 20
FIRST_INTERVAL = 0.05


@dataclass
class TaskOutcome:
    upid: str
    ok: bool
    exitstatus: str | None
    log_tail: list[str] = field(default_factory=list)
    timed_out: bool = False

    def message(self) -> str:
        if self.timed_out:
            return f"task {self.upid} was still running when the wait ended"
        tail = ("; log: " + " | ".join(self.log_tail)) if self.log_tail else ""
        return f"task {self.upid} ended with {self.exitstatus!r}{tail}"

    def error(self) -> ProxmoxError:
        return ProxmoxError(self.message(), task_log=self.log_tail)


def parse_upid(upid: Any) -> dict[str, str]:
    """The parts of a UPID (node, pid, pstart, starttime, type, id, user); raises ProxmoxError if it is none."""
    parts = str(upid).split(":") if isinstance(upid, str) else []
    if len(parts) < 9 or parts[0] != "UPID" or not parts[1]:
        raise ProxmoxError(
            f"{upid!r} is not a PVE task id (UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:)"
        )
    names = ("node", "pid", "pstart", "starttime", "type", "id", "user")
    return dict(zip(names, parts[1:8], strict=True))


def succeeded(exitstatus: str | None) -> bool:
    return exitstatus == "OK" or (exitstatus or "").startswith("WARNINGS")


def task_log_tail(client: ProxmoxClient, upid: str, lines: int = LOG_TAIL) -> list[str]:
    """The last ``lines`` lines of a task's log (best effort: an unreadable log is an empty list)."""
    node = parse_upid(upid)["node"]
    try:
        entries = client.get(f"/nodes/{quote(node)}/tasks/{quote(upid)}/log", start=0, limit=5000)
    except ProxmoxError:
        return []
    text = [str(entry.get("t", "")) for entry in entries or [] if isinstance(entry, dict)]
    return text[-lines:]


def poll_until(
    items: list[Any],
    probe: Callable[[Any], Any],
    timeout: float,
    interval: float = 1.0,
    workers: int = 8,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Any]:
    """Call ``probe(item)`` for every item, concurrently, until each returns something other than None.

    Returns the probes' results in item order, None for the items still unfinished when ``timeout`` seconds have
    passed. Rounds start quickly and slow down to ``interval``. A ProxmoxError from a probe propagates.
    """
    results: list[Any] = [None] * len(items)
    pending = list(range(len(items)))
    deadline = clock() + timeout
    wait = min(FIRST_INTERVAL, interval)
    while pending:
        outcomes = in_parallel(pending, workers, None, lambda _client, index: probe(items[index]), (), "poll")
        for index, (value, _error) in zip(pending, outcomes, strict=True):
            results[index] = value
        pending = [index for index in pending if results[index] is None]
        if not pending or clock() >= deadline:
            break
        sleep(min(wait, max(0.0, deadline - clock())))
        wait = min(wait * 2, interval)
    return results


def wait_tasks(
    client: ProxmoxClient,
    upids: list[str],
    timeout: float,
    interval: float = 1.0,
    workers: int = 8,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, TaskOutcome]:
    """Wait for every task; one TaskOutcome per UPID (failed ones with their log tail, unfinished ones timed out)."""
    distinct = list(dict.fromkeys(upids))
    for upid in distinct:
        parse_upid(upid)

    def probe(upid: str) -> TaskOutcome | None:
        node = parse_upid(upid)["node"]
        status = client.get(f"/nodes/{quote(node)}/tasks/{quote(upid)}/status") or {}
        if status.get("status") != "stopped":
            return None
        exitstatus = status.get("exitstatus")
        if succeeded(exitstatus):
            return TaskOutcome(upid, True, exitstatus)
        return TaskOutcome(upid, False, exitstatus, task_log_tail(client, upid))

    found = poll_until(distinct, probe, timeout, interval, workers, sleep=sleep)
    return {
        upid: outcome or TaskOutcome(upid, False, None, timed_out=True)
        for upid, outcome in zip(distinct, found, strict=True)
    }


def wait_task(client: ProxmoxClient, upid: Any, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait for one task (a call that answered a UPID); raise ProxmoxError with its log tail when it failed.

    Calls that answer null (a synchronous change) have nothing to wait for.
    """
    if not upid:
        return
    outcome = wait_tasks(client, [str(upid)], timeout, sleep=sleep)[str(upid)]
    if not outcome.ok:
        raise outcome.error()
