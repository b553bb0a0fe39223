# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.powerdns_zone changes in a zone: its kind, the apex NS set and the SOA values.

Pure: it compares the zone as the server answered it with what the task asks for. The SOA serial is the
server's (its SOA-EDIT-API raises it on every change), so it is never compared and an update keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.plan import RRSet, diff_text, zone_rrsets
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import (
    absolute_name,
    display,
    parse_soa,
    soa_content,
)

SOA_DEFAULTS = {"refresh": 10800, "retry": 3600, "expire": 604800, "minimum": 300}
_MAX_SECONDS = 2147483647

# The wanted apex: (NS set, SOA set with serial 0), or None when the task leaves them as they are.
Apex = tuple[RRSet, RRSet]


def desired_apex(name: str, params: Mapping[str, Any]) -> Apex | None:
    """The wanted NS and SOA sets of zone ``name`` (absolute) from nameservers, ttl and soa; None without
    nameservers. Raises InputError."""
    if params.get("nameservers") is None:
        return None
    servers = [absolute_name(ns, f"nameservers[{i}]") for i, ns in enumerate(params["nameservers"])]
    if not servers:
        raise InputError("nameservers: give at least one name server (the first is the SOA's primary)")
    ttl = params.get("ttl")
    if not isinstance(ttl, int) or not 0 <= ttl <= _MAX_SECONDS:
        raise InputError(f"ttl: {ttl!r} must be a number of seconds from 0 to {_MAX_SECONDS}")
    soa = dict(SOA_DEFAULTS)
    soa.update({k: v for k, v in (params.get("soa") or {}).items() if v is not None})
    contact = absolute_name(soa.pop("contact", None) or f"hostmaster.{name}", "soa.contact")
    for key, value in soa.items():
        if not 0 <= int(value) <= _MAX_SECONDS:
            raise InputError(f"soa.{key}: {value!r} must be a number of seconds from 0 to {_MAX_SECONDS}")
    soa_text = soa_content(servers[0], contact, 0, soa["refresh"], soa["retry"], soa["expire"], soa["minimum"])
    return RRSet(name, "NS", ttl, tuple(sorted(set(servers)))), RRSet(name, "SOA", ttl, (soa_text,))


def _with_serial(rrset: RRSet, serial: int) -> RRSet:
    primary, contact, _serial, refresh, retry, expire, minimum = parse_soa(rrset.records[0])
    content = soa_content(primary, contact, serial, refresh, retry, expire, minimum)
    return RRSet(rrset.name, rrset.type, rrset.ttl, (content,))


def _without_serial(rrset: RRSet | None) -> RRSet | None:
    if rrset is None or not rrset.records:
        return rrset
    return _with_serial(rrset, 0)


def describe(zone: Mapping[str, Any] | None) -> dict[str, Any]:
    """The module's ``zone`` result for a zone as the server answered it ({} when there is none)."""
    if not zone:
        return {}
    rrsets = zone_rrsets(zone)
    name = str(zone.get("name", "")).lower()
    ns = rrsets.get((name, "NS"))
    soa = rrsets.get((name, "SOA"))
    return {
        "name": name,
        "id": zone.get("id"),
        "kind": zone.get("kind"),
        "serial": zone.get("serial"),
        "nameservers": list(ns.records) if ns else [],
        "soa": soa.records[0] if soa else None,
    }


def _text(kind: str | None, rrsets: Sequence[RRSet | None]) -> str:
    if kind is None:
        return ""
    return f"; kind {kind}\n" + diff_text(rrsets)


@dataclass
class ZonePlan:
    """What to do: nothing (``diff`` None), delete the zone, create it from ``create``, or set ``kind`` and
    ``patch`` the apex sets."""

    diff: dict[str, str] | None = None
    delete: bool = False
    create: dict[str, Any] | None = None
    kind: str | None = None
    patch: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.diff is not None


def plan_zone(name: str, state: str, kind: str, want: Apex | None, current: Mapping[str, Any] | None) -> ZonePlan:
    """What to change so that zone ``name`` (absolute) is in ``state`` with ``kind`` and the ``want`` apex.

    ``current`` is the zone with its RRsets as the server answered it, None when it does not exist. Raises
    InputError when the zone must be created without name servers.
    """
    header = {"before_header": f"zone {display(name)}", "after_header": f"zone {display(name)}"}
    if state == "absent":
        if current is None:
            return ZonePlan()
        every = sorted(zone_rrsets(current).values(), key=lambda r: (r.name, r.type))
        return ZonePlan(diff=dict(header, before=_text(current.get("kind"), every), after=""), delete=True)

    if current is None:
        if want is None:
            raise InputError(f"nameservers: required to create zone {display(name)}, which does not exist yet")
        want_ns, want_soa = want
        body = {
            "name": name,
            "kind": kind,
            "nameservers": [],
            "rrsets": [want_soa.api(changetype=None), want_ns.api(changetype=None)],
        }
        return ZonePlan(diff=dict(header, before="", after=_text(kind, [want_soa, want_ns])), create=body)

    rrsets = zone_rrsets(current)
    have_ns, have_soa = rrsets.get((name, "NS")), rrsets.get((name, "SOA"))
    plan = ZonePlan()
    before: list[RRSet | None] = []
    after: list[RRSet | None] = []
    if want is not None:
        want_ns, want_soa = want
        if have_ns != want_ns:
            plan.patch.append(want_ns.api())
            before.append(have_ns)
            after.append(want_ns)
        if _without_serial(have_soa) != want_soa:
            serial = int(parse_soa(have_soa.records[0])[2]) if have_soa and have_soa.records else 0
            new_soa = _with_serial(want_soa, serial)
            plan.patch.append(new_soa.api())
            before.append(have_soa)
            after.append(new_soa)
    if str(current.get("kind")) != kind:
        plan.kind = kind
    if plan.patch or plan.kind:
        plan.diff = dict(header, before=_text(current.get("kind"), before), after=_text(kind, after))
    return plan
