# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""A small Kubernetes API client on the standard library: one kept-alive connection per client (per thread).

Every request is counted per method in a shared ``Stats`` (tests and benchmarks read it: a no-op run sends no
write). Connection failures and 429/502/503/504 answers are retried a bounded number of times; every other answer
outside the expected statuses raises ``KubeApiError`` with the API server's own message.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.kubeconfig import Connection

USER_AGENT = "talosforge.cluster/kube_objects"
RETRIES = 3
APPLY_PATCH = "application/apply-patch+yaml"
# Answers a later attempt can change. Not 500: the API server answers 500 on purpose too (a patch that does not
# fit the schema's types), and repeating that only delays the error.
RETRIED = (429, 502, 503, 504)


class KubeApiError(ApiError):
    """The API server refused a request (``status``) or could not be reached (``status`` None).

    ``code`` is the Status reason (NotFound, Invalid, Conflict, ...) and ``details`` the API server's message.
    """

    @classmethod
    def from_answer(cls, status: int, body: bytes, request: str) -> KubeApiError:
        message, reason = "", None
        try:
            answer = json.loads(body.decode("utf-8"))
            if isinstance(answer, dict):
                message, reason = str(answer.get("message") or ""), answer.get("reason")
        except (UnicodeDecodeError, ValueError):
            pass
        if not message:
            message = body.decode("utf-8", errors="replace").strip()[:500] or http.client.responses.get(status, "")
        return cls(message, status=status, code=reason, details=message, request=request)


class Stats:
    """Requests sent, by method, shared by the clients of one run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()

    def count(self, method: str) -> None:
        with self._lock:
            self.requests[method] += 1

    def writes(self) -> int:
        return sum(number for method, number in self.requests.items() if method != "GET")


class KubeClient:
    """Requests to one API server over one connection, reopened when the server closed it."""

    def __init__(
        self,
        connection: Connection,
        stats: Stats | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.connection = connection
        self.stats = stats if stats is not None else Stats()
        self.timeout = timeout
        self.sleep = sleep
        self._http: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        conn = self.connection
        if conn.scheme == "https":
            if conn.server_hostname:  # tls-server-name: verify the certificate for that name, connect to the host
                return _NamedHTTPSConnection(conn.server_hostname, conn.host, conn.port, self.timeout, conn.context)
            return http.client.HTTPSConnection(conn.host, conn.port, timeout=self.timeout, context=conn.context)
        return http.client.HTTPConnection(conn.host, conn.port, timeout=self.timeout)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        """(status, decoded JSON answer) for a status in ``ok``; raises KubeApiError otherwise."""
        target = self.connection.base_path + path + ("?" + urllib.parse.urlencode(query) if query else "")
        described = f"{method} {path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.connection.token:
            headers["Authorization"] = f"Bearer {self.connection.token}"
        data = None
        if body is not None:
            data = json.dumps(body, default=str).encode("utf-8")
            headers["Content-Type"] = content_type
        attempt = 0
        while True:
            self.stats.count(method)
            try:
                status, answer = self._send(method, target, data, headers)
            except ssl.SSLError as exc:
                self.close()
                raise KubeApiError(
                    f"TLS error talking to {self.connection.server}: {exc}", request=described, code="TLSError"
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt >= RETRIES:
                    raise KubeApiError(
                        f"cannot reach {self.connection.server}: {exc} (after {attempt + 1} attempts)",
                        request=described,
                        code="Unreachable",
                    ) from exc
                attempt += 1
                self.sleep(0.2 * 2**attempt)
                continue
            if status in ok:
                return status, _decoded(answer) if 200 <= status < 300 else None
            if status in RETRIED and attempt < RETRIES:
                attempt += 1
                self.sleep(0.2 * 2**attempt)
                continue
            raise KubeApiError.from_answer(status, answer, described)

    def _send(self, method: str, target: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._http is None:
            self._http = self._open()
        self._http.request(method, target, body=data, headers=headers)
        response = self._http.getresponse()
        answer = response.read()
        if response.will_close:
            self.close()
        return response.status, answer

    # -- the calls kube_objects makes ---------------------------------------------------------------------------

    def get(self, path: str, missing_ok: bool = False) -> Any:
        """The object at ``path``; None when it does not exist and ``missing_ok``."""
        status, answer = self.request("GET", path, ok=(200, 404) if missing_ok else (200,))
        return None if status == 404 else answer

    def apply(self, path: str, manifest: Mapping[str, Any], field_manager: str, dry_run: bool = False) -> Any:
        """Server-side apply of ``manifest`` (forced: this manager takes the fields it sets)."""
        query = {"fieldManager": field_manager, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("PATCH", path, query, manifest, APPLY_PATCH, ok=(200, 201))[1]

    def delete(self, path: str) -> bool:
        """Delete the object at ``path`` (foreground for nothing: the server's default); False when it was absent."""
        status, _answer = self.request("DELETE", path, ok=(200, 202, 404))
        return status != 404


def _decoded(answer: bytes) -> Any:
    try:
        return json.loads(answer.decode("utf-8")) if answer else None
    except (UnicodeDecodeError, ValueError):
        return None


class _NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` checking the certificate against another name (the kubeconfig's ``tls-server-name``)."""

    def __init__(self, name: str, host: str, port: int, timeout: float, context: ssl.SSLContext | None):
        super().__init__(host, port, timeout=timeout, context=context)
        self._name = name
        self._tls = context or ssl.create_default_context()

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._name)
