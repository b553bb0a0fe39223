# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Reading what runs on and around the cluster: platform, gitops and edge."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import (
    DNS_LABEL_RE,
    Reader,
    describe,
    parse_ip,
    url_problem,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import (
    FLUX_KNOWN_COMPONENTS,
    FLUX_REQUIRED_COMPONENTS,
    AddressPool,
    Edge,
    Gitops,
    Platform,
)

CNI_TYPES = ("cilium", "flannel", "none")
LOAD_BALANCER_TYPES = ("metallb", "cilium-l2", "hcloud", "none")
INGRESS_TYPES = ("gateway", "cilium", "ingress-nginx", "none")
DNS01_TYPES = ("powerdns", "none")
MESH_TYPES = ("tailscale", "headscale", "none")
ACME_DIRECTORIES = ("production", "staging")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BRANCH_RE = re.compile(r"^(?!/)(?!.*(\.\.|//|@\{|\.lock$|/$|\.$))[^\s~^:?*\[\\]+$")
_FLUX_VERSION_RE = re.compile(r"^v?[0-9]+\.(x|[0-9]+)(\.(x|[0-9]+))?$")
_SCP_LIKE_RE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def _section(r: Reader, data: dict | None, key: str, path: str, keys: tuple[str, ...], example: str) -> dict:
    """A sub-mapping with its unknown keys reported; an empty dict when absent or wrong."""
    m = r.mapping((data or {}).get(key), path, example)
    if m is None:
        return {}
    r.known_keys(m, keys, path)
    return m


def _email(r: Reader, data: dict, key: str, path: str) -> str | None:
    value = r.string(data, key, path, "ops@example.org")
    if value is not None and not _EMAIL_RE.fullmatch(value):
        r.report.error(f"{path}.{key}", f'"{value}" is not an e-mail address', "write an address like ops@example.org")
        return None
    return value


def _acme_directory(r: Reader, data: dict, key: str, path: str) -> str | None:
    value = r.string(data, key, path, "production")
    if value is None or value in ACME_DIRECTORIES:
        return value
    problem = url_problem(value, ("https",))
    if problem:
        r.report.error(
            f"{path}.{key}",
            f'"{value}" is neither production, staging nor an ACME directory URL (it {problem})',
            "write production, staging, or a URL like https://acme.example.org/directory",
        )
        return None
    return value


def read_platform(data: dict, r: Reader, provider_type: str | None) -> Platform:
    platform = Platform(hcloud_ccm=provider_type == "hcloud", hcloud_csi=provider_type == "hcloud")
    m = _section(
        r,
        data,
        "platform",
        "platform",
        ("cni", "load_balancer", "ingress", "cert_manager", "dns", "sealed_secrets", "hcloud"),
        "{cni: {type: cilium}}",
    )
    cni = _section(
        r, m, "cni", "platform.cni", ("type", "kube_proxy_replacement", "host_legacy_routing"), "{type: cilium}"
    )
    platform.cni_type = r.choice(cni, "type", "platform.cni", CNI_TYPES) or platform.cni_type
    kpr = r.boolean(cni, "kube_proxy_replacement", "platform.cni")
    platform.kube_proxy_replacement = (platform.cni_type == "cilium") if kpr is None else kpr
    platform.host_legacy_routing = bool(r.boolean(cni, "host_legacy_routing", "platform.cni"))

    lb = _section(r, m, "load_balancer", "platform.load_balancer", ("type", "pools"), "{type: metallb}")
    platform.load_balancer_type = r.choice(lb, "type", "platform.load_balancer", LOAD_BALANCER_TYPES) or "none"
    pools = r.items(lb, "pools", "platform.load_balancer", "[{name: ingress-pool, addresses: [10.0.3.2/32]}]")
    platform.pools = [_read_pool(r, pool, f"platform.load_balancer.pools[{i}]") for i, pool in enumerate(pools or [])]

    ingress = _section(r, m, "ingress", "platform.ingress", ("type", "pool", "replicas"), "{type: gateway}")
    platform.ingress_type = r.choice(ingress, "type", "platform.ingress", INGRESS_TYPES) or "none"
    platform.ingress_pool = r.string(ingress, "pool", "platform.ingress", "ingress-pool")
    platform.ingress_replicas = r.integer(ingress, "replicas", "platform.ingress", 1, 100) or 1

    cm_path = "platform.cert_manager"
    cm = _section(r, m, "cert_manager", cm_path, ("enabled", "email", "dns01", "directory"), "{enabled: true}")
    platform.cert_manager_enabled = bool(r.boolean(cm, "enabled", cm_path))
    platform.cert_manager_email = _email(r, cm, "email", cm_path)
    platform.cert_manager_dns01 = r.choice(cm, "dns01", cm_path, DNS01_TYPES) or "none"
    platform.cert_manager_directory = _acme_directory(r, cm, "directory", cm_path) or "production"

    dns = _section(r, m, "dns", "platform.dns", ("powerdns",), "{powerdns: {enabled: true}}")
    pdns_path = "platform.dns.powerdns"
    pdns_keys = ("enabled", "pool", "zone")
    pdns = _section(r, dns, "powerdns", pdns_path, pdns_keys, "{enabled: true, zone: k8s.example.org}")
    platform.powerdns_enabled = bool(r.boolean(pdns, "enabled", pdns_path))
    platform.powerdns_pool = r.string(pdns, "pool", pdns_path, "dns-pool")
    platform.powerdns_zone = r.dns_name(pdns, "zone", pdns_path, "k8s.example.org")

    sealed = _section(r, m, "sealed_secrets", "platform.sealed_secrets", ("enabled",), "{enabled: true}")
    platform.sealed_secrets_enabled = bool(r.boolean(sealed, "enabled", "platform.sealed_secrets"))

    hcloud = _section(r, m, "hcloud", "platform.hcloud", ("ccm", "csi"), "{ccm: true, csi: true}")
    for key in ("ccm", "csi"):
        value = r.boolean(hcloud, key, "platform.hcloud")
        if value is not None:
            setattr(platform, f"hcloud_{key}", value)
    return platform


