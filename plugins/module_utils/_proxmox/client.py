# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""A Proxmox VE API client: token auth, the ``{"data": ...}`` envelope, PVE's errors, bounded lock retries.

Requests go to ``<api_url>/api2/json``. PVE puts the message of a failure in the HTTP reason phrase and, for
parameter errors, a mapping ``{"errors": {"<param>": "<message>"}}`` in the body; ProxmoxError keeps both (its
``failure()`` has them under ``details``, with the log tail of a failed task).
Reads are retried like any idempotent request (connection errors, 5xx, 429). Writes are retried when PVE answers
500 ``can't lock file ... got timeout`` (a failure that leaves nothing half done), and when the answer was lost or
a proxy answered 502/503/504: then the write's own check (``settled``, built in ``lost_writes``) says whether it
was carried out (its task is returned, the write is not sent again) or not (it is sent again). Nothing here
imports Ansible.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError

TOKEN_ID_ENV = ("PROXMOX_TOKEN_ID",)
TOKEN_SECRET_ENV = ("PROXMOX_TOKEN_SECRET",)
API_URL_ENV = ("PROXMOX_API_URL",)
TOKEN_ID_RE = re.compile(r"[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*")
LOCK_RETRIES = 5
LOST_RETRIES = 4  # a write whose answer was lost: checked, then sent again, at most this many times
_UNSURE = (None, 502, 503, 504)  # no answer, or a proxy's: the write may or may not have been carried out
_LOCK_TIMEOUT = re.compile(r"can't lock file .*got timeout", re.IGNORECASE | re.DOTALL)


class ProxmoxError(ApiError):
    """A PVE request or task failed. ``status`` is None when no answer came (PVE has no error codes: ``code`` is
    None); ``details`` holds the parameter ``errors`` PVE named and the ``task_log`` tail of a failed task, and
    ``request`` is ``METHOD url`` (empty when no single request failed)."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        errors: Mapping[str, str] | None = None,
        url: str = "",
        task_log: list[str] | None = None,
        method: str = "",
    ):
        self.errors = dict(errors or {})
        self.url = url
        self.task_log = list(task_log or [])
        request = f"{method} {url}" if method and url else url
        super().__init__(message, status, None, {"errors": self.errors, "task_log": self.task_log}, request)


def proxmox_argument_spec(env_fallback: Callable[..., Any]) -> dict[str, Any]:
    """Argument spec of the talosforge.cluster.proxmox doc fragment (``env_fallback`` passed in by the module)."""
    return {
        "api_url": {"type": "str", "required": True, "fallback": (env_fallback, list(API_URL_ENV))},
        "api_token_id": {"type": "str", "required": True, "fallback": (env_fallback, list(TOKEN_ID_ENV))},
        "api_token_secret": {
            "type": "str",
            "required": True,
            "no_log": True,
            "fallback": (env_fallback, list(TOKEN_SECRET_ENV)),
        },
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "float", "default": 30.0},
    }


def api_base(api_url: str) -> str:
    """``https://pve:8006`` (or with ``/api2/json`` already) -> ``https://pve:8006/api2/json``."""
    base = (api_url or "").rstrip("/")
    return base if base.endswith("/api2/json") else base + "/api2/json"


def encode_form(params: Mapping[str, Any] | None) -> bytes:
    """PVE's form encoding: booleans as 0/1, None left out, lists joined with commas (as ``delete`` wants)."""
    pairs = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(item) for item in value)
        pairs.append((key, str(value)))
    return urllib.parse.urlencode(pairs).encode("ascii")


def error_from_http(exc: HttpError, method: str) -> ProxmoxError:
    """A ProxmoxError carrying PVE's own words: the reason phrase, parameter errors, the status."""
    errors: dict[str, str] = {}
    try:
        body = json.loads(exc.body) if exc.body else None
    except ValueError:
        body = None
    if isinstance(body, Mapping) and isinstance(body.get("errors"), Mapping):
        errors = {str(k): str(v) for k, v in body["errors"].items()}
    if exc.status is None:
        return ProxmoxError(f"{method} {exc.url}: {exc.reason}", None, url=exc.url, method=method)
    message = f"{method} {exc.url} failed with HTTP {exc.status}"
    if exc.reason:
        message += f": {exc.reason.strip()}"
    if errors:
        message += " (" + "; ".join(f"{name}: {text.strip()}" for name, text in sorted(errors.items())) + ")"
    elif not exc.reason and exc.body.strip() and not isinstance(body, Mapping):
        message += f": {exc.body.strip()[:300]}"
    return ProxmoxError(message, exc.status, errors, exc.url, method=method)


def is_lock_timeout(exc: HttpError) -> bool:
    return exc.status == 500 and bool(_LOCK_TIMEOUT.search(f"{exc.reason} {exc.body}"))


