"""The hcloud CCM stand-in's service controller: a Hetzner Cloud load balancer per Service of type LoadBalancer.

What the real hcloud CCM (``hcloud/load_balancers.go``, ``internal/hcops/load_balancer.go``) does, through the API:

- the Service gets the finalizer ``service.kubernetes.io/load-balancer-cleanup`` before anything is made;
- the load balancer is found by its label ``hcloud-ccm/service-uid=<uid>``, else by name (and adopted: the label is
  added), else created: named by ``load-balancer.hetzner.cloud/name`` or Kubernetes' default (``a`` + the UID
  without dashes, 32 characters), type from ``load-balancer.hetzner.cloud/type`` / ``HCLOUD_LOAD_BALANCERS_TYPE``
  (``lb11``), ``location`` or ``network-zone`` from the annotations or ``HCLOUD_LOAD_BALANCERS_LOCATION`` /
  ``_NETWORK_ZONE`` (neither: the real error), ``algorithm-type``, ``disable-public-network``;
- attached to the CCM's network (``private-ipv4`` annotation for a fixed address);
- a service per port: ``listen_port`` = the port, ``destination_port`` = its NodePort, protocol from
  ``load-balancer.hetzner.cloud/protocol`` (``tcp``), ``uses-proxyprotocol``; ports no longer wanted are deleted;
- a server target per Node with an ``hcloud://`` provider ID (not labelled
  ``node.kubernetes.io/exclude-from-external-load-balancers``, matching ``load-balancer.hetzner.cloud/node-selector``
  when set), ``use_private_ip`` from ``load-balancer.hetzner.cloud/use-private-ip`` /
  ``HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP``; a target whose node is gone, or whose ``use_private_ip`` differs, goes;
- ``status.loadBalancer.ingress``: the ``hostname`` annotation alone when set, else the public IPv4 (and IPv6 unless
  disabled, when the API gives one) when the public interface is on, then the private addresses unless
  ``load-balancer.hetzner.cloud/disable-private-ingress`` (or ``HCLOUD_LOAD_BALANCERS_DISABLE_PRIVATE_INGRESS``) is
  true; ``ipMode`` ``Proxy`` with proxy protocol, ``VIP`` otherwise;
- a Service deleted (or no longer of type LoadBalancer) has its load balancer deleted (unless protected) and its
  finalizer removed.

Each service gets a TCP health check on its NodePort (15 s interval, 10 s timeout, 3 retries: the API's defaults,
which the contract makes the request carry). Not done: HTTPS services and certificates (``https`` is refused with
an event), the health-check and HTTP annotations,
reverse DNS, changing a load balancer's type, algorithm or public interface after creation, IP targets (Robot).
Services with a ``loadBalancerClass`` are left alone, as the real cloud service controller does.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .hcloud_ccm_api import Hcloud, HcloudError, Settings

A = "load-balancer.hetzner.cloud/"
UID_LABEL = "hcloud-ccm/service-uid"
FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
PROVIDER_PREFIX = "hcloud://"
# The API's defaults; the contract requires a health check with each new service. TCP on the NodePort.
HEALTH_CHECK = {"interval": 15, "timeout": 10, "retries": 3}
RETRY_S = 10.0  # a Service whose load balancer failed is tried again after this, or when it changes


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("1", "t", "true", "yes", "on")


def default_name(uid: str) -> str:
    """Kubernetes' ``cloudprovider.DefaultLoadBalancerName``: "a" and the UID without dashes, cut to 32."""
    return ("a" + uid.replace("-", ""))[:32]


def server_id(node: dict[str, Any]) -> int | None:
    provider = str((node.get("spec") or {}).get("providerID") or "")
    if not provider.startswith(PROVIDER_PREFIX):
        return None
    try:
        return int(provider[len(PROVIDER_PREFIX) :])
    except ValueError:
        return None


