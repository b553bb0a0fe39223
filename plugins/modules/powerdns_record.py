#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: powerdns_record
short_description: Manage record sets (RRsets) in zones of a PowerDNS Authoritative server
version_added: 0.1.0
description:
  - Sets, removes or trims record sets (all records of one name and type) through the PowerDNS HTTP API.
  - Give one set with O(name), O(type) and O(records), or many with O(rrsets); many sets cost one read per zone and
    one change per zone, whatever their number.
  - Every value is checked before the API is called (names, addresses, targets, TXT quoting), and every problem is
    reported at once. A record that a delegation in its zone would hide (a name at or below a delegated subzone,
    other than the delegation's NS set and its name servers' glue addresses) is refused with the delegation named.
  - Contents are compared in the form the server keeps them (absolute names, compressed IPv6 addresses, quoted TXT
    strings), so a re-run changes nothing.
  - The apex SOA belongs to M(talosforge.cluster.powerdns_zone).
extends_documentation_fragment:
  - talosforge.cluster.powerdns
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads the zones, and reports what it would change without changing it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The changed record sets before and after, as zone-file lines.
options:
  zone:
    description:
      - The zone the records belong to, such as V(example.org).
      - When not set, the server's zone that holds the name most closely is used (for
        V(_acme-challenge.k8s.example.org), a zone V(_acme-challenge.k8s.example.org) before V(example.org)).
    type: str
  name:
    description:
      - The records' full name, such as V(www.example.org) or V(*.example.org) (a trailing dot is optional), or V(@)
        for the apex of O(zone).
      - Required with O(type) unless O(rrsets) is given.
    type: str
  type:
    description:
      - The record type, such as V(A), V(AAAA), V(CNAME), V(TXT), V(NS), V(MX), V(SRV) or V(CAA).
    type: str
  ttl:
    description:
      - TTL in seconds of the set. In O(rrsets), the default of items that do not set their own.
    type: int
    default: 3600
  records:
    description:
      - The set's contents. With O(state=present), exactly these (the set is replaced); with O(state=absent), the
        values to remove (the set goes when none is left), or every value when not given.
      - Names in contents (V(NS), V(CNAME), V(MX), V(SRV) targets) may be written without the trailing dot; TXT
        values are written as plain text and quoted (and split into 255-byte strings) for you, unless they already
        start with a double quote.
    type: list
    elements: str
  state:
    description:
      - V(present) makes the set hold exactly O(records); V(absent) removes O(records) from it, or the whole set.
      - In O(rrsets), the default of items that do not set their own.
    type: str
    choices: [present, absent]
    default: present
  rrsets:
    description:
      - Several sets at once, instead of O(name), O(type) and O(records). Each item takes the same keys; O(zone),
        O(ttl) and O(state) are the defaults of items that do not set them.
    type: list
    elements: dict
    suboptions:
      zone:
        description: The zone of this set (see O(zone)).
        type: str
      name:
        description: The set's full name (see O(name)).
        type: str
        required: true
      type:
        description: The record type.
        type: str
        required: true
      ttl:
        description: TTL in seconds.
        type: int
      records:
        description: The set's contents (see O(records)).
        type: list
        elements: str
      state:
        description: V(present) or V(absent) (see O(state)).
        type: str
        choices: [present, absent]
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Delegate k8s.example.org to the cluster's PowerDNS, with glue
  talosforge.cluster.powerdns_record:
    zone: example.org
    rrsets:
      - name: k8s.example.org
        type: NS
        records: [ns1.k8s.example.org]
      - name: ns1.k8s.example.org
        type: A
        records: [10.0.3.3]
    api_key: "{{ talosforge_edge_powerdns_api_key }}"

- name: Publish an ACME DNS-01 challenge (the zone is found from the name)
  talosforge.cluster.powerdns_record:
    name: _acme-challenge.k8s.example.org
    type: TXT
    ttl: 60
    records: ["{{ challenge_value }}"]
    api_key: "{{ talosforge_edge_powerdns_api_key }}"

- name: Remove that value again, leaving any other
  talosforge.cluster.powerdns_record:
    name: _acme-challenge.k8s.example.org
    type: TXT
    records: ["{{ challenge_value }}"]
    state: absent
    api_key: "{{ talosforge_edge_powerdns_api_key }}"
