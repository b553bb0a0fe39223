#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: powerdns_zone
short_description: Create, update or delete a zone on a PowerDNS Authoritative server
version_added: 0.1.0
description:
  - Makes sure a zone exists (or not) on a PowerDNS Authoritative server through its HTTP API, with its kind, the
    name servers of its apex and its SOA values.
  - The SOA serial is left to the server (its C(SOA-EDIT-API) setting raises it on every change through the API);
    the other SOA values are compared and set, so that a re-run changes nothing.
  - Records other than the apex SOA and NS sets are managed with M(talosforge.cluster.powerdns_record).
extends_documentation_fragment:
  - talosforge.cluster.powerdns
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads the zone, and reports what it would change without changing it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The zone's kind, SOA and apex NS records before and after, as zone-file lines.
options:
  name:
    description:
      - The zone's name, such as V(example.org) (a trailing dot is optional; the name is compared in lower case).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the zone; V(absent) deletes it with all its records.
    type: str
    choices: [present, absent]
    default: present
  kind:
    description:
      - V(Native) zones are replicated by the database (or not at all); V(Master) zones send NOTIFY and allow AXFR to
        secondaries.
    type: str
    choices: [Native, Master]
    default: Native
  nameservers:
    description:
      - Host names of the zone's name servers, the NS set at its apex. The first is the SOA's primary.
      - Required to create a zone. When not set on an existing zone, its NS and SOA records are left as they are.
    type: list
    elements: str
  ttl:
    description:
      - TTL in seconds of the SOA and apex NS sets.
    type: int
    default: 3600
  soa:
    description:
      - SOA values other than the primary (the first of O(nameservers)) and the serial (the server's).
      - Used when O(nameservers) is set; each value has a default.
    type: dict
    suboptions:
      contact:
        description:
          - Mailbox of the person responsible for the zone, as a DNS name (V(hostmaster.example.org) for
            C(hostmaster@example.org)). Defaults to C(hostmaster.) followed by the zone's name.
        type: str
      refresh:
        description: Seconds after which secondaries check for a new serial.
        type: int
        default: 10800
      retry:
        description: Seconds after which secondaries retry a failed refresh.
        type: int
        default: 3600
      expire:
        description: Seconds after which secondaries stop answering without a successful refresh.
        type: int
        default: 604800
      minimum:
        description:
          - Seconds resolvers keep a negative answer (no such name). Short, so that new names (such as ACME
            challenge records) are seen soon.
        type: int
        default: 300
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Serve example.org from the edge VPS
  talosforge.cluster.powerdns_zone:
    name: example.org
    nameservers: [ns1.example.org]
    api_key: "{{ talosforge_edge_powerdns_api_key }}"

- name: A zone for the ACME challenges of a delegated cluster zone
  talosforge.cluster.powerdns_zone:
    name: _acme-challenge.k8s.example.org
    nameservers: [ns1.example.org]
    soa:
      minimum: 60
    api_key: "{{ talosforge_edge_powerdns_api_key }}"

- name: Remove a zone and all its records
  talosforge.cluster.powerdns_zone:
    name: old.example.org
    state: absent
    api_key: "{{ talosforge_edge_powerdns_api_key }}"
"""

RETURN = r"""
zone:
  description: The zone after the change (before it, in check mode); empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Absolute zone name, in lower case.
      type: str
      sample: example.org.
    id:
      description: The server's id of the zone, used in API paths.
      type: str
      sample: example.org.
    kind:
      description: The zone's kind.
      type: str
      sample: Native
    serial:
      description: The SOA serial the server reports.
      type: int
      sample: 2026112101
    nameservers:
      description: The apex NS records.
      type: list
      elements: str
      sample: [ns1.example.org.]
    soa:
      description: The SOA record's content.
      type: str
      sample: ns1.example.org. hostmaster.example.org. 2026112101 10800 3600 604800 300
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    PowerDNSClient,
    PowerDNSError,
    RRSet,
    absolute_name,
    client_from_params,
    diff_text,
    display,
    parse_soa,
    powerdns_argument_spec,
    soa_content,
    zone_rrsets,
)

SOA_DEFAULTS = {"refresh": 10800, "retry": 3600, "expire": 604800, "minimum": 300}


def argument_spec() -> dict[str, Any]:
    spec = powerdns_argument_spec(env_fallback)
    spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        kind={"type": "str", "choices": ["Native", "Master"], "default": "Native"},
        nameservers={"type": "list", "elements": "str"},
        ttl={"type": "int", "default": 3600},
        soa={
            "type": "dict",
            "options": {
                "contact": {"type": "str"},
                "refresh": {"type": "int", "default": SOA_DEFAULTS["refresh"]},
                "retry": {"type": "int", "default": SOA_DEFAULTS["retry"]},
                "expire": {"type": "int", "default": SOA_DEFAULTS["expire"]},
                "minimum": {"type": "int", "default": SOA_DEFAULTS["minimum"]},
            },
        },
    )
    return spec


