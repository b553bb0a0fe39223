# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small HTTP server on 127.0.0.1 for tests that script how a server answers (or misbehaves).

with LoopbackServer(Handler) as server:   # Handler: a QuietHandler subclass
    HttpClient(server.url) ...
"""

from __future__ import annotations

import http.server
import ssl
import threading
from typing import Any


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that speaks HTTP/1.1 (kept-alive connections, as real servers) and logs nothing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LoopbackServer:
    """``handler`` served on a free port of 127.0.0.1 from a thread while the ``with`` block runs.

    ``url`` is the base URL (https with ``tls_context``).
    """

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler], tls_context: ssl.SSLContext | None = None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
