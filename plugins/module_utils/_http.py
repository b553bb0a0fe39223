# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""A small HTTP client on the standard library: base URL, TLS settings, bounded retries with backoff.

Retries cover what a later attempt can fix: connection errors, timeouts, 5xx and 429 answers (``Retry-After``
is honoured). Any other answer outside the expected statuses raises HttpError at once, with the body the server
sent, so an API error keeps its own words.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError, InputError

USER_AGENT = "talosforge.cluster"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
MAX_RETRY_AFTER = 300.0
_ERROR_BODY_LIMIT = 64 * 1024


class HttpError(ApiError):
    """A request failed. ``status`` is None when no HTTP answer arrived (connection error, timeout).

    ``failure()`` carries the answer's body as ``details`` and ``METHOD url`` (the url alone when the method is not
    given) as ``request``.
    """

    def __init__(
        self, status: int | None, body: str, url: str, reason: str = "", method: str = "", broke_off: bool = False
    ):
        self.body = body
        self.broke_off = broke_off  # the status line came, the body did not: the request was carried out
        self.url = url
        self.reason = reason
        if status is None:
            text = f"cannot reach {url}: {reason or 'connection failed'}"
        else:
            text = f"HTTP {status} from {url}"
            for detail in (reason, body.strip()[:500]):
                if detail:
                    text += f": {detail}"
        super().__init__(text, status=status, details=body or None, request=f"{method} {url}" if method else url)


