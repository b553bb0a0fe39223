"""The LB-IPAM stand-in against the sandbox's real kube-apiserver and the real MetalLB and Cilium CRDs: Services of
type LoadBalancer get the address their pool object gives, or none with the real controllers' event or condition."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kube_testlib import LiveCluster, install_crds, wait_for
from sandbox_testlib import REPO_ROOT

from sandbox.kube import lb_ipam_plan as planning

CRDS = REPO_ROOT / "tests" / "contracts" / "crds"
WRITE_VERBS = {"create", "update", "patch", "delete"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("lbipam"), control_planes=1, workers=0)
    try:
        yield cluster
    finally:
        cluster.close()


def create(live: LiveCluster, body: dict[str, Any]) -> None:
    """Any object, through the dynamic client (what kubectl apply would send)."""
    from kubernetes import dynamic

    api = dynamic.DynamicClient(live.api()).resources.get(api_version=body["apiVersion"], kind=body["kind"])
    api.create(body=body, namespace=body["metadata"].get("namespace"))


def controller(live: LiveCluster, name: str, namespace: str, image: str) -> None:
    """A Deployment running a controller's upstream image: to the stand-in, that controller is installed."""
    labels = {"app": name}
    pod = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": image}]}}
    body = {"selector": {"matchLabels": labels}, "template": pod}
    create(
        live,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": body,
        },
    )


def lb_service(name: str, namespace: str = "default", port: int = 80, **meta: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"name": "p", "port": port}]}
    if "lb_class" in meta:
        spec["loadBalancerClass"] = meta.pop("lb_class")
    metadata = {"name": name, "namespace": namespace, **meta}
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def cilium_pool(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": {"name": name}, "spec": spec}


def service(live: LiveCluster, name: str, namespace: str = "default") -> dict[str, Any]:
    from kubernetes import client

    api = client.CoreV1Api(live.api())
    return api.api_client.sanitize_for_serialization(api.read_namespaced_service(name, namespace))


def address(live: LiveCluster, name: str) -> str | None:
    ingress = (service(live, name).get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    return ingress[0]["ip"] if ingress else None


def wait_address(live: LiveCluster, name: str) -> str:
    return wait_for(lambda: address(live, name), 20, f"an address for {name}")


def events(live: LiveCluster, name: str) -> list[tuple[str, str, str]]:
    from kubernetes import client

    found = client.CoreV1Api(live.api()).list_namespaced_event("default", field_selector=f"involvedObject.name={name}")
    return [(e.type, e.reason, e.message) for e in found.items]


def condition(live: LiveCluster, name: str) -> dict[str, Any] | None:
    conditions = (service(live, name).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == planning.CILIUM_CONDITION), None)


def stand_in_writes(live: LiveCluster) -> int:
    return sum(
        1
        for event in live.audit()
        if event["user"]["username"] == "talosforge-sandbox-lb-ipam" and event["verb"] in WRITE_VERBS
    )


@pytest.mark.slow
def test_metallb_pools_give_the_planned_addresses(live: LiveCluster) -> None:
    p = live.prefix
    install_crds(live, "metallb.io/ipaddresspool.yaml", "metallb.io/l2advertisement.yaml")
    create(live, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "metallb-system"}})
    for name, addresses in (("ingress-pool", [f"{p}.200-{p}.201"]), ("dns-pool", [f"{p}.210/32"])):
        pool = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "spec": {"addresses": addresses}}
        create(live, {**pool, "metadata": {"name": name, "namespace": "metallb-system"}})
    advertisement = {"ipAddressPools": ["ingress-pool", "dns-pool"]}
    create(
        live,
        {
            "apiVersion": "metallb.io/v1beta1",
            "kind": "L2Advertisement",
            "metadata": {"name": "pools", "namespace": "metallb-system"},
            "spec": advertisement,
        },
    )
    pinned = {"annotations": {planning.METALLB_POOL_ANNOTATION: "ingress-pool"}}
    create(live, lb_service("ingress", **pinned))
    dns_annotations = {planning.METALLB_POOL_ANNOTATION: "dns-pool", planning.METALLB_IPS_ANNOTATION: f"{p}.210"}
    create(live, lb_service("dns", port=53, annotations=dns_annotations))

    # pools without MetalLB's controller give nothing; once it is installed, the first address of the pinned pool,
    # and the requested address of the other
    time.sleep(2)
    assert address(live, "ingress") is None and events(live, "ingress") == []
    controller(live, "metallb-controller", "metallb-system", "quay.io/metallb/controller:v0.16.1")
    assert wait_address(live, "ingress") == f"{p}.200"
    assert wait_address(live, "dns") == f"{p}.210"
    annotations = service(live, "ingress")["metadata"]["annotations"]
    assert annotations[planning.METALLB_FROM_POOL_ANNOTATION] == "ingress-pool"
    assert ("Normal", "IPAllocated", f'Assigned IP ["{p}.200"]') in events(live, "ingress")

    # a pool that does not exist, a full pool, an address someone holds: no address, MetalLB's event
    create(live, lb_service("lost", annotations={planning.METALLB_POOL_ANNOTATION: "nope-pool"}))
    create(live, lb_service("late", port=5353, annotations={planning.METALLB_POOL_ANNOTATION: "dns-pool"}))
    create(live, lb_service("thief", port=54, annotations={planning.METALLB_IPS_ANNOTATION: f"{p}.210"}))
    refusals = {
        "lost": 'Failed to allocate IP for "default/lost": unknown pool "nope-pool"',
        "late": 'Failed to allocate IP for "default/late": no available IPs in pool "dns-pool"',
        "thief": 'Failed to allocate IP for "default/thief": can\'t change sharing key for "default/thief", '
        "address also in use by default/dns",
    }
    for name, message in refusals.items():
        wait_for(lambda n=name, m=message: ("Warning", "AllocationFailed", m) in events(live, n), 20, f"{name} event")
        assert address(live, name) is None

    # sharing: two Services with the same allow-shared-ip key and different ports get one address
    for name, port in (("web-http", 80), ("web-https", 443)):
        shared = {planning.METALLB_SHARING_ANNOTATION: "web", planning.METALLB_IPS_ANNOTATION: f"{p}.201"}
        create(live, lb_service(name, port=port, annotations=shared))
    assert wait_address(live, "web-http") == wait_address(live, "web-https") == f"{p}.201"

    # settled: the stand-in writes nothing more
    time.sleep(1.5)
    before = stand_in_writes(live)
    time.sleep(3)
    assert stand_in_writes(live) == before

    # the dns Service goes: its address is free again, and the Service waiting on the full pool gets it
    from kubernetes import client

    client.CoreV1Api(live.api()).delete_namespaced_service("dns", "default")
    assert wait_address(live, "late") == f"{p}.210"


