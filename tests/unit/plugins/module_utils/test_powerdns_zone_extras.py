# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""powerdns_zone's record sets, TSIG key and update permissions, planned without a server: what compares equal
(so that a re-run writes nothing) and what the diff says (never the secret)."""

from __future__ import annotations

import base64

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._powerdns.zone_extras import (
    UPDATE_FROM,
    UPDATE_KEYS,
    desired_allow_from,
    desired_tsig_key,
    plan_extras,
)

SECRET = base64.b64encode(b"s" * 32).decode()
ZONE = "k8s.example.org."
APEX = [
    {"name": ZONE, "type": "NS", "ttl": 3600, "records": [{"content": "ns1.k8s.example.org.", "disabled": False}]},
    {"name": "ns1.k8s.example.org.", "type": "A", "ttl": 3600, "records": [{"content": "10.0.3.3", "disabled": False}]},
]


def params(**extra):
    return {"ttl": 3600, "nameservers": None, **extra}


def key(name="cert-manager", algorithm="hmac-sha256", secret=SECRET):
    return {"name": name, "algorithm": algorithm, "secret": secret}


def test_keys_are_named_as_the_server_keeps_them():
    wanted = desired_tsig_key(key(name="Cert-Manager.", algorithm="HMAC-SHA256"))
    assert (wanted.name, wanted.id, wanted.algorithm) == ("cert-manager", "cert-manager.", "hmac-sha256")
    with pytest.raises(InputError, match="tsig_key.algorithm: 'hmac-sha3'") as info:
        desired_tsig_key(key(algorithm="hmac-sha3"))
    with pytest.raises(InputError, match="tsig_key.secret") as info:
        desired_tsig_key(key(secret="abc$"))
    assert "abc$" not in str(info.value)


def test_networks_are_canonical_and_every_bad_one_reported():
    assert desired_allow_from(["10.1.2.3/8", "10.0.0.0/8", "::1"]) == ["10.0.0.0/8", "::1/128"]
    assert desired_allow_from(None) is None
    with pytest.raises(InputError, match=r"allow_from\[0\].*allow_from\[2\]"):
        desired_allow_from(["x", "10.0.0.0/8", "10.0.0.0/33"])


def test_what_the_server_already_has_plans_nothing():
    current = {"name": "cert-manager", "algorithm": "hmac-sha256", "key": SECRET}
    metadata = {UPDATE_KEYS: ["cert-manager."], UPDATE_FROM: ["::/0", "0.0.0.0/0"], "SOA-EDIT-API": ["DEFAULT"]}
    rrsets = [{"name": "ns1.k8s.example.org", "type": "A", "records": ["10.0.3.3"]}]
    extras = plan_extras(
        ZONE, params(rrsets=rrsets, tsig_key=key(), allow_from=["0.0.0.0/0", "::/0"]), APEX, metadata, current
    )
    assert not extras.changed and extras.before == extras.after == ""


def test_a_new_key_secret_and_sources_are_planned_without_showing_the_secret():
    old = {"name": "cert-manager", "algorithm": "hmac-sha256", "key": base64.b64encode(b"o" * 32).decode()}
    extras = plan_extras(ZONE, params(tsig_key=key(), allow_from=[]), APEX, {UPDATE_FROM: ["10.0.0.0/8"]}, old)
    assert extras.update_key is not None and extras.create_key is None
    assert extras.metadata == {UPDATE_KEYS: ["cert-manager"], UPDATE_FROM: []}
    assert "(another secret)" in extras.before and "; metadata ALLOW-DNSUPDATE-FROM 10.0.0.0/8" in extras.before
    assert SECRET not in extras.before + extras.after and old["key"] not in extras.before + extras.after


def test_sets_follow_powerdns_record_rules_and_leave_the_apex_to_nameservers():
    rrsets = [{"name": "@", "type": "NS", "records": ["ns2.k8s.example.org"]}]
    with pytest.raises(InputError, match="given by nameservers"):
        plan_extras(ZONE, params(nameservers=["ns1.k8s.example.org"], rrsets=rrsets), APEX, {}, None)
    changed = plan_extras(ZONE, params(rrsets=rrsets), APEX, {}, None)
    assert [(c.action, c.after.records) for c in changed.changes] == [("updated", ("ns2.k8s.example.org.",))]
    hidden = [{"name": "www.sub.k8s.example.org", "type": "A", "records": ["10.0.0.1"]}]
    delegated = APEX + [
        {"name": "sub.k8s.example.org.", "type": "NS", "ttl": 60, "records": [{"content": "ns.x.", "disabled": False}]}
    ]
    with pytest.raises(InputError, match="hidden by the delegation of sub.k8s.example.org"):
        plan_extras(ZONE, params(rrsets=hidden), delegated, {}, None)
