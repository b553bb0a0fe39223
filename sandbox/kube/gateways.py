"""The Gateway stand-in: what Envoy Gateway's and Cilium's Gateway controllers do that the collection relies on.

No Envoy Gateway controller and no Cilium operator run in the sandbox. For every Gateway whose GatewayClass names one
of their controllers (:data:`CONTROLLERS`), this stand-in does the part the platform stage depends on:

- accepts the GatewayClass (condition ``Accepted``);
- makes the Service of type LoadBalancer the real controller would make for the Gateway, carrying the Gateway's
  ``spec.infrastructure`` labels and annotations (so the LB-IPAM stand-in puts it on the pool and address they
  name) and one port per listener: Envoy Gateway's in its own namespace, named ``envoy-<namespace>-<name>-<hash>``
  and labelled with the owning Gateway; Cilium's next to the Gateway, named ``cilium-gateway-<name>``;
- once that Service has its address, writes it into the Gateway's ``status.addresses`` with ``Accepted`` and
  ``Programmed`` true; before that, ``Programmed`` is false with reason ``AddressNotAssigned``, as Gateway API
  describes.

It proxies no traffic and reads no routes. It writes only what changed, so a quiet cluster stays quiet in the audit
log. :func:`reconcile` is one pass; the LB-IPAM stand-in's process runs it on each poll.
"""

from __future__ import annotations

import hashlib
import urllib.error
from typing import Any

from .loop import now as _now

GROUP = "/apis/gateway.networking.k8s.io/v1"
ENVOY = "gateway.envoyproxy.io/gatewayclass-controller"
CILIUM = "io.cilium/gateway-controller"
CONTROLLERS = (ENVOY, CILIUM)
ENVOY_NAMESPACE = "envoy-gateway-system"
MERGE_PATCH = "application/merge-patch+json"


def _items(api: Any, path: str) -> list[dict[str, Any]] | None:
    """The list's items; None when the resource is not served (its CRD is not installed)."""
    try:
        answer = api.call("GET", path)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
    return None if answer is None else list(answer.get("items") or [])


def service_for(gateway: dict[str, Any], controller: str) -> dict[str, Any]:
    """The Service the real controller makes for ``gateway``."""
    meta, spec = gateway["metadata"], gateway.get("spec") or {}
    infrastructure = spec.get("infrastructure") or {}
    ports = [
        {"name": f"{listener['protocol'].lower()}-{listener['port']}", "port": int(listener["port"]), "protocol": "TCP"}
        for listener in spec.get("listeners") or []
        if listener.get("protocol") in ("HTTP", "HTTPS", "TLS", "TCP")
    ]
    if controller == ENVOY:
        digest = hashlib.sha256(f"{meta['namespace']}/{meta['name']}".encode()).hexdigest()[:8]
        namespace, name = ENVOY_NAMESPACE, f"envoy-{meta['namespace']}-{meta['name']}-{digest}"
        owner = {
            "app.kubernetes.io/name": "envoy",
            "app.kubernetes.io/component": "proxy",
            "app.kubernetes.io/managed-by": "envoy-gateway",
            "gateway.envoyproxy.io/owning-gateway-name": meta["name"],
            "gateway.envoyproxy.io/owning-gateway-namespace": meta["namespace"],
        }
    else:
        namespace, name = meta["namespace"], f"cilium-gateway-{meta['name']}"
        owner = {"io.cilium.gateway/owning-gateway": meta["name"]}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**owner, **(infrastructure.get("labels") or {})},
            "annotations": dict(infrastructure.get("annotations") or {}),
        },
        "spec": {"type": "LoadBalancer", "ports": ports or [{"name": "http-80", "port": 80, "protocol": "TCP"}]},
    }


def _condition(kind: str, status: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": _now(),
    }


def _same_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    def key(conditions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (c.get("type"), c.get("status"), c.get("reason"), c.get("observedGeneration")) for c in conditions
        )

    return key(old) == key(new)


def _ensure_service(api: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    meta = wanted["metadata"]
    path = f"/api/v1/namespaces/{meta['namespace']}/services/{meta['name']}"
    live = api.call("GET", path)
    if live is None:
        return api.call("POST", f"/api/v1/namespaces/{meta['namespace']}/services", wanted)
    live_meta = live.get("metadata") or {}
    labels, annotations = live_meta.get("labels") or {}, live_meta.get("annotations") or {}
    if any(labels.get(k) != v for k, v in meta["labels"].items()) or any(
        annotations.get(k) != v for k, v in meta["annotations"].items()
    ):
        patch = {"metadata": {"labels": meta["labels"], "annotations": meta["annotations"]}}
        return api.call("PATCH", path, patch, MERGE_PATCH)
    return live


def reconcile(api: Any) -> int:
    """One pass over the GatewayClasses and Gateways; the number of writes it made."""
    classes = _items(api, f"{GROUP}/gatewayclasses")
    if classes is None:
        return 0
    writes = 0
    ours: dict[str, str] = {}
    for gateway_class in classes:
        controller = (gateway_class.get("spec") or {}).get("controllerName")
        if controller not in CONTROLLERS:
            continue
        name, generation = gateway_class["metadata"]["name"], gateway_class["metadata"].get("generation", 1)
        ours[name] = controller
        wanted = [_condition("Accepted", True, "Accepted", "Accepted by the sandbox's stand-in controller", generation)]
        if not _same_conditions((gateway_class.get("status") or {}).get("conditions") or [], wanted):
            api.call("PATCH", f"{GROUP}/gatewayclasses/{name}/status", {"status": {"conditions": wanted}}, MERGE_PATCH)
            writes += 1
    for gateway in _items(api, f"{GROUP}/gateways") or []:
        controller = ours.get((gateway.get("spec") or {}).get("gatewayClassName"))
        if controller is None:
            continue
        wanted_service = service_for(gateway, controller)
        service = _ensure_service(api, wanted_service)
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        address = ingress[0].get("ip") if ingress else None
        generation = gateway["metadata"].get("generation", 1)
        if address:
            addresses = [{"type": "IPAddress", "value": address}]
            programmed = _condition("Programmed", True, "Programmed", "Address assigned to the Gateway", generation)
        else:
            addresses = []
            programmed = _condition(
                "Programmed",
                False,
                "AddressNotAssigned",
                "No address assigned to the Gateway's Service yet",
                generation,
            )
        conditions = [_condition("Accepted", True, "Accepted", "The Gateway has been accepted", generation), programmed]
        status = gateway.get("status") or {}
        if (status.get("addresses") or []) != addresses or not _same_conditions(
            status.get("conditions") or [], conditions
        ):
            body = {"status": {"addresses": addresses, "conditions": conditions}}
            meta = gateway["metadata"]
            api.call(
                "PATCH", f"{GROUP}/namespaces/{meta['namespace']}/gateways/{meta['name']}/status", body, MERGE_PATCH
            )
            writes += 1
    return writes
