"""The hcloud CCM stand-in: what the Hetzner Cloud cloud controller manager does, done against the sandbox's simulator.

No hcloud-cloud-controller-manager runs in the sandbox (the stand-in chart only renders its Deployment), so one small
process per cluster plays it once that workload exists in ``kube-system`` (found by its image
``hetznercloud/hcloud-cloud-controller-manager`` or the chart's ``app.kubernetes.io/name`` label). It reads the
workload's environment as the container would get it: ``HCLOUD_ENDPOINT`` (default ``https://api.hetzner.cloud/v1``),
``HCLOUD_TOKEN`` and ``HCLOUD_NETWORK`` (ID or name) from the Secret they reference, the ``HCLOUD_LOAD_BALANCERS_*``
defaults, and its flags. **It acts only when the endpoint is a loopback address** (the sandbox's Hetzner Cloud
simulator); with any other endpoint it reports that once and does nothing. Every request goes through the API, so a
simulator started with ``--option hcloud.validate=true`` checks each one against the OpenAPI contract.

Each pass (:meth:`HcloudCcm.reconcile`) does what three of the real CCM's controllers do:

- **node controller**: each Node carrying the ``node.cloudprovider.kubernetes.io/uninitialized`` taint is looked up
  by name (``GET /servers?name=``; by ID when it already has a provider ID) and gets ``spec.providerID``
  ``hcloud://<id>``, the labels ``node.kubernetes.io/instance-type``, ``topology.kubernetes.io/region`` and
  ``zone`` (the location's legacy datacenter name, as the hcloud CCM sets it; with their ``beta`` twins) and
  ``instance.hetzner.cloud/provided-by=cloud``, the addresses (Hostname, ExternalIP = public IPv4, InternalIP = its
  address in the CCM's network), and loses the taint. A Node without a server keeps the taint and gets a Warning
  event ``FailedToInitialize`` with the real controller's error text (the real one only logs it and retries).
- **route controller** (on with ``--allocate-node-cidrs``, ``--configure-cloud-routes`` (default), a network and
  ``HCLOUD_NETWORK_ROUTES_ENABLED`` not false): for each Node with an IPv4 ``spec.podCIDR``, a route ``podCIDR ->
  the server's address in the network`` (``add_route``), which must be one of the Node's InternalIPs (else a Warning
  event ``FailedToCreateRoute`` with the real reason: server not found, not attached, address not the Node's); a
  route to the same destination through another gateway is replaced; routes inside ``--cluster-cidr`` that no Node
  wants are deleted. Who allocates the pod CIDRs is not the stand-in's business: kube-controller-manager does in the
  sandbox's second tier; without it Nodes have none and no route is made. Not done: the Nodes'
  ``NetworkUnavailable`` condition.
- **service controller**: a Hetzner Cloud load balancer per Service of type LoadBalancer, see
  :mod:`hcloud_ccm_lbs`.

Quiet passes cost the kube-apiserver five reads (the CCM's Deployments and DaemonSets, its Secret, Nodes, Services)
and the API nothing: a Service is looked at again only when it, the target Nodes or the settings changed, and
everything is read again every :data:`RESYNC_S` (``GET /load_balancers``, and with routes on ``GET /servers`` and
``GET /networks/{id}``: three reads). Writes happen only on change. Its identity is its own client
certificate (``talosforge-sandbox-hcloud-ccm``, in ``system:masters``).
"""

from __future__ import annotations

import ipaddress
import json
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

from .client import Api
from .events import post_event
from .hcloud_ccm_api import Hcloud, HcloudError, Settings, loopback, settings
from .hcloud_ccm_lbs import LoadBalancers
from .identity import stand_in_api
from .loop import arguments, exit_on_sigterm
from .loop import now as _now

POLL_S = 1.0
IDLE_POLL_S = 3.0  # while no hcloud CCM workload is installed
RESYNC_S = 30.0
USER = "talosforge-sandbox-hcloud-ccm"
TAINT = "node.cloudprovider.kubernetes.io/uninitialized"
PROVIDED_BY = "instance.hetzner.cloud/provided-by"
MERGE_PATCH = "application/merge-patch+json"
# The hcloud CCM's zone label: the location's legacy datacenter name (internal/legacydatacenter), else the location.
LEGACY_DATACENTERS = {
    "nbg1": "nbg1-dc3",
    "hel1": "hel1-dc2",
    "fsn1": "fsn1-dc14",
    "ash": "ash-dc1",
    "hil": "hil-dc1",
    "sin": "sin-dc1",
}


