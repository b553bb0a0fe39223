# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Reading the cluster-wide sections: top level, image_factory, provider, network, endpoint."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import (
    CLUSTER_NAME_RE,
    KUBERNETES_VERSION_RE,
    TALOS_VERSION_RE,
    Reader,
    describe,
    is_dns_name,
    parse_ip,
    patch_text_problem,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import join_path
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import (
    Cluster,
    Endpoint,
    HcloudSettings,
    ImageFactory,
    LoadBalancerEndpoint,
    Network,
    Provider,
    ProxmoxSettings,
)

TOP_KEYS = (
    "name", "talos_version", "kubernetes_version", "allow_scheduling_on_control_planes", "image_factory",
    "provider", "network", "endpoint", "patches", "node_defaults", "control_plane", "worker", "node_pools",
    "nodes", "platform", "gitops", "edge",
)  # fmt: skip
PROVIDERS = ("hcloud", "proxmox")
HCLOUD_LOCATIONS = {
    "fsn1": "eu-central", "nbg1": "eu-central", "hel1": "eu-central",
    "ash": "us-east", "hil": "us-west", "sin": "ap-southeast",
}  # fmt: skip
HCLOUD_ZONES = ("eu-central", "us-east", "us-west", "ap-southeast")
PROXMOX_KEYS = (
    "api_url", "validate_certs", "nodes", "storage", "image_storage", "bridge", "vlan", "addressing", "interface",
    "vmid_base",
)  # fmt: skip
ADDRESSING = ("meta", "nocloud", "dhcp")
# Earlier spelling of nocloud, still read: it names what Proxmox does (cloud-init), not the Talos platform.
ADDRESSING_ALIASES = {"cloud-init": "nocloud"}
LINK_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
_LB_TYPES = ("lb11", "lb21", "lb31")
_DEFAULTS: dict[int, dict[str, Any]] = {
    4: {"nameservers": ("1.1.1.1", "8.8.8.8"), "pods": "10.244.0.0/16", "services": "10.96.0.0/12"},
    6: {"nameservers": ("2606:4700:4700::1111", "2001:4860:4860::8888"), "pods": "fd00:10:244::/56",
        "services": "fd00:10:96::/112"},
}  # fmt: skip


def read_top(document: dict, r: Reader, cluster: Cluster) -> None:
    """Top-level scalars; the sections are read by their own functions."""
    r.known_keys(document, TOP_KEYS, "")
    for key, example in (
        ("name", "homelab"),
        ("talos_version", "v1.13.9"),
        ("kubernetes_version", "1.34.1"),
        ("provider", "{type: hcloud}"),
        ("network", "{nodes: 10.0.1.0/24}"),
    ):
        r.required(document, key, "", example)
    cluster.name = r.pattern(
        document,
        "name",
        "",
        CLUSTER_NAME_RE,
        "use 1 to 40 lower-case letters, digits and '-', starting with a letter and not ending with '-'",
        "homelab or prod-eu-1",
    )
    cluster.talos_version = r.pattern(
        document,
        "talos_version",
        "",
        TALOS_VERSION_RE,
        "Talos versions look like vMAJOR.MINOR.PATCH, with the leading v, "
        "optionally followed by -alpha.N, -beta.N or -rc.N",
        "v1.13.9",
    )
    k8s = r.pattern(
        document,
        "kubernetes_version",
        "",
        KUBERNETES_VERSION_RE,
        "Kubernetes versions look like MAJOR.MINOR.PATCH (a leading v is allowed)",
        "1.34.1",
    )
    k8s_match = KUBERNETES_VERSION_RE.match(k8s) if k8s else None
    cluster.kubernetes_version = k8s_match.group(1) if k8s_match else None
    allow = r.boolean(document, "allow_scheduling_on_control_planes", "")
    cluster.allow_scheduling_on_control_planes = bool(allow)