def _selected(node: dict[str, Any], selector: str) -> bool:
    """``key=value``, ``key!=value``, ``key`` and ``!key`` terms, comma separated (what the annotation takes)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.strip().rstrip("=")) != value.strip().lstrip("="):
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class Options:
    """One Service's load-balancer options: its annotation, else the CCM's environment default."""

    def __init__(self, service: dict[str, Any], settings: Settings) -> None:
        self.annotations = (service.get("metadata") or {}).get("annotations") or {}
        self.env = settings.env

    def text(self, annotation: str, env: str | None = None, default: str | None = None) -> str | None:
        if A + annotation in self.annotations:
            return str(self.annotations[A + annotation])
        if env and self.env.get(env):
            return self.env[env]
        return default

    def flag(self, annotation: str, env: str | None, default: bool) -> bool:
        value = _bool(self.text(annotation, env))
        return default if value is None else value


class LoadBalancers:
    """The service controller part; :meth:`sync` is one pass over the Services."""

    def __init__(self, api: Any, recorder: Any) -> None:
        self.api = api
        self.event = recorder
        self.synced: dict[str, str] = {}  # service uid -> fingerprint of what was last made for it
        self.failed: dict[str, tuple[str, float]] = {}  # service uid -> (fingerprint, when) of the last failure

    def wanted(self, services: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            s
            for s in services
            if (s.get("spec") or {}).get("type") == "LoadBalancer"
            and not (s.get("spec") or {}).get("loadBalancerClass")
            and not s["metadata"].get("deletionTimestamp")
        ]

    @staticmethod
    def to_clean(services: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            s
            for s in services
            if FINALIZER in (s["metadata"].get("finalizers") or [])
            and (s["metadata"].get("deletionTimestamp") or (s.get("spec") or {}).get("type") != "LoadBalancer")
        ]

    def fingerprint(self, service: dict[str, Any], targets: list[int], settings: Settings) -> str:
        meta, spec = service["metadata"], service.get("spec") or {}
        ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        return json.dumps(
            [
                meta.get("annotations") or {},
                spec.get("ports") or [],
                targets,
                settings.fingerprint(),
                ingress,
                FINALIZER in (meta.get("finalizers") or []),
            ],
            sort_keys=True,
        )

    @staticmethod
    def targets(service: dict[str, Any], nodes: list[dict[str, Any]]) -> list[int]:
        selector = Options(service, Settings("", {}, {})).text("node-selector")
        ids = []
        for node in nodes:
            labels = (node.get("metadata") or {}).get("labels") or {}
            ident = server_id(node)
            if ident is None or EXCLUDE_LABEL in labels or node["metadata"].get("deletionTimestamp"):
                continue
            if selector and not _selected(node, selector):
                continue
            ids.append(ident)
        return sorted(set(ids))

    def sync(
        self,
        hcloud: Hcloud,
        settings: Settings,
        network_id: int | None,
        services: list[dict[str, Any]],
        nodes: list[dict[str, Any]],
        resync: bool,
    ) -> dict[str, str]:
        """Services whose Service, nodes or settings changed since the last pass (every one with ``resync``) are
        made to match; answers ``namespace/name -> outcome`` for those looked at. No API request when none is."""
        outcome: dict[str, str] = {}
        wanted = self.wanted(services)
        cleanup = self.to_clean(services)
        due = []
        for service in wanted:
            targets = self.targets(service, nodes)
            uid, fingerprint = service["metadata"]["uid"], self.fingerprint(service, targets, settings)
            failed = self.failed.get(uid)
            if failed is not None and failed[0] == fingerprint and time.monotonic() - failed[1] < RETRY_S:
                continue
            if resync or self.synced.get(uid) != fingerprint:
                due.append((service, targets))
        if not due and not cleanup:
            return outcome
        by_uid = {
            lb["labels"].get(UID_LABEL): lb
            for lb in hcloud.listing("/load_balancers", "load_balancers", {"label_selector": UID_LABEL})
        }
        for service, targets in due:
            key = f"{service['metadata']['namespace']}/{service['metadata']['name']}"
            uid = service["metadata"]["uid"]
            try:
                ingress = self.ensure(hcloud, settings, network_id, service, targets, by_uid.get(uid))
            except HcloudError as error:
                self.synced.pop(uid, None)
                self.failed[uid] = (self.fingerprint(service, targets, settings), time.monotonic())
                message = f"Error syncing load balancer: failed to ensure load balancer: {error}"
                self.event(service, "Warning", "SyncLoadBalancerFailed", message)
                outcome[key] = message
                continue
            service.setdefault("status", {})["loadBalancer"] = {"ingress": ingress} if ingress else {}
            if FINALIZER not in (service["metadata"].get("finalizers") or []):
                service["metadata"]["finalizers"] = [*(service["metadata"].get("finalizers") or []), FINALIZER]
            self.synced[uid] = self.fingerprint(service, targets, settings)
            self.failed.pop(uid, None)
            outcome[key] = ", ".join(i.get("ip") or i.get("hostname", "") for i in ingress)
        for service in cleanup:
            key = f"{service['metadata']['namespace']}/{service['metadata']['name']}"
            try:
                outcome[key] = self.delete(hcloud, service, by_uid.get(service["metadata"]["uid"]))
            except HcloudError as error:
                outcome[key] = f"Error deleting load balancer: {error}"
                self.event(service, "Warning", "SyncLoadBalancerFailed", outcome[key])
        return outcome

    # --- one Service ----------------------------------------------------------------------------------------------
    def _path(self, service: dict[str, Any]) -> str:
        meta = service["metadata"]
        return f"/api/v1/namespaces/{meta['namespace']}/services/{meta['name']}"

    def _finalizers(self, service: dict[str, Any], finalizers: list[str]) -> None:
        body = {"metadata": {"finalizers": finalizers or None}}
        self.api.call("PATCH", self._path(service), body, "application/merge-patch+json")

    def ensure(
        self,
        hcloud: Hcloud,
        settings: Settings,
        network_id: int | None,
        service: dict[str, Any],
        targets: list[int],
        lb: dict[str, Any] | None,
    ) -> list[dict[str, Any]]:
        meta = service["metadata"]
        options = Options(service, settings)
        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER not in finalizers:
            self._finalizers(service, [*finalizers, FINALIZER])
        changed = False
        if lb is None:
            name = options.text("name") or default_name(meta["uid"])
            lb = next(iter(hcloud.call("GET", "/load_balancers", query={"name": name})["load_balancers"]), None)
            if lb is not None:  # adopted: a load balancer made by other means, or before the label existed
                labels = {**(lb.get("labels") or {}), UID_LABEL: meta["uid"]}
                hcloud.call("PUT", f"/load_balancers/{lb['id']}", {"labels": labels})
            else:
                lb = self.create(hcloud, options, name, meta["uid"])
                self.event(service, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer")
        if network_id and not any(p["network"] == network_id for p in lb.get("private_net") or []):
            body: dict[str, Any] = {"network": network_id}
            if options.text("private-ipv4"):
                body["ip"] = options.text("private-ipv4")
            hcloud.act("POST", f"/load_balancers/{lb['id']}/actions/attach_to_network", body)
            changed = True
        changed = self._services(hcloud, options, service, lb) or changed
        changed = self._targets(hcloud, options, network_id, lb, targets) or changed
        if changed:
            lb = hcloud.call("GET", f"/load_balancers/{lb['id']}")["load_balancer"]
            self.event(service, "Normal", "EnsuredLoadBalancer", "Ensured load balancer")
        ingress = self.ingress(options, lb)
        current = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        if current != ingress:
            body = {"status": {"loadBalancer": {"ingress": ingress or None}}}
            self.api.call("PATCH", self._path(service) + "/status", body, "application/merge-patch+json")
        return ingress

    def create(self, hcloud: Hcloud, options: Options, name: str, uid: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "load_balancer_type": options.text("type", "HCLOUD_LOAD_BALANCERS_TYPE", "lb11"),
            "labels": {UID_LABEL: uid},
        }
        location = options.text("location", "HCLOUD_LOAD_BALANCERS_LOCATION")
        zone = options.text("network-zone", "HCLOUD_LOAD_BALANCERS_NETWORK_ZONE")
        if location:
            body["location"] = location
        elif zone:
            body["network_zone"] = zone
        else:
            raise HcloudError(0, "invalid_input", f"neither {A}location nor {A}network-zone set")
        algorithm = options.text("algorithm-type", "HCLOUD_LOAD_BALANCERS_ALGORITHM_TYPE")
        if algorithm:
            body["algorithm"] = {"type": algorithm}
        public_off = _bool(options.text("disable-public-network", "HCLOUD_LOAD_BALANCERS_DISABLE_PUBLIC_NETWORK"))
        if public_off is not None:
            body["public_interface"] = not public_off
        return hcloud.act("POST", "/load_balancers", body)["load_balancer"]

    def _services(self, hcloud: Hcloud, options: Options, service: dict[str, Any], lb: dict[str, Any]) -> bool:
        protocol = options.text("protocol", None, "tcp") or "tcp"
        if protocol not in ("tcp", "http"):
            raise HcloudError(0, "not_supported", f"protocol {protocol}: the sandbox stand-in makes tcp and http only")
        proxy = options.flag("uses-proxyprotocol", "HCLOUD_LOAD_BALANCERS_USES_PROXYPROTOCOL", False)
        existing = {item["listen_port"]: item for item in lb.get("services") or []}
        changed = False
        seen = set()
        for port in (service.get("spec") or {}).get("ports") or []:
            listen = int(port["port"])
            if listen in seen or not port.get("nodePort"):
                continue
            seen.add(listen)
            node_port = int(port["nodePort"])
            wanted = {
                "protocol": protocol,
                "listen_port": listen,
                "destination_port": node_port,
                "proxyprotocol": proxy,
            }
            wanted["health_check"] = {"protocol": "tcp", "port": node_port, **HEALTH_CHECK}
            have = existing.get(listen)
            if have is None:
                hcloud.act("POST", f"/load_balancers/{lb['id']}/actions/add_service", wanted)
                changed = True
            elif any(have.get(k) != v for k, v in wanted.items() if k != "health_check") or (
                (have.get("health_check") or {}).get("port") != node_port
            ):
                hcloud.act("POST", f"/load_balancers/{lb['id']}/actions/update_service", wanted)
                changed = True
        for listen in sorted(set(existing) - seen):
            hcloud.act("POST", f"/load_balancers/{lb['id']}/actions/delete_service", {"listen_port": listen})
            changed = True
        return changed

    def _targets(
        self, hcloud: Hcloud, options: Options, network_id: int | None, lb: dict[str, Any], targets: list[int]
    ) -> bool:
        private = options.flag("use-private-ip", "HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP", False)
        if private and not network_id:
            raise HcloudError(0, "invalid_input", "use private ip: missing network id")
        changed = False
        kept = set()
        for target in lb.get("targets") or []:
            if target.get("type") != "server":
                continue
            ident = target["server"]["id"]
            if ident in targets and bool(target.get("use_private_ip")) == private:
                kept.add(ident)
                continue
            hcloud.act(
                "POST", f"/load_balancers/{lb['id']}/actions/remove_target", {"type": "server", "server": {"id": ident}}
            )
            changed = True
        for ident in targets:
            if ident not in kept:
                body = {"type": "server", "server": {"id": ident}, "use_private_ip": private}
                hcloud.act("POST", f"/load_balancers/{lb['id']}/actions/add_target", body)
                changed = True
        return changed

    @staticmethod
    def ingress(options: Options, lb: dict[str, Any]) -> list[dict[str, Any]]:
        hostname = options.text("hostname")
        if hostname:
            return [{"hostname": hostname}]
        mode = (
            "Proxy" if options.flag("uses-proxyprotocol", "HCLOUD_LOAD_BALANCERS_USES_PROXYPROTOCOL", False) else "VIP"
        )
        found = []
        public = lb.get("public_net") or {}
        if public.get("enabled"):
            for family, disable in (("ipv4", None), ("ipv6", "ipv6-disabled")):
                address = (public.get(family) or {}).get("ip")
                off = disable and options.flag(disable, "HCLOUD_LOAD_BALANCERS_DISABLE_IPV6", False)
                if address and not off:
                    found.append({"ip": address, "ipMode": mode})
        if not options.flag("disable-private-ingress", "HCLOUD_LOAD_BALANCERS_DISABLE_PRIVATE_INGRESS", False):
            found += [{"ip": p["ip"], "ipMode": mode} for p in lb.get("private_net") or [] if p.get("ip")]
        return found

    def delete(self, hcloud: Hcloud, service: dict[str, Any], lb: dict[str, Any] | None) -> str:
        said = "no load balancer"
        if lb is not None and (lb.get("protection") or {}).get("delete"):
            said = f"load balancer {lb['id']} is protected against deletion: kept"
        elif lb is not None:
            self.event(service, "Normal", "DeletingLoadBalancer", "Deleting load balancer")
            hcloud.act("DELETE", f"/load_balancers/{lb['id']}")
            self.event(service, "Normal", "DeletedLoadBalancer", "Deleted load balancer")
            said = f"load balancer {lb['id']} deleted"
        meta = service["metadata"]
        if not meta.get("deletionTimestamp") and ((service.get("status") or {}).get("loadBalancer") or {}).get(
            "ingress"
        ):
            self.api.call(
                "PATCH",
                self._path(service) + "/status",
                {"status": {"loadBalancer": None}},
                "application/merge-patch+json",
            )
        self._finalizers(service, [f for f in meta.get("finalizers") or [] if f != FINALIZER])
        self.synced.pop(meta["uid"], None)
        return said
