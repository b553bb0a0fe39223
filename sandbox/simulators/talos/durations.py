"""Go durations (``time.ParseDuration`` and ``Duration.String``), as machine configs and talosctl flags write them."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``1m0s``, ``10m``, ``1.5h``); ValueError with Go's message when invalid."""
    if text in ("0", "+0", "-0"):
        return 0.0
    if not _DURATION.match(text):
        if re.match(r"^[-+]?\d+(?:\.\d*)?$", text):
            raise ValueError(f'time: missing unit in duration "{text}"')
        raise ValueError(f'time: invalid duration "{text}"')
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text))
    return -seconds if text.startswith("-") else seconds


def format_duration(seconds: float) -> str:
    """Go's Duration.String() for whole seconds: ``1m0s``, ``20m0s``, ``8760h0m0s``."""
    total = int(round(seconds))
    if total == 0:
        return "0s"
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}h{minutes}m{secs}s" if hours else (f"{minutes}m{secs}s" if minutes else f"{secs}s")
    return ("-" if total < 0 else "") + text
