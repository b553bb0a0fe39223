# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The powerdns_rrsets filter: delegations with glue, the domain and its wildcard, then the extra records."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter.powerdns_rrsets import FilterModule, rrsets

NS = [{"name": "ns1.example.org.", "addresses": ["203.0.113.1", "2001:db8::1"]}]
PUBLIC = ["203.0.113.1", "2001:db8::1"]


def test_domain_and_wildcard_when_not_delegated():
    sets = rrsets("Example.org.", "k8s.example.org", NS, [], PUBLIC, 300, records=[{"name": "x", "type": "A"}])
    assert sets == [
        {"name": "ns1.example.org", "type": "A", "ttl": 300, "records": ["203.0.113.1"]},
        {"name": "ns1.example.org", "type": "AAAA", "ttl": 300, "records": ["2001:db8::1"]},
        {"name": "k8s.example.org", "type": "A", "ttl": 300, "records": ["203.0.113.1"]},
        {"name": "k8s.example.org", "type": "AAAA", "ttl": 300, "records": ["2001:db8::1"]},
        {"name": "*.k8s.example.org", "type": "A", "ttl": 300, "records": ["203.0.113.1"]},
        {"name": "*.k8s.example.org", "type": "AAAA", "ttl": 300, "records": ["2001:db8::1"]},
        {"name": "x", "type": "A"},
    ]
    assert [s["name"] for s in rrsets("example.org", "k8s.example.org", NS, [], PUBLIC, 300, False)] == [
        "ns1.example.org",
        "ns1.example.org",
    ]


def test_delegation_gets_ns_and_glue_and_takes_the_domain_away():
    delegations = [
        {"zone": "K8S.example.org.", "nameservers": [{"name": "ns1.k8s.example.org", "addresses": ["10.0.3.2"]}]},
        {"zone": "other.example.org", "nameservers": [{"name": "ns.elsewhere.net", "addresses": ["192.0.2.9"]}]},
    ]
    sets = rrsets("example.org", "k8s.example.org", [{"name": "ns1.example.org", "addresses": ["203.0.113.1"]},
                                                     {"name": "ns1.example.org", "addresses": ["203.0.113.9"]}],
                  delegations, PUBLIC, 60)  # fmt: skip
    assert sets == [
        {"name": "k8s.example.org", "type": "NS", "ttl": 60, "records": ["ns1.k8s.example.org"]},
        {"name": "other.example.org", "type": "NS", "ttl": 60, "records": ["ns.elsewhere.net"]},
        {"name": "ns1.example.org", "type": "A", "ttl": 60, "records": ["203.0.113.1"]},  # once per name
        {"name": "ns1.k8s.example.org", "type": "A", "ttl": 60, "records": ["10.0.3.2"]},  # glue; not ns.elsewhere
    ]


def test_bad_input_names_the_filter():
    with pytest.raises(AnsibleFilterError, match="powerdns_rrsets: delegations must be a list"):
        FilterModule().filters()["powerdns_rrsets"]("example.org", "a.example.org", NS, "x", PUBLIC, 60)
