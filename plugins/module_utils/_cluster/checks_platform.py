# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Checks across the platform, load-balancer pools and the services that take addresses from them, and the edge."""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import Report, did_you_mean
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import Cluster

LAYER2_TYPES = ("metallb", "cilium-l2")


def _overlap(a: tuple[Any, Any], b: tuple[Any, Any]) -> bool:
    return a[0].version == b[0].version and int(a[0]) <= int(b[1]) and int(b[0]) <= int(a[1])


def _span(network: Any) -> tuple[Any, Any]:
    return network.network_address, network.broadcast_address


def check_platform(cluster: Cluster, report: Report) -> None:
    p, provider = cluster.platform, cluster.provider.type
    if p.cni_type != "cilium":
        if p.kube_proxy_replacement:
            report.error(
                "platform.cni.kube_proxy_replacement",
                f"needs Cilium, but the CNI is {p.cni_type}",
                "set platform.cni.type: cilium, or kube_proxy_replacement: false",
            )
        if p.host_legacy_routing:
            report.error(
                "platform.cni.host_legacy_routing",
                f"is a Cilium setting, but the CNI is {p.cni_type}",
                "set platform.cni.type: cilium, or remove host_legacy_routing",
            )
        if p.load_balancer_type == "cilium-l2":
            report.error(
                "platform.load_balancer.type",
                f"cilium-l2 needs Cilium, but the CNI is {p.cni_type}",
                "set platform.cni.type: cilium, or use metallb",
            )
    if p.load_balancer_type == "hcloud":
        if provider != "hcloud":
            report.error(
                "platform.load_balancer.type",
                f"hcloud load balancers need provider hcloud, not {provider}",
                f"use one of {', '.join(LAYER2_TYPES)} on Proxmox",
            )
        elif not p.hcloud_ccm:
            report.error(
                "platform.load_balancer.type",
                "hcloud load balancers are made by the Hetzner cloud "
                "controller manager, which platform.hcloud.ccm turns off",
                "set platform.hcloud.ccm: true",
            )
    if p.load_balancer_type == "metallb" and provider == "hcloud":
        report.warning(
            "platform.load_balancer.type",
            "MetalLB's layer 2 announcements do not work in Hetzner Cloud networks",
            "use type: hcloud (Hetzner load balancers through the cloud controller manager)",
        )
    if provider != "hcloud":
        for key in ("ccm", "csi"):
            if getattr(p, f"hcloud_{key}"):
                report.error(
                    f"platform.hcloud.{key}",
                    f"is a Hetzner Cloud component, but the provider is {provider}",
                    f"remove platform.hcloud.{key}",
                )
    _check_ingress(cluster, report)
    _check_pools(cluster, report)
    _check_services(cluster, report)
    _check_certificates(cluster, report)


def _check_ingress(cluster: Cluster, report: Report) -> None:
    p, provider = cluster.platform, cluster.provider.type
    if p.ingress_type == "cilium" and (p.cni_type != "cilium" or not p.kube_proxy_replacement):
        report.error(
            "platform.ingress.type",
            "the Cilium Gateway needs Cilium with kube-proxy replacement, but the CNI is "
            + (p.cni_type if p.cni_type != "cilium" else "Cilium without kube_proxy_replacement"),
            "set platform.cni.type: cilium with kube_proxy_replacement: true, or use ingress type gateway",
        )
    if p.ingress_type == "ingress-nginx":
        report.warning(
            "platform.ingress.type",
            "ingress-nginx was retired upstream in March 2026 and gets no security fixes",
            "move to type: gateway (Envoy Gateway, Gateway API; ingress2gateway converts Ingress objects)",
        )
    if p.powerdns_enabled and provider == "hcloud":
        report.error(
            "platform.dns.powerdns.enabled",
            "Hetzner load balancers carry TCP only, so the in-cluster PowerDNS could not answer DNS over UDP",
            "run PowerDNS on the edge VPS (edge.domain) and set platform.dns.powerdns.enabled: false",
        )
    if p.load_balancer_type == "metallb" and cluster.nodes and all(n.role == "controlplane" for n in cluster.nodes):
        report.warning(
            "platform.load_balancer.type",
            "every node is a control plane, and Talos labels control planes "
            "node.kubernetes.io/exclude-from-external-load-balancers, so MetalLB announces from none of them",
            "add workers, or remove that label with a control-plane patch (machine.nodeLabels)",
        )