@pytest.mark.slow
def test_cilium_pools_select_services_by_label(live: LiveCluster) -> None:
    """Cilium's LB-IPAM serves the classes it owns (here next to MetalLB, which keeps the unclassed Services)."""
    p = live.prefix
    install_crds(live, "cilium.io/ciliumloadbalancerippool.yaml")
    controller(live, "cilium-operator", "kube-system", "quay.io/cilium/operator-generic:v1.20.0")
    for name, blocks in (("ingress", [{"cidr": f"{p}.220/31"}]), ("dns", [{"start": f"{p}.230"}])):
        selector = {"matchLabels": {"talosforge.io/pool": name}}
        spec = {"blocks": blocks, "serviceSelector": selector}
        create(live, cilium_pool(name, spec))
    # a pool overlapping an older one is in conflict: Cilium allocates nothing from it
    overlap = {"blocks": [{"cidr": f"{p}.220/30"}], "serviceSelector": {"matchLabels": {"talosforge.io/pool": "over"}}}
    create(live, cilium_pool("over", overlap))
    l2 = "io.cilium/l2-announcer"

    def labelled(name: str, pool: str, port: int = 80, **annotations: str) -> dict[str, Any]:
        return lb_service(
            name, port=port, lb_class=l2, labels={"talosforge.io/pool": pool}, annotations=annotations or None
        )

    create(live, labelled("c-ingress", "ingress"))
    create(live, labelled("c-dns", "dns", 53, **{"lbipam.cilium.io/ips": f"{p}.230"}))
    create(live, labelled("c-lost", "nope"))
    create(live, labelled("c-over", "over"))
    create(live, labelled("c-thief", "dns", 54, **{"lbipam.cilium.io/ips": f"{p}.230"}))
    create(live, lb_service("foreign", lb_class="example.com/other-lb"))

    assert wait_address(live, "c-ingress") == f"{p}.220"
    assert wait_address(live, "c-dns") == f"{p}.230"
    satisfied = condition(live, "c-dns")
    assert satisfied is not None and (satisfied["status"], satisfied["reason"]) == ("True", "satisfied")
    refused = {
        "c-lost": ("no_pool", "There are no enabled CiliumLoadBalancerIPPools that match this service"),
        "c-over": ("no_pool", "There are no enabled CiliumLoadBalancerIPPools that match this service"),
        "c-thief": ("already_allocated", f"The IP '{p}.230' is already allocated to another service"),
    }
    for name, (reason, message) in refused.items():
        said = wait_for(lambda n=name: condition(live, n), 20, f"{name} condition")
        assert (said["status"], said["reason"], said["message"]) == ("False", reason, message)
        assert address(live, name) is None
    assert events(live, "c-lost") == []  # Cilium says it on the condition only

    # a sharing key lets two Services with different ports use one address; the pool then runs out
    key = {"lbipam.cilium.io/sharing-key": "web"}
    create(live, labelled("c-web-http", "ingress", 80, **key))
    create(live, labelled("c-web-https", "ingress", 443, **key))
    assert wait_address(live, "c-web-http") == wait_address(live, "c-web-https") == f"{p}.221"
    create(live, labelled("c-full", "ingress"))
    said = wait_for(lambda: condition(live, "c-full"), 20, "c-full condition")
    assert said["reason"] == "out_of_ips"

    # a class the stand-in does not own is left alone
    time.sleep(1.5)
    foreign = service(live, "foreign")
    assert not (foreign.get("status") or {}).get("loadBalancer", {}).get("ingress")
    assert not (foreign.get("status") or {}).get("conditions")


