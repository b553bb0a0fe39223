# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.powerdns_zone's rrsets, tsig_key and allow_from against a real pdns_server on loopback that
accepts RFC 2136 updates (dnsupdate=yes, no global allow-dnsupdate-from): the updates are sent with nsupdate."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_apply import run
from ansible_collections.talosforge.cluster.plugins.modules import powerdns_zone as module
from module_harness import run_module
from powerdns_testlib import API_KEY, needs_pdns, running_pdns

SECRET = base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = base64.b64encode(b"o" * 32).decode()


@pytest.fixture(scope="module")
def pdns(tmp_path_factory):
    yield from running_pdns(tmp_path_factory, ("dnsupdate=yes", "allow-dnsupdate-from="))


def nsupdate(pdns, zone: str, name: str, value: str, key: str | None = None) -> subprocess.CompletedProcess:
    """One RFC 2136 update adding a TXT record, signed with ``key`` ("algorithm:name:secret") when given."""
    if not shutil.which("nsupdate"):
        pytest.skip("nsupdate (dnsutils) is not installed")
    script = f'server 127.0.0.1 {pdns.dns_port}\nzone {zone}\nupdate add {name} 60 TXT "{value}"\nsend\n'
    command = ["nsupdate", "-t", "5"] + (["-y", key] if key else [])
    return subprocess.run(command, input=script, capture_output=True, text=True, timeout=20, check=False)


def zone_args(pdns, name: str, **extra):
    return pdns.params(
        name=name,
        nameservers=[f"ns1.{name}"],
        rrsets=[
            {"name": f"ns1.{name}", "type": "A", "records": ["127.0.0.1"]},
            {"name": f"www.{name}", "type": "TXT", "ttl": 60, "records": ["hello"]},
        ],
        tsig_key={"name": "cert-manager", "secret": SECRET},
        allow_from=["127.0.0.0/8", "::1"],
        **extra,
    )


@needs_pdns
def test_create_with_records_key_and_update_rights_then_signed_updates_only(pdns, capsys):
    args = zone_args(pdns, "acme.test", _ansible_diff=True)
    planned = run_module(module, dict(args, _ansible_check_mode=True), capsys)
    assert planned["changed"] is True, planned
    assert 'www.acme.test. 60 IN TXT "hello"' in planned["diff"]["after"]
    assert "; tsig key cert-manager hmac-sha256" in planned["diff"]["after"]
    assert "; metadata TSIG-ALLOW-DNSUPDATE cert-manager" in planned["diff"]["after"]
    assert SECRET not in json.dumps(planned)
    assert pdns.client().zone_or_none("acme.test.") is None and pdns.client().tsig_key("cert-manager.") is None

    created = run_module(module, args, capsys)
    assert created["changed"] is True and SECRET not in json.dumps(created)
    assert created["zone"]["tsig_keys"] == ["cert-manager"]
    assert created["zone"]["allow_from"] == ["127.0.0.0/8", "::1/128"]
    assert {(c["name"], c["action"]) for c in created["changes"]} == {
        ("ns1.acme.test", "created"),
        ("www.acme.test", "created"),
    }
    assert "127.0.0.1" in pdns.dig("ns1.acme.test", "A")

    # A re-run reads (zone, metadata, key: three requests) and writes nothing.
    client = pdns.client()
    again = run(module_params(args), False, client)
    assert again["changed"] is False and "diff" not in again and client.calls == 3
    assert run_module(module, args, capsys)["changed"] is False

    key = f"hmac-sha256:cert-manager:{SECRET}"
    signed = nsupdate(pdns, "acme.test", "_acme-challenge.acme.test", "signed", key)
    assert signed.returncode == 0, signed.stderr + signed.stdout
    assert '"signed"' in pdns.dig("_acme-challenge.acme.test", "TXT")

    unsigned = nsupdate(pdns, "acme.test", "unsigned.acme.test", "unsigned")
    assert unsigned.returncode != 0 and "REFUSED" in unsigned.stdout + unsigned.stderr
    wrong = nsupdate(pdns, "acme.test", "wrong.acme.test", "wrong", f"hmac-sha256:cert-manager:{OTHER_SECRET}")
    assert wrong.returncode != 0
    for name in ("unsigned.acme.test", "wrong.acme.test"):
        assert "NXDOMAIN" in pdns.dig(name, "TXT")


def module_params(args):
    """The module's parameters with the defaults AnsibleModule would fill in, for run() called directly."""
    params = {"state": "present", "kind": "Native", "ttl": 3600, "soa": None, "server_id": "localhost"}
    params.update({k: v for k, v in args.items() if not k.startswith("_ansible")})
    params["tsig_key"] = dict({"algorithm": "hmac-sha256"}, **params["tsig_key"])
    params["rrsets"] = [dict({"state": "present", "ttl": None}, **item) for item in params["rrsets"]]
    return params


