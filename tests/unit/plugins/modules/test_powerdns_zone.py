# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.powerdns_zone, driven through main() against a real pdns_server on loopback."""

from __future__ import annotations

import json

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.powerdns import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.modules import powerdns_zone as module
from module_harness import check_documentation, run_module
from powerdns_testlib import API_KEY, needs_pdns, running_pdns


@pytest.fixture(scope="module")
def pdns(tmp_path_factory):
    yield from running_pdns(tmp_path_factory)


def test_argument_spec_matches_documentation():
    spec = check_documentation(module, ModuleDocFragment)
    assert spec["api_key"]["no_log"] is True


@needs_pdns
def test_create_check_mode_diff_and_idempotence(pdns, capsys):
    args = pdns.params(name="Example.TEST", nameservers=["ns1.example.test", "ns2.example.test"], _ansible_diff=True)
    planned = run_module(module, dict(args, _ansible_check_mode=True), capsys)
    assert planned["changed"] is True and planned["zone"] == {}
    assert "example.test. 3600 IN NS ns1.example.test." in planned["diff"]["after"]
    assert pdns.client().find_zone("example.test.") is None

    created = run_module(module, args, capsys)
    assert created["changed"] is True
    zone = created["zone"]
    assert zone["name"] == "example.test." and zone["kind"] == "Native"
    assert zone["nameservers"] == ["ns1.example.test.", "ns2.example.test."]
    assert zone["soa"].startswith("ns1.example.test. hostmaster.example.test. ")
    assert zone["soa"].endswith(" 10800 3600 604800 300") and zone["serial"] > 0

    again = run_module(module, args, capsys)
    assert again["changed"] is False and "diff" not in again
    assert API_KEY not in json.dumps(again)

    answer = pdns.dig("example.test", "SOA")
    assert "status: NOERROR" in answer and "ns1.example.test. hostmaster.example.test." in answer


@needs_pdns
def test_update_soa_nameservers_and_kind_keeps_the_serial_rising(pdns, capsys):
    args = pdns.params(name="update.test", nameservers=["ns1.update.test"])
    first = run_module(module, args, capsys)["zone"]
    changed = run_module(
        module,
        dict(args, nameservers=["ns9.update.test"], kind="Master", soa={"minimum": 60}, _ansible_diff=True),
        capsys,
    )
    assert changed["changed"] is True
    assert changed["zone"]["kind"] == "Master" and changed["zone"]["nameservers"] == ["ns9.update.test."]
    assert changed["zone"]["soa"].startswith("ns9.update.test. ") and changed["zone"]["soa"].endswith(" 60")
    assert changed["zone"]["serial"] > first["serial"]
    assert "; kind Native" in changed["diff"]["before"] and "; kind Master" in changed["diff"]["after"]
    assert (
        run_module(module, dict(args, nameservers=["ns9.update.test"], kind="Master", soa={"minimum": 60}), capsys)[
            "changed"
        ]
        is False
    )
    # Without nameservers an existing zone's apex is left alone.
    assert run_module(module, pdns.params(name="update.test", kind="Master"), capsys)["changed"] is False


@needs_pdns
def test_delete(pdns, capsys):
    run_module(module, pdns.params(name="gone.test", nameservers=["ns1.gone.test"]), capsys)
    planned = run_module(module, pdns.params(name="gone.test", state="absent", _ansible_check_mode=True), capsys)
    assert planned["changed"] is True and pdns.client().find_zone("gone.test.") is not None
    deleted = run_module(module, pdns.params(name="gone.test", state="absent"), capsys)
    assert deleted["changed"] is True and deleted["zone"] == {}
    assert pdns.client().find_zone("gone.test.") is None
    assert run_module(module, pdns.params(name="gone.test", state="absent"), capsys)["changed"] is False


@needs_pdns
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"name": "bad..zone"}, "name: 'bad..zone' has an empty label"),
        ({"name": "*.wild.test", "nameservers": ["ns1.wild.test"]}, "'*'"),
        ({"name": "new.test"}, "nameservers: required to create zone new.test"),
        ({"name": "new.test", "nameservers": []}, "give at least one name server"),
        ({"name": "new.test", "nameservers": ["ns1..new.test"]}, "nameservers[0]"),
        ({"name": "new.test", "nameservers": ["ns1.new.test"], "ttl": -5}, "ttl: -5"),
    ],
)
def test_bad_input_fails_clearly_and_changes_nothing(pdns, capsys, args, fragment):
    before = pdns.client().zones()
    result = run_module(module, pdns.params(**args), capsys)
    assert result["failed"] is True and fragment in result["msg"], result["msg"]
    assert pdns.client().zones() == before


@needs_pdns
def test_wrong_api_key(pdns, capsys):
    result = run_module(module, {"url": pdns.url, "api_key": "wrong", "name": "x.test"}, capsys)
    assert result["failed"] is True and "refused the API key" in result["msg"] and result["failure"]["status"] == 401
    assert "wrong" not in result["msg"]
