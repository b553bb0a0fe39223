"""The kubelet stand-in: registers the sandbox's Talos nodes with the cluster's real kube-apiserver.

No kubelet runs in the sandbox, so one small process per cluster plays all of them. Every ``POLL_S`` it reads the
talosctl stand-in's node records and, for each configured, running node of the cluster:

- registers its Node object as the kubelet would, with the node's own identity (a client certificate
  ``system:node:<hostname>`` in group ``system:nodes`` signed by the cluster CA, so the Node authorizer and the
  NodeRestriction admission plugin apply): hostname, os and arch labels, the node's address, the
  ``node.cloudprovider.kubernetes.io/uninitialized`` taint when the config enables an external cloud provider;
- applies the role label, ``machine.nodeLabels``, ``machine.nodeTaints`` and the control-plane taint with the
  admin identity, as Talos's machined does (a kubelet may not set them);
- reports the Ready condition: ``False`` (``container runtime network not ready ... cni plugin not initialized``)
  until a CNI is installed, ``True`` after; a CNI counts as installed when one of :data:`CNI_DAEMONSETS` exists;
- renews the node's Lease in ``kube-node-lease`` every ``LEASE_RENEW_S``.

A node that is reset (its record gone, or back in maintenance mode) has its Node object deleted; one that reboots
keeps it. Writes happen only when something changes (and the lease renewals), so a quiet cluster stays quiet in
the audit log.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

from ..simulators.talos.state import Node, Store
from . import certs
from .client import Api
from .loop import arguments, exit_on_sigterm, run_forever
from .loop import now as _now
from .machine_config import v1alpha1

POLL_S = 1.0
LEASE_RENEW_S = 10.0
LEASE_DURATION_S = 40
# (namespace, name) of the DaemonSets whose presence means a CNI is installed. Cilium's chart names its agent
# "cilium" in the release namespace (kube-system on Talos); flannel, Talos's default CNI, "kube-flannel".
CNI_DAEMONSETS = {("kube-system", "cilium"), ("kube-system", "kube-flannel"), ("kube-flannel", "kube-flannel-ds")}
NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def _micro_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Kubelets:
    def __init__(self, state_dir: Path, cluster_dir: Path) -> None:
        record = json.loads((cluster_dir / "cluster.json").read_text())
        self.cluster_id = record["cluster_id"]
        self.store = Store(state_dir)
        self.cluster_dir = cluster_dir
        apiserver = json.loads((cluster_dir / "apiserver" / "apiserver.json").read_text())
        self.url = apiserver["url"]
        self.pki_dir = cluster_dir / "apiserver" / "pki"
        self.kubelet_dir = cluster_dir / "kubelets"
        self.admin = Api.admin(self.url, self.pki_dir)
        # Real kubelets get their client certificate through TLS bootstrapping (a CSR that the controller manager
        # signs); the stand-in signs with the cluster CA directly, from the config the cluster was bootstrapped with.
        bootstrap_config = v1alpha1((cluster_dir / "bootstrap-config.yaml").read_text())
        self.ca = certs.ClusterPKI.from_config(bootstrap_config).kubernetes
        self.leases: dict[str, float] = {}
        self.registered: dict[str, str] = {}  # node name -> fingerprint of what was last written
        self.identities: dict[str, Api] = {}
        self.configs: dict[str, dict[str, Any]] = {}  # parsed machine configs by their SHA-256

    def _identity(self, hostname: str) -> Api:
        if hostname not in self.identities:
            crt = self.kubelet_dir / f"{hostname}.crt"
            if not crt.exists():
                client = certs.issue_client(self.ca, f"system:node:{hostname}", ["system:nodes"])
                certs.write_pair(self.kubelet_dir, hostname, client)
            key = self.kubelet_dir / f"{hostname}.key"
            self.identities[hostname] = Api(self.url, self.pki_dir / "ca.crt", crt, key)
        return self.identities[hostname]

    def _nodes(self) -> list[tuple[Node, dict[str, Any]]]:
        """The cluster's configured nodes (any stage but maintenance and off) with their parsed machine configs."""
        found = []
        for node in self.store.nodes():
            if node.cluster_id != self.cluster_id or not node.configured:
                continue
            digest = str(node.config_sha256)
            if digest not in self.configs:
                text = self.store.config(node.address)
                if not text:
                    continue
                self.configs[digest] = v1alpha1(text)
            found.append((node, self.configs[digest]))
        return found

    def sync(self) -> None:
        """One round: two reads (the Node list, the DaemonSet list), and writes only where something changed."""
        nodes = self._nodes()
        listed = {item["metadata"]["name"]: item for item in (self.admin.call("GET", "/api/v1/nodes") or {})["items"]}
        ready = False
        if nodes:
            daemonsets = (self.admin.call("GET", "/apis/apps/v1/daemonsets") or {})["items"]
            ready = bool({(d["metadata"]["namespace"], d["metadata"]["name"]) for d in daemonsets} & CNI_DAEMONSETS)
        wanted = set()
        for node, config in nodes:
            wanted.add(node.hostname)  # a node that reboots or upgrades keeps its Node object
            if node.stage == "running":
                self._register(node, config, ready, listed.get(node.hostname))
        for name, item in listed.items():
            if name not in wanted and item["metadata"].get("annotations", {}).get("talosforge.dev/sandbox") == "true":
                self.admin.call("DELETE", f"/api/v1/nodes/{name}")
                self.registered.pop(name, None)
                self.leases.pop(name, None)

    def _register(self, node: Node, config: dict[str, Any], ready: bool, current: dict[str, Any] | None) -> None:
        machine, cluster = config.get("machine") or {}, config.get("cluster") or {}
        kubelet = self._identity(node.hostname)
        name = node.hostname
        arch = "arm64" if "arm64" in str(node.installer_image or "") else "amd64"
        external_cloud = bool((cluster.get("externalCloudProvider") or {}).get("enabled"))
        fingerprint = json.dumps([node.address, node.kubernetes_version, ready, external_cloud, node.config_sha256])
        if current is None:
            uninitialized = {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true"}
            body = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": arch,
                        "beta.kubernetes.io/os": "linux",
                        "beta.kubernetes.io/arch": arch,
                    },
                    "annotations": {"talosforge.dev/sandbox": "true"},
                },
                "spec": {"taints": [{**uninitialized, "effect": "NoSchedule"}]} if external_cloud else {},
            }
            current = kubelet.call("POST", "/api/v1/nodes", body)
            self.registered.pop(name, None)
        if self.registered.get(name) != fingerprint:
            # Read again: the cloud controller manager may have lifted the uninitialized taint since the list.
            fresh = self.admin.call("GET", f"/api/v1/nodes/{name}") or current or {}
            self._labels_and_taints(name, machine, cluster, ready, fresh)
            status = self._status(node, ready)
            if external_cloud and (fresh.get("status") or {}).get("addresses"):
                # A kubelet with an external cloud provider leaves the addresses to the cloud controller manager.
                del status["addresses"]
            kubelet.call(
                "PATCH", f"/api/v1/nodes/{name}/status", {"status": status}, "application/strategic-merge-patch+json"
            )
            self.registered[name] = fingerprint
        if time.monotonic() - self.leases.get(name, 0.0) >= LEASE_RENEW_S:
            self._renew_lease(kubelet, name)
            self.leases[name] = time.monotonic()

    def _labels_and_taints(
        self, name: str, machine: dict[str, Any], cluster: dict[str, Any], ready: bool, current: dict[str, Any]
    ) -> None:
        """Role label and taint, machine.nodeLabels and machine.nodeTaints, with the admin identity (as machined)."""
        labels = {str(key): str(value) for key, value in (machine.get("nodeLabels") or {}).items()}
        taints = []
        for key, spec in (machine.get("nodeTaints") or {}).items():
            value, effect = str(spec).rpartition(":")[::2]
            taints.append({"key": str(key), "effect": effect, **({"value": value} if value else {})})
        if machine.get("type") == "controlplane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            if not cluster.get("allowSchedulingOnControlPlanes"):
                taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        kept = [t for t in (current.get("spec") or {}).get("taints") or [] if t["key"].startswith("node.")]
        if ready:
            # Tier 1 runs no kube-controller-manager, whose node lifecycle controller lifts this taint.
            kept = [t for t in kept if t["key"] != "node.kubernetes.io/not-ready"]
        self.admin.call(
            "PATCH",
            f"/api/v1/nodes/{name}",
            {"metadata": {"labels": labels}, "spec": {"taints": kept + taints}},
            "application/merge-patch+json",
        )

    def _status(self, node: Node, ready: bool) -> dict[str, Any]:
        now = _now()
        condition = {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready else NOT_READY,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        pressure = [
            {
                "type": kind,
                "status": "False",
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
            for kind, reason, message in (
                ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            )
        ]
        version = node.kubernetes_version or "1.36.3"
        return {
            "conditions": [*pressure, condition],
            "addresses": [
                {"type": "InternalIP", "address": node.address},
                {"type": "Hostname", "address": node.hostname},
            ],
            "capacity": {"cpu": "2", "memory": "4017664Ki", "pods": "110", "ephemeral-storage": "20511312Ki"},
            "allocatable": {"cpu": "1950m", "memory": "3513856Ki", "pods": "110", "ephemeral-storage": "18903225108"},
            "nodeInfo": {
                "machineID": node.machine_id,
                "systemUUID": node.machine_id,
                "bootID": f"{node.machine_id}-{node.reboots}",
                "kernelVersion": "6.18.0-talos",
                "osImage": f"Talos ({node.talos_version})",
                "containerRuntimeVersion": "containerd://2.2.1",
                "kubeletVersion": f"v{version.lstrip('v')}",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "arm64" if "arm64" in str(node.installer_image or "") else "amd64",
            },
        }

    def _renew_lease(self, kubelet: Api, name: str) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        spec = {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_S, "renewTime": _micro_now()}
        if kubelet.call("GET", path) is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name}, "spec": spec}
            kubelet.call("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", body)
        else:
            kubelet.call("PATCH", path, {"spec": spec}, "application/merge-patch+json")


def main(argv: list[str] | None = None) -> int:
    args = arguments("sandbox.kube.kubelets", __doc__, argv, "--state-dir", "--cluster-dir")
    exit_on_sigterm()
    kubelets = Kubelets(args.state_dir, args.cluster_dir)

    def sync() -> bool:
        kubelets.sync()
        return True

    run_forever(sync, (OSError, urllib.error.URLError, ValueError, KeyError), POLL_S)


if __name__ == "__main__":
    sys.exit(main())
