# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""A small Hetzner Cloud API client: errors that keep the API's code, retries, pagination, action waits.

Retries (bounded in attempts and in time) cover what a later attempt can fix: 429 ``rate_limit_exceeded`` (paced at
the budget's refill rate, one request per ``3600 / RateLimit-Limit`` seconds), 5xx, 423 ``locked``, 409 ``conflict``
and connections that broke. Waiting on actions asks for all pending ones in one ``GET /actions?id=..&id=..`` per
round. The token goes into the Authorization header only; it is never part of a message, a URL or a result.
Nothing here imports Ansible.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError

DEFAULT_ENDPOINT = "https://api.hetzner.cloud/v1"
TOKEN_ENV = "HCLOUD_TOKEN"
ENDPOINT_ENV = "HCLOUD_ENDPOINT"
PER_PAGE = 50
MAX_PAGES = 200
ACTION_IDS_PER_REQUEST = 25
RETRY_CODES = frozenset(
    {"locked", "conflict", "rate_limit_exceeded", "server_error", "bad_gateway", "unavailable", "timeout"}
)
_ANY_STATUS = tuple(range(100, 600))
ANSWER_LOST = "answer_lost"  # our code: the connection broke after the request was sent


class HcloudError(ApiError):
    """The API refused a request (``code`` is the API's error code), or it could not be reached (code None)."""


class ActionFailed(HcloudError):
    """One or more actions ended in ``error``; ``actions`` holds them as the API returned them."""

    def __init__(self, message: str, actions: list[dict[str, Any]]):
        first = (actions[0].get("error") or {}) if actions else {}
        super().__init__(message, None, first.get("code"), {"actions": actions})
        self.actions = actions


def auth_argument_spec(env_fallback: Callable[..., Any]) -> dict[str, Any]:
    """The options of the talosforge.cluster.hcloud doc fragment (the names hetzner.hcloud uses)."""
    return {
        "api_token": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, [TOKEN_ENV])},
        "api_endpoint": {"type": "str", "default": DEFAULT_ENDPOINT, "fallback": (env_fallback, [ENDPOINT_ENV])},
        "request_timeout": {"type": "float", "default": 30.0},
    }


