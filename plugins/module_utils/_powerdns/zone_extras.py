# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.powerdns_zone changes beside the apex: the zone's own record sets (``rrsets``), the TSIG
key that may send it RFC 2136 updates (``tsig_key``) and the sources allowed to (``allow_from``).

Pure: it compares what the server answered (the zone, its metadata, the key) with what the task asks for. The
key's secret never appears in a diff or a result. The record sets are checked and planned by the same code as
talosforge.cluster.powerdns_record (record_plan.py).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.plan import Change, diff_text
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.record_plan import (
    plan_changes,
    requests_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import absolute_name, display

TSIG_ALGORITHMS = ("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")
# Zone metadata kinds (PowerDNS docs/domainmetadata.rst): the keys whose signed updates the zone accepts, and the
# source addresses it accepts updates from.
UPDATE_KEYS = "TSIG-ALLOW-DNSUPDATE"
UPDATE_FROM = "ALLOW-DNSUPDATE-FROM"


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key as PowerDNS keeps it: ``name`` without the trailing dot (its API id has one)."""

    name: str
    algorithm: str
    secret: bytes

    @property
    def id(self) -> str:
        return self.name + "."

    def api(self) -> dict[str, Any]:
        return {"name": self.name, "algorithm": self.algorithm, "key": base64.b64encode(self.secret).decode("ascii")}

    def line(self, note: str = "") -> str:
        return f"; tsig key {self.name} {self.algorithm}{note}\n"


def _secret(text: Any, what: str) -> bytes:
    try:
        data = base64.b64decode(str(text or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        raise InputError(
            f"{what}: the secret must be base64 text (as `openssl rand -base64 32` prints), not empty; the value "
            "is not shown"
        )
    return data


def desired_tsig_key(value: Mapping[str, Any] | None) -> TsigKey | None:
    """The requested key, checked; None when the task does not manage one. Raises InputError (never with the
    secret in it)."""
    if value is None:
        return None
    name = absolute_name(value.get("name"), "tsig_key.name")[:-1]
    algorithm = str(value.get("algorithm") or "hmac-sha256").strip().lower()
    if algorithm not in TSIG_ALGORITHMS:
        raise InputError(f"tsig_key.algorithm: {algorithm!r} is not one of {', '.join(TSIG_ALGORITHMS)}")
    return TsigKey(name, algorithm, _secret(value.get("secret"), "tsig_key.secret"))


def tsig_key_from_api(item: Mapping[str, Any] | None) -> TsigKey | None:
    if not item:
        return None
    try:
        secret = base64.b64decode(str(item.get("key") or ""), validate=True)
    except (binascii.Error, ValueError):
        secret = b""  # not what anyone asks for: it is replaced
    return TsigKey(str(item.get("name", "")).lower().rstrip("."), str(item.get("algorithm", "")).lower(), secret)


def desired_allow_from(value: list[Any] | None) -> list[str] | None:
    """The networks allowed to send updates, checked and in canonical form; None when not managed."""
    if value is None:
        return None
    networks = []
    problems = []
    for index, item in enumerate(value):
        try:
            networks.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
        except ValueError:
            problems.append(f"allow_from[{index}]: {item!r} is not an address or network such as 10.0.0.0/8")
    if problems:
        raise InputError("; ".join(problems))
    return sorted(set(networks), key=networks.index)


def _canonical_networks(values: list[str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            out.append(value)
    return sorted(set(out))


@dataclass
class Extras:
    """What to do beside the apex: RRset ``changes`` (one PATCH), the key to create or update, metadata to set
    ({kind: values}, an empty list deletes the kind), and the diff lines of all of it."""

    changes: list[Change] = field(default_factory=list)
    rrsets: list[dict[str, Any]] = field(default_factory=list)
    create_key: TsigKey | None = None
    update_key: TsigKey | None = None
    metadata: dict[str, list[str]] = field(default_factory=dict)
    before: str = ""
    after: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.create_key or self.update_key or self.metadata)


def check_rrsets(name: str, params: Mapping[str, Any]) -> list[Any] | None:
    """The ``rrsets`` option checked (record_plan's rules, every problem at once); None when not given."""
    items = params.get("rrsets")
    if items is None:
        return None
    if not items:
        return []
    if params.get("nameservers") is not None:
        for index, item in enumerate(items):
            item_name = str(item.get("name") or "").strip().lower().rstrip(".")
            if str(item.get("type") or "").upper() == "NS" and item_name in ("@", display(name)):
                raise InputError(
                    f"rrsets[{index}]: the apex NS set of {display(name)} is given by nameservers; drop one of them"
                )
    ttl = params.get("ttl") if params.get("ttl") is not None else 3600
    return requests_from_params({"rrsets": items, "zone": name, "ttl": ttl, "state": "present"})


def plan_extras(
    name: str,
    params: Mapping[str, Any],
    sets: list[dict[str, Any]],
    metadata: Mapping[str, list[str]] | None,
    current_key: Mapping[str, Any] | None,
) -> Extras:
    """What to change so that zone ``name`` holds the requested sets, key and update permissions.

    ``sets`` are the zone's sets as the server answered them (or as the zone will be created),
    ``metadata`` its metadata ({} for a zone about to be created), ``current_key`` the key as the server
    answered it. Raises InputError.
    """
    extras = Extras()
    requests = check_rrsets(name, params)
    if requests:
        changes, after = plan_changes(requests, {name: {"rrsets": sets}})
        extras.changes = changes
        extras.rrsets = after
        extras.before += diff_text(c.before for c in changes)
        extras.after += diff_text(c.after for c in changes)

    want_key = desired_tsig_key(params.get("tsig_key"))
    if want_key is not None:
        have_key = tsig_key_from_api(current_key)
        if have_key is None:
            extras.create_key = want_key
            extras.after += want_key.line()
        elif have_key != want_key:
            extras.update_key = want_key
            note = " (another secret)" if have_key.secret != want_key.secret else ""
            extras.before += have_key.line(note)
            extras.after += want_key.line()

    have = dict(metadata or {})
    wanted: dict[str, list[str] | None] = {
        UPDATE_KEYS: [want_key.name] if want_key is not None else None,
        UPDATE_FROM: desired_allow_from(params.get("allow_from")),
    }
    for kind, values in wanted.items():
        if values is None:
            continue
        current = have.get(kind) or []
        same = (
            _canonical_networks(current) == sorted(values)
            if kind == UPDATE_FROM
            else sorted(v.lower().rstrip(".") for v in current) == sorted(values)
        )
        if not same:
            extras.metadata[kind] = values
            if current:
                extras.before += f"; metadata {kind} {' '.join(current)}\n"
            if values:
                extras.after += f"; metadata {kind} {' '.join(values)}\n"
    return extras


def describe_extras(params: Mapping[str, Any], metadata: Mapping[str, list[str]] | None) -> dict[str, Any]:
    """The ``tsig_key`` and ``allow_from`` parts of the module's ``zone`` result (no secret), when managed."""
    out: dict[str, Any] = {}
    if params.get("tsig_key") is not None:
        out["tsig_keys"] = list((metadata or {}).get(UPDATE_KEYS) or [])
    if params.get("allow_from") is not None:
        out["allow_from"] = list((metadata or {}).get(UPDATE_FROM) or [])
    return out
