# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Static node addresses on Proxmox: the META key 10 (0xa) network configuration of each node's image.

With ``provider.proxmox.addressing: meta`` every node boots the metal image of a schematic of its own, whose META
key 10 holds the node's network configuration in the format of Talos' "Metal Network Configuration" (the
``.spec`` of AddressSpec, LinkSpec, RouteSpec, HostnameSpec and ResolverSpec resources, layer ``platform``).
The value is written as compact JSON (a subset of YAML that Talos reads), so the same node always gets the same
bytes and hence the same schematic ID.

A node that sets META key 10 itself (bonds, VLANs, several addresses) keeps its own value: the generated one is
only added where the key is free. With ``addressing: nocloud`` the address goes to Proxmox's cloud-init
(``ipconfig0``) instead, and a META key 10 is an error: Talos reads it on the metal platform only.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import Report
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import Cluster, MetaEntry, Node
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.resolve import build_schematic

NETWORK_META_KEY = 10
_PRIORITY = {4: 1024, 6: 2048}  # Talos' default route metrics per family


def network_config(
    address: Any,
    network: Any,
    gateway: Any,
    nameservers: list[Any],
    link: str,
    hostname: str | None = None,
) -> dict[str, Any]:
    """The META 0xa document for one address on one link: address, link up, default route, resolvers, hostname."""
    ip = ipaddress.ip_address(str(address))
    prefix = ipaddress.ip_network(str(network), strict=False).prefixlen
    family = "inet4" if ip.version == 4 else "inet6"
    config: dict[str, Any] = {
        "addresses": [
            {
                "address": f"{ip}/{prefix}",
                "linkName": link,
                "family": family,
                "scope": "global",
                "flags": "permanent",
                "layer": "platform",
            }
        ],
        "links": [{"name": link, "up": True, "layer": "platform"}],
    }
    if gateway is not None:
        config["routes"] = [
            {
                "family": family,
                "gateway": str(gateway),
                "outLinkName": link,
                "table": "main",
                "priority": _PRIORITY[ip.version],
                "scope": "global",
                "type": "unicast",
                "protocol": "static",
                "layer": "platform",
            }
        ]
    if hostname:
        config["hostnames"] = [{"hostname": hostname, "layer": "platform"}]
    if nameservers:
        config["resolvers"] = [{"dnsServers": [str(server) for server in nameservers], "layer": "platform"}]
    return config


def render(config: dict[str, Any]) -> str:
    """The META value: compact JSON, keys in the order written (stable, so the schematic ID is stable)."""
    return json.dumps(config, separators=(",", ":"))


def node_network_meta(cluster: Cluster, node: Node) -> MetaEntry | None:
    """The generated META key 10 entry of a node, or None when it has no address or the network is unknown."""
    settings = cluster.provider.proxmox
    if node.address is None or cluster.network.nodes is None or settings is None:
        return None
    if node.address.version != cluster.network.nodes.version:
        return None  # reported by the address checks
    config = network_config(
        node.address,
        cluster.network.nodes,
        cluster.network.gateway,
        list(cluster.network.nameservers),
        settings.interface,
        node.name,
    )
    return MetaEntry(NETWORK_META_KEY, render(config))


def apply_static_addressing(cluster: Cluster, report: Report) -> None:
    """Add each node's META 0xa network configuration (addressing: meta) or refuse one (addressing: nocloud)."""
    settings = cluster.provider.proxmox if cluster.provider.type == "proxmox" else None
    if settings is None:
        return
    for node in cluster.nodes:
        own = next((entry for entry in node.meta if entry.key == NETWORK_META_KEY), None)
        if settings.addressing == "nocloud":
            if own is not None:
                report.error(
                    node.source("meta"),
                    f"{node.describe()} sets META key 10 (0xa), but Talos reads the META network configuration on "
                    "the metal platform only, and addressing: nocloud boots the nocloud image",
                    "remove the META key 10 entry (cloud-init's ipconfig0 carries the address), or set "
                    "provider.proxmox.addressing: meta",
                )
            continue
        if settings.addressing != "meta" or own is not None:
            continue  # dhcp: nothing to add; a node's own META 0xa wins over the generated one
        entry = node_network_meta(cluster, node)
        if entry is None:
            continue
        node.meta = sorted([*node.meta, entry], key=lambda item: item.key)
        node.sources.setdefault("meta", "provider.proxmox.addressing")
        node.schematic = build_schematic(node.extensions, node.kernel_args, node.meta)
