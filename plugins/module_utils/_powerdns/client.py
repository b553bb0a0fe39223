# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Talking to the PowerDNS Authoritative HTTP API, and deciding what to change in a zone.

The API is the one described in ../shared/contracts/powerdns (PowerDNS 4.7 to 5.x): zones under
``/api/v1/servers/{server_id}/zones``, RRsets changed with PATCH and ``changetype`` REPLACE or DELETE. Names are
kept absolute (trailing dot) and lower case, record contents in the form the server returns them, so that what is
read back compares equal to what was asked for and a re-run changes nothing. Nothing here imports Ansible.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError

DEFAULT_URL = "http://127.0.0.1:8081"
URL_ENV_VAR = "TALOSFORGE_POWERDNS_URL"
API_KEY_ENV_VAR = "TALOSFORGE_POWERDNS_API_KEY"
ZONE_KINDS = ("Native", "Master")

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TYPE = re.compile(r"[A-Z][A-Z0-9]{0,15}")
# Record types whose content is (or ends with) a domain name, which the server keeps absolute.
_NAME_TYPES = ("CNAME", "NS", "PTR", "DNAME", "ALIAS")
# Types a zone's own settings manage (powerdns_zone), not powerdns_record.
APEX_ONLY_TYPES = ("SOA",)
# What may sit at or below a delegation point in the parent zone: the delegation itself and glue addresses.
_DELEGATION_TYPES = ("NS", "DS")
_GLUE_TYPES = ("A", "AAAA")
# How a disabled record is marked in RRSet.records (so it never equals an enabled one, and stays disabled when
# the other values of its set change).
DISABLED_MARK = " ; disabled"


class PowerDNSError(Exception):
    """A request was refused or a value is not valid. ``status`` and ``api_error`` come from the server."""

    def __init__(self, message: str, status: int | None = None, api_error: str | None = None, url: str = ""):
        super().__init__(message)
        self.status = status
        self.api_error = api_error
        self.url = url

    def details(self) -> dict[str, Any]:
        """The fields a module returns beside its failure message (the API's own words kept)."""
        return {"status": self.status, "api_error": self.api_error, "request_url": self.url}


def powerdns_argument_spec(env_fallback: Callable[..., Any]) -> dict[str, Any]:
    """Argument spec of the options in the talosforge.cluster.powerdns doc fragment (no Ansible import here)."""
    return {
        "url": {"type": "str", "default": DEFAULT_URL, "fallback": (env_fallback, [URL_ENV_VAR])},
        "api_key": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, [API_KEY_ENV_VAR])},
        "server_id": {"type": "str", "default": "localhost"},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "float", "default": 10.0},
    }


# --------------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------------


def absolute_name(name: Any, what: str = "name", wildcard: bool = False) -> str:
    """``name`` checked and made canonical: lower case, with a trailing dot. Raises PowerDNSError."""
    if not isinstance(name, str) or not name.strip():
        raise PowerDNSError(f"{what}: a DNS name is required, such as example.org")
    text = name.strip().lower()
    body = text[:-1] if text.endswith(".") else text
    if not body:
        raise PowerDNSError(f"{what}: {name!r} is the root; write a domain name such as example.org")
    if len(body) > 253:
        raise PowerDNSError(f"{what}: {name!r} is longer than 253 characters, the limit for a DNS name")
    labels = body.split(".")
    for index, label in enumerate(labels):
        if not label:
            raise PowerDNSError(f"{what}: {name!r} has an empty label (two dots in a row, or a leading dot)")
        if label == "*":
            if wildcard and index == 0:
                continue
            where = "only as the first label of a record name" if wildcard else "not in a zone name"
            raise PowerDNSError(f"{what}: {name!r} has '*' where it is not allowed ('*' is allowed {where})")
        if len(label) > 63:
            raise PowerDNSError(f"{what}: label {label!r} of {name!r} is longer than 63 characters")
        if not _LABEL.fullmatch(label):
            raise PowerDNSError(
                f"{what}: label {label!r} of {name!r} is not valid; use letters, digits, '-' and '_', "
                "and do not start or end a label with '-'"
            )
    return body + "."


def record_name(name: Any, zone: str, what: str = "name") -> str:
    """The absolute name of a record in ``zone`` (absolute): ``@`` is the apex; other names are written in full."""
    if isinstance(name, str) and name.strip() == "@":
        return zone
    full = absolute_name(name, what, wildcard=True)
    if not in_zone(full, zone):
        raise PowerDNSError(
            f"{what}: {name!r} is not inside zone {zone.rstrip('.')}; write the full name (such as "
            f"www.{zone.rstrip('.')}) or '@' for the zone apex"
        )
    return full


