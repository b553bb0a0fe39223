# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The Kubernetes objects of the platform stage that no chart makes: the namespaces the charts need labelled, the
load-balancer pools (one object per pool of the definition), the layer 2 announcements and the Gateway.

Pure: ``talosforge_cluster`` in, manifests as ``kube_objects`` takes them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.plugin_utils._platform_releases import (
    CHARTS,
    POOL_LABEL,
    _platform,
    service_pinning,
)

MANAGED = {"app.kubernetes.io/managed-by": "talosforge.cluster"}
# Talos enforces the baseline pod-security level everywhere but kube-system; MetalLB's speaker needs privileged.
PRIVILEGED = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}
GATEWAY_CLASSES = {
    "gateway": ("envoy", "gateway.envoyproxy.io/gatewayclass-controller"),
    "cilium": ("cilium", "io.cilium/gateway-controller"),
}
GATEWAY_NAME = "ingress"


def _meta(name: str, namespace: str | None = None, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {**MANAGED, **(labels or {})}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _service_pools(platform: Mapping[str, Any]) -> set[str]:
    """The pools a collection service (ingress, PowerDNS) takes its address from: reserved for them."""
    names = set()
    if platform["ingress"]["type"] != "none" and platform["ingress"].get("pool"):
        names.add(platform["ingress"]["pool"])
    powerdns = (platform.get("dns") or {}).get("powerdns") or {}
    if powerdns.get("enabled") and powerdns.get("pool"):
        names.add(powerdns["pool"])
    return names


def _cilium_block(text: str) -> dict[str, str]:
    if "-" in text and "/" not in text:
        start, stop = text.split("-", 1)
        return {"start": start, "stop": stop}
    return {"cidr": text}


def namespaces(cluster: Any) -> list[dict[str, Any]]:
    """Namespaces that must exist, labelled, before their chart is installed (helm would make them unlabelled)."""
    platform = _platform(cluster)
    if platform["load_balancer"]["type"] != "metallb":
        return []
    namespace = CHARTS["metallb"]["namespace"]
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace, labels=PRIVILEGED)}]


def pool_objects(cluster: Any) -> list[dict[str, Any]]:
    """One pool object per pool of the definition, and the announcement of all of them on layer 2.

    Pools that the ingress or PowerDNS take their address from are reserved for them: MetalLB does not hand their
    addresses out by itself (autoAssign false) and Cilium serves them only to Services labelled with their name;
    the other pools serve any Service that names no reserved pool.
    """
    platform = _platform(cluster)
    kind, pools = platform["load_balancer"]["type"], platform["load_balancer"].get("pools") or []
    reserved = _service_pools(platform)
    objects: list[dict[str, Any]] = []
    if kind == "metallb" and pools:
        namespace = CHARTS["metallb"]["namespace"]
        for pool in pools:
            objects.append(
                {
                    "apiVersion": "metallb.io/v1beta1",
                    "kind": "IPAddressPool",
                    "metadata": _meta(pool["name"], namespace),
                    "spec": {"addresses": list(pool["addresses"]), "autoAssign": pool["name"] not in reserved},
                }
            )
        objects.append(
            {
                "apiVersion": "metallb.io/v1beta1",
                "kind": "L2Advertisement",
                "metadata": _meta("talosforge", namespace),
                "spec": {"ipAddressPools": [pool["name"] for pool in pools]},
            }
        )
    if kind == "cilium-l2" and pools:
        for pool in pools:
            if pool["name"] in reserved:
                selector: dict[str, Any] = {"matchLabels": {POOL_LABEL: pool["name"]}}
            else:
                selector = {"matchExpressions": [{"key": POOL_LABEL, "operator": "NotIn", "values": sorted(reserved)}]}
                if not reserved:
                    selector = {}
            spec: dict[str, Any] = {"blocks": [_cilium_block(text) for text in pool["addresses"]]}
            if selector:
                spec["serviceSelector"] = selector
            objects.append(
                {
                    "apiVersion": "cilium.io/v2",
                    "kind": "CiliumLoadBalancerIPPool",
                    "metadata": _meta(pool["name"]),
                    "spec": spec,
                }
            )
        objects.append(
            {
                "apiVersion": "cilium.io/v2alpha1",
                "kind": "CiliumL2AnnouncementPolicy",
                "metadata": _meta("talosforge"),
                "spec": {"loadBalancerIPs": True, "nodeSelector": {"matchLabels": {"kubernetes.io/os": "linux"}}},
            }
        )
    return objects


def gateway_objects(cluster: Any) -> list[dict[str, Any]]:
    """The GatewayClass and the Gateway of ``ingress.type`` gateway (Envoy Gateway) or cilium, on the ingress's
    planned address; nothing for the other ingress types."""
    platform = _platform(cluster)
    ingress = platform["ingress"]
    if ingress["type"] not in GATEWAY_CLASSES:
        return []
    class_name, controller = GATEWAY_CLASSES[ingress["type"]]
    namespace = CHARTS["envoy-gateway"]["namespace"] if ingress["type"] == "gateway" else "kube-system"
    pin = service_pinning(cluster, ingress.get("pool"), ingress.get("address"))
    spec: dict[str, Any] = {
        "gatewayClassName": class_name,
        "listeners": [
            {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "All"}}}
        ],
    }
    # Both controllers copy spec.infrastructure's labels and annotations onto the Service they make for the Gateway,
    # which is how the load balancer learns its pool and address (Envoy Gateway would turn spec.addresses into the
    # Service's externalIPs instead, which no load balancer announces).
    infrastructure = {key: value for key, value in pin.items() if value}
    if infrastructure:
        spec["infrastructure"] = infrastructure
    return [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": _meta(class_name),
            "spec": {"controllerName": controller},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": _meta(GATEWAY_NAME, namespace),
            "spec": spec,
        },
    ]


def platform_objects(cluster: Any, part: str) -> list[dict[str, Any]]:
    """The manifests of one part of the stage: ``namespaces`` (before the charts) or ``services`` (after them)."""
    if part == "namespaces":
        return namespaces(cluster)
    if part == "services":
        return [*pool_objects(cluster), *gateway_objects(cluster)]
    raise ValueError(f"part must be namespaces or services, not {part!r}")