class ProxmoxClient:
    """PVE API calls over an HttpClient, authenticated with an API token."""

    def __init__(
        self,
        http: HttpClient,
        token_id: str,
        token_secret: str,
        lock_retries: int = LOCK_RETRIES,
        lock_backoff: float = 0.5,
    ):
        if not TOKEN_ID_RE.fullmatch(token_id or ""):
            raise ProxmoxError(
                f"api_token_id {token_id!r} is not a PVE API token id; write it as user@realm!tokenid, "
                "for example terraform@pve!talosforge"
            )
        if not token_secret:
            raise ProxmoxError("api_token_secret is empty; set it to the secret PVE showed when the token was made")
        self.http = http
        self.lock_retries = lock_retries
        self.lock_backoff = lock_backoff
        self._auth = {"Authorization": f"PVEAPIToken={token_id}={token_secret}"}
        self.requests = 0  # API calls made (retries included), for results and benchmarks
        self._count_lock = threading.Lock()

    def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        settled: Callable[[], str | bool | None] | None = None,
    ) -> Any:
        """Send one API call and return the ``data`` of the answer; raises ProxmoxError.

        ``settled`` (writes): when the answer was lost, it says whether the write was carried out (a UPID to wait
        on, or True: done, and this returns None) or not (None: sent again); without it such a write fails.
        """
        headers = {**self._auth, "Accept": "application/json"}
        data = None
        target = path
        if method in ("GET", "DELETE") and params:
            query = encode_form(params).decode("ascii")
            target = f"{path}?{query}" if query else path
        elif params is not None:
            data = encode_form(params)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        attempt = lost = 0
        while True:
            with self._count_lock:
                self.requests += 1
            try:
                answer = self.http.request(method, target, data=data, headers=headers, retry=method == "GET")
                break
            except HttpError as exc:
                if method != "GET" and is_lock_timeout(exc) and attempt < self.lock_retries:
                    self.http.sleep(min(self.lock_backoff * (2**attempt), 10.0))
                    attempt += 1
                    continue
                unsure = exc.status in _UNSURE or exc.broke_off
                if method != "GET" and settled is not None and unsure and lost < LOST_RETRIES:
                    done = settled()
                    if done:
                        return done if isinstance(done, str) else None  # carried out: not sent a second time
                    self.http.sleep(min(self.lock_backoff * (2**lost), 10.0))
                    lost += 1
                    continue
                raise error_from_http(exc, method) from exc
        try:
            body = answer.json() if answer.body else {}
        except HttpError as exc:
            raise ProxmoxError(
                f"{method} {answer.url} did not answer JSON: {exc.reason}", answer.status, url=answer.url, method=method
            ) from exc
        if not isinstance(body, Mapping) or "data" not in body:
            raise ProxmoxError(
                f"{method} {answer.url} answered without the data envelope",
                answer.status,
                url=answer.url,
                method=method,
            )
        return body["data"]

    def upload(self, path: str, content_type: str, body: Any, length: int) -> Any:
        """POST a streamed multipart body (sent once: a stream cannot be replayed); return the answer's data."""
        headers = {**self._auth, "Accept": "application/json", "Content-Type": content_type}
        headers["Content-Length"] = str(length)
        with self._count_lock:
            self.requests += 1
        try:
            answer = self.http.request("POST", path, data=body, headers=headers, retry=False)
        except HttpError as exc:
            raise error_from_http(exc, "POST") from exc
        try:
            return answer.json()["data"]
        except (HttpError, KeyError, TypeError) as exc:
            raise ProxmoxError(
                f"POST {answer.url} answered without the data envelope", answer.status, url=answer.url, method="POST"
            ) from exc

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params or None)

    def post(self, path: str, *, settled: Callable[[], str | bool | None] | None = None, **params: Any) -> Any:
        return self.call("POST", path, params, settled)

    def put(self, path: str, *, settled: Callable[[], str | bool | None] | None = None, **params: Any) -> Any:
        return self.call("PUT", path, params, settled)

    def delete(self, path: str, *, settled: Callable[[], str | bool | None] | None = None, **params: Any) -> Any:
        return self.call("DELETE", path, params or None, settled)


def client_from_params(params: Mapping[str, Any], sleep: Callable[[float], None] | None = None) -> ProxmoxClient:
    """A ProxmoxClient from module parameters (api_url, api_token_id, api_token_secret, validate_certs, ca_path)."""
    try:
        http = HttpClient(
            api_base(params.get("api_url") or ""),
            timeout=float(params.get("timeout") or 30.0),
            validate_certs=params.get("validate_certs", True) is not False,
            ca_path=params.get("ca_path"),
            sleep=sleep or time.sleep,
        )
    except ValueError as exc:
        raise ProxmoxError(f"api_url: {exc}") from exc
    except OSError as exc:  # an unreadable ca_path
        raise ProxmoxError(f"ca_path {params.get('ca_path')!r} cannot be read as PEM certificates: {exc}") from exc
    return ProxmoxClient(http, params.get("api_token_id") or "", params.get("api_token_secret") or "")


def quote(part: Any) -> str:
    """One path segment (node, storage, volume id, UPID) escaped for a URL."""
    return urllib.parse.quote(str(part), safe="")


StateRunner = Callable[[Mapping[str, Any], bool, "ProxmoxClient", Callable[[float], None]], dict]


def run_state(
    params: Mapping[str, Any],
    check_mode: bool,
    present: StateRunner,
    absent: StateRunner,
    client: ProxmoxClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Run ``present`` or ``absent`` by ``params["state"]`` with a client, and count the API requests it made."""
    client = client or client_from_params(params, sleep)
    runner = absent if params.get("state") == "absent" else present
    result = runner(params, check_mode, client, sleep)
    result["api_requests"] = client.requests
    return result
