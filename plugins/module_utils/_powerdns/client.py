# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Talking to the PowerDNS Authoritative HTTP API: zones and their RRsets on one server.

The API is the one described in ../shared/contracts/powerdns (PowerDNS 4.7 to 5.x): zones under
``/api/v1/servers/{server_id}/zones``, RRsets changed with PATCH and ``changetype`` REPLACE or DELETE. A refused
request raises PowerDNSError, an ApiError whose ``code`` is the API's own ``error`` text. Nothing here imports
Ansible.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import client_from_params as http_client

DEFAULT_URL = "http://127.0.0.1:8081"
DEFAULT_TIMEOUT = 10.0
URL_ENV_VAR = "TALOSFORGE_POWERDNS_URL"
API_KEY_ENV_VAR = "TALOSFORGE_POWERDNS_API_KEY"


class PowerDNSError(ApiError):
    """The server refused a request or could not be reached: ``code`` is the API's ``error`` text, ``request``
    is ``METHOD url``."""


def powerdns_argument_spec(env_fallback: Callable[..., Any]) -> dict[str, Any]:
    """Argument spec of the options in the talosforge.cluster.powerdns doc fragment (no Ansible import here)."""
    return {
        "url": {"type": "str", "default": DEFAULT_URL, "fallback": (env_fallback, [URL_ENV_VAR])},
        "api_key": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, [API_KEY_ENV_VAR])},
        "server_id": {"type": "str", "default": "localhost"},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    }


class PowerDNSClient:
    """Zones and RRsets of one server (``server_id``, normally ``localhost``) through the HTTP API."""

    def __init__(self, http: HttpClient, api_key: str, server_id: str = "localhost"):
        self.http = http
        self.api_key = api_key
        self.server_id = server_id
        self.calls = 0  # requests made (for tests and benchmarks)

    @property
    def url(self) -> str:
        return self.http.base_url

    def _path(self, *parts: str) -> str:
        quoted = [urllib.parse.quote(part, safe="=.") for part in (self.server_id, *parts)]
        return "/api/v1/servers/" + "/".join(quoted)

    def _call(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        self.calls += 1
        try:
            answer = self.http.request(method, path, data=data, headers=headers, ok=ok)
        except HttpError as exc:
            raise api_error(exc, method) from exc
        return answer.json() if answer.body.strip() else None

    def server(self) -> dict[str, Any]:
        return self._call("GET", self._path())

    def zones(self) -> list[dict[str, Any]]:
        return self._call("GET", self._path("zones") + "?dnssec=false") or []

    def find_zone(self, name: str) -> dict[str, Any] | None:
        """The zone called ``name`` (absolute) without its RRsets, or None."""
        query = urllib.parse.urlencode({"zone": name, "dnssec": "false"})
        found = self._call("GET", self._path("zones") + "?" + query) or []
        return next((z for z in found if str(z.get("name", "")).lower() == name), None)

    def zone(self, zone_id: str) -> dict[str, Any]:
        return self._call("GET", self._path("zones", zone_id))

    def create_zone(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("POST", self._path("zones"), dict(body), ok=(200, 201))

    def update_zone(self, zone_id: str, body: Mapping[str, Any]) -> None:
        self._call("PUT", self._path("zones", zone_id), dict(body), ok=(200, 204))

    def delete_zone(self, zone_id: str) -> None:
        self._call("DELETE", self._path("zones", zone_id), ok=(200, 204))

    def patch_rrsets(self, zone_id: str, rrsets: list[dict[str, Any]]) -> None:
        self._call("PATCH", self._path("zones", zone_id), {"rrsets": rrsets}, ok=(200, 204))

    def _or_none(self, path: str) -> Any:
        """GET ``path``; None when the server answers 404 (no such zone or key)."""
        try:
            return self._call("GET", path)
        except PowerDNSError as exc:
            if exc.status == 404:
                return None
            raise

    def zone_or_none(self, zone_id: str) -> dict[str, Any] | None:
        """The zone with its RRsets, or None when it does not exist (its id is its absolute name)."""
        return self._or_none(self._path("zones", zone_id))

    def metadata(self, zone_id: str) -> dict[str, list[str]] | None:
        """The zone's metadata as {kind: values}, or None when the zone does not exist."""
        items = self._or_none(self._path("zones", zone_id, "metadata"))
        if items is None:
            return None
        return {str(item.get("kind")): [str(v) for v in item.get("metadata") or []] for item in items}

    def set_metadata(self, zone_id: str, kind: str, values: list[str]) -> None:
        self._call("PUT", self._path("zones", zone_id, "metadata", kind), {"metadata": values}, ok=(200, 204))

    def delete_metadata(self, zone_id: str, kind: str) -> None:
        self._call("DELETE", self._path("zones", zone_id, "metadata", kind), ok=(200, 204))

    def tsig_key(self, key_id: str) -> dict[str, Any] | None:
        """The TSIG key (with its secret) whose id is ``key_id`` (its name with a trailing dot), or None."""
        return self._or_none(self._path("tsigkeys", key_id))

    def create_tsig_key(self, body: Mapping[str, Any]) -> None:
        self._call("POST", self._path("tsigkeys"), dict(body), ok=(200, 201))

    def update_tsig_key(self, key_id: str, body: Mapping[str, Any]) -> None:
        self._call("PUT", self._path("tsigkeys", key_id), dict(body), ok=(200, 204))


def api_error(exc: HttpError, method: str) -> PowerDNSError:
    """A PowerDNSError that keeps the API's own words (its ``error`` text as ``code``) and says what to check."""
    request = f"{method} {exc.url}"
    if exc.status is None:
        return PowerDNSError(
            f"cannot reach the PowerDNS API: {exc.reason or exc}. Check url, and that PowerDNS runs with api=yes "
            "and its webserver listening there",
            request=request,
        )
    code = None
    details = None
    try:
        answer = json.loads(exc.body)
        code = answer.get("error")
        details = {key: value for key, value in answer.items() if key != "error"} or None
    except (ValueError, AttributeError):
        code = exc.body.strip()[:500] or None
    if exc.status == 401:
        message = "the PowerDNS API refused the API key (HTTP 401); check api_key against api-key in pdns.conf"
    elif exc.status == 403:
        message = "the PowerDNS API refused this client (HTTP 403); check webserver-allow-from in pdns.conf"
    else:
        message = f"the PowerDNS API answered HTTP {exc.status} to {request}"
        if code:
            message += f": {code}"
    return PowerDNSError(message, status=exc.status, code=code, details=details, request=request)


def client_from_params(params: Mapping[str, Any]) -> PowerDNSClient:
    """A PowerDNSClient from module parameters (url, api_key, server_id, validate_certs, ca_path, timeout)."""
    http = http_client(params, DEFAULT_URL, default_timeout=DEFAULT_TIMEOUT, retries=2)
    return PowerDNSClient(http, str(params.get("api_key") or ""), str(params.get("server_id") or "localhost"))
