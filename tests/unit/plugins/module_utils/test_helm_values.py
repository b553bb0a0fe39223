# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm values as data (_helm/values.py): the comparison helm_releases decides on, the keys it names, and the
masking of everything it shows."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.values import (
    MASK,
    changed_keys,
    from_yaml,
    looks_secret,
    mask_text,
    masked,
    normal,
    same,
    secret_strings,
    to_yaml,
)


def test_values_from_ansible_and_from_helm_json_compare_equal():
    wanted = normal({"ipam": {"mode": "kubernetes"}, "k8sServicePort": 7445, "ratio": 1.0, "list": [1, "a"]})
    live = normal({"ipam": {"mode": "kubernetes"}, "k8sServicePort": 7445, "ratio": 1, "list": [1, "a"]})
    assert same(wanted, live)
    assert normal(None) == {}


@pytest.mark.parametrize(
    ("one", "other"),
    [({"a": True}, {"a": 1}), ({"a": "1"}, {"a": 1}), ({"a": [1, 2]}, {"a": [2, 1]}), ({"a": {}}, {"a": None}),
     ({"a": 1}, {"a": 1, "b": None})],
)  # fmt: skip
def test_values_that_helm_sees_as_different_are_different(one, other):
    assert not same(one, other)
    assert not same(other, one)


def test_changed_keys_are_dotted_paths_of_leaves_and_whole_lists():
    before = {"ipam": {"mode": "kubernetes"}, "l2": {"enabled": False}, "tolerations": [{"key": "a"}], "gone": 1}
    after = {"ipam": {"mode": "cluster-pool"}, "l2": {"enabled": False}, "tolerations": [{"key": "b"}], "new": {"x": 1}}
    assert changed_keys(before, after) == ["gone", "ipam.mode", "new", "tolerations"]
    assert changed_keys(after, after) == []
    assert changed_keys({}, {"a": {"b": 1}}) == ["a"]


@pytest.mark.parametrize(
    "key",
    ["password", "adminPassword", "api-key", "apiKey", "token", "hcloudToken", "tsig_secret", "TSIG", "secretName",
     "privateKey", "key"],
)  # fmt: skip
def test_secret_looking_keys(key):
    assert looks_secret(key)


@pytest.mark.parametrize("key", ["keyboard", "monkey", "kubeProxyReplacement", "ipam", "tokenizer", "hostname"])
def test_ordinary_keys(key):
    assert not looks_secret(key)


def test_masking_hides_every_scalar_under_a_secret_key_and_keeps_the_shape():
    values = {
        "api": {"token": "t0ken-value", "url": "https://x"},
        "tsig": {"name": "acme", "algorithm": "hmac-sha256", "enabled": True},
        "extra": [{"password": "p4ss"}, "plain"],
        "credentials": None,
    }
    shown = masked(values)
    assert shown == {
        "api": {"token": MASK, "url": "https://x"},
        "tsig": {"name": MASK, "algorithm": MASK, "enabled": True},
        "extra": [{"password": MASK}, "plain"],
        "credentials": None,
    }
    assert values["api"]["token"] == "t0ken-value"  # a copy
    secrets = secret_strings(values)
    assert set(secrets) == {"t0ken-value", "acme", "hmac-sha256", "p4ss"}
    text = mask_text("at '/api/token': t0ken-value is not valid; p4ss", secrets)
    assert "t0ken-value" not in text and "p4ss" not in text and MASK in text


def test_yaml_round_trip_keeps_order_and_types():
    values = {"z": 1, "a": {"enabled": True, "list": ["x", 2]}, "s": "1.20"}
    text = to_yaml(values)
    assert text.index("z:") < text.index("a:")
    assert from_yaml(text) == values
    assert to_yaml({}) == "{}\n"
    assert from_yaml("") == {}
    with pytest.raises(ValueError):
        from_yaml("a: [")


def test_strings_that_go_yaml_reads_as_booleans_are_quoted():
    """Helm reads a bare ``n`` as false (seen with helm v4.2.4: the key ``n`` became ``"false"``)."""
    values = {"n": 3, "y": "n", "Y": ["N", "no"], "on": "off"}
    text = to_yaml(values)
    assert "'n': 3" in text and "'y': 'n'" in text and "- 'N'" in text and "'on': 'off'" in text
    assert from_yaml(text) == values
