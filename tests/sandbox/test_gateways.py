"""The Gateway stand-in against the sandbox's real kube-apiserver and the real Gateway API, Cilium and MetalLB CRDs:
a Gateway of Cilium's or Envoy Gateway's class gets the Service their controller would make, that Service its
address from the pool its infrastructure labels and annotations name, and the Gateway that address in its status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kube_testlib import LiveCluster, wait_for
from sandbox_testlib import REPO_ROOT

from sandbox.kube import gateways
from sandbox.kube.client import Api

pytestmark = pytest.mark.slow
CRDS = REPO_ROOT / "tests" / "contracts" / "crds"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCluster]:
    cluster = LiveCluster.create(tmp_path_factory.mktemp("gateways"), control_planes=1, workers=0)
    try:
        for name in (
            "gateway.networking.k8s.io/gatewayclass.yaml",
            "gateway.networking.k8s.io/gateway.yaml",
            "cilium.io/ciliumloadbalancerippool.yaml",
        ):
            apply(cluster, yaml.safe_load((CRDS / name).read_text()))
        yield cluster
    finally:
        cluster.close()


def resource(live: LiveCluster, api_version: str, kind: str) -> Any:
    from kubernetes import dynamic

    client = dynamic.DynamicClient(live.api())
    return wait_for(lambda: _served(client, api_version, kind), 30, f"{kind} served by the API server", interval=0.5)


def _served(client: Any, api_version: str, kind: str) -> Any:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        client.resources.invalidate_cache()
        return client.resources.get(api_version=api_version, kind=kind)
    except ResourceNotFoundError:
        return None


def apply(live: LiveCluster, body: dict[str, Any]) -> None:
    api = resource(live, body["apiVersion"], body["kind"])
    api.create(body=body, namespace=body["metadata"].get("namespace"))


def read(live: LiveCluster, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    from kubernetes.dynamic.exceptions import NotFoundError

    try:
        return resource(live, api_version, kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return {}


def admin(live: LiveCluster) -> Api:
    """The sandbox's own admin identity, as the stand-in's process would call the API server."""
    return Api.admin(str(live.real().apiserver.url), live.real().apiserver.pki_dir)


def gateway(name: str, class_name: str, infrastructure: dict[str, Any]) -> dict[str, Any]:
    https = {"name": "https", "protocol": "HTTPS", "port": 443, "tls": {"certificateRefs": [{"name": "wildcard"}]}}
    listeners = [{"name": "http", "protocol": "HTTP", "port": 80}, https]
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {"gatewayClassName": class_name, "listeners": listeners, "infrastructure": infrastructure},
    }


def test_cilium_gateway_is_programmed_on_the_address_its_pool_label_and_annotation_ask_for(live: LiveCluster):
    operator = {"name": "op", "image": "quay.io/cilium/operator-generic:v1.20.0"}
    pod = {"metadata": {"labels": {"app": "op"}}, "spec": {"containers": [operator]}}
    apply(
        live,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "cilium-operator", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "op"}}, "template": pod},
        },
    )
    prefix = live.endpoint.split("//")[1].rsplit(".", 1)[0]
    apply(live, {"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool", "metadata": {"name": "gateways"},
                 "spec": {"blocks": [{"start": f"{prefix}.80", "stop": f"{prefix}.81"}],
                          "serviceSelector": {"matchLabels": {"talosforge.io/pool": "gateways"}}}})  # fmt: skip
    apply(live, {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "cilium"},
                 "spec": {"controllerName": gateways.CILIUM}})  # fmt: skip
    infrastructure = {
        "labels": {"talosforge.io/pool": "gateways"},
        "annotations": {"lbipam.cilium.io/ips": f"{prefix}.81"},
    }
    apply(live, gateway("internal", "cilium", infrastructure))

    def programmed() -> dict[str, Any] | None:
        status = read(live, "gateway.networking.k8s.io/v1", "Gateway", "internal", "kube-system").get("status") or {}
        conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
        return status if conditions.get("Programmed") == "True" else None

    status = wait_for(programmed, 30, "the Gateway programmed")
    assert status["addresses"] == [{"type": "IPAddress", "value": f"{prefix}.81"}]
    service = read(live, "v1", "Service", "cilium-gateway-internal", "kube-system")
    assert service["spec"]["type"] == "LoadBalancer"
    assert [p["port"] for p in service["spec"]["ports"]] == [80, 443]
    assert service["metadata"]["labels"]["io.cilium.gateway/owning-gateway"] == "internal"
    accepted = read(live, "gateway.networking.k8s.io/v1", "GatewayClass", "cilium")["status"]["conditions"]
    assert [(c["type"], c["status"]) for c in accepted] == [("Accepted", "True")]

    # A pass over a settled cluster writes nothing.
    assert gateways.reconcile(admin(live)) == 0


def test_a_gateway_of_a_class_nobody_plays_gets_no_service(live: LiveCluster):
    apply(live, {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "other"},
                 "spec": {"controllerName": "example.org/gateway-controller"}})  # fmt: skip
    apply(live, gateway("elsewhere", "other", {}))
    assert gateways.reconcile(admin(live)) == 0
    assert read(live, "v1", "Service", "cilium-gateway-elsewhere", "kube-system") == {}
    conditions = (read(live, "gateway.networking.k8s.io/v1", "GatewayClass", "other").get("status") or {}).get(
        "conditions"
    )
    assert all(c["status"] != "True" for c in conditions or [])