def read_patches(data: dict, key: str, path: str, r: Reader) -> list[Any] | None:
    """Talos config patches: mappings, or YAML strings (which may hold several documents)."""
    items = r.items(data, key, path, "[{machine: {sysctls: {vm.swappiness: '10'}}}]")
    if items is None:
        return None
    patches: list[Any] = []
    for i, patch in enumerate(items):
        where = join_path(join_path(path, key), i)
        if isinstance(patch, dict) and patch:
            patches.append(patch)
        elif isinstance(patch, str) and patch.strip():
            problem = patch_text_problem(patch)
            if problem:
                r.report.error(
                    where,
                    problem,
                    "write YAML mappings (machine: ..., cluster: ..., or documents with apiVersion and kind, "
                    "separated by ---) or one list of JSON patch operations ({op, path, value})",
                )
            patches.append(patch)
        else:
            r.report.error(
                where,
                f"a patch must be a non-empty mapping or YAML text, not {describe(patch)}",
                "write the patch as a mapping (machine: ..., cluster: ...) or as a YAML block string",
            )
    return patches


def read_image_factory(data: dict, r: Reader) -> ImageFactory:
    factory = ImageFactory()
    path = "image_factory"
    m = r.mapping(data.get(path), path, "{url: https://factory.talos.dev}")
    if m is None:
        return factory
    r.known_keys(m, ("url", "installer_registry", "validate_certs", "download", "cache_dir"), path)
    url = r.url(m, "url", path, example="https://factory.talos.dev")
    if url:
        factory.url = url.rstrip("/")
        factory.installer_registry = urlsplit(url).netloc.rsplit("@", 1)[-1]
    registry = r.registry(m, "installer_registry", path)
    if registry:
        factory.installer_registry = registry
    for flag in ("validate_certs", "download"):
        value = r.boolean(m, flag, path)
        if value is not None:
            setattr(factory, flag, value)
    cache_dir = r.string(m, "cache_dir", path, "~/.cache/talosforge/images")
    if cache_dir:
        factory.cache_dir = cache_dir
    return factory


def read_provider(data: dict, r: Reader) -> Provider:
    provider = Provider()
    m = r.mapping(data.get("provider"), "provider", "{type: hcloud}")
    if m is None:
        return provider
    r.known_keys(m, ("type", *PROVIDERS), "provider")
    if r.required(m, "type", "provider", "hcloud or type: proxmox"):
        provider.type = r.choice(m, "type", "provider", PROVIDERS)
    given = [name for name in PROVIDERS if m.get(name) is not None]
    for name in given:
        if provider.type is not None and name != provider.type:
            r.report.error(
                f"provider.{name}",
                f"settings for {name} are given, but provider.type is {provider.type}",
                f"move these settings under provider.{provider.type} (or remove them), or set provider.type: {name}",
            )
    kind = provider.type or (given[0] if len(given) == 1 else None)
    if kind == "hcloud":
        provider.hcloud = read_hcloud(m.get("hcloud"), r)
    elif kind == "proxmox":
        provider.proxmox = read_proxmox(m.get("proxmox"), r, required=provider.type == "proxmox")
    return provider