@needs_pdns
def test_a_new_secret_and_other_sources_are_written_and_shown_without_the_secret(pdns, capsys):
    run_module(module, zone_args(pdns, "rotate.test"), capsys)
    changed = run_module(
        module,
        dict(
            zone_args(pdns, "rotate.test", _ansible_diff=True),
            tsig_key={"name": "cert-manager", "secret": OTHER_SECRET},
            allow_from=["0.0.0.0/0"],
        ),
        capsys,
    )
    assert changed["changed"] is True and changed["changes"] == []
    assert "; tsig key cert-manager hmac-sha256 (another secret)" in changed["diff"]["before"]
    assert "; metadata ALLOW-DNSUPDATE-FROM 127.0.0.0/8 ::1" in changed["diff"]["before"]
    assert "; metadata ALLOW-DNSUPDATE-FROM 0.0.0.0/0" in changed["diff"]["after"]
    assert OTHER_SECRET not in json.dumps(changed) and SECRET not in json.dumps(changed)
    assert base64.b64decode(pdns.client().tsig_key("cert-manager.")["key"]) == b"o" * 32

    # allow_from [] removes the metadata; the records not listed are left alone.
    cleared = run_module(module, pdns.params(name="rotate.test", allow_from=[]), capsys)
    assert cleared["changed"] is True and cleared["zone"]["allow_from"] == []
    assert "ALLOW-DNSUPDATE-FROM" not in pdns.client().metadata("rotate.test.")
    assert '"hello"' in pdns.dig("www.rotate.test", "TXT")


@needs_pdns
def test_rrsets_update_and_remove_only_what_is_listed(pdns, capsys):
    run_module(module, zone_args(pdns, "sets.test"), capsys)
    result = run_module(
        module,
        pdns.params(
            name="sets.test",
            rrsets=[
                {"name": "www.sets.test", "type": "TXT", "state": "absent"},
                {"name": "@", "type": "MX", "records": ["10 mail.sets.test"]},
            ],
            _ansible_diff=True,
        ),
        capsys,
    )
    assert {(c["name"], c["action"]) for c in result["changes"]} == {
        ("www.sets.test", "deleted"),
        ("sets.test", "created"),
    }
    assert "sets.test. 3600 IN MX 10 mail.sets.test." in result["diff"]["after"]
    assert "NXDOMAIN" in pdns.dig("www.sets.test", "TXT")
    assert "127.0.0.1" in pdns.dig("ns1.sets.test", "A")


@needs_pdns
@pytest.mark.parametrize(
    "extra, fragment",
    [
        ({"tsig_key": {"name": "k", "secret": "not base64!"}}, "tsig_key.secret: the secret must be base64"),
        ({"tsig_key": {"name": "bad..name", "secret": SECRET}}, "tsig_key.name"),
        ({"allow_from": ["10.0.0.0/8", "nowhere"]}, "allow_from[1]: 'nowhere'"),
        ({"rrsets": [{"name": "@", "type": "NS", "records": ["ns9.bad.test"]}]}, "given by nameservers"),
        ({"rrsets": [{"name": "@", "type": "SOA", "records": ["x"]}]}, "rrsets[0].type: SOA"),
        ({"rrsets": [{"name": "www.elsewhere.test", "type": "A", "records": ["10.0.0.1"]}]}, "not inside zone"),
    ],
)
def test_bad_input_fails_before_any_request(pdns, capsys, extra, fragment):
    args = pdns.params(name="bad.test", nameservers=["ns1.bad.test"], **extra)
    result = run_module(module, args, capsys)
    assert result["failed"] is True and fragment in result["msg"], result["msg"]
    assert SECRET not in result["msg"] and "not base64!" not in result["msg"]
    assert pdns.client().zone_or_none("bad.test.") is None


@needs_pdns
def test_api_errors_name_the_zone_and_the_url(pdns, capsys):
    result = run_module(module, zone_args(pdns, "err.test", server_id="nowhere"), capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"zone err.test on {pdns.url}: "), result["msg"]
    assert "/servers/nowhere/" in result["failure"]["request"]
    unreachable = run_module(module, dict(zone_args(pdns, "err.test"), url="http://127.0.0.1:9"), capsys)
    assert unreachable["msg"].startswith("zone err.test on http://127.0.0.1:9: cannot reach"), unreachable["msg"]
    assert API_KEY not in unreachable["msg"]