def _check_pools(cluster: Cluster, report: Report) -> None:
    p, net = cluster.platform, cluster.network
    if p.pools and p.load_balancer_type not in LAYER2_TYPES:
        report.error(
            "platform.load_balancer.pools",
            f"address pools are for metallb and cilium-l2, but the load balancer type is {p.load_balancer_type}",
            "set platform.load_balancer.type: metallb or cilium-l2, or remove the pools",
        )
    names: dict[str, str] = {}
    spans: list[tuple[str, tuple[Any, Any]]] = []
    for pool in p.pools:
        if pool.name is not None:
            if pool.name in names:
                report.error(
                    f"{pool.path}.name",
                    f'pool name "{pool.name}" is also used by {names[pool.name]}',
                    "give every pool its own name",
                )
            names.setdefault(pool.name, pool.path)
        for i, span in enumerate(pool.ranges):
            where = f"{pool.path}.addresses[{pool.positions[i]}]"
            for other_where, other in spans:
                if _overlap(span, other):
                    report.error(
                        where,
                        f"{pool.addresses[i]} overlaps {other_where}",
                        "make the pools disjoint; an address can belong to one pool only",
                    )
            spans.append((where, span))
            _check_pool_range(cluster, pool.addresses[i], span, where, report)
    if net.nodes is not None and p.load_balancer_type in LAYER2_TYPES:
        for where, span in spans:
            inside = span[0].version == net.nodes.version and span[0] in net.nodes and span[1] in net.nodes
            if not inside:
                report.error(
                    where,
                    f"{span[0]}..{span[1]} is not inside network.nodes {net.nodes}, so "
                    f"{p.load_balancer_type} cannot announce it on the nodes' layer 2 network",
                    f"choose addresses inside {net.nodes} that no node uses",
                )
            elif span[0] == net.nodes.network_address or (
                net.nodes.version == 4 and span[1] == net.nodes.broadcast_address
            ):
                report.error(
                    where,
                    f"includes the network or broadcast address of {net.nodes}",
                    "start the pool after the network address and end it before the broadcast address",
                )


def _check_pool_range(cluster: Cluster, text: str, span: tuple[Any, Any], where: str, report: Report) -> None:
    net = cluster.network
    for name, network in (("network.pods", net.pods), ("network.services", net.services)):
        if network is not None and _overlap(span, _span(network)):
            report.error(where, f"{text} overlaps {name} {network}", f"choose addresses outside {network}")
    for node in cluster.nodes:
        if node.address is not None and _overlap(span, (node.address, node.address)):
            report.error(
                where,
                f"{text} includes {node.address}, the address of node {node.name}",
                "leave node addresses out of load-balancer pools",
            )
    vip = cluster.endpoint.vip
    if vip is not None and _overlap(span, (vip, vip)):
        report.error(where, f"{text} includes the API VIP {vip} (endpoint.vip)", "leave the VIP out of the pool")
    gateway = net.gateway
    if gateway is not None and _overlap(span, (gateway, gateway)):
        report.error(where, f"{text} includes the gateway {gateway}", "leave the gateway out of the pool")


