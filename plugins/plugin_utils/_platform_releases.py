# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The Helm releases of the platform stage, from the cluster model: which charts, in which order, with which values.

Pure: ``talosforge_cluster`` and the role's settings in, the release list that ``helm_releases`` takes out. Each
release carries ``step``: ``cni`` (installed right after bootstrap, before the nodes can turn Ready: Cilium and,
on Hetzner, the cloud controller manager that removes the nodes' uninitialized taint) or ``services`` (the rest,
once the cluster is healthy). The values follow PLATFORM.md's sources: Talos's and Cilium's Talos guides for
Cilium, the hcloud CCM's private-network guide, MetalLB's pod-security note.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Where each component's chart lives upstream, and its chart name there (overridable per component, or all at once
# with a mirror: ``repository``).
CHARTS: dict[str, dict[str, str]] = {
    "cilium": {"chart": "cilium", "repo": "https://helm.cilium.io/", "namespace": "kube-system"},
    "hcloud-ccm": {
        "chart": "hcloud-cloud-controller-manager",
        "repo": "https://charts.hetzner.cloud",
        "namespace": "kube-system",
    },
    "metallb": {"chart": "metallb", "repo": "https://metallb.github.io/metallb", "namespace": "metallb-system"},
    "ingress-nginx": {
        "chart": "ingress-nginx",
        "repo": "https://kubernetes.github.io/ingress-nginx",
        "namespace": "ingress-nginx",
    },
    "envoy-gateway": {
        "chart": "oci://docker.io/envoyproxy/gateway-helm",
        "repo": "",
        "namespace": "envoy-gateway-system",
    },
    "cert-manager": {"chart": "cert-manager", "repo": "https://charts.jetstack.io", "namespace": "cert-manager"},
    "sealed-secrets": {
        "chart": "sealed-secrets",
        "repo": "https://bitnami-labs.github.io/sealed-secrets",
        "namespace": "kube-system",
    },
    "hcloud-csi": {"chart": "hcloud-csi", "repo": "https://charts.hetzner.cloud", "namespace": "kube-system"},
    # The GitOps stage's: flux-operator installs Flux from the FluxInstance the stage applies.
    "flux-operator": {
        "chart": "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator",
        "repo": "",
        "namespace": "flux-system",
    },
}

# Talos forbids loading kernel modules from workloads, so Cilium's agent runs without SYS_MODULE.
CILIUM_AGENT_CAPABILITIES = [
    "CHOWN",
    "KILL",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "SYS_ADMIN",
    "SYS_RESOURCE",
    "DAC_OVERRIDE",
    "FOWNER",
    "SETGID",
    "SETUID",
]
KUBEPRISM = ("localhost", 7445)
TALOS_POD_NETWORK = "10.244.0.0/16"
POOL_LABEL = "talosforge.io/pool"


