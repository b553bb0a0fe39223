# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PowerDNS names and contents, RRset plans and the client (plugins/module_utils/_powerdns/).

The pure parts are tested alone; the client against a real ``pdns_server`` started on loopback by the ``pdns``
fixture (powerdns_testlib, which the module tests use too). Without the package those tests are skipped.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.client import (
    PowerDNSClient,
    PowerDNSError,
    api_error,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.plan import (
    Change,
    RRSet,
    changes_diff,
    desired_rrset,
    occluding_delegation,
    plan_rrset,
    rrset_from_api,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.records import (
    absolute_name,
    deepest_zone,
    normalize_content,
    parse_soa,
    record_name,
)
from powerdns_testlib import free_port, needs_pdns, running_pdns


@pytest.fixture(scope="module")
def pdns(tmp_path_factory):
    yield from running_pdns(tmp_path_factory)


# --------------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Example.ORG", "example.org."), ("example.org.", "example.org."), (" _acme-challenge.k8s.example.org ", None)],
)
def test_absolute_names(text, expected):
    assert absolute_name(text) == (expected or text.strip() + ".")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bad..zone", "empty label"),
        (".example.org", "empty label"),
        ("-bad.example.org", "do not start or end a label with '-'"),
        ("bad_zone!.org", "not valid"),
        ("a" * 64 + ".org", "longer than 63"),
        (".".join(["abcdefghi"] * 26), "longer than 253"),
        ("*.example.org", "'*'"),
        ("", "a DNS name is required"),
        (".", "is the root"),
        (None, "a DNS name is required"),
    ],
)
def test_bad_names_say_what_is_wrong(text, fragment):
    with pytest.raises(InputError, match="zone") as caught:
        absolute_name(text, "zone")
    assert fragment in str(caught.value)


def test_wildcards_only_as_first_label_of_record_names():
    assert absolute_name("*.k8s.example.org", wildcard=True) == "*.k8s.example.org."
    with pytest.raises(InputError, match="only as the first label"):
        absolute_name("www.*.example.org", wildcard=True)


def test_record_names_are_full_names_inside_the_zone():
    zone = "example.org."
    assert record_name("@", zone) == zone
    assert record_name("WWW.example.org", zone) == "www.example.org."
    with pytest.raises(InputError, match=r"not inside zone example.org; write the full name"):
        record_name("www", zone)
    with pytest.raises(InputError, match="not inside"):
        record_name("www.badexample.org", zone)


def test_the_deepest_zone_holds_the_name():
    zones = ["example.org.", "_acme-challenge.k8s.example.org.", "other.net."]
    assert deepest_zone("_acme-challenge.k8s.example.org.", zones) == "_acme-challenge.k8s.example.org."
    assert deepest_zone("www.k8s.example.org.", zones) == "example.org."
    assert deepest_zone("example.com.", zones) is None


# --------------------------------------------------------------------------------------------------------------
# Contents
# --------------------------------------------------------------------------------------------------------------


SOA_TEXT = "ns1.example.org. hostmaster.example.org. 1 2 3 4 5"


@pytest.mark.parametrize(
    ("rtype", "content", "expected"),
    [
        ("A", " 192.0.2.10 ", "192.0.2.10"),
        ("AAAA", "2001:DB8:0:0::10", "2001:db8::10"),
        ("CNAME", "Target.Example.org", "target.example.org."),
        ("NS", "ns1.example.org.", "ns1.example.org."),
        ("MX", "10   mail.example.org", "10 mail.example.org."),
        ("SRV", "0 5 443 svc.example.org", "0 5 443 svc.example.org."),
        ("TXT", "v=spf1 -all", '"v=spf1 -all"'),
        ("TXT", 'say "hi" \\o/', '"say \\"hi\\" \\\\o/"'),
        ("TXT", '"already" "quoted"', '"already" "quoted"'),
        ("TXT", "café", '"caf\\195\\169"'),
        ("CAA", "0 ISSUE letsencrypt.org", '0 issue "letsencrypt.org"'),
        (
            "SOA",
            "NS1.example.org. hostmaster.example.org 1 2 3 4 5",
            "ns1.example.org. hostmaster.example.org. 1 2 3 4 5",
        ),
        ("LOC", "51  30 12.748 N", "51 30 12.748 N"),
    ],
)
def test_contents_take_the_servers_form(rtype, content, expected):
    assert normalize_content(rtype, content) == expected


def test_long_txt_values_are_split_into_255_byte_strings():
    value = normalize_content("TXT", "x" * 300)
    assert value == '"' + "x" * 255 + '" "' + "x" * 45 + '"'


