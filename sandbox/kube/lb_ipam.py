"""The LB-IPAM stand-in: Services of type LoadBalancer get their address from the cluster's real pool objects.

No MetalLB controller and no Cilium operator run in the sandbox, so one small process per cluster plays the part
of them the collection relies on. Every ``POLL_S`` it reads the Services and the pool objects (MetalLB's
``IPAddressPool`` metallb.io/v1beta1, Cilium's ``CiliumLoadBalancerIPPool`` cilium.io/v2, when their CRDs are
installed: three list requests), decides with :mod:`lb_ipam_plan` (the real controllers' rules and words), and
writes only what changed: the Service's ``status.loadBalancer.ingress`` (status subresource), for Cilium its
``cilium.io/IPAMRequestSatisfied`` condition, for MetalLB the ``metallb.io/ip-allocated-from-pool`` annotation and
its ``IPAllocated`` / ``AllocationFailed`` events. A quiet cluster stays quiet in the audit log.

A controller is played once it is installed: a Deployment runs its image (``metallb/controller``, Cilium's
``cilium/operator-*``, where LB-IPAM runs) and its pools exist. It announces nothing (no speaker, no L2
announcement: every sandbox address is a local loopback address).
Its identity is its own client certificate (``talosforge-sandbox-lb-ipam``, in ``system:masters``), so the audit
log tells its requests from the collection's.
"""

from __future__ import annotations

import re
import sys
import urllib.error
from pathlib import Path
from typing import Any

from . import gateways
from . import lb_ipam_plan as planning
from .client import Api
from .events import post_event
from .identity import stand_in_api
from .loop import arguments, exit_on_sigterm, run_forever
from .loop import now as _now

POLL_S = 1.0
IDLE_POLL_S = 3.0  # while no Service of type LoadBalancer exists and no Gateway needs one
USER = "talosforge-sandbox-lb-ipam"
METALLB_POOLS = "/apis/metallb.io/v1beta1/ipaddresspools"
CILIUM_POOLS = "/apis/cilium.io/v2/ciliumloadbalancerippools"
# The images of the controllers the stand-in plays (upstream's, which the sandbox's stand-in charts use too).
CONTROLLER_IMAGES = {
    planning.METALLB: re.compile(r"(^|/)metallb/controller(:|@|$)"),
    planning.CILIUM: re.compile(r"(^|/)cilium/operator(-[a-z]+)?(:|@|$)"),
}
# The components real events carry: MetalLB's controller records as "metallb-controller".
METALLB_COMPONENT = "metallb-controller"


def identity(cluster_dir: Path) -> Api:
    """The stand-in's own client certificate, signed by the cluster CA (written once under ``lb-ipam/``)."""
    return stand_in_api(cluster_dir, "lb-ipam", USER)