def identity(cluster_dir: Path) -> Api:
    """The stand-in's own client certificate, signed by the cluster CA (written once under ``hcloud-ccm/``)."""
    return stand_in_api(cluster_dir, "hcloud-ccm", USER)


def node_labels(server: dict[str, Any]) -> dict[str, str]:
    location = server["location"]["name"]
    zone = LEGACY_DATACENTERS.get(location, location)
    kind = server["server_type"]["name"]
    return {
        "node.kubernetes.io/instance-type": kind,
        "beta.kubernetes.io/instance-type": kind,
        "topology.kubernetes.io/region": location,
        "failure-domain.beta.kubernetes.io/region": location,
        "topology.kubernetes.io/zone": zone,
        "failure-domain.beta.kubernetes.io/zone": zone,
        PROVIDED_BY: "cloud",
    }


def node_addresses(server: dict[str, Any], network_id: int | None) -> list[dict[str, str]]:
    addresses = [{"type": "Hostname", "address": server["name"]}]
    public = ((server.get("public_net") or {}).get("ipv4") or {}).get("ip")
    if public:
        addresses.append({"type": "ExternalIP", "address": public})
    for private in server.get("private_net") or []:
        if network_id and private.get("network") == network_id and private.get("ip"):
            addresses.append({"type": "InternalIP", "address": private["ip"]})
    return addresses


