# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Checks across fields: networks, node addresses, names, sizes, locations and the API endpoint."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import Report, did_you_mean
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import Cluster, Node
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read import HCLOUD_LOCATIONS

PLACEMENT_GROUP_LIMIT = 10
MIN_MEMORY = {"controlplane": 2048, "worker": 1024}
MIN_CORES = {"controlplane": 2, "worker": 1}
MIN_DISK = 10
# kube-apiserver refuses a service range with more host bits than this (maxCIDRBits in its options validation).
SERVICE_RANGE_MAX_BITS = 20


def usable_range(network: Any) -> tuple[Any, Any]:
    """First and last address a host may take (no network or broadcast address in IPv4 networks up to /30)."""
    if network.version == 4 and network.prefixlen < 31:
        return network.network_address + 1, network.broadcast_address - 1
    if network.version == 6 and network.prefixlen < 127:
        return network.network_address + 1, network.broadcast_address
    return network.network_address, network.broadcast_address


def address_problem(address: Any, network: Any, gateway: Any) -> str | None:
    """Why a host cannot take ``address`` in ``network``, or None."""
    if network is None:
        return None
    if address.version != network.version:
        return f"is IPv{address.version} but network.nodes {network} is IPv{network.version}"
    if address not in network:
        return f"is outside network.nodes {network}"
    first, last = usable_range(network)
    if address == network.network_address and address < first:
        return f"is the network address of {network}"
    if address == network.broadcast_address and address > last:
        return f"is the broadcast address of {network}"
    if gateway is not None and address == gateway:
        return "is the gateway address (network.gateway)"
    return None


def check_network(cluster: Cluster, report: Report) -> None:
    net = cluster.network
    named = [("network.nodes", net.nodes), ("network.pods", net.pods), ("network.services", net.services)]
    hcloud = cluster.provider.hcloud if cluster.provider.type == "hcloud" else None
    ip_range = hcloud.network_ip_range if hcloud else None
    for i, (path, network) in enumerate(named):
        for other_path, other in named[:i]:
            if (
                network is not None
                and other is not None
                and network.version == other.version
                and network.overlaps(other)
            ):
                report.error(
                    path,
                    f"{network} overlaps {other_path} {other}",
                    f"choose a range for {path} that shares no address with {other_path}",
                )
    for path, network in named[1:]:
        if (
            network is not None
            and ip_range is not None
            and network.version == ip_range.version
            and network.overlaps(ip_range)
        ):
            report.error(
                path,
                f"{network} overlaps the Hetzner network provider.hcloud.network_ip_range {ip_range}",
                f"choose a range for {path} outside {ip_range}",
            )
        if network is not None and net.nodes is not None and network.version != net.nodes.version:
            report.warning(
                path,
                f"is IPv{network.version} while network.nodes is IPv{net.nodes.version}",
                "use one address family throughout; dual-stack clusters are not supported yet",
            )
    if net.services is not None and net.services.num_addresses > 2**SERVICE_RANGE_MAX_BITS:
        report.error(
            "network.services",
            f"{net.services} has more than 2^{SERVICE_RANGE_MAX_BITS} addresses, which kube-apiserver refuses "
            "(its service range must be /12 or narrower for IPv4, /108 or narrower for IPv6)",
            "use a smaller service range, such as 10.96.0.0/12 or an IPv6 /108",
        )
    if hcloud and net.nodes is not None and net.nodes.version != 4:
        report.error(
            "network.nodes",
            f"{net.nodes} is IPv6, but Hetzner Cloud private networks are IPv4 only",
            "use an IPv4 network such as 10.0.1.0/24 (servers still get a public IPv6 address with public_ipv6)",
        )
    if (
        ip_range is not None
        and net.nodes is not None
        and net.nodes.version == ip_range.version
        and not net.nodes.subnet_of(ip_range)  # type: ignore[arg-type]  # same version, checked above
    ):
        report.error(
            "provider.hcloud.network_ip_range",
            f"{ip_range} does not contain network.nodes {net.nodes}",
            "make network.nodes a subnet of network_ip_range, for example 10.0.1.0/24 in 10.0.0.0/16",
        )
    _check_gateway(cluster, report, ip_range)