def retry_wait(
    status: int | None,
    code: str | None,
    headers: Mapping[str, str] | None,
    attempt: int,
    now: float,
    backoff: float = 0.5,
    max_backoff: float = 16.0,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or None when the answer is final.

    429: one refill interval, ``3600 / RateLimit-Limit`` seconds (the budget refills gradually, one request at a
    time: every second at the default 3600 per hour), not until ``RateLimit-Reset`` (when the WHOLE budget is back);
    without RateLimit-Limit until RateLimit-Reset, at least 1 s; without either the exponential backoff.
    5xx, locked, conflict and broken connections (``status`` None): ``backoff * 2**attempt`` capped at max_backoff.
    """
    exponential = min(backoff * (2**attempt), max_backoff)
    if status == 429:
        interval = refill_interval(headers)
        if interval is not None:
            return interval
        reset = (headers or {}).get("RateLimit-Reset") if headers is not None else None
        try:
            return max(1.0, float(reset) - now) if reset is not None else exponential
        except ValueError:
            return exponential
    if status is None or status >= 500 or code in RETRY_CODES:
        return exponential
    return None


def refill_interval(headers: Mapping[str, str] | None) -> float | None:
    """Seconds until the budget holds one more request (``3600 / RateLimit-Limit``); None when not readable."""
    try:
        limit = float((headers or {}).get("RateLimit-Limit") or "")
    except ValueError:
        return None
    return 3600.0 / limit if limit > 0 else None


def _error_of(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


class HcloudClient:
    """Talks to one Hetzner Cloud API endpoint with one token. ``requests`` counts the requests sent."""

    def __init__(
        self,
        token: str,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 30.0,
        max_attempts: int = 8,
        max_retry_time: float = 300.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ):
        if not token:
            raise HcloudError("no API token: set api_token (or the HCLOUD_TOKEN environment variable)")
        try:
            self.http = HttpClient(endpoint, timeout=timeout, retries=0)
        except ValueError as exc:
            raise HcloudError(f"api_endpoint: {exc}") from None
        self._auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.max_attempts = max(1, max_attempts)
        self.max_retry_time = max_retry_time
        self.sleep = sleep or time.sleep
        self.clock = clock or time.time
        self.requests = 0
        self._count_lock = threading.Lock()
        self._next_slot = 0.0  # after a 429: when the next request of any thread may go (paced at the refill rate)

    # -- one request ------------------------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
        resend: bool = True,
    ) -> dict[str, Any]:
        """Send one request (retried as the module docstring says); the decoded JSON answer ({} when empty).

        With ``resend`` False a broken answer is not retried (the request may have been carried out): it raises
        HcloudError with code ``answer_lost`` instead, for ``create`` to look for what the request made.
        """
        target = path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        what = f"{method} {target}"
        headers = dict(self._auth)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        started = self.clock()
        attempt = 0
        while True:
            with self._count_lock:
                self.requests += 1
            status, answer_headers, error = None, None, {}
            try:
                response = self.http.request(method, target, data=data, headers=headers, ok=_ANY_STATUS, retry=False)
            except HttpError as exc:
                reason = exc.reason or str(exc)
            else:
                status, answer_headers = response.status, response.headers
                if status in ok:
                    return self._decode(response.body, what)
                error = _error_of(response.body)
                reason = error.get("message") or response.text()[:300] or f"HTTP {status}"
            code = error.get("code")
            if status is None and not resend:
                raise HcloudError(f"{what}: the answer was lost: {reason}", None, ANSWER_LOST, None, what)
            wait = retry_wait(status, code, answer_headers, attempt, self.clock())
            if status == 429 and wait is not None and refill_interval(answer_headers) is not None:
                wait = self._reserve(wait)
            attempt += 1
            spent = self.clock() - started
            if wait is None or attempt >= self.max_attempts or spent + wait > self.max_retry_time:
                raise self._error(what, status, code, reason, error.get("details"), attempt, wait)
            self.sleep(wait)

    def create(
        self, path: str, body: Any, find: Callable[[], dict[str, Any] | None], ok: tuple[int, ...] = (201,)
    ) -> dict[str, Any]:
        """POST a request that makes something; never sent twice blindly.

        After a lost answer, or a ``uniqueness_error`` (an earlier attempt of this run or a killed run made it),
        ``find()`` looks for what the request made, by the name or labels the body sets, and returns an answer
        to adopt it (its actions may be missing); only when nothing was made is the request sent again.
        """
        for _attempt in range(self.max_attempts):
            try:
                return self.call("POST", path, body, ok=ok, resend=False)
            except HcloudError as exc:
                if exc.code not in (ANSWER_LOST, "uniqueness_error"):
                    raise
                found = find()
                if found is not None:
                    return found
                if exc.code != ANSWER_LOST:
                    raise
        raise HcloudError(
            f"POST {path}: the answer was lost {self.max_attempts} times and nothing was made",
            code=ANSWER_LOST,
            request=f"POST {path}",
        )

    def _reserve(self, interval: float) -> float:
        """Seconds to wait for the next free slot of a spent budget: threads of this client retry one refill
        interval apart instead of all at once (only one of them would get the single request that came back)."""
        with self._count_lock:
            now = self.clock()
            slot = max(now + interval, self._next_slot)
            self._next_slot = slot + interval
            return slot - now

    def delete(self, path: str, ok: tuple[int, ...] = (200, 204)) -> dict[str, Any]:
        """DELETE ``path``; the answer, or {} when it is 404 ``not_found``: what is already gone counts as deleted
        (it vanished between list and delete, or a retried DELETE whose first answer was lost did the work)."""
        try:
            return self.call("DELETE", path, ok=ok)
        except HcloudError as exc:
            if exc.status == 404 and exc.code == "not_found":
                return {}
            raise

    def _decode(self, body: bytes, what: str) -> dict[str, Any]:
        if not body:
            return {}
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HcloudError(f"{what}: the answer is not JSON ({exc})", request=what) from None
        return data if isinstance(data, dict) else {"value": data}

    @staticmethod
    def _error(
        what: str, status: int | None, code: str | None, reason: str, details: Any, attempts: int, wait: float | None
    ) -> HcloudError:
        if status is None:
            text = f"{what}: cannot reach the Hetzner Cloud API: {reason} (after {attempts} attempts)"
        else:
            text = f"{what}: {status} {code or 'error'}: {reason}"
            if wait is not None:
                text += f" (gave up after {attempts} attempts)"
        if code == "rate_limit_exceeded":
            pace = f" and one request comes back every {wait:.0f} s" if wait is not None and wait >= 1 else ""
            text += f"; the project's request budget is spent{pace}, wait for it to refill or lower the request rate"
        elif code == "unauthorized":
            text += "; check api_token (or HCLOUD_TOKEN): it must be a read/write token of the project"
        return HcloudError(text, status, code, details, what)

    # -- lists ------------------------------------------------------------------------------------------------

    def list(self, resource: str, query: Mapping[str, Any] | None = None, key: str | None = None) -> list[dict]:
        """Every item of ``GET /<resource>``, all pages (``per_page`` 50)."""
        key = key or resource.rsplit("/", 1)[-1]
        items: list[dict] = []
        page = 1
        for _round in range(MAX_PAGES):
            answer = self.call("GET", f"/{resource}", query={**(query or {}), "page": page, "per_page": PER_PAGE})
            items.extend(answer.get(key) or [])
            following = ((answer.get("meta") or {}).get("pagination") or {}).get("next_page")
            if not following:
                return items
            page = int(following)
        raise HcloudError(f"GET /{resource}: more than {MAX_PAGES} pages; narrow the label selector")

    # -- actions ----------------------------------------------------------------------------------------------

    def wait_actions(
        self,
        actions: Iterable[dict[str, Any] | int | None],
        timeout: float = 600.0,
        interval: float = 0.25,
        max_interval: float = 2.0,
    ) -> dict[int, dict[str, Any]]:
        """Wait until every action is ``success`` or ``error``; one GET /actions per round for all that still run.

        Raises ActionFailed naming every failed action, HcloudError when ``timeout`` seconds pass first.
        """
        known: dict[int, dict[str, Any]] = {}
        for action in actions:
            if isinstance(action, dict):
                known[int(action["id"])] = action
            elif action is not None:
                known[int(action)] = {"id": int(action), "status": "running"}
        deadline = self.clock() + timeout
        while True:
            pending = [ident for ident, action in known.items() if action.get("status") == "running"]
            if not pending:
                break
            if self.clock() > deadline:
                commands = sorted({known[i].get("command", "?") for i in pending})
                raise HcloudError(
                    f"{len(pending)} actions still running after {timeout:.0f} s ({', '.join(commands)});"
                    " raise wait_timeout or look at the project's actions in the console",
                    code="timeout",
                    details={"action_ids": pending},
                )
            self.sleep(interval)
            interval = min(max_interval, interval * 1.5)
            for start in range(0, len(pending), ACTION_IDS_PER_REQUEST):
                chunk = pending[start : start + ACTION_IDS_PER_REQUEST]
                for action in self.call("GET", "/actions", query={"id": chunk}).get("actions") or []:
                    known[int(action["id"])] = action
        failed = [action for action in known.values() if action.get("status") == "error"]
        if failed:
            raise ActionFailed(describe_failed(failed), failed)
        return known


def describe_failed(actions: list[dict[str, Any]]) -> str:
    """One sentence per failed action: command, resources and the API's error code and message."""
    parts = []
    for action in actions:
        error = action.get("error") or {}
        resources = ", ".join(f"{r.get('type')} {r.get('id')}" for r in action.get("resources") or [])
        parts.append(
            f"action {action.get('id')} {action.get('command')} on {resources or 'no resource'} failed: "
            f"{error.get('code', 'error')}: {error.get('message', 'no message')}"
        )
    return "; ".join(parts)


def client_from_params(params: Mapping[str, Any], **kwargs: Any) -> HcloudClient:
    return HcloudClient(
        params["api_token"],
        params.get("api_endpoint") or DEFAULT_ENDPOINT,
        timeout=params.get("request_timeout") or 30.0,
        **kwargs,
    )
