"""HTTP serving for every simulator: 127.0.0.1 only, threads, faults, latency and the request log."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .httpbase import CONTROL_PREFIX, Request, Response, SimulatorApp
from .requestlog import body_text, is_text_type, redact_headers

LOOPBACK = "127.0.0.1"
MAX_BODY_BYTES = 16 * 1024 * 1024
CHUNK = 64 * 1024


class _BodyTooLarge(Exception):
    pass


class SimulatorHandler(BaseHTTPRequestHandler):
    """Turns one HTTP exchange into a :class:`Request`, asks the app, writes and logs the answer."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after a minute
    app: SimulatorApp

    def version_string(self) -> str:
        return self.app.server_header

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the JSON request log is the record; keep stderr for real problems

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailers
                    return b"".join(parts)
                total += size
                if total > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.monotonic()
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        request_id = self.headers.get("X-Request-ID") or str(uuid.uuid4())
        split = urlsplit(self.path)
        request = Request(
            self.command, unquote(split.path), parse_qs(split.query, keep_blank_values=True), self.headers
        )
        try:
            request.body = self._read_body()
        except (_BodyTooLarge, ValueError):
            self.close_connection = True
            self._send_plain(Response.error(413, "request body too large"), request_id, head=False)
            return
        if request.path.startswith(CONTROL_PREFIX):
            self._send_plain(self.app.control(request), request_id, head=request.method == "HEAD")
            return
        delay = self.app.controls.delay_seconds(request.path)
        if delay:
            time.sleep(delay)
        fault = self.app.controls.take_fault(request.method, request.path)
        record = self._record_start(request, request_id, stamp)
        if fault is not None and fault.drop_connection:
            self._finish_record(record, None, {}, None, 0, started, fault.kind)
            self._drop()
            return
        response = self.app.fault_response(fault) if fault and fault.status else self.app.dispatch(request)
        head = request.method == "HEAD"
        headers = {"X-Request-ID": request_id, **response.headers, "Content-Length": str(response.content_length)}
        limit = fault.truncate_after if fault is not None and fault.truncate_after is not None else None
        planned = 0 if head else min(response.content_length, limit if limit is not None else response.content_length)
        shown = None
        if is_text_type(response.headers.get("Content-Type")) and response.file is None:
            shown = body_text(response.body[:planned])
        # the record is written before the answer, so a client that has its answer also finds it in the log
        logged = {"Server": self.version_string(), "Date": self.date_time_string(), **headers}
        self._finish_record(record, response.status, logged, shown, planned, started, fault.kind if fault else None)
        self._send(response, headers, head, limit)
        if limit is not None:
            self._drop()

    def _send(self, response: Response, headers: dict[str, str], head: bool, limit: int | None = None) -> None:
        """Write status, headers and (unless HEAD) the body, at most ``limit`` body bytes."""
        try:
            # a simulator may set ``response.reason`` (PVE puts its error message in the status line)
            reason = getattr(response, "reason", None)
            self.send_response(response.status, " ".join(str(reason).split())[:200] if reason else None)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self._write_body(response, limit)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_plain(self, response: Response, request_id: str, head: bool) -> None:
        headers = {"X-Request-ID": request_id, **response.headers, "Content-Length": str(response.content_length)}
        self._send(response, headers, head)

    def _write_body(self, response: Response, limit: int | None) -> None:
        remaining = response.content_length if limit is None else min(limit, response.content_length)
        if response.file is None:
            self.wfile.write(response.body[:remaining])
            return
        with response.file.path.open("rb") as handle:
            handle.seek(response.file.start)
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _record_start(self, request: Request, request_id: str, stamp: str) -> dict[str, Any]:
        query = {
            key: (["REDACTED"] * len(values) if key in self.app.redacted_query else values)
            for key, values in request.query.items()
        }
        return {
            "ts": stamp,
            "method": request.method,
            "path": request.path,
            "query": query,
            "request_headers": redact_headers(request.headers.items(), self.app.redacted_headers),
            "request_body": body_text(request.body),
            "request_id": request_id,
        }

    def _finish_record(
        self,
        record: dict[str, Any],
        status: int | None,
        headers: dict[str, str],
        shown_body: str | None,
        sent: int,
        started: float,
        fault: str | None,
    ) -> None:
        record.update(
            status=status,
            response_headers=redact_headers(headers.items(), ("set-cookie",)),
            response_body=shown_body,
            response_bytes=sent,
            duration_ms=round((time.monotonic() - started) * 1000, 3),
        )
        if fault:
            record["fault"] = fault
        self.app.log.append(record)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128  # many clients at once (a module working on 30 nodes in parallel)
    ssl_context: ssl.SSLContext | None = None  # set for simulators that serve HTTPS

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # answers are written in several pieces (headers, body): do not let Nagle hold the last one back
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection; with TLS, the handshake happens here, on the connection's own thread."""
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(SimulatorHandler.timeout)
            secured = self.ssl_context.wrap_socket(request, server_side=True)  # takes over the connection
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate or spoke plain HTTP: nothing to answer
        try:
            super().finish_request(secured, client_address)
        finally:
            try:
                secured.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            secured.close()


def make_server(app: SimulatorApp, port: int = 0) -> SimulatorServer:
    """Bind ``app`` to 127.0.0.1:``port`` (0 picks a free port) and tell the app its URL.

    An app with a ``tls_context()`` method that returns an SSLContext is served over HTTPS (``https://`` URL).
    """
    handler = type(f"{type(app).__name__}Handler", (SimulatorHandler,), {"app": app})
    server = SimulatorServer((LOOPBACK, port), handler)
    make_context = getattr(app, "tls_context", None)
    server.ssl_context = make_context() if callable(make_context) else None
    scheme = "https" if server.ssl_context is not None else "http"
    app.url = f"{scheme}://{LOOPBACK}:{server.server_address[1]}"
    return server


def serve_in_thread(server: SimulatorServer, poll_interval: float = 0.05) -> threading.Thread:
    """Serve on a daemon thread; ``poll_interval`` bounds how long ``shutdown()`` waits."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.name = f"sandbox-{server.RequestHandlerClass.__name__}"
    thread.start()
    return thread
