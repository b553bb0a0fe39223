"""Actions: asynchronous tasks that are ``running`` for a latency (per command, settable) and then end in
``success`` or, when a failure was queued for their command, in ``error`` with a code and message.

The effect of an action (a server that is now running, a snapshot that is now available) is applied when it
finishes, by the callback given at creation. Finishing is checked on every API request and by a timer, so a
client that only waits also sees it happen. With latency 0 an action finishes right after the answer that
created it was built: that answer still shows it ``running``, as the real API does, and the next read shows it
done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .errors import APIError
from .state import Store, now, public

Completion = Callable[[bool], None]
MAX_LATENCY_MS = 600_000


@dataclass
class ActionFailure:
    """Make the next ``count`` actions of ``command`` (any command when None) end in status error."""

    command: str | None = None
    count: int = 1
    code: str = "action_failed"
    message: str = "Action failed (injected by the simulator)"

    @classmethod
    def from_json(cls, data: Any) -> ActionFailure:
        if not isinstance(data, dict) or set(data) - {"command", "count", "code", "message"}:
            raise ValueError(
                'an action failure is {"command": "create_image", "count": 1, "code": ..., "message": ...}'
            )
        failure = cls(**data)
        if not isinstance(failure.count, int) or isinstance(failure.count, bool) or not 1 <= failure.count <= 10000:
            raise ValueError("count must be an integer from 1 to 10000")
        return failure


class Actions:
    def __init__(self, store: Store, latency_ms: dict[str, float] | None = None) -> None:
        self.store = store
        self.latency_ms: dict[str, float] = {}  # command -> ms; "*" is the default
        self.failures: list[ActionFailure] = []
        self._callbacks: dict[int, Completion] = {}
        self._lock = threading.RLock()
        self._running_ids: set[int] | None = None
        self._running_source: Any = None
        for command, ms in (latency_ms or {}).items():
            self.set_latency(ms, None if command == "*" else command)

    # --- settings ---------------------------------------------------------------------------------------------
    def set_latency(self, ms: float, command: str | None = None) -> None:
        if not isinstance(ms, (int, float)) or isinstance(ms, bool) or not 0 <= ms <= MAX_LATENCY_MS:
            raise ValueError(f"action latency must be a number of milliseconds from 0 to {MAX_LATENCY_MS}")
        with self._lock:
            self.latency_ms[command or "*"] = float(ms)

    def add_failure(self, failure: ActionFailure) -> None:
        with self._lock:
            self.failures.append(failure)

    def settings(self) -> dict[str, Any]:
        with self._lock:
            return {"latency_ms": dict(self.latency_ms), "failures": [asdict(item) for item in self.failures]}

    def clear(self) -> None:
        with self._lock:
            self.latency_ms = {}
            self.failures = []
            self._callbacks = {}

    def _take_failure(self, command: str) -> ActionFailure | None:
        with self._lock:
            for failure in self.failures:
                if failure.command in (None, command):
                    failure.count -= 1
                    if failure.count <= 0:
                        self.failures.remove(failure)
                    return failure
        return None

    # --- lifecycle --------------------------------------------------------------------------------------------
    def _running(self) -> list[dict[str, Any]]:
        """The running actions (kept as a set of IDs: the store holds every action ever made)."""
        with self.store.lock:
            if self._running_ids is None or self._running_source is not self.store.kinds["actions"]:
                self._running_source = self.store.kinds["actions"]
                self._running_ids = {a["id"] for a in self.store.all("actions") if a["status"] == "running"}
            found = [self.store.get("actions", ident) for ident in sorted(self._running_ids)]
            return [action for action in found if action is not None]

    def running_on(self, kind: str, ident: int) -> bool:
        return any(
            any(item["type"] == kind and item["id"] == ident for item in action["resources"])
            for action in self._running()
        )

    def create(
        self,
        command: str,
        resources: list[tuple[str, int]],
        done: Completion | None = None,
        lock: bool = True,
    ) -> dict[str, Any]:
        """A new running action; ``locked`` (423) when ``lock`` and another one runs on the first resource."""
        with self.store.lock:
            if lock and resources and self.running_on(*resources[0]):
                kind, ident = resources[0]
                raise APIError.of("locked", f"{kind} {ident} is locked: an action is already running on it")
            with self._lock:
                delay = self.latency_ms.get(command, self.latency_ms.get("*", 0.0)) / 1000.0
            failure = self._take_failure(command)
            action = {
                "id": self.store.new_id("actions"),
                "command": command,
                "status": "running",
                "progress": 0,
                "started": now(),
                "finished": None,
                "resources": [{"id": ident, "type": kind} for kind, ident in resources],
                "error": None,
                "_due": time.time() + delay,
                "_delay": delay,
                "_failure": asdict(failure) if failure else None,
            }
            self._running()  # make sure the running set is loaded before adding to it
            self.store.add("actions", action)
            self._running_ids.add(action["id"])  # type: ignore[union-attr]
            if done is not None:
                self._callbacks[action["id"]] = done
        if delay > 0:
            timer = threading.Timer(delay + 0.01, self.tick)
            timer.daemon = True
            timer.start()
        return action

    def tick(self) -> None:
        """Finish every action whose time has come (callbacks may start further actions)."""
        for _round in range(20):  # bounded: chains of follow-up actions are short
            finished = False
            with self.store.lock:
                moment = time.time()
                for action in self._running():
                    if action["_due"] > moment:
                        continue
                    self._running_ids.discard(action["id"])  # type: ignore[union-attr]
                    finished = True
                    failure = action.get("_failure")
                    action.update(progress=100, finished=now())
                    if failure:
                        action["status"] = "error"
                        action["error"] = {"code": failure["code"], "message": failure["message"]}
                    else:
                        action["status"] = "success"
                    callback = self._callbacks.pop(action["id"], None)
                    if callback is not None:
                        callback(not failure)
                if finished:
                    self.store.save()
            if not finished:
                return

    def show(self, action: dict[str, Any]) -> dict[str, Any]:
        """The action as the API shows it, with progress for a running one."""
        shown = public(action)
        if action["status"] == "running" and action.get("_delay"):
            elapsed = action["_delay"] - max(0.0, action["_due"] - time.time())
            shown["progress"] = max(0, min(99, int(100 * elapsed / action["_delay"])))
        return shown