class Response:
    """A complete answer: status, headers (case-insensitive), body bytes and the final URL."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, url: str, method: str = ""):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.method = method

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            reason = f"the answer is not valid JSON ({exc})"
            raise HttpError(self.status, self.text()[:200], self.url, reason, self.method) from exc


class StreamResponse:
    """An open answer whose body is read in chunks (see HttpClient.stream)."""

    def __init__(self, status: int, headers: Mapping[str, str], raw: Any, url: str):
        self.status = status
        self.headers = headers
        self.url = url
        self._raw = raw

    def read(self, size: int) -> bytes:
        return self._raw.read(size)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        while True:
            block = self._raw.read(size)
            if not block:
                return
            yield block


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class HttpClient:
    """HTTP client bound to one base URL.

    ``sleep`` is injectable so tests run retries without waiting. ``retries`` is the number of extra attempts
    after the first one; the wait before attempt n is ``backoff * 2**n`` capped at ``max_backoff``, or the
    server's Retry-After (capped at MAX_RETRY_AFTER) when it sends one.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        validate_certs: bool = True,
        ca_path: str | None = None,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] | None = None,
    ):
        parsed = urllib.parse.urlsplit(base_url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"{base_url!r} is not an http(s) URL; write it as https://host[:port][/path]")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent
        self.sleep = sleep if sleep is not None else time.sleep
        self.attempts = 0  # requests sent, retries included (for tests and benchmarks)
        context = ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
        if not validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))

    def url_for(self, path: str) -> str:
        """An absolute URL: ``path`` itself when it already is one, else joined to the base URL."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    # -- core -------------------------------------------------------------------------------------------------

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        wait = retry_after_seconds(retry_after)
        if wait is not None:
            return min(wait, MAX_RETRY_AFTER)
        return min(self.backoff * (2**attempt), self.max_backoff)

    def _open(
        self,
        method: str,
        url: str,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        ok: tuple[int, ...],
        retry: bool,
    ) -> tuple[int, Mapping[str, str], Any]:
        """Send the request until an expected status arrives; return (status, headers, open response)."""
        all_headers = {"User-Agent": self.user_agent}
        all_headers.update(headers or {})
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
            self.attempts += 1
            try:
                raw = self._opener.open(request, timeout=self.timeout)
                status, answer_headers = raw.status, raw.headers
            except urllib.error.HTTPError as exc:
                status, answer_headers, raw = exc.code, exc.headers, exc
            except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                reason = getattr(exc, "reason", None) or exc
                if isinstance(reason, ssl.SSLError):  # a certificate problem does not go away by retrying
                    tls = f"TLS error: {reason}; check validate_certs and ca_path"
                    raise HttpError(None, "", url, tls, method) from exc
                if not retry or attempt >= self.retries:
                    raise HttpError(None, "", url, f"{reason} (after {attempt + 1} attempts)", method) from exc
                self.sleep(self._delay(attempt, None))
                attempt += 1
                continue
            if status in ok:
                return status, answer_headers, raw
            body = _read_error_body(raw)
            if retry and (status >= 500 or status == 429) and attempt < self.retries:
                retry_after = answer_headers.get("Retry-After") if answer_headers else None
                self.sleep(self._delay(attempt, retry_after))
                attempt += 1
                continue
            raise HttpError(status, body, url, getattr(raw, "reason", "") or "", method)

    def request(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        retry: bool = True,
    ) -> Response:
        """Send a request and read the whole answer. Raises HttpError for a status outside ``ok``."""
        url = self.url_for(path)
        attempt = 0
        while True:
            status, answer_headers, raw = self._open(method, url, data, headers, ok, retry)
            try:
                with raw:
                    body = raw.read()
                return Response(status, answer_headers, body, getattr(raw, "url", None) or url, method)
            except (TimeoutError, http.client.HTTPException, OSError) as exc:
                # The answer broke off while being read: send the request again while attempts are left.
                if not retry or attempt >= self.retries:
                    raise HttpError(status, "", url, f"the answer broke off: {exc}", method, broke_off=True) from exc
                self.sleep(self._delay(attempt, None))
                attempt += 1

    @contextmanager
    def stream(
        self,
        path: str,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 206),
    ) -> Iterator[StreamResponse]:
        """GET ``path`` and yield the open answer for chunked reading (retries cover the request, not the body)."""
        url = self.url_for(path)
        status, answer_headers, raw = self._open("GET", url, None, headers, ok, True)
        try:
            yield StreamResponse(status, answer_headers, raw, getattr(raw, "url", None) or url)
        finally:
            raw.close()

    # -- helpers ----------------------------------------------------------------------------------------------

    def get_json(self, path: str, ok: tuple[int, ...] = (200,)) -> Any:
        return self.request("GET", path, headers={"Accept": "application/json"}, ok=ok).json()

    def get_text(self, path: str, ok: tuple[int, ...] = (200,)) -> str:
        return self.request("GET", path, ok=ok).text()

    def post(self, path: str, body: str | bytes, content_type: str, ok: tuple[int, ...] = (200, 201)) -> Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return self.request("POST", path, data=data, headers={"Content-Type": content_type}, ok=ok)


def client_from_params(
    params: Mapping[str, Any],
    default_url: str = "",
    *,
    url_key: str = "url",
    timeout_key: str = "timeout",
    default_timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    sleep: Callable[[float], None] | None = None,
) -> HttpClient:
    """An HttpClient from a module's connection options, read the same way for every HTTP API of the collection.

    ``params[url_key]`` is the base URL (``default_url`` when unset or empty), ``params[timeout_key]`` the timeout
    in seconds (``default_timeout`` when unset), ``validate_certs`` (default true) and ``ca_path`` the TLS
    settings. Raises InputError naming the option when the URL is not http(s) or ``ca_path`` cannot be read.
    """
    url = params.get(url_key) or default_url
    try:
        return HttpClient(
            url,
            timeout=float(params.get(timeout_key) or default_timeout),
            validate_certs=params.get("validate_certs", True) is not False,
            ca_path=params.get("ca_path"),
            retries=retries,
            sleep=sleep,
        )
    except ValueError as exc:
        raise InputError(f"{url_key}: {exc}") from exc
    except OSError as exc:  # ca_path missing, unreadable or not PEM (ssl.SSLError is an OSError)
        raise InputError(f"ca_path {params.get('ca_path')!r} cannot be read as PEM certificates: {exc}") from exc


def _read_error_body(raw: Any) -> str:
    try:
        with raw:
            return raw.read(_ERROR_BODY_LIMIT).decode("utf-8", errors="replace")
    except (http.client.HTTPException, OSError, AttributeError):
        return ""
