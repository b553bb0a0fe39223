"""Fault injection and latency for simulators: bounded, thread-safe, settable over HTTP or from Python."""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_FAULT_COUNT = 10_000
MAX_LATENCY_MS = 60_000


class FaultSpecError(ValueError):
    """A fault or latency setting that cannot be used (the control plane answers 400)."""


@dataclass
class Fault:
    """Spoil the next ``count`` matching API requests.

    Exactly one effect: ``status`` (answer with it instead of the real answer), ``drop_connection`` (close the
    connection without answering, before the simulator acts), ``truncate_after`` (send the real answer's headers
    and only that many body bytes, then close: a download cut short) or ``cut_after_acting`` (the simulator carries
    the request out, then the connection closes after the status line and headers, before any of the answer's
    body: a create whose answer was lost although the resource exists).
    """

    status: int | None = None
    count: int = 1
    path: str | None = None  # regular expression searched in the request path
    method: str | None = None
    drop_connection: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    truncate_after: int | None = None
    cut_after_acting: bool = False

    @property
    def kind(self) -> str:
        if self.drop_connection:
            return "drop"
        if self.cut_after_acting:
            return "cut"
        return "status" if self.truncate_after is None else "truncate"

    def __post_init__(self) -> None:
        if not isinstance(self.count, int) or isinstance(self.count, bool) or not 1 <= self.count <= MAX_FAULT_COUNT:
            raise FaultSpecError(f"count must be an integer from 1 to {MAX_FAULT_COUNT}")
        if not isinstance(self.cut_after_acting, bool):
            raise FaultSpecError("cut_after_acting must be true or false")
        if self.cut_after_acting and self.truncate_after in (None, 0):
            self.truncate_after = 0  # served as the real answer cut before its first body byte
            effects = [self.status is not None, bool(self.drop_connection), True]
        else:
            effects = [
                self.status is not None,
                bool(self.drop_connection),
                self.truncate_after is not None,
                self.cut_after_acting,
            ]
        if sum(effects) != 1:
            raise FaultSpecError("give exactly one of status, drop_connection, truncate_after or cut_after_acting")
        if self.status is not None:
            if not isinstance(self.status, int) or isinstance(self.status, bool) or not 100 <= self.status <= 599:
                raise FaultSpecError("status must be an HTTP status code (100-599)")
        if self.truncate_after is not None:
            if (
                not isinstance(self.truncate_after, int)
                or isinstance(self.truncate_after, bool)
                or self.truncate_after < 0
            ):
                raise FaultSpecError("truncate_after must be a number of bytes (0 or more)")
        if self.path is not None:
            try:
                re.compile(self.path)
            except re.error as error:
                raise FaultSpecError(f"path is not a valid regular expression: {error}") from None
        if self.method is not None:
            self.method = str(self.method).upper()
        if not isinstance(self.headers, dict):
            raise FaultSpecError("headers must be a mapping of header name to value")
        self.headers = {str(name): str(value) for name, value in self.headers.items()}

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise FaultSpecError('a fault is a JSON object such as {"status": 503, "count": 2}')
        known = {
            "status",
            "count",
            "path",
            "method",
            "drop_connection",
            "headers",
            "body",
            "truncate_after",
            "cut_after_acting",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultSpecError(f"unknown fault field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Latency:
    ms: float = 0.0
    path: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Latency:
        if not isinstance(data, dict) or set(data) - {"ms", "path"}:
            raise FaultSpecError('latency is a JSON object such as {"ms": 200} or {"ms": 200, "path": "^/image"}')
        ms = data.get("ms", 0)
        if not isinstance(ms, (int, float)) or isinstance(ms, bool) or not 0 <= ms <= MAX_LATENCY_MS:
            raise FaultSpecError(f"ms must be a number from 0 to {MAX_LATENCY_MS}")
        path = data.get("path")
        if path is not None:
            try:
                re.compile(path)
            except (re.error, TypeError) as error:
                raise FaultSpecError(f"path is not a valid regular expression: {error}") from None
        return cls(float(ms), path)


class Controls:
    """The faults and latency a simulator currently applies to its API requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._latency = Latency()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, its remaining count lowered by one."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def set_latency(self, latency: Latency) -> None:
        with self._lock:
            self._latency = latency

    def latency(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._latency)

    def delay_seconds(self, path: str) -> float:
        with self._lock:
            latency = self._latency
        if latency.ms <= 0 or (latency.path is not None and re.search(latency.path, path) is None):
            return 0.0
        return latency.ms / 1000.0

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._latency = Latency()