def _apex(name: str, params: dict[str, Any]) -> tuple[RRSet | None, RRSet | None]:
    """The wanted NS and SOA sets (SOA with serial 0: the serial is never compared), or (None, None)."""
    if params.get("nameservers") is None:
        return None, None
    servers = [absolute_name(ns, f"nameservers[{i}]") for i, ns in enumerate(params["nameservers"])]
    if not servers:
        raise PowerDNSError("nameservers: give at least one name server (the first is the SOA's primary)")
    ttl = params.get("ttl")
    if not isinstance(ttl, int) or not 0 <= ttl <= 2147483647:
        raise PowerDNSError(f"ttl: {ttl!r} must be a number of seconds from 0 to 2147483647")
    soa = dict(SOA_DEFAULTS)
    soa.update({k: v for k, v in (params.get("soa") or {}).items() if v is not None})
    contact = absolute_name(soa.pop("contact", None) or f"hostmaster.{name}", "soa.contact")
    for key, value in soa.items():
        if not 0 <= int(value) <= 2147483647:
            raise PowerDNSError(f"soa.{key}: {value!r} must be a number of seconds from 0 to 2147483647")
    soa_text = soa_content(servers[0], contact, 0, soa["refresh"], soa["retry"], soa["expire"], soa["minimum"])
    return (
        RRSet(name, "NS", ttl, tuple(sorted(set(servers)))),
        RRSet(name, "SOA", ttl, (soa_text,)),
    )


def _without_serial(rrset: RRSet | None) -> RRSet | None:
    if rrset is None or not rrset.records:
        return rrset
    fields = list(parse_soa(rrset.records[0]))
    fields[2] = 0
    return RRSet(rrset.name, rrset.type, rrset.ttl, (soa_content(*fields),))


def _with_serial(rrset: RRSet, serial: int) -> RRSet:
    fields = list(parse_soa(rrset.records[0]))
    fields[2] = serial
    return RRSet(rrset.name, rrset.type, rrset.ttl, (soa_content(*fields),))


def _describe(zone: dict[str, Any] | None) -> dict[str, Any]:
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


def _text(kind: str | None, rrsets: list[RRSet | None]) -> str:
    if kind is None:
        return ""
    return f"; kind {kind}\n" + diff_text(rrsets)


def run_module(params: dict[str, Any], check_mode: bool, client: PowerDNSClient | None = None) -> dict[str, Any]:
    """Do the work; return the result. Raises PowerDNSError."""
    name = absolute_name(params["name"], "name")
    want_ns, want_soa = _apex(name, params) if params["state"] == "present" else (None, None)
    client = client or client_from_params(params)
    found = client.find_zone(name)
    current = client.zone(found["id"]) if found else None
    result: dict[str, Any] = {"changed": False, "zone": _describe(current)}
    header = {"before_header": f"zone {display(name)}", "after_header": f"zone {display(name)}"}

    if params["state"] == "absent":
        if current is None:
            return result
        rrsets = zone_rrsets(current)
        before = _text(current.get("kind"), sorted(rrsets.values(), key=lambda r: (r.name, r.type)))
        result.update(changed=True, diff=dict(header, before=before, after=""))
        if not check_mode:
            client.delete_zone(current["id"])
            result["zone"] = {}
        return result

    if current is None:
        if want_ns is None or want_soa is None:
            raise PowerDNSError(f"nameservers: required to create zone {display(name)}, which does not exist yet")
        body = {
            "name": name,
            "kind": params["kind"],
            "nameservers": [],
            "rrsets": [want_soa.api(changetype=None), want_ns.api(changetype=None)],
        }
        result.update(changed=True, diff=dict(header, before="", after=_text(params["kind"], [want_soa, want_ns])))
        if not check_mode:
            client.create_zone(body)
            found = client.find_zone(name)
            result["zone"] = _describe(client.zone(found["id"])) if found else {}
        return result

    rrsets = zone_rrsets(current)
    have_ns, have_soa = rrsets.get((name, "NS")), rrsets.get((name, "SOA"))
    patch: list[dict[str, Any]] = []
    before: list[RRSet | None] = []
    after: list[RRSet | None] = []
    if want_ns is not None and have_ns != want_ns:
        patch.append(want_ns.api())
        before.append(have_ns)
        after.append(want_ns)
    if want_soa is not None and _without_serial(have_soa) != want_soa:
        serial = int(parse_soa(have_soa.records[0])[2]) if have_soa and have_soa.records else 0
        new_soa = _with_serial(want_soa, serial)
        patch.append(new_soa.api())
        before.append(have_soa)
        after.append(new_soa)
    kind_changed = str(current.get("kind")) != params["kind"]
    if not patch and not kind_changed:
        return result
    result.update(
        changed=True,
        diff=dict(header, before=_text(current.get("kind"), before), after=_text(params["kind"], after)),
    )
    if check_mode:
        return result
    if kind_changed:
        client.update_zone(current["id"], {"kind": params["kind"]})
    if patch:
        client.patch_rrsets(current["id"], patch)
    result["zone"] = _describe(client.zone(current["id"]))
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run_module(module.params, module.check_mode)
    except PowerDNSError as exc:
        module.fail_json(msg=str(exc), **exc.details())
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
