# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Proxmox VE filters of the infra_proxmox role: the images and VMs its modules take, and talosforge_infra."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter
from ansible_collections.talosforge.cluster.plugins.plugin_utils._infra import (
    InfraInputError,
    endpoint_fact,
    facts_by_name,
    first_control_plane,
    infra_fact,
    nodes_of,
)


def _play_nodes(cluster: Any, hosts: list[str]) -> list[dict[str, Any]]:
    wanted = set(hosts or [])
    return [node for node in nodes_of(cluster) if node.get("name") in wanted]


def image_specs(cluster: Any, hosts: list[str], image_files: Any = None) -> list[dict[str, Any]]:
    """One ``images`` entry of proxmox_talos_image per image URL the nodes of ``hosts`` boot (sorted by URL).

    Each lists the Proxmox nodes whose VMs use it and, when the images stage downloaded it
    (``talosforge_image_files``), its sha256 as the checksum.
    """
    files = image_files if isinstance(image_files, Mapping) else {}
    by_url: dict[str, list[Any]] = {}
    for node in _play_nodes(cluster, hosts):
        pve_nodes = by_url.setdefault(str(node.get("image_url")), [])
        if node.get("location") not in pve_nodes:
            pve_nodes.append(node.get("location"))
    specs = []
    for url in sorted(by_url):
        spec: dict[str, Any] = {"url": url, "pve_nodes": by_url[url]}
        sha256 = (files.get(url) or {}).get("download_sha256")
        if sha256:
            spec["checksum"] = f"sha256:{sha256}"
        specs.append(spec)
    return specs


def _volumes(images: Any) -> dict[str, Any]:
    found = images.get("images") if isinstance(images, Mapping) else images
    if not isinstance(found, list) or not all(isinstance(image, Mapping) for image in found):
        raise InfraInputError("images must be the result of proxmox_talos_image or its images list")
    return {str(image.get("url")): image.get("volid") for image in found}


def vm_specs(cluster: Any, hosts: list[str], images: Any) -> list[dict[str, Any]]:
    """One ``nodes`` entry of proxmox_vms per node of ``hosts``, in the definition's order.

    A node's disk image is the volume proxmox_talos_image stored for its ``image_url``; with cloud-init
    (``addressing: nocloud``) its address carries the prefix length of ``network.nodes``.
    """
    volumes = _volumes(images)
    settings = (cluster.get("provider") or {}).get("settings") or {}
    network = (cluster.get("network") or {}).get("nodes") or ""
    prefix = f"/{network.split('/')[1]}" if settings.get("addressing") == "nocloud" and "/" in network else ""
    specs = []
    for node in _play_nodes(cluster, hosts):
        size = node.get("size")
        if not isinstance(size, Mapping):
            raise InfraInputError(f"node {node.get('name')}: size must be a mapping {{cores, memory, disk}}")
        url = str(node.get("image_url"))
        if url not in volumes:
            raise InfraInputError(f"node {node.get('name')}: no stored image for {url}")
        spec = {
            "name": node.get("name"),
            "role": node.get("role"),
            "pve_node": node.get("location"),
            "cores": int(size["cores"]),
            "memory": int(size["memory"]),
            "disk": int(size["disk"]),
            "image": volumes[url],
        }
        if node.get("address"):
            spec["address"] = f"{node['address']}{prefix}"
        specs.append(spec)
    return specs


def static_fact(node: Mapping[str, Any]) -> dict[str, Any]:
    """The node fact of a node the API was not asked about: its static address from the definition."""
    return {
        "name": node.get("name"),
        "role": node.get("role"),
        "provider": "proxmox",
        "provider_id": None,
        "location": node.get("location"),
        "public_ipv4": None,
        "public_ipv6": None,
        "private_ipv4": node.get("address"),
        "talos_address": node.get("address"),
        "status": None,
    }


def infra(cluster: Any, vms: Any = None, endpoint: bool = True) -> dict[str, Any]:
    """``talosforge_infra``: what proxmox_vms reported for the play's VMs (``vms``), and for every other node with a
    static address what the definition says, in the definition's order. ``endpoint=False`` (read-only runs) leaves
    the endpoint empty."""
    if vms is not None and not isinstance(vms, Mapping):
        raise InfraInputError("vms must be the result of proxmox_vms")
    reported = facts_by_name((vms or {}).get("nodes") or [], "vms.nodes")
    nodes = [
        reported[node["name"]] if node.get("name") in reported else static_fact(node)
        for node in nodes_of(cluster)
        if node.get("name") in reported or node.get("address")
    ]
    fact = endpoint_fact(cluster, first_control_plane(nodes)) if endpoint else {}
    return infra_fact("proxmox", fact, nodes)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "proxmox_image_specs": as_filter("proxmox_image_specs", image_specs),
            "proxmox_vm_specs": as_filter("proxmox_vm_specs", vm_specs),
            "proxmox_infra": as_filter("proxmox_infra", infra),
        }
