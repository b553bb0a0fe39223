# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The cluster model: the definition as dataclasses, with defaults applied and every node resolved.

In node settings ``None`` means "not set here", so a node can set ``false`` over a group's ``true``. Everywhere
else the defaults of docs/cluster-definition.md are filled in when the definition is read. ``Cluster.to_dict()``
is the definition resolved, as plain JSON-able data; ``published.published_model`` adds what the roles need
derived from it. Build a model with ``validate.load_cluster(document)``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import IPAddress, IPNetwork
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model_nodes import (
    ROLES,
    MetaEntry,
    Node,
    NodePool,
    NodeSettings,
    NodeSpec,
    text_or_none,
)

__all__ = [
    "ROLES", "AddressPool", "Cluster", "Edge", "Endpoint", "Gitops", "HcloudSettings", "ImageFactory",
    "LoadBalancerEndpoint", "MetaEntry", "Network", "Node", "NodePool", "NodeSettings", "NodeSpec", "Platform",
    "Provider", "ProxmoxSettings",
]  # fmt: skip


@dataclass
class ImageFactory:
    url: str = "https://factory.talos.dev"
    installer_registry: str = "factory.talos.dev"
    validate_certs: bool = True
    download: bool = False
    cache_dir: str = "~/.cache/talosforge/images"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class HcloudSettings:
    location: str = "fsn1"
    network_zone: str = "eu-central"
    network_ip_range: IPNetwork | None = None
    public_ipv4: bool = True
    public_ipv6: bool = True
    delete_protection: bool = False
    placement_groups: bool = False
    firewall_source_cidrs: list[IPNetwork] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["network_ip_range"] = text_or_none(self.network_ip_range)
        data["firewall_source_cidrs"] = [str(c) for c in self.firewall_source_cidrs]
        return data


@dataclass
class ProxmoxSettings:
    api_url: str | None = None
    validate_certs: bool = True
    nodes: list[str] = field(default_factory=list)
    storage: str = "local-lvm"
    image_storage: str = "local"
    bridge: str = "vmbr0"
    vlan: int | None = None
    addressing: str = "meta"
    interface: str = "ens18"
    vmid_base: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "nodes": list(self.nodes)}


@dataclass
class Provider:
    type: str | None = None
    hcloud: HcloudSettings | None = None
    proxmox: ProxmoxSettings | None = None

    @property
    def settings(self) -> HcloudSettings | ProxmoxSettings | None:
        return self.hcloud if self.type == "hcloud" else self.proxmox if self.type == "proxmox" else None

    def to_dict(self) -> dict[str, Any]:
        settings = self.settings
        return {"type": self.type, "settings": settings.to_dict() if settings else {}}


@dataclass
class Network:
    nodes: IPNetwork | None = None
    gateway: IPAddress | None = None
    nameservers: list[IPAddress] = field(default_factory=list)
    pods: IPNetwork | None = None
    services: IPNetwork | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": text_or_none(self.nodes),
            "gateway": text_or_none(self.gateway),
            "nameservers": [str(n) for n in self.nameservers],
            "pods": text_or_none(self.pods),
            "services": text_or_none(self.services),
        }


@dataclass
class LoadBalancerEndpoint:
    type: str = "lb11"
    location: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "location": self.location}


@dataclass
class Endpoint:
    vip: IPAddress | None = None
    load_balancer: LoadBalancerEndpoint | None = None
    host: str | None = None
    port: int = 6443
    extra_sans: list[str] = field(default_factory=list)
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "vip": text_or_none(self.vip),
            "load_balancer": self.load_balancer.to_dict() if self.load_balancer else None,
            "host": self.host,
            "port": self.port,
            "extra_sans": list(self.extra_sans),
            "url": self.url,
        }


@dataclass
class AddressPool:
    name: str | None
    addresses: list[str]
    ranges: list[tuple[IPAddress, IPAddress]] = field(default_factory=list, repr=False)
    positions: list[int] = field(default_factory=list, repr=False)  # index of each range in the list as written
    path: str = field(default="", compare=False)

    @property
    def size(self) -> int:
        return sum(int(last) - int(first) + 1 for first, last in self.ranges)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "addresses": list(self.addresses)}