def _read_pool(r: Reader, value: Any, path: str) -> AddressPool:
    pool = AddressPool(name=None, addresses=[], path=path)
    m = r.mapping(value, path, "{name: ingress-pool, addresses: [10.0.3.2/32]}")
    if m is None:
        return pool
    r.known_keys(m, ("name", "addresses"), path)
    if r.required(m, "name", path, "ingress-pool"):
        pool.name = r.pattern(
            m,
            "name",
            path,
            DNS_LABEL_RE,
            "pool names are DNS labels: lower-case letters, digits and '-', at most 63 characters",
            "ingress-pool",
        )
    r.required(m, "addresses", path, "[10.0.3.2/32]")
    if m.get("addresses") == []:
        r.report.error(f"{path}.addresses", "is empty", "list at least one network or range, such as [10.0.3.2/32]")
    for i, item in enumerate(r.items(m, "addresses", path, "[10.0.3.2/32, 10.0.3.10-10.0.3.20]") or []):
        where = f"{path}.addresses[{i}]"
        parsed = parse_address_range(item)
        if isinstance(parsed, str):
            r.report.error(
                where,
                f"{describe(item)} {parsed}",
                "write a network such as 10.0.3.0/28, a single address as 10.0.3.2/32, or a range "
                "such as 10.0.3.4-10.0.3.20",
            )
            continue
        pool.addresses.append(item)
        pool.ranges.append(parsed)
        pool.positions.append(i)
    return pool


def parse_address_range(item: Any) -> tuple[Any, Any] | str:
    """(first, last) of a CIDR or an ``a-b`` range, or why it is neither."""
    if not isinstance(item, str):
        return "is not a network or an address range"
    text = item
    if text != text.strip():
        return "has white space before or after it"
    if "-" in text and "/" not in text:
        first, last = (parse_ip(part) for part in text.split("-", 1))
        if first is None or last is None:
            return "is not a valid address range (first-last)"
        if first.version != last.version:
            return "mixes IPv4 and IPv6"
        if int(first) > int(last):
            return "ends before it starts"
        return first, last
    if "/" not in text:
        return "is a single address without a prefix length (MetalLB and Cilium want a network or a range)"
    try:
        net = ipaddress.ip_network(text)
    except ValueError:
        return "is not a valid network (check the address and that no host bits are set)"
    return net.network_address, net.broadcast_address


def read_gitops(data: dict, r: Reader, cluster_name: str | None) -> Gitops:
    gitops = Gitops(flux_path=f"clusters/{cluster_name or 'default'}")
    m = _section(
        r, data, "gitops", "gitops", ("flux", "layout"), "{flux: {url: ssh://git@github.com/example/cluster.git}}"
    )
    path = "gitops.flux"
    flux = _section(
        r, m, "flux", path, ("enabled", "url", "branch", "path", "version", "components"),
        "{url: ssh://git@github.com/o/r.git}",
    )  # fmt: skip
    enabled = r.boolean(flux, "enabled", path)
    raw_url = flux.get("url")
    gitops.flux_enabled = enabled if enabled is not None else raw_url is not None
    parts = _SCP_LIKE_RE.fullmatch(raw_url) if isinstance(raw_url, str) else None
    if parts is not None:
        r.report.error(
            f"{path}.url",
            f'"{raw_url}" is an scp-style Git address, which Flux does not accept',
            f"write it as ssh://{parts['user']}@{parts['host']}/{parts['path']}",
        )
    else:
        gitops.flux_url = r.url(flux, "url", path, ("ssh", "https", "http"), "ssh://git@github.com/example/cluster.git")
    if gitops.flux_enabled and raw_url is None:
        r.report.error(
            f"{path}.url",
            "is required when Flux is enabled",
            "add url: ssh://git@github.com/<owner>/<repository>.git, or set enabled: false",
        )
    branch = r.pattern(flux, "branch", path, _BRANCH_RE, "not a valid Git branch name", "main")
    gitops.flux_branch = branch or gitops.flux_branch
    repo_path = r.string(flux, "path", path, "clusters/production")
    if repo_path is not None:
        if repo_path.startswith("/") or repo_path.endswith("/") or ".." in repo_path.split("/"):
            r.report.error(
                f"{path}.path",
                f'"{repo_path}" is not a path inside the repository',
                "write a relative path without '..' and without a leading or trailing '/', such as clusters/production",
            )
        else:
            gitops.flux_path = repo_path
    version = r.pattern(flux, "version", path, _FLUX_VERSION_RE, "not a Flux version or range", '"2.9.x"')
    gitops.flux_version = version or gitops.flux_version
    components = _flux_components(r, flux, path)
    if components is not None:
        gitops.flux_components = components
    layout = _section(r, m, "layout", "gitops.layout", ("infrastructure", "apps"), "{infrastructure: k8s/infra}")
    for key in ("infrastructure", "apps"):
        folder = _repository_folder(r, layout, key, "gitops.layout")
        if folder is not None:
            setattr(gitops, f"{key}_path", folder)
    folders = {"gitops.flux.path": gitops.flux_path or "", "gitops.layout.infrastructure": gitops.infrastructure_path,
               "gitops.layout.apps": gitops.apps_path}  # fmt: skip
    names = list(folders)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            one, two = folders[first], folders[second]
            if one and two and (one == two or one.startswith(two + "/") or two.startswith(one + "/")):
                r.report.error(
                    second,
                    f'"{two}" and {first} "{one}" contain each other',
                    "give each its own folder of the repository",
                )
    return gitops