def in_zone(name: str, zone: str) -> bool:
    """Whether absolute ``name`` is ``zone`` or below it."""
    return name == zone or name.endswith("." + zone)


def deepest_zone(name: str, zones: Iterable[str]) -> str | None:
    """The longest of ``zones`` that holds ``name`` (all absolute), or None."""
    holding = [zone for zone in zones if in_zone(name, zone)]
    return max(holding, key=len) if holding else None


def display(name: str) -> str:
    return name[:-1] if name.endswith(".") and len(name) > 1 else name


# --------------------------------------------------------------------------------------------------------------
# Record contents
# --------------------------------------------------------------------------------------------------------------


def check_type(rtype: Any, what: str = "type") -> str:
    text = str(rtype or "").strip().upper()
    if not _TYPE.fullmatch(text):
        raise PowerDNSError(f"{what}: {rtype!r} is not a DNS record type such as A, AAAA, CNAME, TXT or NS")
    return text


def _escape_txt(data: bytes) -> str:
    """Bytes as the inside of a quoted string, escaped the way PowerDNS prints them."""
    out = []
    for byte in data:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def _quote_txt(text: str) -> str:
    """A TXT value as quoted character strings of at most 255 bytes each."""
    data = text.encode("utf-8")
    chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join(f'"{_escape_txt(chunk)}"' for chunk in chunks)


_QUOTED_TXT = re.compile(r'"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*')


def _txt(content: str, what: str) -> str:
    text = content.strip()
    if text.startswith('"'):
        if not _QUOTED_TXT.fullmatch(text):
            raise PowerDNSError(
                f"{what}: {content!r} starts with a quote but is not a list of quoted strings; write the text "
                'without quotes (it is quoted for you) or as "part one" "part two"'
            )
        return " ".join(re.findall(r'"(?:[^"\\]|\\.)*"', text))
    return _quote_txt(content)


def _int_field(value: str, what: str, low: int, high: int, label: str) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise PowerDNSError(f"{what}: {label} {value!r} must be a number from {low} to {high}")
    return int(value)


def normalize_content(rtype: str, content: Any, what: str = "records") -> str:
    """Record ``content`` in the form PowerDNS returns it for ``rtype``. Raises PowerDNSError when invalid."""
    if not isinstance(content, (str, int)) or isinstance(content, bool):
        raise PowerDNSError(f"{what}: {content!r} is not text; write each record as a string")
    text = str(content).strip()
    if not text:
        raise PowerDNSError(f"{what}: an empty record is not valid for type {rtype}")
    if rtype == "A":
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise PowerDNSError(f"{what}: {text!r} is not an IPv4 address (type A); write it as 192.0.2.10") from None
    if rtype == "AAAA":
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise PowerDNSError(
                f"{what}: {text!r} is not an IPv6 address (type AAAA); write it as 2001:db8::10"
            ) from None
    if rtype in _NAME_TYPES:
        return absolute_name(text, f"{what} ({rtype} target)")
    if rtype in ("TXT", "SPF"):
        return _txt(text, what)
    fields = text.split()
    if rtype == "MX":
        if len(fields) != 2:
            raise PowerDNSError(f"{what}: MX {text!r} must be 'PRIORITY HOST', such as '10 mail.example.org'")
        priority = _int_field(fields[0], what, 0, 65535, "MX priority")
        return f"{priority} {absolute_name(fields[1], f'{what} (MX host)')}"
    if rtype == "SRV":
        if len(fields) != 4:
            raise PowerDNSError(f"{what}: SRV {text!r} must be 'PRIORITY WEIGHT PORT TARGET'")
        numbers = [_int_field(v, what, 0, 65535, "SRV field") for v in fields[:3]]
        target = "." if fields[3] == "." else absolute_name(fields[3], f"{what} (SRV target)")
        return " ".join(str(n) for n in numbers) + " " + target
    if rtype == "CAA":
        match = re.fullmatch(r"(\d+)\s+([A-Za-z0-9]+)\s+(.+)", text)
        if not match:
            raise PowerDNSError(
                f"{what}: CAA {text!r} must be 'FLAGS TAG VALUE', such as '0 issue \"letsencrypt.org\"'"
            )
        value = match.group(3).strip()
        value = value if value.startswith('"') else '"' + value.replace('"', '\\"') + '"'
        return f"{_int_field(match.group(1), what, 0, 255, 'CAA flags')} {match.group(2).lower()} {value}"
    if rtype == "SOA":
        return soa_content(*parse_soa(text, what))
    return " ".join(fields)