@pytest.mark.parametrize(
    ("rtype", "content", "fragment"),
    [
        ("A", "not-an-ip", "is not an IPv4 address (type A)"),
        ("A", "2001:db8::1", "is not an IPv4 address"),
        ("AAAA", "192.0.2.1", "is not an IPv6 address"),
        ("CNAME", "bad..target", "empty label"),
        ("MX", "mail.example.org", "must be 'PRIORITY HOST'"),
        ("MX", "99999 mail.example.org", "from 0 to 65535"),
        ("SRV", "1 2 3", "PRIORITY WEIGHT PORT TARGET"),
        ("TXT", '"unbalanced', "list of quoted strings"),
        ("SOA", "a. b. 1 2 3", "7 fields"),
        ("A", "", "empty record"),
        ("A", ["192.0.2.1"], "not text"),
    ],
)
def test_bad_contents_say_what_is_wrong(rtype, content, fragment):
    with pytest.raises(InputError) as caught:
        normalize_content(rtype, content, "records[0]")
    assert str(caught.value).startswith("records[0]")
    assert fragment in str(caught.value)


def test_desired_sets_check_ttl_count_and_cname():
    assert desired_rrset("a.example.org.", "A", 60, ["192.0.2.2", "192.0.2.1", "192.0.2.1"], "x").records == (
        "192.0.2.1",
        "192.0.2.2",
    )
    with pytest.raises(InputError, match="x.ttl"):
        desired_rrset("a.example.org.", "A", -1, ["192.0.2.1"], "x")
    with pytest.raises(InputError, match="at least one record"):
        desired_rrset("a.example.org.", "A", 60, [], "x")
    with pytest.raises(InputError, match="exactly one target"):
        desired_rrset("a.example.org.", "CNAME", 60, ["b.example.org", "c.example.org"], "x")


# --------------------------------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------------------------------

ZONE = "example.org."


def rrset(name, rtype, *records, ttl=3600):
    return RRSet(name, rtype, ttl, tuple(sorted(records)))


def test_plans_create_update_delete_and_nothing():
    current = rrset("www.example.org.", "A", "192.0.2.1")
    assert plan_rrset(ZONE, current, current) is None
    assert plan_rrset(ZONE, None, current).action == "created"
    changed = plan_rrset(ZONE, current, rrset("www.example.org.", "A", "192.0.2.1", ttl=60))
    assert changed.action == "updated" and changed.api()["ttl"] == 60 and changed.api()["changetype"] == "REPLACE"
    deleted = plan_rrset(ZONE, current, None)
    assert deleted.action == "deleted"
    assert deleted.api() == {"name": "www.example.org.", "type": "A", "changetype": "DELETE", "records": []}
    assert plan_rrset(ZONE, None, None) is None


def test_plans_remove_only_the_given_values():
    current = rrset("_acme-challenge.example.org.", "TXT", '"one"', '"two"')
    trimmed = plan_rrset(ZONE, current, None, ('"one"',))
    assert trimmed.action == "updated" and trimmed.after.records == ('"two"',)
    assert plan_rrset(ZONE, current, None, ('"three"',)) is None
    assert plan_rrset(ZONE, current, None, ('"one"', '"two"')).action == "deleted"


def test_disabled_records_never_compare_equal():
    read = rrset_from_api(
        {"name": "A.example.org.", "type": "A", "ttl": 60, "records": [{"content": "192.0.2.1", "disabled": True}]}
    )
    assert read.name == "a.example.org."
    assert plan_rrset(ZONE, read, rrset("a.example.org.", "A", "192.0.2.1", ttl=60)).action == "updated"


def test_disabled_records_stay_disabled_when_other_values_go():
    read = rrset_from_api(
        {
            "name": "a.example.org.",
            "type": "A",
            "ttl": 60,
            "records": [{"content": "192.0.2.1", "disabled": True}, {"content": "192.0.2.2", "disabled": False}],
        }
    )
    trimmed = plan_rrset(ZONE, read, None, ("192.0.2.2",))
    assert trimmed.api()["records"] == [{"content": "192.0.2.1", "disabled": True}]


