"""What the tests against the Image Factory simulator share: its request log, read once it is complete, and how
many requests it served at once (parallel work is checked on the server side, never by wall time: on a loaded
machine a wall-clock bound fails without the module being any slower)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any


def logged(sim: Any, at_least: int = 0, timeout: float = 3.0) -> list[dict]:
    """The simulator's request log once it holds ``at_least`` records (it writes them after answering)."""
    deadline = time.monotonic() + timeout
    while True:
        records = sim.requests()
        if len(records) >= at_least or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def most_at_once(records: list[dict]) -> int:
    """The largest number of the requests that the simulator was serving at the same moment."""
    events = []
    for record in records:
        start = datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp()
        events += [(start, 1), (start + record["duration_ms"] / 1000, -1)]
    running = most = 0
    for _moment, step in sorted(events):
        running += step
        most = max(most, running)
    return most