def parse_soa(text: str, what: str = "SOA") -> tuple[str, str, int, int, int, int, int]:
    fields = text.split()
    if len(fields) != 7:
        raise PowerDNSError(
            f"{what}: SOA {text!r} must have 7 fields: PRIMARY CONTACT SERIAL REFRESH RETRY EXPIRE MINIMUM"
        )
    numbers = [_int_field(v, what, 0, 4294967295, "SOA field") for v in fields[2:]]
    return (absolute_name(fields[0], f"{what} primary"), absolute_name(fields[1], f"{what} contact"), *numbers)


def soa_content(primary: str, contact: str, serial: int, refresh: int, retry: int, expire: int, minimum: int) -> str:
    return f"{primary} {contact} {serial} {refresh} {retry} {expire} {minimum}"


# --------------------------------------------------------------------------------------------------------------
# RRsets and what to change
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RRSet:
    """All records of one name and type; ``records`` sorted, disabled ones marked so they never compare equal."""

    name: str
    type: str
    ttl: int
    records: tuple[str, ...]

    def lines(self) -> list[str]:
        return [f"{self.name} {self.ttl} IN {self.type} {content}" for content in self.records]

    def api(self, changetype: str | None = "REPLACE") -> dict[str, Any]:
        """The RRset as the API takes it: in a PATCH (with ``changetype``) or in a new zone (without)."""
        body: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "ttl": self.ttl,
            "records": [_record_body(content) for content in self.records],
        }
        if changetype:
            body["changetype"] = changetype
        return body

    def result(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "ttl": self.ttl, "records": list(self.records)}


def _record_body(content: str) -> dict[str, Any]:
    disabled = content.endswith(DISABLED_MARK)
    return {"content": content[: -len(DISABLED_MARK)] if disabled else content, "disabled": disabled}


def rrset_from_api(item: Mapping[str, Any]) -> RRSet:
    """An RRSet from the server's JSON, in the same canonical form as the requested ones."""
    rtype = str(item.get("type", "")).upper()
    records = []
    for record in item.get("records") or []:
        content = str(record.get("content", ""))
        try:
            content = normalize_content(rtype, content)
        except PowerDNSError:
            pass  # keep what the server has; it simply will not compare equal to a valid request
        records.append(content + (DISABLED_MARK if record.get("disabled") else ""))
    return RRSet(str(item.get("name", "")).lower(), rtype, int(item.get("ttl") or 0), tuple(sorted(set(records))))


def zone_rrsets(zone: Mapping[str, Any]) -> dict[tuple[str, str], RRSet]:
    return {(r.name, r.type): r for r in (rrset_from_api(item) for item in zone.get("rrsets") or []) if r.records}


def desired_rrset(name: str, rtype: str, ttl: Any, records: Iterable[Any], what: str) -> RRSet:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 2147483647:
        raise PowerDNSError(f"{what}.ttl: {ttl!r} must be a number of seconds from 0 to 2147483647")
    values = list(records)
    if not values:
        raise PowerDNSError(
            f"{what}.records: at least one record is needed with state=present (use state=absent to remove the set)"
        )
    contents = tuple(sorted({normalize_content(rtype, v, f"{what}.records[{i}]") for i, v in enumerate(values)}))
    if rtype == "CNAME" and len(contents) > 1:
        raise PowerDNSError(f"{what}.records: a CNAME has exactly one target, got {len(contents)}")
    return RRSet(name, rtype, ttl, contents)


def parent(name: str) -> str:
    """The parent of absolute ``name`` (``example.org.`` for ``www.example.org.``; the root for a TLD)."""
    return name.split(".", 1)[1] or "."


def occluding_delegation(name: str, rtype: str, zone: str, rrsets: Mapping[tuple[str, str], RRSet]) -> str | None:
    """The delegation point (an NS set below the apex of ``zone``) that hides ``name``, or None.

    Records at or below a delegation are not served as answers: the server refers the client to the delegated
    zone's servers instead. Only the delegation's own NS/DS set and the glue addresses of its name servers belong
    there.
    """
    candidate = parent(name) if rtype in _DELEGATION_TYPES else name
    while candidate != zone and in_zone(candidate, zone):
        delegation = rrsets.get((candidate, "NS"))
        if delegation is not None:
            if rtype in _GLUE_TYPES and name in delegation.records:
                return None
            return candidate
        candidate = parent(candidate)
    return None


