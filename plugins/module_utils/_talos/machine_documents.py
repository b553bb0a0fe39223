# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The Talos documents the collection derives from the cluster model, and a node's whole render.

A node's machine config is, in this order (as the talos_machine_config module documents it):

1. the base that ``talosctl gen config`` wrote for the node's role;
2. the collection's cluster patch: pod and service networks, CNI ``none`` and kube-proxy off for Cilium with
   kube-proxy replacement, scheduling on control planes, the external cloud provider for the Hetzner CCM,
   the node network for kubelet and etcd;
3. the collection's node patch: install disk and installer image (from the node's schematic), node labels and
   taints, and the network documents: ``HostnameConfig``, ``Layer2VIPConfig`` / ``HCloudVIPConfig`` on control
   planes when the cluster has ``endpoint.vip``, ``LinkConfig`` + ``ResolverConfig`` for static addresses
   (Proxmox with ``addressing: meta`` or ``cloud-init``). Talos before v1.12 has none of these documents: the
   same settings go to ``machine.network`` there;
4. the node's ``patches`` from the model (already ordered: cluster, node_defaults, role, pool, node);
5. the task's extra ``patches``.

User patches come last so that they can change or ``$patch: delete`` anything the collection set. Pure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import installer_image
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import schematic_id
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    V1ALPHA1,
    TalosConfigError,
    find_document,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.patches import (
    Patch,
    apply_patches,
    parse_patch,
)

DEFAULT_LINKS = {"proxmox": "ens18", "hcloud": "eth0"}
STATIC_ADDRESSING = ("meta", "nocloud", "cloud-init")
_VERSION = re.compile(r"v?(\d+)\.(\d+)")


@dataclass
class RenderOptions:
    """What the model does not say: the API token for HCloudVIPConfig, and the name of the node's link."""

    hcloud_token: str | None = None
    link: str | None = None


def talos_minor(version: str | None) -> tuple[int, int]:
    match = _VERSION.match(version or "")
    if not match:
        raise TalosConfigError(f"talos_version {version!r} is not a version such as v1.13.9")
    return int(match.group(1)), int(match.group(2))


def multidoc_network(version: str | None) -> bool:
    """Talos v1.12 and later configure the network with documents (HostnameConfig, LinkConfig, ...)."""
    return talos_minor(version) >= (1, 12)


def validate_mode(node: dict[str, Any]) -> str:
    """``talosctl validate --mode``: metal for the metal platform, cloud for hcloud and nocloud."""
    return "metal" if node.get("platform") in (None, "metal") else "cloud"


def provider_type(cluster: dict[str, Any]) -> str:
    return (cluster.get("provider") or {}).get("type") or ""


def provider_settings(cluster: dict[str, Any]) -> dict[str, Any]:
    return (cluster.get("provider") or {}).get("settings") or {}


def link_name(cluster: dict[str, Any], options: RenderOptions) -> str:
    """The node's network link: the option, else the provider's ``interface`` setting, else the provider's default."""
    configured = options.link or provider_settings(cluster).get("interface")
    return configured or DEFAULT_LINKS.get(provider_type(cluster), "eth0")


def install_image(cluster: dict[str, Any], node: dict[str, Any]) -> str:
    """The node's installer image: from the image plan, else computed from its schematic."""
    if node.get("installer_image"):
        return str(node["installer_image"])
    factory = cluster.get("image_factory") or {}
    sid = node.get("schematic_id") or schematic_id(node.get("schematic") or {})
    registry = factory.get("installer_registry") or "factory.talos.dev"
    return installer_image(registry, node.get("platform") or "metal", sid, cluster["talos_version"])


def additional_sans(cluster: dict[str, Any]) -> list[str]:
    """Extra names for the API server certificate: the endpoint host, the VIP, ``endpoint.extra_sans``."""
    endpoint = cluster.get("endpoint") or {}
    sans: list[str] = []
    for name in [endpoint.get("host"), endpoint.get("vip"), *(endpoint.get("extra_sans") or [])]:
        if name and str(name) not in sans:
            sans.append(str(name))
    return sans


def static_address(cluster: dict[str, Any], node: dict[str, Any]) -> str | None:
    """``address/prefix`` when the node's address is configured by Talos itself (Proxmox, meta or cloud-init)."""
    if provider_type(cluster) != "proxmox" or not node.get("address"):
        return None
    if provider_settings(cluster).get("addressing", "meta") not in STATIC_ADDRESSING:
        return None
    nodes: Any = (cluster.get("network") or {}).get("nodes")
    network = ipaddress.ip_network(nodes, strict=False)
    return f"{node['address']}/{network.prefixlen}"


