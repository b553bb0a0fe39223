# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure zone and record plans of the PowerDNS modules (_powerdns/zone_plan.py, record_plan.py), without a
server: what the modules' tests check end to end against pdns_server, decided here from the server's JSON."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.record_plan import (
    assign_zones,
    plan_changes,
    requests_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_plan import (
    describe,
    desired_apex,
    plan_zone,
)

ZONE = "example.test."
SOA = "ns1.example.test. hostmaster.example.test. 2026010101 10800 3600 604800 300"


def zone_json(kind: str = "Native", soa: str = SOA, ns: tuple[str, ...] = ("ns1.example.test.",)) -> dict:
    return {
        "id": ZONE,
        "name": ZONE,
        "kind": kind,
        "serial": 2026010101,
        "rrsets": [
            {"name": ZONE, "type": "SOA", "ttl": 3600, "records": [{"content": soa, "disabled": False}]},
            {"name": ZONE, "type": "NS", "ttl": 3600, "records": [{"content": n, "disabled": False} for n in ns]},
        ],
    }


def apex(**params):
    return desired_apex(ZONE, {"nameservers": ["ns1.example.test"], "ttl": 3600, "soa": None, **params})


def test_an_unchanged_zone_plans_nothing_and_the_serial_is_never_compared():
    plan = plan_zone(ZONE, "present", "Native", apex(), zone_json())
    assert not plan.changed and plan.patch == [] and plan.kind is None
    assert describe(zone_json())["nameservers"] == ["ns1.example.test."]


def test_an_update_keeps_the_servers_serial_and_sets_the_kind():
    plan = plan_zone(ZONE, "present", "Master", apex(soa={"minimum": 60}), zone_json())
    assert plan.changed and plan.kind == "Master"
    assert [item["type"] for item in plan.patch] == ["SOA"]
    assert plan.patch[0]["records"][0]["content"].split()[2:4] == ["2026010101", "10800"]
    assert plan.diff["before"].startswith("; kind Native\n") and plan.diff["after"].startswith("; kind Master\n")


def test_create_needs_nameservers_and_absent_deletes_what_exists():
    created = plan_zone(ZONE, "present", "Native", apex(), None)
    assert created.create["kind"] == "Native" and [r["type"] for r in created.create["rrsets"]] == ["SOA", "NS"]
    with pytest.raises(InputError, match="nameservers: required to create zone example.test"):
        plan_zone(ZONE, "present", "Native", None, None)
    assert plan_zone(ZONE, "absent", "Native", None, zone_json()).delete is True
    assert not plan_zone(ZONE, "absent", "Native", None, None).changed


def test_requests_report_every_problem_at_once():
    params = {
        "ttl": 3600,
        "rrsets": [
            {"name": "www.example.test", "type": "A", "records": ["not-an-ip"]},
            {"name": "@", "type": "A", "records": ["192.0.2.1"]},
            {"name": "x.example.test", "type": "SOA", "records": ["a"]},
        ],
    }
    with pytest.raises(InputError) as caught:
        requests_from_params(params)
    message = str(caught.value)
    assert message.startswith("3 problems: rrsets[0].records[0]: 'not-an-ip' is not an IPv4 address")
    assert "rrsets[1].name: '@' needs zone" in message and "rrsets[2].type: SOA is managed with" in message


def test_zones_are_found_and_hidden_names_refused():
    requests = requests_from_params(
        {
            "ttl": 300,
            "rrsets": [
                {"name": "k8s.example.test", "type": "NS", "records": ["ns1.k8s.example.test"]},
                {"name": "www.k8s.example.test", "type": "A", "records": ["192.0.2.1"]},
            ],
        }
    )
    assert assign_zones(requests, [ZONE, "other.test."]) == [ZONE]
    with pytest.raises(InputError, match="would be hidden by the delegation of k8s.example.test"):
        plan_changes(requests, {ZONE: zone_json()})
    with pytest.raises(InputError, match="no zone on the server holds k8s.example.test"):
        assign_zones(
            requests_from_params({"name": "k8s.example.test", "type": "A", "records": ["192.0.2.1"]}), ["x.test."]
        )


def test_changes_and_the_sets_as_they_will_be():
    requests = requests_from_params({"name": "www.example.test", "type": "A", "ttl": 60, "records": ["192.0.2.1"]})
    assign_zones(requests, [ZONE])
    changes, after = plan_changes(requests, {ZONE: zone_json()})
    assert [c.result() for c in changes] == [
        {"zone": "example.test", "name": "www.example.test", "type": "A", "action": "created"}
    ]
    assert after == [{"zone": ZONE, "name": "www.example.test.", "type": "A", "ttl": 60, "records": ["192.0.2.1"]}]
