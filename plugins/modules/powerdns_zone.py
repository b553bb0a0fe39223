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
  - Other record sets of the zone can be given in O(rrsets) (only those listed are managed; the rest are left
    alone), or managed with M(talosforge.cluster.powerdns_record).
  - For RFC 2136 dynamic updates (such as cert-manager's C(rfc2136) DNS-01 solver), O(tsig_key) creates the TSIG
    key on the server and lets it update this zone (C(TSIG-ALLOW-DNSUPDATE) metadata), and O(allow_from) sets the
    source networks updates are accepted from (C(ALLOW-DNSUPDATE-FROM) metadata). The server must run with
    C(dnsupdate=yes); its global C(allow-dnsupdate-from) is checked first.
  - The zone, its metadata and the key are read at once (in parallel); only what differs is written, so a re-run
    sends no write.
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
    details:
      - The zone's kind, SOA, apex NS and O(rrsets) records before and after, as zone-file lines; the TSIG key's
        name and algorithm (never its secret) and the update metadata as comment lines.
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
  rrsets:
    description:
      - Record sets of the zone, all checked and written in one request with the zone's other changes. Sets of the
        zone that are not listed are left as they are.
      - The rules of M(talosforge.cluster.powerdns_record) apply (full names or V(@), contents in any form the
        server accepts, TXT quoted for you); the SOA is the zone's own, and the apex NS set is O(nameservers) when
        that is given.
    type: list
    elements: dict
    suboptions:
      name:
        description: The set's full name, such as V(ns1.k8s.example.org), or V(@) for the apex.
        type: str
        required: true
      type:
        description: The record type, such as V(A), V(AAAA), V(NS), V(CNAME), V(TXT).
        type: str
        required: true
      ttl:
        description: TTL in seconds; O(ttl) when not set.
        type: int
      records:
        description: The set's contents (exactly these with V(present), those to remove with V(absent)).
        type: list
        elements: str
      state:
        description: V(present) or V(absent) (the whole set, or the given O(rrsets[].records)).
        type: str
        choices: [present, absent]
        default: present
  tsig_key:
    description:
      - A TSIG key that may send RFC 2136 updates to this zone. It is created on the server (its C(/tsigkeys) API)
        or its algorithm and secret set, and it becomes the zone's only C(TSIG-ALLOW-DNSUPDATE) key.
      - Keys are the server's, not the zone's; deleting the zone leaves the key.
    type: dict
    suboptions:
      name:
        description: The key's name, such as V(cert-manager) (the name clients sign with).
        type: str
        required: true
      algorithm:
        description: The HMAC algorithm.
        type: str
        choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
        default: hmac-sha256
      secret:
        description:
          - The key's secret, base64, such as 32 random bytes from M(talosforge.cluster.vault_secret). Never shown
            in a diff, a result or an error.
        type: str
        required: true
  allow_from:
    description:
      - The networks (or addresses) updates to this zone are accepted from, its C(ALLOW-DNSUPDATE-FROM) metadata.
        Use V(0.0.0.0/0) and V(::/0) to rely on O(tsig_key) alone.
      - An empty list removes the metadata (the server's global C(allow-dnsupdate-from) then applies); not set, it
        is left as it is.
    type: list
    elements: str
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

- name: The cluster zone of an in-cluster PowerDNS, with records, and updates signed by cert-manager's key
  talosforge.cluster.powerdns_zone:
    url: "http://10.0.3.3:8081"
    name: k8s.example.org
    nameservers: [ns1.k8s.example.org]
    rrsets:
      - name: ns1.k8s.example.org
        type: A
        records: [10.0.3.3]
    tsig_key:
      name: cert-manager
      secret: "{{ tsig_secret }}"
    allow_from: [0.0.0.0/0, "::/0"]
    api_key: "{{ powerdns_api_key }}"

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
    tsig_keys:
      description: The names of the keys allowed to update the zone (C(TSIG-ALLOW-DNSUPDATE)).
      returned: when O(tsig_key) is set
      type: list
      elements: str
      sample: [cert-manager]
    allow_from:
      description: The networks updates are accepted from (C(ALLOW-DNSUPDATE-FROM)).
      returned: when O(allow_from) is set
      type: list
      elements: str
      sample: [0.0.0.0/0, "::/0"]
changes:
  description: The sets of O(rrsets) changed (or that would change, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    zone:
      description: The zone.
      type: str
      sample: k8s.example.org
    name:
      description: The set's name.
      type: str
      sample: ns1.k8s.example.org
    type:
      description: The set's type.
      type: str
      sample: A
    action:
      description: V(created), V(updated) or V(deleted).
      type: str
      sample: created
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import powerdns_argument_spec
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import ZONE_KINDS
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_extras import TSIG_ALGORITHMS
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_plan import SOA_DEFAULTS


def argument_spec() -> dict[str, Any]:
    spec = powerdns_argument_spec(env_fallback)
    spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        kind={"type": "str", "choices": list(ZONE_KINDS), "default": "Native"},
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
        rrsets={
            "type": "list",
            "elements": "dict",
            "options": {
                "name": {"type": "str", "required": True},
                "type": {"type": "str", "required": True},
                "ttl": {"type": "int"},
                "records": {"type": "list", "elements": "str"},
                "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            },
        },
        tsig_key={
            "type": "dict",
            "no_log": False,
            "options": {
                "name": {"type": "str", "required": True},
                "algorithm": {"type": "str", "choices": list(TSIG_ALGORITHMS), "default": "hmac-sha256"},
                "secret": {"type": "str", "required": True, "no_log": True},
            },
        },
        allow_from={"type": "list", "elements": "str"},
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