def _internal_ips(node: dict[str, Any]) -> list[str]:
    return [a["address"] for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"]


def _inside(destination: str, cluster: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    route = ipaddress.ip_network(destination, strict=False)
    return route.version == cluster.version and route.subnet_of(cluster)  # type: ignore[arg-type]


class HcloudCcm:
    def __init__(self, api: Api, log: Any = None) -> None:
        self.api = api
        self.log = log or (lambda text: None)
        self.reported: set[tuple[str, str, str]] = set()  # (object uid, reason, message) already recorded
        self.networks: dict[tuple[str, str], int] = {}  # (endpoint, HCLOUD_NETWORK) -> network ID
        self.load_balancers = LoadBalancers(api, self.event)
        self.routes_synced = ""  # fingerprint of the routes last made
        self.last_resync = 0.0
        self.said = ""  # the last "doing nothing because" line, said once
        self.missing: set[str] = set()  # Nodes whose server was not found
        self.last: Hcloud | None = None  # the last pass's client (its request counts)

    # --- events --------------------------------------------------------------------------------------------------
    def event(self, item: dict[str, Any], kind: str, reason: str, message: str) -> None:
        meta = item["metadata"]
        seen = (meta.get("uid", ""), reason, message)
        if seen in self.reported:
            return
        self.reported.add(seen)
        kind_of = item.get("kind") or ("Node" if "namespace" not in meta else "Service")
        component = "cloud-node-controller" if kind_of == "Node" else "service-controller"
        involved = {"apiVersion": "v1", "kind": kind_of, "name": meta["name"], "uid": meta.get("uid")}
        post_event(self.api, {**involved, "namespace": meta.get("namespace")}, kind, reason, message, component)

    def _say_once(self, text: str) -> dict[str, Any]:
        if text != self.said:
            self.said = text
            self.log(text)
        return {"acting": False, "why": text}

    # --- one pass ------------------------------------------------------------------------------------------------
    def reconcile(self, resync: bool | None = None) -> dict[str, Any]:
        """One pass; answers what it did. ``resync`` forces (True) or skips (False) the periodic full read."""
        found = settings(self.api)
        if found is None:
            return self._say_once("no hcloud cloud controller manager workload in kube-system")
        if not loopback(found.endpoint):
            return self._say_once(
                f"{found.workload}: HCLOUD_ENDPOINT {found.endpoint} is not a loopback address; the stand-in only "
                "talks to the sandbox's Hetzner Cloud simulator and does nothing"
            )
        if not found.token:
            return self._say_once(f"{found.workload}: no HCLOUD_TOKEN ({'; '.join(found.problems) or 'not set'})")
        self.said = ""
        now = time.monotonic()
        if resync is None:
            resync = now - self.last_resync >= RESYNC_S
        if resync:
            self.last_resync = now
        hcloud = Hcloud(found.endpoint, found.token)
        self.last = hcloud
        network_id = self._network(hcloud, found)
        nodes = list((self.api.call("GET", "/api/v1/nodes") or {}).get("items") or [])
        done: dict[str, Any] = {"acting": True, "workload": found.workload, "network": network_id}
        tainted = [n for n in nodes if self._tainted(n)]
        # a Node without a server is looked up again on each resync, not on every pass
        due = [n for n in tainted if resync or n["metadata"]["name"] not in self.missing]
        done["nodes"] = {n["metadata"]["name"]: self._init_node(hcloud, n, network_id) for n in due}
        self.missing = {n for n, outcome in done["nodes"].items() if outcome.startswith("no server")} | {
            n["metadata"]["name"] for n in tainted if n not in due
        }
        if found.routes_enabled and network_id:
            done["routes"] = self._routes(hcloud, found, network_id, nodes, resync)
        if found.load_balancers_enabled:
            services = list((self.api.call("GET", "/api/v1/services") or {}).get("items") or [])
            done["load_balancers"] = self.load_balancers.sync(hcloud, found, network_id, services, nodes, resync)
        done["hcloud_reads"], done["hcloud_writes"] = hcloud.reads, hcloud.writes
        return done

    def _network(self, hcloud: Hcloud, found: Settings) -> int | None:
        if not found.network:
            return None
        key = (found.endpoint, found.network)
        if key not in self.networks:
            if found.network.isdigit():
                self.networks[key] = int(found.network)
            else:
                listed = hcloud.call("GET", "/networks", query={"name": found.network})["networks"]
                if not listed:
                    raise HcloudError(404, "not_found", f"network {found.network!r} not found")
                self.networks[key] = int(listed[0]["id"])
        return self.networks[key]

    @staticmethod
    def _tainted(node: dict[str, Any]) -> bool:
        return any(t.get("key") == TAINT for t in (node.get("spec") or {}).get("taints") or [])

    # --- node controller -----------------------------------------------------------------------------------------
    def _init_node(self, hcloud: Hcloud, node: dict[str, Any], network_id: int | None) -> str:
        name = node["metadata"]["name"]
        provider = str((node.get("spec") or {}).get("providerID") or "")
        if provider.startswith("hcloud://"):
            try:
                server = hcloud.call("GET", f"/servers/{provider[len('hcloud://') :]}")["server"]
            except HcloudError as error:
                if error.status != 404:
                    raise
                server = None
        else:
            server = next(iter(hcloud.call("GET", "/servers", query={"name": name})["servers"]), None)
        if server is None:
            message = (
                f"failed to get instance metadata for node {name}: hcloud/instancesv2.InstanceMetadata: failed to "
                f"get instance metadata: no matching server found for node '{name}': server not found"
            )
            self.event(node, "Warning", "FailedToInitialize", message)
            return "no server: " + message
        addresses = node_addresses(server, network_id)
        self.api.call("PATCH", f"/api/v1/nodes/{name}/status", {"status": {"addresses": addresses}}, MERGE_PATCH)
        taints = [t for t in node["spec"].get("taints") or [] if t.get("key") != TAINT]
        spec: dict[str, Any] = {"taints": taints or None}
        if not provider:
            spec["providerID"] = f"hcloud://{server['id']}"
        body = {"metadata": {"labels": node_labels(server)}, "spec": spec}
        self.api.call("PATCH", f"/api/v1/nodes/{name}", body, MERGE_PATCH)
        node["spec"] = {**node["spec"], "taints": taints, "providerID": provider or spec["providerID"]}
        node.setdefault("status", {})["addresses"] = addresses
        self.log(f"node {name}: initialised as hcloud://{server['id']} ({server['server_type']['name']})")
        return f"hcloud://{server['id']}"

    # --- route controller ----------------------------------------------------------------------------------------
    def _routes(
        self, hcloud: Hcloud, found: Settings, network_id: int, nodes: list[dict[str, Any]], resync: bool
    ) -> list[str]:
        candidates = []
        for node in nodes:
            cidr = str((node.get("spec") or {}).get("podCIDR") or "")
            if cidr and ":" not in cidr:
                candidates.append((node, str(ipaddress.ip_network(cidr, strict=False))))
        fingerprint = json.dumps(
            [network_id, found.cluster_cidr]
            + [[n["metadata"]["name"], c, n["spec"].get("providerID"), _internal_ips(n)] for n, c in candidates]
        )
        if fingerprint == self.routes_synced and not resync:
            return []
        done = []
        wanted: dict[str, str] = {}
        if candidates:
            # the gateway is the server's address in the network, which must be one of the Node's InternalIPs
            servers = hcloud.listing("/servers", "servers")
            by_id = {str(s["id"]): s for s in servers}
            by_name = {s["name"]: s for s in servers}
            for node, cidr in candidates:
                name = node["metadata"]["name"]
                provider = str(node["spec"].get("providerID") or "")
                server = by_id.get(provider[len("hcloud://") :]) if provider else by_name.get(name)
                gateway = next(
                    (p["ip"] for p in (server or {}).get("private_net") or [] if p.get("network") == network_id), None
                )
                if gateway is not None and gateway in _internal_ips(node):
                    wanted[cidr] = gateway
                    continue
                why = (
                    f"hcloud server for node {name} not found"
                    if server is None
                    else f"network with id {network_id} not attached to this server"
                    if gateway is None
                    else f"IP {gateway} not part of routes target addresses"
                )
                self.event(
                    node, "Warning", "FailedToCreateRoute", f"Could not create route {cidr} for node {name}: {why}"
                )
                done.append(f"{cidr} for {name}: {why}")
        pod_cidrs = {cidr for _node, cidr in candidates}
        network = hcloud.call("GET", f"/networks/{network_id}")["network"]
        have = {r["destination"]: r["gateway"] for r in network.get("routes") or []}
        cluster = ipaddress.ip_network(found.cluster_cidr, strict=False) if found.cluster_cidr else None
        for destination, gateway in sorted(have.items()):
            if wanted.get(destination) == gateway:
                continue
            # a Node's own route whose gateway is no longer right is replaced; one in the cluster CIDR that no Node
            # has as its pod CIDR goes (a Node whose route cannot be made keeps the one it has)
            orphan = cluster is not None and _inside(destination, cluster) and destination not in pod_cidrs
            if destination in wanted or orphan:
                route = {"destination": destination, "gateway": gateway}
                hcloud.act("POST", f"/networks/{network_id}/actions/delete_route", route)
                done.append(f"deleted {destination} via {gateway}")
        for destination, gateway in sorted(wanted.items()):
            if have.get(destination) != gateway:
                route = {"destination": destination, "gateway": gateway}
                hcloud.act("POST", f"/networks/{network_id}/actions/add_route", route)
                done.append(f"added {destination} via {gateway}")
        self.routes_synced = fingerprint
        return done


def main(argv: list[str] | None = None) -> int:
    args = arguments("sandbox.kube.hcloud_ccm", __doc__, argv, "--cluster-dir")
    exit_on_sigterm()
    ccm = HcloudCcm(identity(args.cluster_dir), lambda text: print(f"{_now()} {text}", flush=True))
    last, failures, busy = "", 0, True
    while True:
        try:
            done = ccm.reconcile()
            busy = bool(done.get("acting"))
            said = json.dumps({k: v for k, v in done.items() if k not in ("hcloud_reads", "hcloud_writes") and v})
            if done.get("acting") and (done.get("hcloud_writes") or said != last):
                print(f"{_now()} {said}", flush=True)
            last, failures = said, 0
        except (OSError, urllib.error.URLError, ValueError, KeyError, HcloudError) as error:
            failures += 1
            said = f"pass failed (retrying): {error}"
            if said != last:
                print(f"{_now()} {said}", flush=True)
            last = said
        # a failing pass is tried again later and later (up to RESYNC_S), as the real controllers back off
        time.sleep(min(POLL_S * 2**failures, RESYNC_S) if failures else POLL_S if busy else IDLE_POLL_S)


if __name__ == "__main__":
    sys.exit(main())
