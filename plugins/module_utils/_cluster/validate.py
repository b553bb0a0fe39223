# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Validate a cluster definition and build its model, reporting every problem at once.

    cluster, issues = load_cluster(document)
    if any(issue.is_error for issue in issues):
        print(format_issues(issues))

Pure Python and standard library only: no Ansible import, no network access.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.checks import check_network, check_nodes
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.checks_endpoint import check_endpoint
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.checks_platform import (
    check_edge,
    check_platform,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.fields import Reader, describe
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import (
    ERROR,
    WARNING,
    Issue,
    Report,
    format_issues,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import Cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read import (
    endpoint_url,
    read_endpoint,
    read_image_factory,
    read_network,
    read_patches,
    read_provider,
    read_top,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read_nodes import NodeReader
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read_platform import (
    read_edge,
    read_gitops,
    read_platform,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.resolve import resolve_nodes
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.static_addressing import (
    apply_static_addressing,
)

__all__ = ["ERROR", "WARNING", "Issue", "format_issues", "load_cluster", "errors_of"]


def load_cluster(document: Any) -> tuple[Cluster | None, list[Issue]]:
    """Read ``document`` (the mapping under ``cluster:``) into a resolved ``Cluster`` and every issue found.

    The cluster is None only when the document is not a mapping; otherwise it is the best model that can be
    built, even when there are errors, so that callers can show it next to the problems.
    """
    report = Report()
    if not isinstance(document, dict):
        report.error(
            "cluster",
            f"the cluster definition must be a mapping, not {describe(document)}",
            "put the definition under cluster: as a mapping with name, talos_version, kubernetes_version, "
            "provider, network and nodes",
        )
        return None, report.issues
    r = Reader(report)
    cluster = Cluster()
    read_top(document, r, cluster)
    cluster.image_factory = read_image_factory(document, r)
    cluster.provider = read_provider(document, r)
    cluster.network = read_network(document, r, cluster.provider)
    cluster.endpoint = read_endpoint(document, r)
    cluster.patches = read_patches(document, "patches", "", r) or []
    _read_nodes(document, r, cluster)
    cluster.platform = read_platform(document, r, cluster.provider.type)
    cluster.gitops = read_gitops(document, r, cluster.name)
    cluster.edge = read_edge(document, r)

    cluster.nodes = resolve_nodes(cluster, report)
    apply_static_addressing(cluster, report)
    hcloud = cluster.provider.hcloud if cluster.provider.type == "hcloud" else None
    if hcloud and cluster.endpoint.load_balancer and cluster.endpoint.load_balancer.location is None:
        cluster.endpoint.load_balancer.location = hcloud.location
    check_network(cluster, report)
    check_nodes(cluster, report)
    check_endpoint(cluster, report)
    check_platform(cluster, report)
    check_edge(cluster, report)
    if hcloud and hcloud.network_ip_range is None:
        hcloud.network_ip_range = cluster.network.nodes
    control_planes = cluster.control_planes
    single = control_planes[0].address if len(control_planes) == 1 else None
    cluster.endpoint.url = endpoint_url(cluster.endpoint, single)
    return cluster, report.issues


def _read_nodes(document: dict, r: Reader, cluster: Cluster) -> None:
    proxmox = cluster.provider.proxmox if cluster.provider.type == "proxmox" else None
    reader = NodeReader(r, cluster.provider.type, proxmox.addressing if proxmox else None, cluster.talos_version)
    cluster.node_defaults = reader.group(document, "node_defaults")
    cluster.control_plane = reader.group(document, "control_plane")
    cluster.worker = reader.group(document, "worker")
    pools = r.items(document, "node_pools", "", "[{name: workers, role: worker, count: 2}]") or []
    cluster.node_pools = [p for p in (reader.pool(v, f"node_pools[{i}]") for i, v in enumerate(pools)) if p]
    specs = r.items(document, "nodes", "", "[{name: cp-1, role: controlplane, address: 10.0.1.11}]") or []
    cluster.node_specs = [n for n in (reader.node(v, f"nodes[{i}]") for i, v in enumerate(specs)) if n]


def errors_of(issues: list[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.is_error]