def _repository_folder(r: Reader, data: dict, key: str, path: str) -> str | None:
    folder = r.string(data, key, path, "k8s/apps")
    if folder is None:
        return None
    if folder.startswith("/") or folder.endswith("/") or ".." in folder.split("/"):
        r.report.error(
            f"{path}.{key}",
            f'"{folder}" is not a path inside the repository',
            "write a relative path without '..' and without a leading or trailing '/', such as k8s/apps",
        )
        return None
    return folder


def _flux_components(r: Reader, flux: dict, path: str) -> list[str] | None:
    items = r.items(flux, "components", path, "[source-controller, kustomize-controller, helm-controller]")
    if items is None:
        return None
    found: list[str] = []
    for index, item in enumerate(items):
        if item not in FLUX_KNOWN_COMPONENTS:
            r.report.error(
                f"{path}.components[{index}]",
                f"unknown Flux component {item!r}",
                f"use one of {', '.join(FLUX_KNOWN_COMPONENTS)}",
            )
        elif item not in found:
            found.append(item)
    missing = [name for name in FLUX_REQUIRED_COMPONENTS if name not in found]
    if missing:
        r.report.error(
            f"{path}.components",
            f"lacks {', '.join(missing)}, which the GitOps tree needs (it syncs Kustomizations and HelmReleases)",
            f"add {', '.join(missing)}",
        )
    return found


def read_edge(data: dict, r: Reader) -> Edge | None:
    if data.get("edge") is None:
        return None
    m = _section(
        r,
        data,
        "edge",
        "edge",
        ("host", "public_address", "domain", "mesh", "acme"),
        "{host: vps.example.org, domain: k8s.example.org}",
    )
    if not isinstance(data.get("edge"), dict):
        return None  # reported by _section; an empty mapping goes on, to report what it lacks
    edge = Edge()
    r.required(m, "host", "edge", "vps.example.org")
    r.required(m, "domain", "edge", "k8s.example.org")
    edge.host = r.host(m, "host", "edge")
    edge.public_address = r.ip(m, "public_address", "edge", "203.0.113.10")
    edge.domain = r.dns_name(m, "domain", "edge", "k8s.example.org")
    mesh = _section(r, m, "mesh", "edge.mesh", ("type", "login_server"), "{type: tailscale}")
    edge.mesh_type = r.choice(mesh, "type", "edge.mesh", MESH_TYPES) or edge.mesh_type
    edge.mesh_login_server = r.url(mesh, "login_server", "edge.mesh", ("https", "http"), "https://hs.example.org")
    if edge.mesh_type == "headscale" and mesh.get("login_server") is None:
        r.report.error(
            "edge.mesh.login_server",
            "is required when the mesh is headscale",
            "add login_server: https://<your headscale server>",
        )
    if edge.mesh_type in ("tailscale", "none") and mesh.get("login_server") is not None:
        r.report.error(
            "edge.mesh.login_server",
            f"is only used with headscale, but the mesh is {edge.mesh_type}",
            "remove login_server, or set type: headscale",
        )
    acme = _section(r, m, "acme", "edge.acme", ("directory", "email"), "{email: ops@example.org}")
    if m.get("acme") is None:
        r.report.error(
            "edge.acme",
            "is required: the edge needs an ACME account for its wildcard certificate",
            "add acme: {email: ops@example.org}",
        )
    elif isinstance(m.get("acme"), dict) and r.required(acme, "email", "edge.acme", "ops@example.org"):
        edge.acme_email = _email(r, acme, "email", "edge.acme")
    edge.acme_directory = _acme_directory(r, acme, "directory", "edge.acme") or edge.acme_directory
    return edge