# --------------------------------------------------------------------------------------------------------------
# The collection's documents (Talos v1.12+)
# --------------------------------------------------------------------------------------------------------------


def hostname_config(hostname: str) -> dict[str, Any]:
    """A static hostname. Without ``auto``, which Talos reads as ``off`` (its zero value)."""
    return {"apiVersion": V1ALPHA1, "kind": "HostnameConfig", "hostname": hostname}


def _hostname_patch(hostname: str, base: list[dict[str, Any]]) -> dict[str, Any]:
    """``hostname_config``, deleting the ``auto: stable`` that talosctl gen config writes (auto and hostname
    together are refused unless auto is off)."""
    doc = hostname_config(hostname)
    have = find_document(base, "HostnameConfig")
    if have is not None and "auto" in have:
        doc["auto"] = {"$patch": "delete"}
    return doc


def layer2_vip_config(vip: str, link: str) -> dict[str, Any]:
    return {"apiVersion": V1ALPHA1, "kind": "Layer2VIPConfig", "name": vip, "link": link}


def hcloud_vip_config(vip: str, link: str, token: str) -> dict[str, Any]:
    return {"apiVersion": V1ALPHA1, "kind": "HCloudVIPConfig", "name": vip, "link": link, "apiToken": token}


def link_config(link: str, address: str, gateway: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": V1ALPHA1,
        "kind": "LinkConfig",
        "name": link,
        "addresses": [{"address": address}],
    }
    if gateway:
        doc["routes"] = [{"gateway": gateway}]
    return doc


def resolver_config(nameservers: Iterable[str]) -> dict[str, Any]:
    return {"apiVersion": V1ALPHA1, "kind": "ResolverConfig", "nameservers": [{"address": ns} for ns in nameservers]}


# --------------------------------------------------------------------------------------------------------------
# The collection's patches
# --------------------------------------------------------------------------------------------------------------


def cluster_patch(cluster: dict[str, Any], role: str) -> dict[str, Any]:
    """The v1alpha1 settings every node of ``role`` gets from the cluster model."""
    network = cluster.get("network") or {}
    platform = cluster.get("platform") or {}
    cni = platform.get("cni") or {}
    settings: dict[str, Any] = {
        "network": {},
        "allowSchedulingOnControlPlanes": bool(cluster.get("allow_scheduling_on_control_planes")),
    }
    if network.get("pods"):
        settings["network"]["podSubnets"] = [network["pods"]]
    if network.get("services"):
        settings["network"]["serviceSubnets"] = [network["services"]]
    if cni.get("type") in ("cilium", "none"):
        settings["network"]["cni"] = {"name": "none"}  # Cilium is installed by the platform stage
    if cni.get("type") == "cilium" and cni.get("kube_proxy_replacement"):
        settings["proxy"] = {"disabled": True}
    external_cloud = provider_type(cluster) == "hcloud" and bool((platform.get("hcloud") or {}).get("ccm"))
    if external_cloud:
        settings["externalCloudProvider"] = {"enabled": True}
    machine: dict[str, Any] = {}
    if network.get("nodes"):
        # Nodes with several addresses (Hetzner: public and private) use the node network for Kubernetes.
        machine["kubelet"] = {"nodeIP": {"validSubnets": [network["nodes"]]}}
        if role == "controlplane":
            settings["etcd"] = {"advertisedSubnets": [network["nodes"]]}
    if external_cloud:
        # Said on every node, not only implied by externalCloudProvider: without it a node never gets its
        # providerID from the hcloud CCM and the CSI driver never schedules there.
        machine.setdefault("kubelet", {})["extraArgs"] = {"cloud-provider": "external"}
    if not settings["network"]:
        del settings["network"]
    return {"machine": machine, "cluster": settings} if machine else {"cluster": settings}


def _taints(taints: Iterable[str]) -> dict[str, str]:
    """``key=value:Effect`` / ``key:Effect`` as Talos's machine.nodeTaints (``key: value:Effect`` / ``key: Effect``)."""
    result = {}
    for taint in taints:
        key_value, _sep, effect = taint.rpartition(":")
        key, sep, value = key_value.partition("=")
        result[key] = f"{value}:{effect}" if sep else effect
    return result


def _vip(cluster: dict[str, Any], node: dict[str, Any]) -> str | None:
    vip = (cluster.get("endpoint") or {}).get("vip")
    return str(vip) if vip and node.get("role") == "controlplane" else None


def _hcloud_token(cluster: dict[str, Any], options: RenderOptions) -> str:
    if not options.hcloud_token:
        raise TalosConfigError(
            "endpoint.vip on Hetzner Cloud is announced through the Hetzner API (HCloudVIPConfig): give the API "
            "token in hcloud_token (or $HCLOUD_TOKEN)"
        )
    return options.hcloud_token