"""

RETURN = r"""
changes:
  description: The record sets changed (or that would change, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    zone:
      description: The zone of the set.
      type: str
      sample: example.org
    name:
      description: The set's name.
      type: str
      sample: k8s.example.org
    type:
      description: The set's type.
      type: str
      sample: NS
    action:
      description: V(created), V(updated) or V(deleted).
      type: str
      sample: created
rrsets:
  description: Each requested set as it is after the run (as it would be, in check mode), in request order.
  returned: always
  type: list
  elements: dict
  contains:
    zone:
      description: The zone of the set, absolute.
      type: str
      sample: example.org.
    name:
      description: Absolute name.
      type: str
      sample: k8s.example.org.
    type:
      description: Record type.
      type: str
      sample: NS
    ttl:
      description: TTL in seconds; V(null) when the set does not exist.
      type: int
      sample: 3600
    records:
      description: Contents in the server's form; empty when the set does not exist.
      type: list
      elements: str
      sample: [ns1.k8s.example.org.]
"""

from dataclasses import dataclass
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    APEX_ONLY_TYPES,
    Change,
    PowerDNSClient,
    PowerDNSError,
    RRSet,
    absolute_name,
    changes_diff,
    check_type,
    client_from_params,
    deepest_zone,
    desired_rrset,
    display,
    normalize_content,
    occluding_delegation,
    plan_rrset,
    powerdns_argument_spec,
    record_name,
    zone_rrsets,
)

_ITEM_KEYS = ("zone", "name", "type", "ttl", "records", "state")


def argument_spec() -> dict[str, Any]:
    spec = powerdns_argument_spec(env_fallback)
    spec.update(
        zone={"type": "str"},
        name={"type": "str"},
        type={"type": "str"},
        ttl={"type": "int", "default": 3600},
        records={"type": "list", "elements": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        rrsets={
            "type": "list",
            "elements": "dict",
            "options": {
                "zone": {"type": "str"},
                "name": {"type": "str", "required": True},
                "type": {"type": "str", "required": True},
                "ttl": {"type": "int"},
                "records": {"type": "list", "elements": "str"},
                "state": {"type": "str", "choices": ["present", "absent"]},
            },
        },
    )
    return spec


MODULE_OPTIONS = {
    "mutually_exclusive": [("name", "rrsets")],
    "required_one_of": [("name", "rrsets")],
    "required_together": [("name", "type")],
}


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


def _requests(params: dict[str, Any]) -> list[Request]:
    """The requested sets with defaults applied and every local problem reported at once."""
    if params.get("rrsets") is not None:
        items = [(f"rrsets[{i}]", item) for i, item in enumerate(params["rrsets"])]
        if not items:
            raise PowerDNSError("rrsets: the list is empty; give at least one set")
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
                raise PowerDNSError(f"{prefix}type: {rtype} is managed with talosforge.cluster.powerdns_zone")
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
                raise PowerDNSError(f"{prefix}name: '@' needs zone")
            else:
                request.name = absolute_name(request.raw_name, f"{prefix}name", wildcard=True)
            if request.state == "present":
                desired_rrset(request.name, rtype, request.ttl, request.records or [], what or "record")
            elif request.records:
                for index, value in enumerate(request.records):
                    normalize_content(rtype, value, f"{prefix}records[{index}]")
            requests.append(request)
        except PowerDNSError as exc:
            problems.append(str(exc))
    seen: dict[tuple[str, str], str] = {}
    for request in requests:
        key = (request.name, request.type)
        if key in seen:
            problems.append(f"{request.what}: {display(request.name)} {request.type} is also given in {seen[key]}")
        seen[key] = request.what
    if problems:
        raise PowerDNSError(_summary(problems))
    return requests


def _summary(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems: " + "; ".join(problems)


def _find_zones(requests: list[Request], client: PowerDNSClient) -> dict[str, dict[str, Any]]:
    """Give each request its zone; return the zones read from the server (with RRsets) by absolute name."""
    listed = {str(z.get("name", "")).lower(): z for z in client.zones()}
    problems = []
    for request in requests:
        if request.zone is None:
            request.zone = deepest_zone(request.name, listed)
            if request.zone is None:
                known = ", ".join(sorted(display(z) for z in listed)) or "none"
                problems.append(
                    f"{request.what}: no zone on the server holds {display(request.name)} (zones: {known}); "
                    "create it first with talosforge.cluster.powerdns_zone, or set zone"
                )
        elif request.zone not in listed:
            problems.append(
                f"{request.what}: zone {display(request.zone)} does not exist on the server; create it first with "
                "talosforge.cluster.powerdns_zone"
            )
    if problems:
        raise PowerDNSError(_summary(problems))
    wanted = sorted({r.zone for r in requests if r.zone})
    return {name: client.zone(listed[name]["id"]) for name in wanted}


def _plan(requests: list[Request], zones: dict[str, dict[str, Any]]) -> tuple[list[Change], list[dict[str, Any]]]:
    """The changes, and each requested set as it will be. Raises PowerDNSError for hidden (occluded) names."""
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
        raise PowerDNSError(_summary(problems))
    return changes, after


def run_module(params: dict[str, Any], check_mode: bool, client: PowerDNSClient | None = None) -> dict[str, Any]:
    """Do the work; return the result. Raises PowerDNSError."""
    requests = _requests(params)
    client = client or client_from_params(params)
    zones = _find_zones(requests, client)
    changes, after = _plan(requests, zones)
    result: dict[str, Any] = {
        "changed": bool(changes),
        "changes": [c.result() for c in changes],
        "rrsets": after,
    }
    if changes:
        result["diff"] = changes_diff(changes)
    if changes and not check_mode:
        for zone in sorted({c.zone for c in changes}):
            client.patch_rrsets(zones[zone]["id"], [c.api() for c in changes if c.zone == zone])
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **MODULE_OPTIONS)
    try:
        result = run_module(module.params, module.check_mode)
    except PowerDNSError as exc:
        module.fail_json(msg=str(exc), **exc.details())
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
