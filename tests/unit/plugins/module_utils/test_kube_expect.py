# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_objects' expectations: which entries are valid, and when a condition, an address, readiness is met."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.expect import check, label, validate

SERVICE = {"apiVersion": "v1", "kind": "Service", "namespace": "dns", "name": "powerdns"}
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "dns", "name": "powerdns"}


def test_labels_name_the_object() -> None:
    assert label(SERVICE) == "Service dns/powerdns"
    assert label({"kind": "Node", "name": "cp-1"}) == "Node cp-1"


def test_every_bad_entry_is_reported_at_once() -> None:
    entries = [
        {**SERVICE, "address": True},
        {**DEPLOYMENT, "ready": True, "address": True},
        {**DEPLOYMENT, "ready": True, "condition": "Available"},
        {**DEPLOYMENT, "address": True},
        {"kind": "Node", "ready": True},
    ]
    with pytest.raises(InputError) as raised:
        validate(entries)
    assert str(raised.value) == (
        "expect[1] (Deployment dns/powerdns): set one of condition, address, ready, not several; "
        "expect[2] (Deployment dns/powerdns): set one of condition, address, ready, not several; "
        "expect[3] (Deployment dns/powerdns): address applies to a Service; "
        "expect[4]: apiVersion, name missing"
    )
    assert validate([{**SERVICE, "address": True, "ready": None, "condition": None}]) == [{**SERVICE, "address": True}]


def svc(status: dict[str, Any], kind: str = "LoadBalancer") -> dict[str, Any]:
    return {"kind": "Service", "spec": {"type": kind}, "status": status}


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (svc({"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}), (True, "", "192.0.2.10")),
        (svc({"loadBalancer": {"ingress": [{"hostname": "lb.example.org"}]}}), (True, "", "lb.example.org")),
        (svc({"loadBalancer": {}}), (False, "no load-balancer address assigned yet", None)),
        (svc({}, "ClusterIP"), (False, "the Service is of type ClusterIP, not LoadBalancer", None)),
        (None, (False, "it does not exist", None)),
    ],
)
def test_addresses(live: dict[str, Any] | None, expected: tuple) -> None:
    met, why, address = check({**SERVICE, "address": True}, live)
    assert (met, address) == (expected[0], expected[2]) and why.startswith(expected[1])


def conditions(*pairs: tuple[str, str, str]) -> dict[str, Any]:
    return {"status": {"conditions": [{"type": t, "status": s, "message": m} for t, s, m in pairs]}}


def test_conditions() -> None:
    entry = {**DEPLOYMENT, "condition": "Available"}
    assert check(entry, conditions(("Available", "True", ""))) == (True, "", None)
    assert check(entry, conditions(("Available", "False", "0 of 1 ready"))) == (
        False,
        "condition Available is False: 0 of 1 ready",
        None,
    )
    assert check(entry, conditions(("Progressing", "True", ""))) == (
        False,
        "condition Available not reported yet",
        None,
    )


def workload(kind: str, spec: dict, status: dict, generation: int = 2) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"generation": generation}, "spec": spec, "status": status}


@pytest.mark.parametrize(
    ("live", "met", "why"),
    [
        (workload("Deployment", {"replicas": 2}, {"observedGeneration": 2, "availableReplicas": 2}), True, ""),
        (workload("Deployment", {"replicas": 2}, {"observedGeneration": 2, "availableReplicas": 1}), False,
         "1 of 2 replicas available"),
        (workload("Deployment", {"replicas": 2}, {"observedGeneration": 1, "availableReplicas": 2}), False,
         "its controller has not seen the latest change yet"),
        (workload("Deployment", {}, {"observedGeneration": 2, "availableReplicas": 1}), True, ""),
        (workload("StatefulSet", {"replicas": 3}, {"observedGeneration": 2, "readyReplicas": 2}), False,
         "2 of 3 replicas ready"),
        (workload("DaemonSet", {}, {"observedGeneration": 2, "desiredNumberScheduled": 3, "numberReady": 3}), True, ""),
        (workload("DaemonSet", {}, {"observedGeneration": 2, "desiredNumberScheduled": 0, "numberReady": 0}), False,
         "0 of 0 pods ready (no node runs it yet)"),
        ({"kind": "Node", **conditions(("Ready", "False", "cni plugin not initialized"))}, False,
         "condition Ready is False: cni plugin not initialized"),
        ({"kind": "Node", **conditions(("Ready", "True", ""))}, True, ""),
    ],
)  # fmt: skip
def test_readiness(live: dict[str, Any], met: bool, why: str) -> None:
    assert check({**DEPLOYMENT, "ready": True}, live) == (met, why, None)


def test_an_entry_without_a_check_expects_the_object_to_exist() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "name": "cp-1"}
    assert validate([node]) == [{**node, "namespace": None}]
    assert check(node, {"kind": "Node", **conditions(("Ready", "False", "no CNI"))}) == (True, "", None)
    assert check(node, None) == (False, "it does not exist", None)


def test_a_flux_object_at_a_revision() -> None:
    commit = "5f1c0de" + "0" * 33
    entry = validate([{"apiVersion": "v1", "kind": "GitRepository", "name": "flux-system", "revision": commit}])[0]
    ready = {"type": "Ready", "status": "True"}
    source = {"status": {"conditions": [ready], "artifact": {"revision": f"main@sha1:{commit}"}}}
    assert check(entry, source) == (True, "", None)
    older = {"status": {"conditions": [ready], "artifact": {"revision": "main@sha1:0123"}}}
    assert check(entry, older) == (False, f"at revision main@sha1:0123, not {commit}", None)
    applied = {"status": {"conditions": [ready], "lastAppliedRevision": f"main@sha1:{commit}"}}
    assert check(entry, applied)[0]
    failing = {"status": {"conditions": [{**ready, "status": "False", "message": "auth failed"}]}}
    assert check(entry, failing) == (False, "condition Ready is False: auth failed", None)
    with pytest.raises(InputError, match="revision and requested go with a condition"):
        validate([{"apiVersion": "v1", "kind": "Service", "name": "x", "address": True, "revision": commit}])


def test_a_requested_reconcile_must_be_handled_first() -> None:
    entry = validate([{"apiVersion": "v1", "kind": "GitRepository", "name": "flux-system", "requested": "t2"}])[0]
    ready = {"type": "Ready", "status": "True"}
    before = {"status": {"conditions": [ready], "lastHandledReconcileAt": "t1"}}
    assert check(entry, before) == (False, "the reconcile requested at t2 not handled yet", None)
    failing = {"status": {"conditions": [{**ready, "status": "False", "message": "ssh: unable to authenticate"}],
                          "lastHandledReconcileAt": "t2"}}  # fmt: skip
    assert check(entry, failing) == (False, "condition Ready is False: ssh: unable to authenticate", None)
    assert check(entry, {"status": {"conditions": [ready], "lastHandledReconcileAt": "t2"}})[0]