def _check_gateway(cluster: Cluster, report: Report, ip_range: Any) -> None:
    net = cluster.network
    gateway, nodes = net.gateway, net.nodes
    if gateway is None or nodes is None:
        return
    scope = ip_range if ip_range is not None and gateway not in nodes else nodes
    name = "provider.hcloud.network_ip_range" if scope is ip_range else "network.nodes"
    if gateway.version != scope.version or gateway not in scope:
        report.error(
            "network.gateway",
            f"{gateway} is outside {name} {scope}",
            f"choose a gateway inside {scope}, such as {scope.network_address + 1}",
        )
    elif (
        scope.num_addresses > 2
        and gateway in (scope.network_address, scope.broadcast_address)
        and not (scope.version == 6 and gateway == scope.broadcast_address)
    ):
        report.error(
            "network.gateway",
            f"{gateway} is the network or broadcast address of {scope}",
            f"use the router's address, usually {scope.network_address + 1}",
        )


def check_nodes(cluster: Cluster, report: Report) -> None:
    nodes = cluster.nodes
    control_planes = cluster.control_planes
    unresolved = any(spec.role is None for spec in cluster.node_specs) or any(
        pool.role is None or pool.count is None for pool in cluster.node_pools
    )
    if not control_planes and not unresolved:
        report.error(
            "nodes", "there is no control-plane node", "add a node (or a pool with count >= 1) with role: controlplane"
        )
    if control_planes and len(control_planes) % 2 == 0:
        origins = {node.origin for node in control_planes}
        path = f"{origins.pop()}.count" if len(origins) == 1 and control_planes[0].pool else "nodes"
        report.warning(
            path,
            f"{len(control_planes)} control-plane nodes: etcd needs a majority, so they survive no more failures "
            f"({(len(control_planes) - 1) // 2}) than {len(control_planes) - 1} would",
            f"use an odd number of control planes ({len(control_planes) - 1} or {len(control_planes) + 1})",
        )
    if control_planes and not cluster.workers and not cluster.allow_scheduling_on_control_planes:
        report.warning(
            "allow_scheduling_on_control_planes",
            "there are no worker nodes and control planes do not run workloads, so nothing can be scheduled",
            "add workers, or set allow_scheduling_on_control_planes: true",
        )
    _check_pool_names(cluster, report)
    _check_unique(nodes, report)
    _check_addresses(cluster, report)
    for node in nodes:
        _check_size(cluster, node, report)
        _check_location(cluster, node, report)
    _check_placement_groups(cluster, report)


def _check_unique(nodes: list[Node], report: Report) -> None:
    first_by_name: dict[str, Node] = {}
    first_by_address: dict[Any, Node] = {}
    for node in nodes:
        other = first_by_name.setdefault(node.name, node)
        if other is not node:
            report.error(
                f"{node.origin}.name",
                f'node name "{node.name}" is used twice: by {describe_origin(other)} and by {describe_origin(node)}',
                "rename one of them; pool nodes are named <pool>-1, <pool>-2, ...",
            )
        if node.address is None:
            continue
        other = first_by_address.setdefault(node.address, node)
        if other is not node:
            report.error(
                node.source("address"),
                f"address {node.address} is used twice: by {describe_origin(other)} and by {describe_origin(node)}",
                "give every node its own address",
            )


def _check_pool_names(cluster: Cluster, report: Report) -> None:
    first: dict[str, str] = {}
    for pool in cluster.node_pools:
        if pool.name is None:
            continue
        other = first.setdefault(pool.name, pool.path)
        if other != pool.path:
            report.error(
                f"{pool.path}.name",
                f'pool name "{pool.name}" is used twice: by {other} and by {pool.path}',
                "give every pool its own name (the nodes are named after it)",
            )


def describe_origin(node: Node) -> str:
    if node.pool:
        return f'node "{node.name}" of {node.origin} (its node {node.index + 1})'
    return f'node "{node.name}" ({node.origin})'


