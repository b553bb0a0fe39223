# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_objects' pure decisions: does a live object hold a manifest; Secret masking; quantities."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.compare import (
    MASK,
    desired_fields,
    holds,
    mask_text,
    masked,
    quantity,
    same_object,
    secret_values,
    to_yaml,
)

LIVE_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "default", "resourceVersion": "12", "uid": "u"},
    "spec": {
        "type": "ClusterIP",
        "clusterIP": "10.96.0.10",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 80}],
        "selector": {"app": "web"},
        "sessionAffinity": "None",
    },
}


def test_fields_the_server_added_do_not_count() -> None:
    desired = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}}
    desired["spec"] = {"ports": [{"name": "http", "port": 80}], "selector": {"app": "web"}}
    assert holds(desired, LIVE_SERVICE)


@pytest.mark.parametrize(
    "spec",
    [
        {"ports": [{"name": "http", "port": 81}]},  # a value differs
        {"ports": [{"port": 80}, {"port": 443}]},  # a list of another length
        {"selector": {"app": "web", "tier": "front"}},  # a field the live object lacks
        {"selector": "app=web"},  # another type
        {"clusterIP": None},  # null: the field must be absent
    ],
)
def test_a_difference_is_seen(spec: dict) -> None:
    assert not holds({"spec": spec}, LIVE_SERVICE)


def test_null_matches_an_absent_field() -> None:
    assert holds({"spec": {"loadBalancerIP": None}}, LIVE_SERVICE)


def test_booleans_are_not_numbers() -> None:
    assert not holds({"a": True}, {"a": 1}) and not holds({"a": 0}, {"a": False})
    assert holds({"a": True}, {"a": True})


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", Decimal("0.5")), ("0.5", Decimal("0.5")), ("1Gi", Decimal(2**30)), ("1e3", Decimal(1000)), (2, 2)],
)
def test_quantities(text: object, value: Decimal) -> None:
    assert quantity(text) == value


def test_quantity_rejects_what_is_not_one() -> None:
    assert quantity("lots") is None and quantity(True) is None and quantity("1Zi") is None


def test_quantities_compare_by_value_only_where_kubernetes_keeps_quantities() -> None:
    live = {"resources": {"requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "1"}}}
    assert holds({"resources": {"requests": {"cpu": "0.5", "memory": "131072Ki"}, "limits": {"cpu": 1}}}, live)
    assert not holds({"resources": {"requests": {"cpu": "0.6"}}}, live)
    assert holds({"hard": {"requests.memory": "1Gi"}}, {"hard": {"requests.memory": "1024Mi"}})
    assert not holds({"data": {"size": "0.5"}}, {"data": {"size": "500m"}})  # a ConfigMap value is text


def test_desired_fields_drop_what_the_server_owns_and_turn_string_data_into_data() -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "x", "resourceVersion": "1", "managedFields": [{}]},
        "stringData": {"key": "value"},
        "data": {"other": "b3RoZXI="},
        "status": {"ignored": True},
    }
    desired = desired_fields(manifest, namespaced=True)
    assert desired == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "x"},
        "data": {"other": "b3RoZXI=", "key": base64.b64encode(b"value").decode()},
    }
    assert manifest["stringData"] == {"key": "value"}  # the input is left alone
    cluster_scoped = desired_fields({"kind": "Namespace", "metadata": {"name": "n", "namespace": "x"}}, False)
    assert cluster_scoped["metadata"] == {"name": "n"}


def test_same_object_ignores_server_bookkeeping_only() -> None:
    after = {**LIVE_SERVICE, "metadata": {**LIVE_SERVICE["metadata"], "resourceVersion": "13", "managedFields": []}}
    assert same_object(after, LIVE_SERVICE)
    assert not same_object({**after, "spec": {"type": "NodePort"}}, LIVE_SERVICE)
    assert not same_object(after, None)


def test_secret_values_are_masked_and_changed_ones_say_so() -> None:
    before = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "MQ==", "b": "Mg=="}}
    after = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"a":"MQ=="}}'},
        },
        "data": {"a": "MQ==", "b": "Mw=="},
    }
    shown = masked(after, before)
    assert shown["data"] == {"a": MASK, "b": f"{MASK} (changed)"}
    assert shown["metadata"]["annotations"] == {}
    assert masked(before)["data"] == {"a": MASK, "b": MASK}
    assert "MQ==" not in to_yaml(shown) and to_yaml(None) == ""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    assert masked(config)["data"] == {"a": "1"}


def test_secret_values_for_no_log_cover_plain_and_base64_forms() -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "plain-secret"}, "data": {"d": "ZGF0YS1zZWNyZXQ="}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "not-a-secret"}},
        "not a manifest",
    ]
    values = secret_values(manifests)
    assert {"plain-secret", base64.b64encode(b"plain-secret").decode(), "ZGF0YS1zZWNyZXQ=", "data-secret"} <= values
    assert "not-a-secret" not in values
    message = "Secret x/y: invalid value 'plain-secret' (ZGF0YS1zZWNyZXQ=)"
    assert mask_text(message, values) == f"Secret x/y: invalid value '{MASK}' ({MASK})"