def _check_services(cluster: Cluster, report: Report) -> None:
    p = cluster.platform
    users: dict[str, list[str]] = {}
    wants = []
    if p.ingress_pool is not None:
        wants.append(("platform.ingress.pool", p.ingress_pool, "ingress", p.ingress_type != "none"))
    if p.powerdns_pool is not None:
        wants.append(("platform.dns.powerdns.pool", p.powerdns_pool, "PowerDNS", p.powerdns_enabled))
    pools = {pool.name: pool for pool in p.pools if pool.name is not None}
    for where, name, service, enabled in wants:
        if not enabled:
            report.warning(where, f"names a pool, but {service} is not enabled", f"enable {service} or remove pool")
            continue
        if p.load_balancer_type not in LAYER2_TYPES:
            report.error(
                where,
                f'takes an address from pool "{name}", but the load balancer type is '
                f"{p.load_balancer_type}, which has no pools",
                "set platform.load_balancer.type: metallb or cilium-l2 with that pool, or remove pool",
            )
            continue
        pool = pools.get(name)
        if pool is None:
            known = ", ".join(pools) or "none"
            report.error(
                where,
                f'pool "{name}" does not exist{did_you_mean(name, pools)}; the pools are: {known}',
                "name a pool from platform.load_balancer.pools, or add one with that name",
            )
            continue
        users.setdefault(name, []).append(service)
        if pool.size == 0:
            report.error(where, f'pool "{name}" holds no address', f"add addresses to {pool.path}")
    for name, services in users.items():
        pool = pools[name]
        if 0 < pool.size < len(services):
            report.error(
                f"{pool.path}.addresses",
                f'pool "{name}" holds {pool.size} address(es), but '
                f"{len(services)} services take one each ({', '.join(services)})",
                "add addresses to the pool, or give each service its own pool",
            )


def _check_certificates(cluster: Cluster, report: Report) -> None:
    p = cluster.platform
    if p.cert_manager_enabled and not p.cert_manager_email:
        report.error(
            "platform.cert_manager.email",
            "is required when cert-manager is enabled (for the ACME account)",
            "add email: <an address that receives certificate notices>",
        )
    if p.cert_manager_dns01 == "powerdns":
        if not p.cert_manager_enabled:
            report.warning(
                "platform.cert_manager.dns01",
                "is set, but cert-manager is not enabled",
                "set platform.cert_manager.enabled: true, or remove dns01",
            )
        if not p.powerdns_enabled:
            report.error(
                "platform.cert_manager.dns01",
                "DNS-01 via PowerDNS needs the in-cluster PowerDNS, which is not enabled",
                "set platform.dns.powerdns.enabled: true (with a zone), or dns01: none",
            )
    if p.powerdns_enabled and p.powerdns_pool is None and cluster.provider.type != "hcloud":
        report.error(
            "platform.dns.powerdns.pool",
            "is required when PowerDNS is enabled: its Service takes a fixed address from a load-balancer pool, "
            "which the zone's delegation points at",
            "add pool: <a pool of platform.load_balancer.pools, such as dns-pool>",
        )
    if p.powerdns_enabled and not p.powerdns_zone:
        report.error(
            "platform.dns.powerdns.zone",
            "is required when PowerDNS is enabled",
            "add zone: <the DNS zone the cluster serves, such as k8s.example.org>",
        )


def check_edge(cluster: Cluster, report: Report) -> None:
    edge, p = cluster.edge, cluster.platform
    if edge is None:
        return
    if edge.domain and p.powerdns_enabled and p.powerdns_zone and p.powerdns_zone != edge.domain:
        report.warning(
            "platform.dns.powerdns.zone",
            f"{p.powerdns_zone} differs from edge.domain {edge.domain}, so "
            "the edge delegates a zone the cluster does not serve",
            "use the same name for both, unless you delegate it yourself",
        )
    if (
        edge.mesh_type in ("tailscale", "headscale")
        and cluster.nodes
        and not any("siderolabs/tailscale" in node.extensions for node in cluster.nodes)
    ):
        report.warning(
            "edge.mesh.type",
            f"the edge reaches the cluster over {edge.mesh_type}, but no node has the siderolabs/tailscale extension",
            "add siderolabs/tailscale to node_defaults.extensions (or to the workers that run the ingress)",
        )
