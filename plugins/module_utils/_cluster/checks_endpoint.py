# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Checks of the Kubernetes API endpoint: VIP or load balancer, and what a cluster without either needs."""

from __future__ import annotations

import ipaddress

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.checks import address_problem, describe_origin
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import IPAddress
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import Report
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import Cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read import HCLOUD_LOCATIONS

# Addresses that can never be a Hetzner floating IP (RFC 1918, shared address space, unique local IPv6).
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


def is_private(address: IPAddress) -> bool:
    """Whether ``address`` is in a range that can never be a Hetzner floating IP (an alias IP there instead)."""
    return any(address in net for net in PRIVATE_RANGES if net.version == address.version)


def check_endpoint(cluster: Cluster, report: Report) -> None:
    endpoint, provider = cluster.endpoint, cluster.provider.type
    if endpoint.vip is not None and endpoint.load_balancer is not None:
        report.error(
            "endpoint.load_balancer", "is given together with endpoint.vip", "keep one of vip and load_balancer"
        )
    if endpoint.load_balancer is not None and provider == "proxmox":
        report.error(
            "endpoint.load_balancer",
            "a load balancer is only available on Hetzner Cloud",
            "use endpoint.vip on Proxmox (a Layer 2 VIP shared by the control planes)",
        )
    lb = endpoint.load_balancer
    if lb is not None and provider == "hcloud" and cluster.provider.hcloud:
        zone = cluster.provider.hcloud.network_zone
        if lb.location is not None and HCLOUD_LOCATIONS.get(lb.location, zone) != zone:
            report.error(
                "endpoint.load_balancer.location",
                f"{lb.location} is not in network zone {zone}",
                f"choose a location in {zone}",
            )
    cps = cluster.control_planes
    if len(cps) > 1 and endpoint.vip is None and lb is None:
        if endpoint.host is None:
            report.error(
                "endpoint",
                f"{len(cps)} control planes need a shared endpoint, and none is set",
                "set endpoint.vip (an unused address in network.nodes)"
                + (" or endpoint.load_balancer: {type: lb11}" if provider != "proxmox" else ""),
            )
        else:
            report.warning(
                "endpoint.host",
                f"with {len(cps)} control planes and no vip or load_balancer, {endpoint.host} must lead to all of them",
                "make sure the name resolves to a load balancer or to every control plane, or set endpoint.vip",
            )
    refused = len(cps) == 1 and any(report.errors_at(f"{cps[0].origin}.{k}") for k in ("address", "first_address"))
    endless = endpoint.vip is None and lb is None and endpoint.host is None
    if len(cps) == 1 and cps[0].address is None and endless and not refused:
        how = (
            "set endpoint.load_balancer: {type: lb11}, endpoint.vip (an alias IP in network.nodes or a floating IP) "
            "or endpoint.host (a name you point at the server), or give the node an address"
            if provider == "hcloud"
            else "set endpoint.vip (a free address in network.nodes) or endpoint.host, or give the node an address "
            "(provider.proxmox.addressing: meta or nocloud)"
        )
        report.error(
            "endpoint",
            f"the only control plane, {cps[0].describe()}, has no fixed address and no endpoint is set, so the "
            "API server has no address known before the node exists",
            how,
        )
    _check_vip(cluster, report)


def _check_vip(cluster: Cluster, report: Report) -> None:
    vip, network = cluster.endpoint.vip, cluster.network.nodes
    if vip is None:
        return
    for node in cluster.nodes:
        if node.address == vip:
            report.error(
                "endpoint.vip",
                f"{vip} is also the address of {describe_origin(node)}",
                "choose an unused address for the VIP",
            )
            break
    if network is None:
        return
    inside = vip.version == network.version and vip in network
    if cluster.provider.type == "hcloud" and not inside:
        if is_private(vip):
            report.error(
                "endpoint.vip",
                f"{vip} is a private address outside network.nodes {network}",
                "use an address inside network.nodes (an alias IP) or a public floating IP",
            )
        return
    problem = address_problem(vip, network, cluster.network.gateway)
    if problem:
        report.error(
            "endpoint.vip",
            f"{vip} {problem}",
            "choose an unused address inside network.nodes for the VIP (a Layer 2 VIP must be on the nodes' network)",
        )
