"""The base every simulator builds on: requests, responses, routing by method and regex, and the control plane.

A simulator subclasses :class:`SimulatorApp`, sets ``name`` and ``server_header``, and marks its handler methods
one of two ways:

- :func:`operation` (``method``, path template as the API's description writes it, e.g. ``GET /servers/{id}``):
  for a simulator built from a machine-readable API description (Hetzner Cloud's OpenAPI document, the PVE API
  schema). Its own ``dispatch`` finds the documented operation of a request, checks it against the description,
  and calls :meth:`SimulatorApp.handler_for` that operation. Handlers may live in mixins.
- :func:`route` (methods and a path regex): for a simulator without one (the Image Factory); the default
  ``dispatch`` matches the path and calls the handler with the :class:`Request`; it returns a :class:`Response`
  (or raises :class:`HTTPError`).

Serving, request logging, faults and latency are done by :mod:`sandbox.server` for every simulator alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from . import paths
from .faults import Controls, Fault, FaultSpecError, Latency
from .requestlog import RequestLog

TEXT_PLAIN = "text/plain; charset=utf-8"
CONTROL_PREFIX = "/_sandbox/"
Handler = TypeVar("Handler", bound=Callable[..., Any])


class HTTPError(Exception):
    """Raised by a handler to answer with a plain-text error (a trailing newline is added)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def query_value(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise HTTPError(400, f"request body is not valid JSON: {error}") from None


@dataclass
class FileBody:
    """A byte range of a file, streamed instead of held in memory."""

    path: Path
    start: int
    length: int


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: FileBody | None = None

    @property
    def content_length(self) -> int:
        return self.file.length if self.file else len(self.body)

    @classmethod
    def text(
        cls, status: int, text: str, content_type: str = TEXT_PLAIN, headers: dict[str, str] | None = None
    ) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type, **(headers or {})})

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"
        return cls.text(status, body, "application/json", headers)

    @classmethod
    def error(cls, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        """Plain text with a trailing newline, like Go's http.Error."""
        return cls.text(
            status, message.rstrip("\n") + "\n", TEXT_PLAIN, {"X-Content-Type-Options": "nosniff", **(headers or {})}
        )


def route(method: str | tuple[str, ...], pattern: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a handler for ``method`` (or several) and a path regex (matched in full; named groups -> params)."""
    methods = (method,) if isinstance(method, str) else tuple(method)

    def mark(handler: Callable[..., Response]) -> Callable[..., Response]:
        handler.__dict__.setdefault("_sandbox_routes", []).append((methods, pattern))
        return handler

    return mark


def operation(method: str, template: str) -> Callable[[Handler], Handler]:
    """Mark a handler for the documented operation ``method template`` (looked up with ``handler_for``)."""

    def mark(handler: Handler) -> Handler:
        handler.__dict__.setdefault("_sandbox_operations", []).append((method, template))
        return handler

    return mark


class SimulatorApp:
    """One simulated API: its routes, its state under ``<state>/<name>/``, its request log and its controls."""

    name: ClassVar[str] = "simulator"
    server_header: ClassVar[str] = "talosforge-sandbox"
    redacted_headers: ClassVar[frozenset[str]] = frozenset({"authorization", "proxy-authorization", "cookie"})
    redacted_query: ClassVar[frozenset[str]] = frozenset()
    _routes: ClassVar[list[tuple[tuple[str, ...], re.Pattern[str], str]]] = []
    _operations: ClassVar[dict[tuple[str, str], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes: list[tuple[tuple[str, ...], re.Pattern[str], str]] = []
        operations: dict[tuple[str, str], str] = {}
        for klass in reversed(cls.__mro__):
            for attribute, value in vars(klass).items():
                for methods, pattern in getattr(value, "_sandbox_routes", []):
                    routes.append((methods, re.compile(pattern), attribute))
                for key in getattr(value, "_sandbox_operations", []):
                    operations[key] = attribute
        cls._routes, cls._operations = routes, operations

    def handler_for(self, method: str, template: str) -> Callable[..., Any] | None:
        """The handler marked with ``@operation(method, template)``, bound to this app; None when there is none."""
        attribute = self._operations.get((method, template))
        return getattr(self, attribute) if attribute is not None else None

    def __init__(self, state_dir: str | os.PathLike[str], options: dict[str, Any] | None = None) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.data_dir = paths.data_dir(self.state_dir, self.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.options = dict(options or {})
        self.log = RequestLog(paths.request_log(self.state_dir, self.name))
        self.controls = Controls()
        self.url = ""  # set by the server once it is bound

    # --- to override ------------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget everything the simulator stored (default: empty its data folder)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def fault_response(self, fault: Fault) -> Response:
        """The answer to a request hit by a status fault (simulators may shape it like their API's errors)."""
        message = fault.body if fault.body is not None else HTTPStatus(fault.status or 500).phrase.lower()
        return Response.error(fault.status or 500, message, fault.headers)

    # --- dispatch ---------------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.controls.clear()
        self.reset_state()
        self.log.clear()

    def dispatch(self, request: Request) -> Response:
        allowed: set[str] = set()
        for methods, pattern, attribute in self._routes:
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            if request.method not in methods:
                allowed.update(methods)
                continue
            request.params = {key: value for key, value in match.groupdict().items() if value is not None}
            try:
                return getattr(self, attribute)(request)
            except HTTPError as error:
                return Response.error(error.status, error.message, error.headers)
            except Exception:  # a simulator bug: answer like a server would, keep the trace for the developer
                traceback.print_exc(file=sys.stderr)
                return Response.error(500, "internal server error")
        if allowed:
            return Response.error(405, "Method Not Allowed", {"Allow": ", ".join(sorted(allowed))})
        return Response.error(404, "404 page not found")

    # --- control plane (/_sandbox/...) ------------------------------------------------------------------------
    def control(self, request: Request) -> Response:
        action = (request.method, request.path[len(CONTROL_PREFIX) :].strip("/"))
        try:
            if action == ("GET", "health"):
                return Response.json(200, self.health())
            if action == ("GET", "requests"):
                return Response.json(200, self.log.read())
            if action == ("GET", "faults"):
                return Response.json(200, {"faults": self.controls.faults(), "latency": self.controls.latency()})
            if action == ("POST", "faults"):
                data = request.json()
                for item in data if isinstance(data, list) else [data]:
                    self.controls.add_fault(Fault.from_json(item))
                return Response.json(201, {"faults": self.controls.faults()})
            if action == ("DELETE", "faults"):
                self.controls.clear_faults()
                return Response.json(200, {"faults": []})
            if action == ("POST", "latency"):
                self.controls.set_latency(Latency.from_json(request.json()))
                return Response.json(200, {"latency": self.controls.latency()})
            if action == ("DELETE", "latency"):
                self.controls.set_latency(Latency())
                return Response.json(200, {"latency": self.controls.latency()})
            if action == ("POST", "reset"):
                self.reset()
                return Response.json(200, {"reset": self.name})
        except (FaultSpecError, TypeError) as error:
            return Response.json(400, {"error": str(error)})
        except HTTPError as error:
            return Response.json(error.status, {"error": error.message})
        return Response.json(404, {"error": f"no control endpoint {request.method} {request.path}"})

    def health(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": "ok",
            "pid": os.getpid(),
            "url": self.url,
            "state_dir": str(self.state_dir),
            "faults": self.controls.faults(),
            "latency": self.controls.latency(),
        }


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """A single ``bytes=N-``/``bytes=N-M``/``bytes=-N`` range as (start, end inclusive).

    None: no usable Range header (serve everything). False: the range cannot be satisfied (416).
    """
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: ignored, as servers may
    first, last = match.group(1), match.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return False
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


def file_response(request: Request, path: Path, headers: dict[str, str], etag: str | None = None) -> Response:
    """200 with the whole file, 206 with the requested range, or 416; always ``Accept-Ranges: bytes``."""
    size = path.stat().st_size
    base = {**headers, "Accept-Ranges": "bytes"}
    if etag:
        base["ETag"] = f'"{etag}"'
    wanted = parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and etag and if_range.strip() != f'"{etag}"':
        wanted = None  # the client's copy is stale: send it all again
    if wanted is False:
        return Response(416, b"", {**base, "Content-Range": f"bytes */{size}", "Content-Type": TEXT_PLAIN})
    if wanted is None:
        return Response(200, headers=base, file=FileBody(path, 0, size))
    start, end = wanted  # type: ignore[misc]
    return Response(
        206,
        headers={**base, "Content-Range": f"bytes {start}-{end}/{size}"},
        file=FileBody(path, start, end - start + 1),
    )
