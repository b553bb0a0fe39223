# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.powerdns_record, driven through main() against a real pdns_server on loopback."""

from __future__ import annotations

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.talosforge.cluster.plugins.doc_fragments.powerdns import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.modules import powerdns_record as module
from ansible_collections.talosforge.cluster.plugins.modules import powerdns_zone
from module_harness import check_documentation, run_module
from powerdns_testlib import API_KEY, needs_pdns, running_pdns


@pytest.fixture(scope="module")
def pdns(tmp_path_factory):
    yield from running_pdns(tmp_path_factory)


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


@pytest.fixture(scope="module")
def zones(pdns):
    """example.test with k8s.example.test delegated, and a zone for the delegated zone's ACME challenges."""
    for name in ("example.test", "_acme-challenge.k8s.example.test"):
        args = {"url": pdns.url, "api_key": API_KEY, "name": name, "nameservers": ["ns1.example.test"]}
        with patch_module_args(args), pytest.raises(SystemExit):
            powerdns_zone.main()
    return pdns


DELEGATION = [
    {"name": "ns1.example.test", "type": "A", "records": ["198.18.77.10"]},
    {"name": "k8s.example.test", "type": "NS", "records": ["ns1.k8s.example.test"]},
    {"name": "ns1.k8s.example.test", "type": "A", "records": ["10.0.3.3"]},
]


@needs_pdns
def test_delegation_with_glue_in_one_call_is_idempotent_and_served(zones, capsys):
    args = zones.params(zone="example.test", rrsets=DELEGATION, _ansible_diff=True)
    planned = run_module(module, dict(args, _ansible_check_mode=True), capsys)
    assert planned["changed"] is True and [c["action"] for c in planned["changes"]] == ["created"] * 3
    assert "k8s.example.test. 3600 IN NS ns1.k8s.example.test." in planned["diff"]["after"]
    assert "status: NXDOMAIN" in zones.dig("ns1.k8s.example.test", "A")  # check mode changed nothing

    applied = run_module(module, args, capsys)
    assert applied["changed"] is True
    assert applied["rrsets"][1] == {
        "zone": "example.test.",
        "name": "k8s.example.test.",
        "type": "NS",
        "ttl": 3600,
        "records": ["ns1.k8s.example.test."],
    }
    assert run_module(module, args, capsys)["changed"] is False

    referral = zones.dig("www.k8s.example.test", "A")
    authority = referral.split("AUTHORITY SECTION:")[1]
    assert "k8s.example.test.\t3600\tIN\tNS\tns1.k8s.example.test." in authority
    assert "ns1.k8s.example.test.\t3600\tIN\tA\t10.0.3.3" in referral.split("ADDITIONAL SECTION:")[1]


@needs_pdns
def test_acme_challenge_values_are_added_and_removed_one_by_one(zones, capsys):
    name = "_acme-challenge.k8s.example.test"
    both = run_module(module, zones.params(name=name, type="TXT", ttl=60, records=["token-one", "token-two"]), capsys)
    assert both["changed"] is True
    assert both["rrsets"][0]["zone"] == "_acme-challenge.k8s.example.test."  # the deepest zone was chosen
    assert '"token-one"' in zones.dig(name, "TXT")

    trimmed = run_module(module, zones.params(name=name, type="TXT", records=["token-one"], state="absent"), capsys)
    assert trimmed["changed"] is True and trimmed["rrsets"][0]["records"] == ['"token-two"']
    assert (
        run_module(module, zones.params(name=name, type="TXT", records=["token-one"], state="absent"), capsys)[
            "changed"
        ]
        is False
    )
    gone = run_module(module, zones.params(name=name, type="TXT", state="absent"), capsys)
    assert gone["changes"][0]["action"] == "deleted" and gone["rrsets"][0]["records"] == []


@needs_pdns
def test_records_hidden_by_a_delegation_are_refused(zones, capsys):
    run_module(module, zones.params(zone="example.test", rrsets=DELEGATION), capsys)
    result = run_module(module, zones.params(name="www.k8s.example.test", type="A", records=["192.0.2.1"]), capsys)
    assert result["failed"] is True
    assert "would be hidden by the delegation of k8s.example.test in zone example.test" in result["msg"]


@needs_pdns
def test_every_bad_value_is_reported_at_once_and_nothing_changes(zones, capsys):
    before = zones.client().zone("example.test.")["rrsets"]
    rrsets = [
        {"name": "ok.example.test", "type": "A", "records": ["192.0.2.1"]},
        {"name": "bad.example.test", "type": "A", "records": ["not-an-ip"]},
        {"name": "bad..example.test", "type": "TXT", "records": ["x"]},
        {"name": "mail.example.test", "type": "MX", "records": ["mail.example.test"]},
        {"name": "www", "type": "CNAME", "records": ["example.test"]},
        {"name": "ok.example.test", "type": "A", "records": ["192.0.2.2"]},
        {"name": "example.test", "type": "SOA", "records": ["a. b. 1 2 3 4 5"]},
    ]
    result = run_module(module, zones.params(zone="example.test", rrsets=rrsets), capsys)
    assert result["failed"] is True
    message = result["msg"]
    assert message.startswith("6 problems: ")
    for fragment in (
        "rrsets[1].records[0]: 'not-an-ip' is not an IPv4 address",
        "rrsets[2].name: 'bad..example.test' has an empty label",
        "rrsets[3].records[0]: MX 'mail.example.test' must be 'PRIORITY HOST'",
        "rrsets[4].name: 'www' is not inside zone example.test",
        "rrsets[5]: ok.example.test A is also given in rrsets[0]",
        "rrsets[6].type: SOA is managed with talosforge.cluster.powerdns_zone",
    ):
        assert fragment in message, message
    assert zones.client().zone("example.test.")["rrsets"] == before


@needs_pdns
def test_missing_zones_are_named(zones, capsys):
    nowhere = run_module(module, zones.params(name="www.elsewhere.test", type="A", records=["192.0.2.1"]), capsys)
    assert "no zone on the server holds www.elsewhere.test" in nowhere["msg"]
    assert "example.test" in nowhere["msg"]
    missing = run_module(module, zones.params(zone="elsewhere.test", name="@", type="A", records=["192.0.2.1"]), capsys)
    assert "zone elsewhere.test does not exist on the server" in missing["msg"]


@needs_pdns
def test_server_side_refusals_keep_the_api_error(zones, capsys):
    run_module(module, zones.params(name="alias.example.test", type="CNAME", records=["example.test"]), capsys)
    result = run_module(module, zones.params(name="alias.example.test", type="A", records=["192.0.2.1"]), capsys)
    assert result["failed"] is True and result["failure"]["status"] == 422
    assert "the PowerDNS API answered HTTP 422" in result["msg"] and result["failure"]["code"]
    assert result["failure"]["request"].startswith(f"PATCH {zones.url}/api/v1/servers/localhost/zones/")


@needs_pdns
def test_apex_and_wildcard_names(zones, capsys):
    args = zones.params(
        zone="example.test",
        rrsets=[
            {"name": "@", "type": "A", "records": ["198.18.77.10"]},
            {"name": "*.example.test", "type": "A", "records": ["198.18.77.10"], "ttl": 300},
        ],
    )
    assert run_module(module, args, capsys)["changed"] is True
    assert run_module(module, args, capsys)["changed"] is False
    assert "198.18.77.10" in zones.dig("anything.example.test", "A").split("ANSWER SECTION:")[1]
