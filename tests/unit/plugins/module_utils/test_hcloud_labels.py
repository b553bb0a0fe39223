# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label checks and label selectors (plugins/module_utils/_hcloud/labels.py), by the API overview's rules."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import (
    LabelError,
    check_labels,
    cluster_labels,
    label_key_problem,
    label_value_problem,
    matches,
    parse_selector,
    selector,
)


@pytest.mark.parametrize("key", ["env", "talosforge.io/cluster", "example.com/my", "a", "a_b.c-d", "x" * 63])
def test_valid_label_keys(key):
    assert label_key_problem(key) is None


@pytest.mark.parametrize(
    "key",
    ["", "-env", "env-", "x" * 64, "Example.com/x", "exa_mple.com/x", "/x", "hetzner.cloud/x", "a/b/c"],
)
def test_invalid_label_keys(key):
    assert label_key_problem(key)


@pytest.mark.parametrize("value", ["", "v1.13.9", "controlplane", "a", "x" * 63])
def test_valid_label_values(value):
    assert label_value_problem(value) is None


@pytest.mark.parametrize("value", ["-a", "a-", "x" * 64, "a b", "a/b", "a=b"])
def test_invalid_label_values(value):
    assert label_value_problem(value)


def test_check_labels_names_every_problem_and_turns_bools_into_strings():
    assert check_labels({"flag": True, "n": 3}) == {"flag": "true", "n": "3"}
    with pytest.raises(LabelError) as caught:
        check_labels({"-bad": "x", "ok": "no way"}, "servers[2].labels")
    assert "servers[2].labels: label key '-bad'" in str(caught.value)
    assert "label value 'no way'" in str(caught.value)


def test_cluster_labels_and_selector():
    labels = cluster_labels("prod")
    assert labels == {"talosforge.io/cluster": "prod", "talosforge.io/managed-by": "talosforge.cluster"}
    assert selector(labels) == "talosforge.io/cluster=prod,talosforge.io/managed-by=talosforge.cluster"
    with pytest.raises(LabelError):
        cluster_labels("not a name")


def test_parse_selector_reads_every_form_of_the_overview():
    terms = parse_selector("k1==v,!k2,k3!=x,k4 in (a, b),k5 notin (c),k6,k7=v7")
    assert terms == [
        ("k1", "==", ("v",)),
        ("k2", "!exists", ()),
        ("k3", "!=", ("x",)),
        ("k4", "in", ("a", "b")),
        ("k5", "notin", ("c",)),
        ("k6", "exists", ()),
        ("k7", "==", ("v7",)),
    ]


@pytest.mark.parametrize("text", ["", "k in a,b", "k==v==w", "-k=v"])
def test_parse_selector_refuses_what_the_api_refuses(text):
    with pytest.raises(LabelError):
        parse_selector(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env=production,type!=database", True),
        ("env=production,type=database", False),
        ("env in (testing,production)", True),
        ("env notin (testing,production)", False),
        ("!type", True),
        ("!env", False),
        ("env", True),
        ("type!=database", True),  # a missing key is not equal to anything
        ("type notin (database)", True),
        ("tier in (web)", False),
    ],
)
def test_matches(text, expected):
    assert matches({"env": "production", "team": ""}, text) is expected