# The plan alone (no cluster): the pool rules the live tests do not reach.


def _svc(name: str, controller: str, created: str = "1", current: str = "", **meta: Any) -> planning.Service:
    item = lb_service(name, **meta)
    item["metadata"]["creationTimestamp"] = created
    if current:
        item["status"] = {"loadBalancer": {"ingress": [{"ip": current}]}}
    return planning.service(item, controller)


def _metallb(name: str, *addresses: str, **spec: Any) -> planning.Pool:
    return planning.metallb_pool({"metadata": {"name": name}, "spec": {"addresses": list(addresses), **spec}})


def _cilium(name: str, blocks: list[dict[str, str]], created: str = "1", **spec: Any) -> planning.Pool:
    body = {"blocks": blocks, **spec}
    return planning.cilium_pool({"metadata": {"name": name, "creationTimestamp": created}, "spec": body})


def test_plan_metallb_pool_rules() -> None:
    pools = [
        _metallb("b-buggy", "10.0.1.0/31", avoidBuggyIPs=True),  # .0 skipped, .1 free
        _metallb("a-manual", "10.0.0.5-10.0.0.6", autoAssign=False),
    ]
    services = [
        _svc("auto", planning.METALLB, "1"),  # autoAssign=false pools are only for who asks for them
        _svc("pinned", planning.METALLB, "2", annotations={planning.METALLB_POOL_ANNOTATION: "a-manual"}),
        _svc("fixed", planning.METALLB, "3", annotations={planning.METALLB_IPS_ANNOTATION: "10.0.0.6"}),
        _svc("outside", planning.METALLB, "4", annotations={planning.METALLB_IPS_ANNOTATION: "192.0.2.1"}),
        _svc("both", planning.METALLB, "5", annotations={planning.METALLB_IPS_ANNOTATION: "10.0.0.6,x"}),
    ]
    decisions = planning.plan(services, pools, [])
    assert (decisions["default/auto"].address, decisions["default/auto"].pool) == ("10.0.1.1", "b-buggy")
    assert decisions["default/pinned"].address == "10.0.0.5"
    assert decisions["default/fixed"].address == "10.0.0.6"
    assert decisions["default/outside"].message.endswith('"192.0.2.1" is not allowed in config')
    assert decisions["default/both"].message.endswith('invalid metallb.io/loadBalancerIPs: "10.0.0.6,x"')


def test_plan_keeps_what_a_service_has_and_serves_older_ones_first() -> None:
    pools = [_metallb("pool", "10.0.0.1-10.0.0.2")]
    # the younger Service already holds .1 (valid): it keeps it; the older one gets the next address
    services = [_svc("young", planning.METALLB, "2", current="10.0.0.1"), _svc("old", planning.METALLB, "1")]
    decisions = planning.plan(services, pools, [])
    assert decisions["default/young"].address == "10.0.0.1" and not decisions["default/young"].new
    assert decisions["default/old"].address == "10.0.0.2" and decisions["default/old"].new
    # an address that left its pool is given up
    moved = planning.plan([_svc("young", planning.METALLB, current="10.9.9.9")], pools, [])
    assert moved["default/young"].address == "10.0.0.1"


def test_plan_cilium_pool_rules() -> None:
    select = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["edge"]}]}
    pools = [
        _cilium("edge", [{"cidr": "10.1.0.0/30"}], allowFirstLastIPs="No", serviceSelector=select),
        _cilium("off", [{"start": "10.2.0.1", "stop": "10.2.0.3"}], disabled=True),
        _cilium(
            "by-name", [{"start": "10.3.0.7"}], serviceSelector={"matchLabels": {"io.kubernetes.service.name": "x"}}
        ),
    ]
    services = [
        _svc("a", planning.CILIUM, "1", labels={"tier": "edge"}),
        _svc("b", planning.CILIUM, "2", labels={"tier": "edge"}),
        _svc("c", planning.CILIUM, "3", labels={"tier": "edge"}),
        _svc("x", planning.CILIUM, "4"),
        _svc("wrong", planning.CILIUM, "5", annotations={"lbipam.cilium.io/ips": "10.1.0.1"}),
        _svc("cross", planning.CILIUM, "6", namespace="other", labels={"tier": "edge"}),
    ]
    decisions = planning.plan(services, [], pools)
    assert [decisions[f"default/{n}"].address for n in "abc"] == ["10.1.0.1", "10.1.0.2", None]
    assert decisions["default/c"].reason == "out_of_ips"  # .0 and .3 are reserved with allowFirstLastIPs: "No"
    assert decisions["default/x"].address == "10.3.0.7"  # selected by the Service's name label
    assert (decisions["default/wrong"].reason, decisions["default/wrong"].message) == (
        "pool_selector_mismatch",
        "The pool with the CIDR containing '10.1.0.1', doesn't select this service",
    )
    assert decisions["other/cross"].reason == "out_of_ips"
