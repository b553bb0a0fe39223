# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Inheritance and pool expansion: from node_defaults, control_plane/worker, pools and nodes to resolved nodes.

A setting is taken from the most specific place that sets it (node or pool, then control_plane/worker, then
node_defaults); ``labels`` and a Proxmox ``size`` mapping merge key by key; ``patches`` add up in the order
cluster, node_defaults, role, pool, node.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import Report
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import (
    Cluster,
    MetaEntry,
    Node,
    NodeSettings,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read_node_values import (
    HCLOUD_FAMILY_ARCH,
    HCLOUD_SERVER_TYPE_RE,
)

DEFAULT_INSTALL_DISK = "/dev/sda"
DEFAULT_ARCH = "amd64"
PROXMOX_DEFAULT_SIZE = {"cores": 2, "memory": 4096, "disk": 20}
TALOS_PLATFORMS: dict[tuple[str | None, str | None], str] = {
    ("hcloud", None): "hcloud",
    ("proxmox", "meta"): "metal",
    ("proxmox", "dhcp"): "metal",
    ("proxmox", "nocloud"): "nocloud",
}


def talos_platform(cluster: Cluster) -> str | None:
    """The Talos image platform nodes boot: hcloud, metal (META or DHCP addressing) or nocloud (cloud-init)."""
    provider = cluster.provider
    mode = provider.proxmox.addressing if provider.type == "proxmox" and provider.proxmox else None
    return TALOS_PLATFORMS.get((provider.type, mode))


def build_schematic(extensions: list[str], kernel_args: list[str], meta: list[MetaEntry]) -> dict[str, Any]:
    """The Image Factory schematic in its user form, empty parts left out (keys in the factory's own order)."""
    customization: dict[str, Any] = {}
    if kernel_args:
        customization["extraKernelArgs"] = list(kernel_args)
    if meta:
        customization["meta"] = [{"key": entry.key, "value": entry.value} for entry in meta]
    if extensions:
        customization["systemExtensions"] = {"officialExtensions": list(extensions)}
    return {"customization": customization}


def hcloud_arch(size: Any) -> str | None:
    match = HCLOUD_SERVER_TYPE_RE.match(size) if isinstance(size, str) else None
    return HCLOUD_FAMILY_ARCH[match.group("family")] if match else None


def resolve_nodes(cluster: Cluster, report: Report) -> list[Node]:
    """Every node, explicit ones first, then each pool's, in the order written."""
    nodes: list[Node] = []
    for index, spec in enumerate(cluster.node_specs):
        if spec.name is None or spec.role is None:
            continue
        nodes.append(
            _resolve(
                cluster,
                report,
                spec.role,
                spec.settings,
                spec.name,
                spec.address,
                f"{spec.path}.address",
                None,
                index,
                spec.path,
                None,
            )
        )
    for pool in cluster.node_pools:
        if pool.name is None or pool.role is None or not pool.count:
            continue
        for index in range(pool.count):
            address = None
            if pool.first_address is not None:
                try:
                    address = pool.first_address + index
                except ValueError:
                    address = None
            location = None
            if pool.locations:
                location = (pool.locations[index % len(pool.locations)], f"{pool.path}.locations")
            nodes.append(
                _resolve(
                    cluster,
                    report,
                    pool.role,
                    pool.settings,
                    f"{pool.name}-{index + 1}",
                    address,
                    f"{pool.path}.first_address",
                    pool.name,
                    index,
                    pool.path,
                    location,
                )
            )
    _spread_over_proxmox_nodes(cluster, nodes)
    return nodes


def _chain(cluster: Cluster, role: str, own: NodeSettings) -> list[NodeSettings]:
    group = cluster.control_plane if role == "controlplane" else cluster.worker
    return [cluster.node_defaults, group, own]


def _resolve(
    cluster: Cluster,
    report: Report,
    role: str,
    own: NodeSettings,
    name: str,
    address: Any,
    address_path: str,
    pool: str | None,
    index: int,
    origin: str,
    location: tuple[str, str] | None,
) -> Node:
    chain = _chain(cluster, role, own)
    sources: dict[str, str] = {}
    if address is not None:
        sources["address"] = address_path

    def pick(attr: str) -> Any:
        for settings in reversed(chain):
            value = getattr(settings, attr)
            if value is not None:
                sources[attr] = f"{settings.path}.{attr}"
                return value
        return None

    size = _merged_size(chain, sources, cluster.provider.type)
    declared_arch = pick("arch")
    arch = declared_arch or DEFAULT_ARCH
    if cluster.provider.type == "hcloud":
        server_arch = hcloud_arch(size)
        if server_arch and declared_arch and declared_arch != server_arch:
            report.error(
                sources["arch"],
                f'arch is {declared_arch}, but server type "{size}" (from {sources["size"]}) is {server_arch}',
                f"remove arch (Hetzner's server type decides it), or choose a "
                f"{'cax' if declared_arch == 'arm64' else 'cx, cpx or ccx'} server type",
            )
        arch = server_arch or arch
    if location is not None:
        node_location, sources["location"] = location
    else:
        node_location = pick("location")
        if node_location is None and cluster.provider.type == "hcloud" and cluster.provider.hcloud:
            node_location, sources["location"] = cluster.provider.hcloud.location, "provider.hcloud.location"
    extensions = pick("extensions") or []
    kernel_args = pick("kernel_args") or []
    meta = pick("meta") or []
    labels: dict[str, str] = {}
    for settings in chain:
        labels.update(settings.labels or {})
    patches = list(cluster.patches)
    for settings in chain:
        patches.extend(settings.patches or [])
    return Node(
        name=name, role=role, address=address, pool=pool, index=index, size=size, arch=arch,
        location=node_location, install_disk=pick("install_disk") or DEFAULT_INSTALL_DISK,
        extensions=list(extensions), kernel_args=list(kernel_args), meta=list(meta), labels=labels,
        taints=list(pick("taints") or []), patches=patches, platform=talos_platform(cluster),
        schematic=build_schematic(extensions, kernel_args, meta), origin=origin, sources=sources,
    )  # fmt: skip


def _merged_size(chain: list[NodeSettings], sources: dict[str, str], provider_type: str | None) -> Any:
    size: Any = dict(PROXMOX_DEFAULT_SIZE) if provider_type == "proxmox" else None
    for settings in chain:
        value = settings.size
        if value is None:
            continue
        sources["size"] = f"{settings.path}.size"
        size = {**size, **value} if isinstance(value, dict) and isinstance(size, dict) else value
    return size


def _spread_over_proxmox_nodes(cluster: Cluster, nodes: list[Node]) -> None:
    """Round robin over provider.proxmox.nodes for nodes that do not name their own location."""
    settings = cluster.provider.proxmox if cluster.provider.type == "proxmox" else None
    if not settings or not settings.nodes:
        return
    turn = 0
    for node in nodes:
        if node.location is None:
            node.location = settings.nodes[turn % len(settings.nodes)]
            node.sources["location"] = "provider.proxmox.nodes"
            turn += 1
