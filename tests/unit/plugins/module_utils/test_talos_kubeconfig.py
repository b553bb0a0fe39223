# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubeconfig decisions of talos_kubeconfig: merge by name, certificate expiry, when to renew."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.kubeconfig import (
    KubeconfigError,
    assess,
    certificate_expiry,
    dump,
    identity,
    load,
    merge,
    write_private,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime(2026, 5, 9, tzinfo=UTC)


def certificate(days: int) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()


def kubeconfig(cluster="prod", days=365, server="https://10.0.0.10:6443", ca="Q0E="):
    user = f"admin@{cluster}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": user, "user": {"client-certificate-data": certificate(days), "client-key-data": "S0VZ"}}],
        "contexts": [{"name": user, "context": {"cluster": cluster, "namespace": "default", "user": user}}],
        "current-context": user,
    }


def test_identity_and_expiry():
    config = kubeconfig(days=10)
    assert identity(config) == {
        "context": "admin@prod",
        "cluster": "prod",
        "user": "admin@prod",
        "server": "https://10.0.0.10:6443",
    }
    assert certificate_expiry(config, "admin@prod") == NOW + timedelta(days=10)
    assert certificate_expiry(config, "nobody") is None


def test_identity_errors():
    with pytest.raises(KubeconfigError, match="no context"):
        identity({"clusters": [], "users": [], "contexts": []})
    broken = kubeconfig()
    broken["users"] = []
    with pytest.raises(KubeconfigError, match="without its cluster or user"):
        identity(broken)


def test_load_rejects_non_kubeconfigs():
    assert load("", "x") == {}
    with pytest.raises(KubeconfigError, match="not valid YAML"):
        load("a: [", "x")
    with pytest.raises(KubeconfigError, match="not a kubeconfig"):
        load("- 1\n", "x")
    with pytest.raises(KubeconfigError, match="clusters must be a list"):
        load("clusters: 3\n", "x")
    assert load(dump(kubeconfig()), "x")["current-context"] == "admin@prod"


def test_merge_replaces_by_name_and_keeps_others():
    existing = kubeconfig("staging")
    old_prod = kubeconfig("prod", server="https://old:6443")
    for section in ("clusters", "users", "contexts"):
        existing[section] += old_prod[section]
    fetched = kubeconfig("prod")
    merged = merge(existing, fetched)
    assert [item["name"] for item in merged["clusters"]] == ["staging", "prod"]
    assert merged["clusters"][1]["cluster"]["server"] == "https://10.0.0.10:6443"
    assert [item["name"] for item in merged["contexts"]] == ["admin@staging", "admin@prod"]
    assert merged["current-context"] == "admin@prod"
    assert existing["clusters"][1]["cluster"]["server"] == "https://old:6443"  # input untouched
    assert merge({}, fetched)["clusters"] == fetched["clusters"]


def test_assess_decisions():
    fetched = kubeconfig(days=365)
    assert assess(None, fetched, False, 30, NOW)[:2] == (True, "the kubeconfig does not exist yet")
    fresh = kubeconfig(days=200)
    write, reason, expiry = assess(fresh, fetched, False, 30, NOW)
    assert (write, expiry) == (False, NOW + timedelta(days=200)) and reason.startswith("up to date")
    write, reason, _expiry = assess(kubeconfig(days=20), fetched, False, 30, NOW)
    assert write and "within 30 days" in reason
    assert assess(kubeconfig(days=200, ca="T1RIRVI="), fetched, False, 30, NOW)[0]
    assert "different server" in assess(kubeconfig(days=200, server="https://x:6443"), fetched, False, 30, NOW)[1]
    assert "cluster prod is missing" in assess(kubeconfig("other"), fetched, True, 30, NOW)[1]


def test_assess_extra_entries_depend_on_merge():
    both = merge(kubeconfig("staging"), kubeconfig("prod", days=200))
    fetched = kubeconfig("prod")
    assert assess(both, fetched, True, 30, NOW)[0] is False
    write, reason, _expiry = assess(both, fetched, False, 30, NOW)
    assert write and "merge is false" in reason
    other_current = merge(kubeconfig("prod", days=200), kubeconfig("staging"))
    assert assess(other_current, fetched, True, 30, NOW)[0] is False
    other_current["clusters"] = other_current["clusters"][:1]
    other_current["users"] = other_current["users"][:1]
    other_current["contexts"] = other_current["contexts"][:1]
    assert "current context" in assess(other_current, fetched, False, 30, NOW)[1]


def test_write_private(tmp_path):
    path = tmp_path / "sub" / "kubeconfig"
    write_private(str(path), "hello\n")
    assert path.read_text() == "hello\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["kubeconfig"]
