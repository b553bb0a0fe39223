"""The request log: one JSON line per API request a simulator answered.

Record fields: ``ts``, ``method``, ``path``, ``query`` (dict of lists), ``request_headers`` (secrets replaced by
``"REDACTED"``), ``request_body`` (text, at most 64 KiB), ``status`` (``null`` for a dropped connection),
``response_headers``, ``response_body`` (text for text and JSON, else ``null``), ``response_bytes`` (body bytes
sent), ``duration_ms``, ``request_id``, and ``fault`` (``"status"`` or ``"drop"``) when the answer was injected.
Control-plane requests (``/_sandbox/...``) are not logged.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import paths

REDACTED = "REDACTED"
MAX_BODY_CHARS = 64 * 1024
TEXT_CONTENT_TYPES = ("text/", "application/json", "application/yaml", "application/x-yaml", "application/x-pem-file")


def is_text_type(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind.startswith(TEXT_CONTENT_TYPES) or kind.endswith(("+json", "+yaml"))


def body_text(data: bytes | None) -> str:
    """A body as text for the log, truncated to 64 KiB characters."""
    if not data:
        return ""
    return data[: MAX_BODY_CHARS * 4].decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def redact_headers(headers: Iterable[tuple[str, str]], secret_names: Iterable[str]) -> dict[str, str]:
    """Headers as a dict (repeated names joined with ", "), with secret ones replaced."""
    secrets = {name.lower() for name in secret_names}
    result: dict[str, str] = {}
    for name, value in headers:
        value = REDACTED if name.lower() in secrets else value
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


class RequestLog:
    """Append-only JSON-lines file, safe for concurrent writers in one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()

    def clear(self) -> None:
        with self._lock:
            if self.path.exists():
                self.path.write_text("", encoding="utf-8")

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            return _read_lines(self.path)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line still being written by another process
    return records


def read(state_dir: str | os.PathLike[str], name: str) -> list[dict[str, Any]]:
    """All logged requests of simulator ``name`` in the given state folder, oldest first."""
    return _read_lines(paths.request_log(Path(state_dir), name))


def count(state_dir: str | os.PathLike[str], name: str) -> int:
    """Number of logged requests (cheap: counts lines)."""
    try:
        with paths.request_log(Path(state_dir), name).open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except FileNotFoundError:
        return 0
