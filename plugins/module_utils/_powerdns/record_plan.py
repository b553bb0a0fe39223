# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.powerdns_record changes: the requested record sets, checked, placed in their zones.

Pure: every local problem of every set is reported at once before the server is asked anything; the changes are
then decided against the zones as the server answered them, and a set that a delegation would hide is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.plan import (
    Change,
    RRSet,
    desired_rrset,
    occluding_delegation,
    plan_rrset,
    zone_rrsets,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import (
    APEX_ONLY_TYPES,
    absolute_name,
    check_type,
    deepest_zone,
    display,
    normalize_content,
    record_name,
)

_ITEM_KEYS = ("zone", "name", "type", "ttl", "records", "state")


@dataclass
class Request:
    """One requested set, checked: ``zone`` is None until it is found on the server."""

    what: str
    zone: str | None
    raw_name: str
    type: str
    ttl: int
    records: list[Any] | None
    state: str
    name: str = ""


def requests_from_params(params: Mapping[str, Any]) -> list[Request]:
    """The requested sets with defaults applied and every local problem reported at once."""
    if params.get("rrsets") is not None:
        items = [(f"rrsets[{i}]", item) for i, item in enumerate(params["rrsets"])]
        if not items:
            raise InputError("rrsets: the list is empty; give at least one set")
    else:
        items = [("", {key: params.get(key) for key in _ITEM_KEYS})]
    problems: list[str] = []
    requests: list[Request] = []
    for what, item in items:
        prefix = f"{what}." if what else ""
        try:
            zone_text = item.get("zone") if item.get("zone") is not None else params.get("zone")
            zone = absolute_name(zone_text, f"{prefix}zone") if zone_text is not None else None
            rtype = check_type(item.get("type"), f"{prefix}type")
            if rtype in APEX_ONLY_TYPES:
                raise InputError(f"{prefix}type: {rtype} is managed with talosforge.cluster.powerdns_zone")
            request = Request(
                what=what or "record",
                zone=zone,
                raw_name=item.get("name"),
                type=rtype,
                ttl=item["ttl"] if item.get("ttl") is not None else params.get("ttl", 3600),
                records=item.get("records"),
                state=item.get("state") or params.get("state") or "present",
            )
            if zone is not None:
                request.name = record_name(request.raw_name, zone, f"{prefix}name")
            elif isinstance(request.raw_name, str) and request.raw_name.strip() == "@":
                raise InputError(f"{prefix}name: '@' needs zone")
            else:
                request.name = absolute_name(request.raw_name, f"{prefix}name", wildcard=True)
            if request.state == "present":
                desired_rrset(request.name, rtype, request.ttl, request.records or [], what or "record")
            elif request.records:
                for index, value in enumerate(request.records):
                    normalize_content(rtype, value, f"{prefix}records[{index}]")
            requests.append(request)
        except InputError as exc:
            problems.append(str(exc))
    seen: dict[tuple[str, str], str] = {}
    for request in requests:
        key = (request.name, request.type)
        if key in seen:
            problems.append(f"{request.what}: {display(request.name)} {request.type} is also given in {seen[key]}")
        seen[key] = request.what
    if problems:
        raise InputError(_summary(problems))
    return requests


def _summary(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems: " + "; ".join(problems)


def assign_zones(requests: list[Request], listed: Iterable[str]) -> list[str]:
    """Give each request its zone among the server's ``listed`` zones (absolute names); return the zones to read.

    Raises InputError naming every set whose zone does not exist.
    """
    names = set(listed)
    problems = []
    for request in requests:
        if request.zone is None:
            request.zone = deepest_zone(request.name, names)
            if request.zone is None:
                known = ", ".join(sorted(display(z) for z in names)) or "none"
                problems.append(
                    f"{request.what}: no zone on the server holds {display(request.name)} (zones: {known}); "
                    "create it first with talosforge.cluster.powerdns_zone, or set zone"
                )
        elif request.zone not in names:
            problems.append(
                f"{request.what}: zone {display(request.zone)} does not exist on the server; create it first with "
                "talosforge.cluster.powerdns_zone"
            )
    if problems:
        raise InputError(_summary(problems))
    return sorted({r.zone for r in requests if r.zone})


def plan_changes(
    requests: list[Request], zones: Mapping[str, Mapping[str, Any]]
) -> tuple[list[Change], list[dict[str, Any]]]:
    """The changes, and each requested set as it will be. Raises InputError for hidden (occluded) names."""
    views = {name: zone_rrsets(zone) for name, zone in zones.items()}
    changes: list[Change] = []
    after: list[dict[str, Any]] = []
    problems = []
    for request in requests:
        zone = request.zone or ""
        view = views[zone]
        current = view.get((request.name, request.type))
        if request.state == "present":
            want: RRSet | None = desired_rrset(
                request.name, request.type, request.ttl, request.records or [], request.what
            )
            change = plan_rrset(zone, current, want)
        else:
            remove = None
            if request.records:
                remove = tuple(normalize_content(request.type, v) for v in request.records)
            change = plan_rrset(zone, current, None, remove)
        if change is not None:
            changes.append(change)
            if change.after is None:
                view.pop((request.name, request.type), None)
            else:
                view[(request.name, request.type)] = change.after
    for request in requests:
        zone = request.zone or ""
        if request.state == "present":
            hidden = occluding_delegation(request.name, request.type, zone, views[zone])
            if hidden:
                problems.append(
                    f"{request.what}: {display(request.name)} {request.type} would be hidden by the delegation of "
                    f"{display(hidden)} in zone {display(zone)}: resolvers are sent to that zone's servers "
                    "instead. Put the record in the delegated zone, or (for an ACME challenge) serve a zone named "
                    f"like the record here"
                )
        final = views[zone].get((request.name, request.type))
        after.append(
            {
                "zone": zone,
                "name": request.name,
                "type": request.type,
                "ttl": final.ttl if final else None,
                "records": list(final.records) if final else [],
            }
        )
    if problems:
        raise InputError(_summary(problems))
    return changes, after