def test_delegations_hide_what_is_below_them_except_glue():
    rrsets = {
        (ZONE, "NS"): rrset(ZONE, "NS", "ns1.example.org."),
        ("k8s.example.org.", "NS"): rrset("k8s.example.org.", "NS", "ns1.k8s.example.org.", "ns.other.net."),
    }
    assert occluding_delegation("ns1.k8s.example.org.", "A", ZONE, rrsets) is None  # glue
    assert occluding_delegation("k8s.example.org.", "NS", ZONE, rrsets) is None  # the delegation itself
    assert occluding_delegation("k8s.example.org.", "DS", ZONE, rrsets) is None
    assert occluding_delegation("www.k8s.example.org.", "A", ZONE, rrsets) == "k8s.example.org."
    assert occluding_delegation("_acme-challenge.k8s.example.org.", "TXT", ZONE, rrsets) == "k8s.example.org."
    assert occluding_delegation("k8s.example.org.", "TXT", ZONE, rrsets) == "k8s.example.org."
    assert occluding_delegation("sub.k8s.example.org.", "NS", ZONE, rrsets) == "k8s.example.org."
    assert occluding_delegation("www.example.org.", "A", ZONE, rrsets) is None
    assert occluding_delegation(ZONE, "NS", ZONE, rrsets) is None


def test_diffs_are_zone_file_lines():
    changes = [
        Change(ZONE, "created", None, rrset("k8s.example.org.", "NS", "ns1.k8s.example.org.")),
        Change(ZONE, "deleted", rrset("old.example.org.", "A", "192.0.2.9"), None),
    ]
    diff = changes_diff(changes)
    assert diff["before"] == "old.example.org. 3600 IN A 192.0.2.9\n"
    assert diff["after"] == "k8s.example.org. 3600 IN NS ns1.k8s.example.org.\n"
    assert diff["before_header"] == "zone example.org"


def test_soa_fields():
    assert parse_soa("ns1.example.org. hostmaster.example.org. 1 2 3 4 5") == (
        "ns1.example.org.",
        "hostmaster.example.org.",
        1,
        2,
        3,
        4,
        5,
    )


def test_api_errors_keep_the_servers_words():
    refused = api_error(HttpError(401, "Unauthorized", "http://x/api"), "GET")
    assert "refused the API key" in str(refused) and refused.status == 401
    invalid = api_error(HttpError(422, json.dumps({"error": "Record x/A 'y': bad"}), "http://x/api"), "PATCH")
    assert "HTTP 422 to PATCH" in str(invalid) and invalid.code == "Record x/A 'y': bad"
    assert invalid.failure() == {
        "status": 422,
        "code": "Record x/A 'y': bad",
        "details": None,
        "request": "PATCH http://x/api",
    }
    down = api_error(HttpError(None, "", "http://x/api", "connection refused"), "GET")
    assert "cannot reach the PowerDNS API" in str(down) and "api=yes" in str(down)
    assert down.failure()["status"] is None and down.failure()["request"] == "GET http://x/api"


def test_bad_urls_are_reported():
    with pytest.raises(InputError, match="url:"):
        client_from_params({"url": "127.0.0.1:8081", "api_key": "k"})


# --------------------------------------------------------------------------------------------------------------
# The client against a real server
# --------------------------------------------------------------------------------------------------------------


@needs_pdns
def test_the_client_talks_to_a_real_server(pdns):
    client = pdns.client()
    assert client.server()["daemon_type"] == "authoritative"
    soa = rrset("client.test.", "SOA", "ns1.client.test. hostmaster.client.test. 0 10800 3600 604800 300")
    ns = rrset("client.test.", "NS", "ns1.client.test.")
    client.create_zone(
        {"name": "client.test.", "kind": "Native", "nameservers": [], "rrsets": [soa.api(None), ns.api(None)]}
    )
    found = client.find_zone("client.test.")
    assert found["name"] == "client.test." and client.find_zone("missing.test.") is None
    assert "client.test." in [z["name"] for z in client.zones()]
    client.patch_rrsets(found["id"], [rrset("txt.client.test.", "TXT", normalize_content("TXT", "café")).api()])
    read = {(r["name"], r["type"]): rrset_from_api(r) for r in client.zone(found["id"])["rrsets"]}
    assert read[("txt.client.test.", "TXT")].records == ('"caf\\195\\169"',)
    assert parse_soa(read[("client.test.", "SOA")].records[0])[2] > 0  # SOA-EDIT-API gave it a serial
    client.delete_zone(found["id"])
    assert client.find_zone("client.test.") is None


@needs_pdns
def test_the_client_reports_api_errors(pdns):
    with pytest.raises(PowerDNSError, match="refused the API key"):
        pdns.client("wrong").zones()
    client = pdns.client()
    with pytest.raises(PowerDNSError) as caught:
        client.create_zone({"name": "bad..test.", "kind": "Native", "nameservers": []})
    assert caught.value.status == 422 and "bad..test" in caught.value.code


def test_the_client_reports_an_unreachable_server():
    client = PowerDNSClient(HttpClient(f"http://127.0.0.1:{free_port()}", timeout=2, retries=0), "k")
    with pytest.raises(PowerDNSError, match="cannot reach the PowerDNS API"):
        client.zones()
