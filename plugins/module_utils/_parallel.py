# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Run one piece of work per item on a bounded pool of threads, each thread with a client of its own."""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def worker_count(value: Any, error: type[Exception] = ValueError) -> int:
    """The ``parallel`` option as a number of threads; it must be 1 or more (else ``error`` is raised)."""
    if value is None or value < 1:
        raise error(f"parallel must be 1 or more, got {value}")
    return int(value)


def in_parallel(
    items: list[Any],
    workers: int,
    make_client: Callable[[], Any] | None,
    work: Callable[[Any, Any], Any],
    expected_errors: tuple[type[Exception], ...],
    name: str = "worker",
) -> list[tuple[Any, Exception | None]]:
    """``work(client, item)`` for every item, ``workers`` at a time; (result, None) or (None, error), in order.

    Clients come from a pool built before the threads start (None without ``make_client``), so no two running
    tasks share one. Errors of the ``expected_errors`` types are returned with their item; any other propagates.
    """
    count = max(1, min(workers, len(items)))
    clients: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for _slot in range(count):
        clients.put(make_client() if make_client else None)

    def task(item: Any) -> tuple[Any, Exception | None]:
        client = clients.get()
        try:
            return work(client, item), None
        except expected_errors as exc:
            return None, exc
        finally:
            clients.put(client)

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix=name) as pool:
        return list(pool.map(task, items))