class PlatformPlanError(ValueError):
    """The model or the role's settings are not what the plan takes."""


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, mappings merged key by key, anything else replaced."""
    result = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _platform(cluster: Any) -> dict[str, Any]:
    platform = cluster.get("platform") if isinstance(cluster, Mapping) else None
    if not isinstance(platform, Mapping):
        raise PlatformPlanError("expects the cluster model, talosforge_cluster, with its platform")
    return dict(platform)


def _control_planes(cluster: Mapping[str, Any]) -> int:
    return sum(1 for node in cluster.get("nodes") or [] if node.get("role") == "controlplane")


def service_pinning(
    cluster: Mapping[str, Any], pool: str | None, address: str | None, name: str = "ingress"
) -> dict[str, dict[str, str]]:
    """The labels and annotations that put a Service on ``address`` of ``pool``, as the cluster's load balancer reads
    them: MetalLB's pool and address annotations, or Cilium LB-IPAM's pool label (the pools' service selector) and
    address annotation. On Hetzner Cloud, where the cloud controller manager makes a load balancer per Service, the
    load balancer's name (``<cluster>-<name>``), location and private targets. Empty for no load balancer."""
    kind = _platform(cluster)["load_balancer"]["type"]
    if kind == "hcloud":
        settings = (cluster.get("provider") or {}).get("settings") or {}
        annotations = {
            "load-balancer.hetzner.cloud/name": f"{cluster.get('name')}-{name}",
            "load-balancer.hetzner.cloud/use-private-ip": "true",
        }
        if settings.get("location"):
            annotations["load-balancer.hetzner.cloud/location"] = str(settings["location"])
        return {"labels": {}, "annotations": annotations}
    if not pool:
        return {"labels": {}, "annotations": {}}
    if kind == "metallb":
        annotations = {"metallb.io/address-pool": pool}
        if address:
            annotations["metallb.io/loadBalancerIPs"] = address
        return {"labels": {}, "annotations": annotations}
    if kind == "cilium-l2":
        return {"labels": {POOL_LABEL: pool}, "annotations": {"lbipam.cilium.io/ips": address} if address else {}}
    return {"labels": {}, "annotations": {}}


def cilium_values(cluster: Mapping[str, Any]) -> dict[str, Any]:
    platform = _platform(cluster)
    cni = platform["cni"]
    kpr = bool(cni.get("kube_proxy_replacement"))
    values: dict[str, Any] = {
        "ipam": {"mode": "kubernetes"},
        "kubeProxyReplacement": kpr,
        "securityContext": {
            "capabilities": {
                "ciliumAgent": list(CILIUM_AGENT_CAPABILITIES),
                "cleanCiliumState": ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
            }
        },
        "cgroup": {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"},
        "operator": {"replicas": 2 if _control_planes(cluster) > 1 else 1},
    }
    if kpr:
        values["k8sServiceHost"], values["k8sServicePort"] = KUBEPRISM
    if cni.get("host_legacy_routing"):
        # Talos forwards kube-DNS to the host; with eBPF host routing that path breaks (siderolabs/talos#10002).
        values["bpf"] = {"hostLegacyRouting": True}
    if platform["load_balancer"]["type"] == "cilium-l2":
        values["l2announcements"] = {"enabled": True}
        # L2 announcements renew one lease per Service: Cilium's own sizing note asks for a higher client rate.
        values["k8sClientRateLimit"] = {"qps": 20, "burst": 40}
    if platform["ingress"]["type"] == "cilium":
        values["gatewayAPI"] = {"enabled": True, "enableAlpn": True, "enableAppProtocol": True}
    if (cluster.get("provider") or {}).get("type") == "hcloud":
        # The hcloud CCM's route controller gives every node its pod range in the network: native routing.
        values["routingMode"] = "native"
        values["ipv4NativeRoutingCIDR"] = (cluster.get("network") or {}).get("pods") or TALOS_POD_NETWORK
    return values


def _hcloud_ccm_values(cluster: Mapping[str, Any]) -> dict[str, Any]:
    pods = (cluster.get("network") or {}).get("pods") or TALOS_POD_NETWORK
    env = {
        # Through KubePrism, so the CCM does not wait for the Service network it helps to bring up.
        "KUBERNETES_SERVICE_HOST": {"value": KUBEPRISM[0]},
        "KUBERNETES_SERVICE_PORT": {"value": str(KUBEPRISM[1])},
        # Load balancers of Services join the cluster's network and reach the nodes on their private addresses.
        "HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP": {"value": "true"},
    }
    location = ((cluster.get("provider") or {}).get("settings") or {}).get("location")
    if location:
        env["HCLOUD_LOAD_BALANCERS_LOCATION"] = {"value": str(location)}
    return {"networking": {"enabled": True, "clusterCIDR": pods}, "env": env}


def _ingress_nginx_values(cluster: Mapping[str, Any]) -> dict[str, Any]:
    ingress = _platform(cluster)["ingress"]
    pin = service_pinning(cluster, ingress.get("pool"), ingress.get("address"))
    service: dict[str, Any] = {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster"}
    if pin["labels"]:
        service["labels"] = pin["labels"]
    if pin["annotations"]:
        service["annotations"] = pin["annotations"]
    return {"controller": {"replicaCount": int(ingress.get("replicas") or 1), "service": service}}


def _hcloud_csi_values(cluster: Mapping[str, Any]) -> dict[str, Any]:
    return {"storageClasses": [{"name": "hcloud-volumes", "defaultStorageClass": True, "reclaimPolicy": "Delete"}]}


def components(cluster: Any) -> list[tuple[str, str, Any]]:
    """``(component, step, values builder)`` of what the model asks for, in install order."""
    platform = _platform(cluster)
    provider = (cluster.get("provider") or {}).get("type")
    hcloud = platform.get("hcloud") or {}
    wanted: list[tuple[str, str, Any]] = []
    if platform["cni"]["type"] == "cilium":
        wanted.append(("cilium", "cni", cilium_values))
    if provider == "hcloud" and hcloud.get("ccm"):
        wanted.append(("hcloud-ccm", "cni", _hcloud_ccm_values))
    if platform["load_balancer"]["type"] == "metallb":
        wanted.append(("metallb", "services", lambda _cluster: {}))
    ingress = platform["ingress"]["type"]
    if ingress == "ingress-nginx":
        wanted.append(("ingress-nginx", "services", _ingress_nginx_values))
    if ingress == "gateway":
        wanted.append(("envoy-gateway", "services", lambda _cluster: {}))
    if (platform.get("cert_manager") or {}).get("enabled"):
        wanted.append(("cert-manager", "services", lambda _cluster: {"crds": {"enabled": True}}))
    if (platform.get("sealed_secrets") or {}).get("enabled"):
        # The name kubeseal looks for by default.
        wanted.append(
            ("sealed-secrets", "services", lambda _cluster: {"fullnameOverride": "sealed-secrets-controller"})
        )
    if provider == "hcloud" and hcloud.get("csi"):
        wanted.append(("hcloud-csi", "services", _hcloud_csi_values))
    if (((cluster.get("gitops") or {}).get("flux")) or {}).get("enabled"):
        wanted.append(("flux-operator", "gitops", lambda _cluster: {}))
    return wanted


def _check_cilium_dns(values: Mapping[str, Any]) -> None:
    """Refuse Cilium values that break DNS on Talos: kube-proxy replacement with BPF masquerading turns on eBPF host
    routing, which loses the kube-DNS queries Talos forwards to the host (siderolabs/talos#10002)."""
    bpf = values.get("bpf") or {}
    if values.get("kubeProxyReplacement") and bpf.get("masquerade") and not bpf.get("hostLegacyRouting"):
        raise PlatformPlanError(
            "Cilium with kubeProxyReplacement and bpf.masquerade but without bpf.hostLegacyRouting breaks DNS on Talos "
            "(eBPF host routing loses the kube-DNS queries Talos forwards to the host); set "
            "platform.cni.host_legacy_routing: true, or drop bpf.masquerade from platform_values.cilium"
        )


def node_expectations(names: Any, ready: bool = True) -> list[dict[str, Any]]:
    """``kube_objects`` expectations: each named Node Ready (``ready``), or only registered."""
    if not isinstance(names, (list, tuple)):
        raise PlatformPlanError("expects a list of node names")
    expectation: dict[str, Any] = {"apiVersion": "v1", "kind": "Node"}
    if ready:
        expectation["ready"] = True
    return [{**expectation, "name": str(name)} for name in names]


def platform_releases(
    cluster: Any,
    versions: Mapping[str, Any],
    repository: str = "",
    values: Mapping[str, Any] | None = None,
    charts: Mapping[str, Any] | None = None,
    step: str = "",
) -> list[dict[str, Any]]:
    """The ``releases`` of helm_releases, in install order: those of ``step`` (cni, services or gitops), or all.

    ``versions``: the pinned chart version of each component. ``repository``: one chart repository (a mirror) for
    every chart, instead of each chart's upstream one. ``values``: per component, values merged over the
    collection's. ``charts``: per component, ``{chart, repo, namespace}`` replacing the upstream ones.
    """
    if not isinstance(versions, Mapping):
        raise PlatformPlanError("versions must map each component to its chart version")
    extra_values = values or {}
    releases = []
    if step not in ("", "cni", "services", "gitops"):
        raise PlatformPlanError(f"step must be cni, services or gitops, not {step!r}")
    for component, release_step, build in components(cluster):
        if step and release_step != step:
            continue
        source = {**CHARTS[component], **dict((charts or {}).get(component) or {})}
        version = versions.get(component)
        if not version:
            raise PlatformPlanError(f"no chart version for {component}: set platform_chart_versions.{component}")
        chart, repo = source["chart"], source["repo"]
        if repository:
            chart, repo = chart.rsplit("/", 1)[-1], repository
        override = extra_values.get(component) or {}
        if not isinstance(override, Mapping):
            raise PlatformPlanError(f"platform_values.{component} must be a mapping of chart values")
        merged = merge(build(cluster), override)
        if component == "cilium":
            _check_cilium_dns(merged)
        releases.append(
            {
                "name": component,
                "namespace": source["namespace"],
                "chart": chart,
                "repo": repo,
                "version": str(version),
                "values": merged,
            }
        )
    return releases