@dataclass
class Platform:
    cni_type: str = "cilium"
    kube_proxy_replacement: bool = True
    host_legacy_routing: bool = False
    load_balancer_type: str = "none"
    pools: list[AddressPool] = field(default_factory=list)
    ingress_type: str = "none"
    ingress_pool: str | None = None
    ingress_replicas: int = 1
    cert_manager_enabled: bool = False
    cert_manager_email: str | None = None
    cert_manager_dns01: str = "none"
    cert_manager_directory: str = "production"
    powerdns_enabled: bool = False
    powerdns_pool: str | None = None
    powerdns_zone: str | None = None
    sealed_secrets_enabled: bool = False
    hcloud_ccm: bool = False
    hcloud_csi: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "cni": {
                "type": self.cni_type,
                "kube_proxy_replacement": self.kube_proxy_replacement,
                "host_legacy_routing": self.host_legacy_routing,
            },
            "load_balancer": {"type": self.load_balancer_type, "pools": [p.to_dict() for p in self.pools]},
            "ingress": {"type": self.ingress_type, "pool": self.ingress_pool, "replicas": self.ingress_replicas},
            "cert_manager": {
                "enabled": self.cert_manager_enabled,
                "email": self.cert_manager_email,
                "dns01": self.cert_manager_dns01,
                "directory": self.cert_manager_directory,
            },
            "dns": {
                "powerdns": {"enabled": self.powerdns_enabled, "pool": self.powerdns_pool, "zone": self.powerdns_zone}
            },
            "sealed_secrets": {"enabled": self.sealed_secrets_enabled},
            "hcloud": {"ccm": self.hcloud_ccm, "csi": self.hcloud_csi},
        }


# The Flux distribution flux-operator installs (a version range it resolves), and the controllers: the GitOps tree
# needs the first three; notification-controller sends Flux's events on.
FLUX_VERSION = "2.9.x"
FLUX_COMPONENTS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
FLUX_REQUIRED_COMPONENTS = FLUX_COMPONENTS[:3]
FLUX_KNOWN_COMPONENTS = (
    *FLUX_COMPONENTS,
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
)


@dataclass
class Gitops:
    flux_enabled: bool = False
    flux_url: str | None = None
    flux_branch: str = "main"
    flux_path: str | None = None
    flux_version: str = FLUX_VERSION
    flux_components: list[str] = field(default_factory=lambda: list(FLUX_COMPONENTS))
    infrastructure_path: str = "infrastructure"
    apps_path: str = "apps"

    def to_dict(self) -> dict[str, Any]:
        flux = {
            "enabled": self.flux_enabled,
            "url": self.flux_url,
            "branch": self.flux_branch,
            "path": self.flux_path,
            "version": self.flux_version,
            "components": list(self.flux_components),
        }
        return {"flux": flux, "layout": {"infrastructure": self.infrastructure_path, "apps": self.apps_path}}


@dataclass
class Edge:
    host: str | None = None
    public_address: IPAddress | None = None
    domain: str | None = None
    mesh_type: str = "tailscale"
    mesh_login_server: str | None = None
    acme_directory: str = "production"
    acme_email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "public_address": text_or_none(self.public_address),
            "domain": self.domain,
            "mesh": {"type": self.mesh_type, "login_server": self.mesh_login_server},
            "acme": {"directory": self.acme_directory, "email": self.acme_email},
        }


@dataclass
class Cluster:
    name: str | None = None
    talos_version: str | None = None
    kubernetes_version: str | None = None
    allow_scheduling_on_control_planes: bool = False
    image_factory: ImageFactory = field(default_factory=ImageFactory)
    provider: Provider = field(default_factory=Provider)
    network: Network = field(default_factory=Network)
    endpoint: Endpoint = field(default_factory=Endpoint)
    patches: list[Any] = field(default_factory=list)
    node_defaults: NodeSettings = field(default_factory=NodeSettings)
    control_plane: NodeSettings = field(default_factory=NodeSettings)
    worker: NodeSettings = field(default_factory=NodeSettings)
    node_pools: list[NodePool] = field(default_factory=list)
    node_specs: list[NodeSpec] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    platform: Platform = field(default_factory=Platform)
    gitops: Gitops = field(default_factory=Gitops)
    edge: Edge | None = None

    def nodes_with_role(self, role: str) -> list[Node]:
        return [node for node in self.nodes if node.role == role]

    @property
    def control_planes(self) -> list[Node]:
        return self.nodes_with_role("controlplane")

    @property
    def workers(self) -> list[Node]:
        return self.nodes_with_role("worker")

    @property
    def node_groups(self) -> dict[str, list[str]]:
        return {role: [node.name for node in self.nodes_with_role(role)] for role in ROLES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "talos_version": self.talos_version,
            "kubernetes_version": self.kubernetes_version,
            "allow_scheduling_on_control_planes": self.allow_scheduling_on_control_planes,
            "image_factory": self.image_factory.to_dict(),
            "provider": self.provider.to_dict(),
            "network": self.network.to_dict(),
            "endpoint": self.endpoint.to_dict(),
            "patches": copy.deepcopy(self.patches),
            "nodes": [node.to_dict() for node in self.nodes],
            "node_groups": self.node_groups,
            "platform": self.platform.to_dict(),
            "gitops": self.gitops.to_dict(),
            "edge": self.edge.to_dict() if self.edge else None,
        }