def read_hcloud(value: Any, r: Reader) -> HcloudSettings:
    path = "provider.hcloud"
    settings = HcloudSettings(firewall_source_cidrs=[ipaddress.ip_network("0.0.0.0/0")])
    m = r.mapping(value, path, "{location: fsn1}")
    if m is None:
        return settings
    r.known_keys(
        m,
        (
            "location",
            "network_zone",
            "network_ip_range",
            "public_ipv4",
            "public_ipv6",
            "delete_protection",
            "placement_groups",
            "firewall_source_cidrs",
        ),
        path,
    )
    location = r.choice(m, "location", path, HCLOUD_LOCATIONS)
    settings.location = location or settings.location
    zone = r.choice(m, "network_zone", path, HCLOUD_ZONES)
    settings.network_zone = zone or HCLOUD_LOCATIONS[settings.location]
    if location and zone and HCLOUD_LOCATIONS[location] != zone:
        r.report.error(
            f"{path}.location",
            f"location {location} is in network zone {HCLOUD_LOCATIONS[location]}, not in network_zone {zone}",
            f"choose a location in {zone}, or set network_zone: {HCLOUD_LOCATIONS[location]}",
        )
    settings.network_ip_range = r.cidr(m, "network_ip_range", path, "10.0.0.0/16")
    if settings.network_ip_range is not None and settings.network_ip_range.version != 4:
        r.report.error(
            f"{path}.network_ip_range",
            f"{settings.network_ip_range} is IPv6, but Hetzner Cloud private networks are IPv4 only",
            "use an IPv4 range such as 10.0.0.0/16 (servers still get a public IPv6 address with public_ipv6)",
        )
        settings.network_ip_range = None
    for flag in ("public_ipv4", "public_ipv6", "delete_protection", "placement_groups"):
        flag_value = r.boolean(m, flag, path)
        if flag_value is not None:
            setattr(settings, flag, flag_value)
    cidrs = r.items(m, "firewall_source_cidrs", path, "[203.0.113.0/24]")
    if cidrs is not None:
        where = f"{path}.firewall_source_cidrs"
        parsed = [r.cidr_value(c, join_path(where, i), "203.0.113.0/24") for i, c in enumerate(cidrs)]
        settings.firewall_source_cidrs = [c for c in parsed if c is not None]
    return settings


def read_proxmox(value: Any, r: Reader, required: bool) -> ProxmoxSettings:
    path = "provider.proxmox"
    settings = ProxmoxSettings()
    if value is None:
        if required:
            r.report.error(
                path,
                "is required when provider.type is proxmox",
                "add provider.proxmox with at least api_url and nodes",
            )
        return settings
    m = r.mapping(value, path, "{api_url: https://pve.example.org:8006, nodes: [pve1]}")
    if m is None:
        return settings
    r.known_keys(m, PROXMOX_KEYS, path)
    r.required(m, "api_url", path, "https://pve.example.org:8006")
    settings.api_url = r.url(m, "api_url", path, example="https://pve.example.org:8006")
    if r.required(m, "nodes", path, "[pve1]"):
        names = r.items(m, "nodes", path, "[pve1, pve2]") or []
        seen: set[str] = set()
        for i, name in enumerate(names):
            where = f"{path}.nodes[{i}]"
            if not isinstance(name, str) or not is_dns_name(name) or "." in name:
                r.report.error(
                    where,
                    f"{describe(name)} is not a Proxmox node name",
                    "write the node name as shown in the Proxmox tree, such as pve1",
                )
            elif name in seen:
                r.report.error(where, f'Proxmox node "{name}" is listed twice', "list each Proxmox node once")
            else:
                seen.add(name)
                settings.nodes.append(name)
        if isinstance(m.get("nodes"), list) and not m["nodes"]:
            r.report.error(f"{path}.nodes", "is empty", "list at least one Proxmox node, such as nodes: [pve1]")
    settings.validate_certs = r.boolean(m, "validate_certs", path) is not False
    for key in ("storage", "image_storage", "bridge"):
        text = r.string(m, key, path, getattr(settings, key))
        if text:
            setattr(settings, key, text)
    settings.vlan = r.integer(m, "vlan", path, 1, 4094)
    if m.get("addressing") in ADDRESSING_ALIASES:
        settings.addressing = ADDRESSING_ALIASES[m["addressing"]]
    else:
        settings.addressing = r.choice(m, "addressing", path, ADDRESSING) or settings.addressing
    interface = r.string(m, "interface", path, settings.interface)
    if interface is not None and not LINK_NAME_RE.fullmatch(interface):
        r.report.error(
            f"{path}.interface",
            f'"{interface}" is not a Linux interface name',
            "write the name Talos gives the VM's first NIC, such as ens18 (at most 15 letters, digits, '.', '-', '_')",
        )
    elif interface:
        settings.interface = interface
    settings.vmid_base = r.integer(m, "vmid_base", path, 100, 999_999_999)
    return settings