def node_documents(
    cluster: dict[str, Any], node: dict[str, Any], options: RenderOptions, base: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The node's own patch documents (for the gen config output ``base``): v1alpha1 settings first, then the
    network documents."""
    machine: dict[str, Any] = {"install": {"disk": node.get("install_disk") or "/dev/sda"}}
    machine["install"]["image"] = install_image(cluster, node)
    if node.get("labels"):
        machine["nodeLabels"] = dict(node["labels"])
    if node.get("taints"):
        machine["nodeTaints"] = _taints(node["taints"])
    network = cluster.get("network") or {}
    link = link_name(cluster, options)
    address = static_address(cluster, node)
    vip = _vip(cluster, node)
    hcloud = provider_type(cluster) == "hcloud"
    if not multidoc_network(cluster.get("talos_version")):
        machine["network"] = _legacy_network(cluster, node, options, link, address, vip)
        return [{"machine": machine}]
    docs: list[dict[str, Any]] = [{"machine": machine}, _hostname_patch(node["name"], list(base))]
    if vip:
        docs.append(
            hcloud_vip_config(vip, link, _hcloud_token(cluster, options)) if hcloud else layer2_vip_config(vip, link)
        )
    if address:
        docs.append(link_config(link, address, network.get("gateway")))
        if network.get("nameservers"):
            docs.append(resolver_config(network["nameservers"]))
    return docs


def _legacy_network(
    cluster: dict[str, Any],
    node: dict[str, Any],
    options: RenderOptions,
    link: str,
    address: str | None,
    vip: str | None,
) -> dict[str, Any]:
    """machine.network for Talos before v1.12: hostname, the interface with its address, route and VIP."""
    network = cluster.get("network") or {}
    settings: dict[str, Any] = {"hostname": node["name"]}
    if not address and not vip:
        return settings
    interface: dict[str, Any] = {"interface": link}
    if address:
        interface["addresses"] = [address]
        if network.get("gateway"):
            default = "::/0" if ":" in str(network["gateway"]) else "0.0.0.0/0"
            interface["routes"] = [{"network": default, "gateway": network["gateway"]}]
        if network.get("nameservers"):
            settings["nameservers"] = list(network["nameservers"])
    else:
        interface["dhcp"] = True
    if vip:
        interface["vip"] = {"ip": vip}
        if provider_type(cluster) == "hcloud":
            interface["vip"]["hcloud"] = {"apiToken": _hcloud_token(cluster, options)}
    settings["interfaces"] = [interface]
    return settings


def collection_patches(
    cluster: dict[str, Any], node: dict[str, Any], options: RenderOptions, base: Sequence[dict[str, Any]] = ()
) -> list[Patch]:
    """Steps 2 and 3 of the render order."""
    return [
        Patch(documents=[cluster_patch(cluster, node["role"])], source="the collection's cluster settings"),
        Patch(documents=node_documents(cluster, node, options, base), source="the collection's node settings"),
    ]


def user_patches(node: dict[str, Any], extra: Iterable[Any] = (), secret: Iterable[str] = ()) -> list[Patch]:
    """Steps 4 and 5: the node's patches from the model, then the task's extra patches, then its secret ones."""
    patches = [parse_patch(patch, f"patches[{i}] of the node") for i, patch in enumerate(node.get("patches") or [])]
    patches += [parse_patch(patch, f"patches[{i}] of the task") for i, patch in enumerate(extra)]
    patches += [parse_patch(p, f"secret_patches[{i}] of the task", secret=True) for i, p in enumerate(secret)]
    return patches


def render_node(
    base: list[dict[str, Any]],
    cluster: dict[str, Any],
    node: dict[str, Any],
    options: RenderOptions,
    extra: Iterable[Any] = (),
    secret: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The node's documents: ``base`` (gen config's output for its role) with every patch applied in order."""
    patches = [*collection_patches(cluster, node, options, base), *user_patches(node, extra, secret)]
    return apply_patches(base, patches)


def talosconfig_endpoints(cluster: dict[str, Any], endpoint_host: str | None = None) -> list[str]:
    """Where talosctl connects: the control planes' addresses, else the VIP, else the API endpoint's host."""
    addresses = [
        str(n["address"]) for n in cluster.get("nodes") or [] if n.get("role") == "controlplane" and n.get("address")
    ]
    if addresses:
        return addresses
    vip = (cluster.get("endpoint") or {}).get("vip")
    if vip:
        return [str(vip)]
    return [endpoint_host] if endpoint_host else []
