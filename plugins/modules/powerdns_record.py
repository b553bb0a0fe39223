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

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import powerdns_argument_spec
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.record_apply import run


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


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **MODULE_OPTIONS)
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