def read_network(data: dict, r: Reader, provider: Provider) -> Network:
    network = Network()
    path = "network"
    m = r.mapping(data.get(path), path, "{nodes: 10.0.1.0/24}")
    if m is None:
        return network
    r.known_keys(m, ("nodes", "gateway", "nameservers", "pods", "services"), path)
    r.required(m, "nodes", path, "10.0.1.0/24 (the network the node addresses are in)")
    network.nodes = r.cidr(m, "nodes", path)
    network.gateway = r.ip(m, "gateway", path, "10.0.1.1")
    network.pods = r.cidr(m, "pods", path, "10.244.0.0/16")
    network.services = r.cidr(m, "services", path, "10.96.0.0/12")
    servers = r.items(m, "nameservers", path, "[1.1.1.1, 8.8.8.8]")
    if servers is not None:
        parsed = [r.ip_value(s, f"{path}.nameservers[{i}]", "1.1.1.1") for i, s in enumerate(servers)]
        network.nameservers = [s for s in parsed if s is not None]
    defaults = _DEFAULTS[network.nodes.version if network.nodes else 4]
    if servers is None:
        network.nameservers = [ipaddress.ip_address(s) for s in defaults["nameservers"]]
    if m.get("pods") is None:
        network.pods = ipaddress.ip_network(defaults["pods"])
    if m.get("services") is None:
        network.services = ipaddress.ip_network(defaults["services"])
    if m.get("gateway") is None:
        gateway_network = network.nodes
        if provider.type == "hcloud" and provider.hcloud and provider.hcloud.network_ip_range:
            gateway_network = provider.hcloud.network_ip_range
        if gateway_network is not None and gateway_network.num_addresses > 2:
            network.gateway = gateway_network.network_address + 1
    return network


def read_endpoint(data: dict, r: Reader) -> Endpoint:
    endpoint = Endpoint()
    path = "endpoint"
    m = r.mapping(data.get(path), path, "{vip: 10.0.1.100}")
    if m is None:
        return endpoint
    r.known_keys(m, ("vip", "load_balancer", "host", "port", "extra_sans"), path)
    endpoint.vip = r.ip(m, "vip", path, "10.0.1.100")
    endpoint.host = r.dns_name(m, "host", path, "k8s.example.org")
    endpoint.port = r.integer(m, "port", path, 1, 65535) or endpoint.port
    lb_path = f"{path}.load_balancer"
    lb = r.mapping(m.get("load_balancer"), lb_path, "{type: lb11, location: fsn1}")
    if lb is not None:
        r.known_keys(lb, ("type", "location"), lb_path)
        endpoint.load_balancer = LoadBalancerEndpoint(
            type=r.choice(lb, "type", lb_path, _LB_TYPES) or "lb11",
            location=r.choice(lb, "location", lb_path, HCLOUD_LOCATIONS),
        )
    sans = r.items(m, "extra_sans", path, "[k8s.example.org, 203.0.113.10]") or []
    for i, san in enumerate(sans):
        if isinstance(san, str) and (parse_ip(san) is not None or is_dns_name(san)):
            endpoint.extra_sans.append(san)
        else:
            r.report.error(
                f"{path}.extra_sans[{i}]",
                f"{describe(san)} is neither a DNS name nor an IP address",
                "write a host name such as k8s.example.org or an address such as 203.0.113.10",
            )
    return endpoint


def endpoint_url(endpoint: Endpoint, single_control_plane_address: Any) -> str | None:
    """``https://<host or vip or single control plane address>:<port>``; None while a load balancer's address
    is not known (the infrastructure stage learns it when it creates the load balancer)."""
    target: Any = endpoint.host or endpoint.vip
    if target is None and endpoint.load_balancer is None:
        target = single_control_plane_address
    if target is None:
        return None
    text = str(target)
    if ":" in text:
        text = f"[{text}]"
    return f"https://{text}:{endpoint.port}"