class LbIpam:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.reported: set[tuple[str, str, str]] = set()  # (service uid, reason, message) already recorded

    def _items(self, path: str) -> list[dict[str, Any]] | None:
        """The listed objects, or None when the kind is not served (its CRD is not installed)."""
        listed = self.api.call("GET", path)
        return None if listed is None else list(listed.get("items") or [])

    def _controllers(self) -> set[str]:
        """Which of the two controllers is installed: a Deployment running MetalLB's controller image, or Cilium's
        operator image (where LB-IPAM runs), in any namespace."""
        found = set()
        for item in self._items("/apis/apps/v1/deployments") or []:
            pod = ((item.get("spec") or {}).get("template") or {}).get("spec") or {}
            for container in pod.get("containers") or []:
                image = str(container.get("image") or "")
                for controller, pattern in CONTROLLER_IMAGES.items():
                    if pattern.search(image):
                        found.add(controller)
        return found

    def sync(self) -> dict[str, planning.Decision]:
        """One round: three reads (four once there are pools), writes only where a Service's outcome changed."""
        metallb_items = self._items(METALLB_POOLS) or []
        cilium_items = self._items(CILIUM_POOLS) or []
        metallb = [planning.metallb_pool(item) for item in metallb_items]
        cilium = [planning.cilium_pool(item) for item in cilium_items]
        running = self._controllers() if metallb or cilium else set()
        metallb_on, cilium_on = (
            bool(metallb) and planning.METALLB in running,
            bool(cilium) and planning.CILIUM in running,
        )
        items = self._items("/api/v1/services") or []
        by_key = {f"{i['metadata']['namespace']}/{i['metadata']['name']}": i for i in items}
        services = [planning.service(i, planning.controller_of(i, metallb_on, cilium_on)) for i in items]
        decisions = planning.plan(services, metallb, cilium)
        for key, decision in decisions.items():
            self._write(by_key[key], decision)
        return decisions

    def _write(self, item: dict[str, Any], decision: planning.Decision) -> None:
        metadata = item["metadata"]
        path = f"/api/v1/namespaces/{metadata['namespace']}/services/{metadata['name']}"
        status = item.get("status") or {}
        current = [i.get("ip") for i in (status.get("loadBalancer") or {}).get("ingress") or []]
        wanted = [decision.address] if decision.address else []
        patch: dict[str, Any] = {}
        if current != wanted:
            patch["loadBalancer"] = {"ingress": [{"ip": a} for a in wanted] or None}
        if decision.controller == planning.CILIUM:
            conditions = self._conditions(item, decision)
            if conditions is not None:
                patch["conditions"] = conditions
        if patch:
            self.api.call("PATCH", path + "/status", {"status": patch}, "application/merge-patch+json")
        if decision.controller == planning.METALLB:
            annotations = metadata.get("annotations") or {}
            if annotations.get(planning.METALLB_FROM_POOL_ANNOTATION) != decision.pool:
                self.api.call(
                    "PATCH",
                    path,
                    {"metadata": {"annotations": {planning.METALLB_FROM_POOL_ANNOTATION: decision.pool}}},
                    "application/merge-patch+json",
                )
            if decision.address is None:
                self._event(item, "Warning", "AllocationFailed", decision.message)
            elif current != wanted:
                self._event(item, "Normal", "IPAllocated", f'Assigned IP ["{decision.address}"]')

    @staticmethod
    def _conditions(item: dict[str, Any], decision: planning.Decision) -> list[dict[str, Any]] | None:
        """The Service's conditions with Cilium's set to the decision; None when it already says so."""
        conditions = list((item.get("status") or {}).get("conditions") or [])
        status = "True" if decision.address else "False"
        generation = item["metadata"].get("generation", 0)
        message = "" if decision.address else decision.message
        mine = next((c for c in conditions if c.get("type") == planning.CILIUM_CONDITION), None)
        if mine is not None:
            said = (mine.get("status"), mine.get("reason"), mine.get("message") or "", mine.get("observedGeneration"))
            if said == (status, decision.reason, message, generation):
                return None
        keep_time = mine is not None and mine.get("status") == status and mine.get("lastTransitionTime")
        condition = {
            "type": planning.CILIUM_CONDITION,
            "status": status,
            "observedGeneration": generation,
            "lastTransitionTime": mine["lastTransitionTime"] if mine is not None and keep_time else _now(),
            "reason": decision.reason,
            "message": message,
        }
        return [c for c in conditions if c.get("type") != planning.CILIUM_CONDITION] + [condition]

    def _event(self, item: dict[str, Any], kind: str, reason: str, message: str) -> None:
        metadata = item["metadata"]
        seen = (metadata.get("uid", ""), reason, message)
        if seen in self.reported:
            return
        self.reported.add(seen)
        involved = {
            "apiVersion": "v1",
            "kind": "Service",
            "namespace": metadata["namespace"],
            "name": metadata["name"],
            "uid": metadata.get("uid"),
            "resourceVersion": metadata.get("resourceVersion"),
        }
        post_event(self.api, involved, kind, reason, message, METALLB_COMPONENT)


def main(argv: list[str] | None = None) -> int:
    args = arguments("sandbox.kube.lb_ipam", __doc__, argv, "--cluster-dir")
    exit_on_sigterm()
    ipam = LbIpam(identity(args.cluster_dir))
    last: dict[str, tuple[str | None, str]] = {}

    def sync() -> bool:
        nonlocal last
        decisions = ipam.sync()
        # The Gateway controllers' part (gateways.py): their Services, then the Gateways' addresses.
        gateway_writes = gateways.reconcile(ipam.api)
        busy = bool(decisions) or gateway_writes > 0
        outcome = {key: (d.address, d.message) for key, d in decisions.items()}
        for key, (address, message) in sorted(outcome.items()):
            if last.get(key) != (address, message):
                print(f"{_now()} {key}: {address or 'no address: ' + message}", flush=True)
        last = outcome
        return busy

    run_forever(sync, (OSError, urllib.error.URLError, ValueError, KeyError), POLL_S, IDLE_POLL_S)


if __name__ == "__main__":
    sys.exit(main())