def _check_addresses(cluster: Cluster, report: Report) -> None:
    network, gateway = cluster.network.nodes, cluster.network.gateway
    if network is None:
        return
    for pool in cluster.node_pools:
        if pool.first_address is None or not pool.count:
            continue
        problem = address_problem(pool.first_address, network, gateway)
        first, last = usable_range(network)
        end = int(pool.first_address) + pool.count - 1
        if problem is None and pool.first_address.version == network.version and end > int(last):
            room = int(last) - int(pool.first_address) + 1
            report.error(
                f"{pool.path}.count",
                f"{pool.count} nodes from {pool.first_address} run past the last "
                f"usable address {last} of {network}: there is room for {room}",
                f"lower count to at most {room}, or move first_address down",
            )
        elif problem and "gateway" not in problem:
            report.error(
                f"{pool.path}.first_address",
                f"{pool.first_address} {problem}",
                f"choose a first address inside {network} between {first} and {last}",
            )
    for node in cluster.nodes:
        if node.address is None:
            continue
        problem = address_problem(node.address, network, gateway)
        if node.pool and problem and "gateway" not in problem:
            continue  # reported once for the pool above
        if problem:
            report.error(
                node.source("address"),
                f"{node.describe()} address {node.address} {problem}",
                "choose a free address inside network.nodes that is not the network, broadcast or gateway address",
            )


def _check_size(cluster: Cluster, node: Node, report: Report) -> None:
    where = node.source("size")
    group = "control_plane" if node.role == "controlplane" else "worker"
    written = ("node_defaults.size", f"{group}.size", f"{node.origin}.size")
    if cluster.provider.type == "hcloud" and node.size is None and not any(report.errors_at(p) for p in written):
        report.error(
            f"{node.origin}.size",
            f"the nodes of {node.origin} have no server type" if node.pool else f"{node.describe()} has no server type",
            "set size (such as cx22 or cax21) on the node, its pool, control_plane/worker or node_defaults",
        )
    if cluster.provider.type != "proxmox" or not isinstance(node.size, dict):
        return
    memory, cores, disk = node.size.get("memory"), node.size.get("cores"), node.size.get("disk")
    role = "control-plane node" if node.role == "controlplane" else "worker"
    if memory is not None and memory < MIN_MEMORY[node.role]:
        report.warning(
            f"{where}.memory",
            f"{memory} MiB is less than the {MIN_MEMORY[node.role]} MiB Talos needs on a {role}",
            f"give it at least {MIN_MEMORY[node.role]} MiB (4096 or more is comfortable)",
        )
    if cores is not None and cores < MIN_CORES[node.role]:
        report.warning(
            f"{where}.cores",
            f"{cores} core is fewer than Talos needs on a {role}",
            f"give it at least {MIN_CORES[node.role]} cores",
        )
    if disk is not None and disk < MIN_DISK:
        report.warning(
            f"{where}.disk",
            f"{disk} GiB is less than the {MIN_DISK} GiB Talos needs",
            f"give it at least {MIN_DISK} GiB",
        )


def _check_location(cluster: Cluster, node: Node, report: Report) -> None:
    location, where = node.location, node.source("location")
    if location is None:
        return
    if cluster.provider.type == "hcloud" and cluster.provider.hcloud:
        zone = cluster.provider.hcloud.network_zone
        if location not in HCLOUD_LOCATIONS:
            hint = did_you_mean(location, HCLOUD_LOCATIONS)
            report.error(
                where,
                f'"{location}" is not a Hetzner Cloud location{hint}',
                f"use one of {', '.join(HCLOUD_LOCATIONS)}",
            )
        elif HCLOUD_LOCATIONS[location] != zone:
            report.error(
                where,
                f"location {location} is in network zone {HCLOUD_LOCATIONS[location]}, but the "
                f"private network is in {zone} (provider.hcloud.network_zone)",
                f"choose a location in {zone}: {', '.join(k for k, v in HCLOUD_LOCATIONS.items() if v == zone)}",
            )
    elif cluster.provider.type == "proxmox" and cluster.provider.proxmox and cluster.provider.proxmox.nodes:
        known = cluster.provider.proxmox.nodes
        if location not in known:
            report.error(
                where,
                f'"{location}" is not one of provider.proxmox.nodes ({", ".join(known)})'
                f"{did_you_mean(location, known)}",
                "name a Proxmox node listed in provider.proxmox.nodes",
            )


def _check_placement_groups(cluster: Cluster, report: Report) -> None:
    hcloud = cluster.provider.hcloud if cluster.provider.type == "hcloud" else None
    if not hcloud or not hcloud.placement_groups:
        return
    groups = Counter(node.pool or node.role for node in cluster.nodes)
    for group, count in groups.items():
        if count > PLACEMENT_GROUP_LIMIT:
            report.error(
                "provider.hcloud.placement_groups",
                f'placement group "{group}" would hold {count} servers; Hetzner allows {PLACEMENT_GROUP_LIMIT}',
                "split the nodes into more pools (one placement group each), or turn placement_groups off",
            )