@dataclass
class Change:
    """One RRset change: ``action`` is created, updated or deleted; ``after`` is None when deleted."""

    zone: str
    action: str
    before: RRSet | None
    after: RRSet | None

    def api(self) -> dict[str, Any]:
        if self.after is None:
            if self.before is None:
                raise ValueError("a change needs a set before or after it")
            return {"name": self.before.name, "type": self.before.type, "changetype": "DELETE", "records": []}
        return self.after.api()

    def result(self) -> dict[str, Any]:
        current = self.after or self.before
        if current is None:
            raise ValueError("a change needs a set before or after it")
        return {"zone": display(self.zone), "name": display(current.name), "type": current.type, "action": self.action}


def plan_rrset(
    zone: str,
    current: RRSet | None,
    want: RRSet | None,
    remove: tuple[str, ...] | None = None,
) -> Change | None:
    """What to do to one RRset: make it ``want`` (present), delete it (``want`` None) or drop ``remove`` values."""
    if want is not None:
        if current == want:
            return None
        return Change(zone, "created" if current is None else "updated", current, want)
    if current is None:
        return None
    if remove is None:
        return Change(zone, "deleted", current, None)
    kept = tuple(r for r in current.records if r not in remove)
    if kept == current.records:
        return None
    if not kept:
        return Change(zone, "deleted", current, None)
    return Change(zone, "updated", current, RRSet(current.name, current.type, current.ttl, kept))


def diff_text(rrsets: Iterable[RRSet | None]) -> str:
    """Zone-file lines of ``rrsets`` (None skipped), sorted, each ending in a newline."""
    lines = sorted(line for rrset in rrsets if rrset is not None for line in rrset.lines())
    return "".join(line + "\n" for line in lines)


def changes_diff(changes: list[Change]) -> dict[str, str]:
    zones = sorted({display(c.zone) for c in changes})
    return {
        "before": diff_text(c.before for c in changes),
        "after": diff_text(c.after for c in changes),
        "before_header": "zone " + ", ".join(zones),
        "after_header": "zone " + ", ".join(zones),
    }


# --------------------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------------------


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
            raise _api_error(exc, method) from exc
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


def _api_error(exc: HttpError, method: str) -> PowerDNSError:
    """A PowerDNSError that keeps the API's own message and says what to check."""
    if exc.status is None:
        return PowerDNSError(
            f"cannot reach the PowerDNS API: {exc.reason or exc}. Check url, and that PowerDNS runs with api=yes "
            "and its webserver listening there",
            url=exc.url,
        )
    api_error = None
    try:
        api_error = json.loads(exc.body).get("error")
    except (ValueError, AttributeError):
        api_error = exc.body.strip()[:500] or None
    if exc.status == 401:
        message = "the PowerDNS API refused the API key (HTTP 401); check api_key against api-key in pdns.conf"
    elif exc.status == 403:
        message = "the PowerDNS API refused this client (HTTP 403); check webserver-allow-from in pdns.conf"
    else:
        message = f"the PowerDNS API answered HTTP {exc.status} to {method} {exc.url}"
        if api_error:
            message += f": {api_error}"
    return PowerDNSError(message, status=exc.status, api_error=api_error, url=exc.url)


def client_from_params(params: Mapping[str, Any]) -> PowerDNSClient:
    """A PowerDNSClient from module parameters (url, api_key, server_id, validate_certs, ca_path, timeout)."""
    try:
        http = HttpClient(
            params.get("url") or DEFAULT_URL,
            timeout=float(params.get("timeout") or 10.0),
            validate_certs=params.get("validate_certs", True) is not False,
            ca_path=params.get("ca_path"),
            retries=2,
        )
    except ValueError as exc:
        raise PowerDNSError(f"url: {exc}") from exc
    return PowerDNSClient(http, str(params.get("api_key") or ""), str(params.get("server_id") or "localhost"))


__all__ = [
    "APEX_ONLY_TYPES",
    "DISABLED_MARK",
    "DEFAULT_URL",
    "ZONE_KINDS",
    "Change",
    "PowerDNSClient",
    "PowerDNSError",
    "RRSet",
    "absolute_name",
    "changes_diff",
    "check_type",
    "client_from_params",
    "deepest_zone",
    "desired_rrset",
    "diff_text",
    "display",
    "in_zone",
    "normalize_content",
    "occluding_delegation",
    "parent",
    "parse_soa",
    "plan_rrset",
    "powerdns_argument_spec",
    "record_name",
    "rrset_from_api",
    "soa_content",
    "zone_rrsets",
]
