"""The API's rate limit: a bucket of ``limit`` requests per hour that refills gradually (3600/h: one a second)."""

from __future__ import annotations

import math
import threading
import time


class RateLimit:
    def __init__(self, limit: int = 3600, clock: object = time.monotonic, wall: object = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._wall = wall
        self.configure(limit)

    def configure(self, limit: int, remaining: int | None = None) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1_000_000:
            raise ValueError("the rate limit must be a whole number of requests per hour from 1 to 1000000")
        with self._lock:
            self.limit = limit
            self._tokens = float(limit if remaining is None else max(0, min(remaining, limit)))
            self._stamp = self._clock()  # type: ignore[operator]

    def _refill(self) -> None:
        moment = self._clock()  # type: ignore[operator]
        self._tokens = min(float(self.limit), self._tokens + (moment - self._stamp) * self.limit / 3600.0)
        self._stamp = moment

    def take(self) -> tuple[bool, dict[str, str]]:
        """Spend one request if one is left: (allowed, the RateLimit-* headers of the answer)."""
        with self._lock:
            self._refill()
            allowed = self._tokens >= 1.0
            if allowed:
                self._tokens -= 1.0
            return allowed, self._headers()

    def headers(self) -> dict[str, str]:
        with self._lock:
            self._refill()
            return self._headers()

    def _headers(self) -> dict[str, str]:
        missing = self.limit - self._tokens
        reset = int(math.ceil(self._wall() + missing * 3600.0 / self.limit))  # type: ignore[operator]
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(int(math.floor(self._tokens))),
            "RateLimit-Reset": str(reset),
        }

    def state(self) -> dict[str, int]:
        with self._lock:
            self._refill()
            return {"limit": self.limit, "remaining": int(math.floor(self._tokens))}
