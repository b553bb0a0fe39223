# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hetzner Cloud filters of the infra_hcloud role: the servers hcloud_servers takes, and talosforge_infra."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter
from ansible_collections.talosforge.cluster.plugins.plugin_utils._infra import (
    InfraInputError,
    endpoint_fact,
    facts_by_name,
    first_control_plane,
    in_definition_order,
    infra_fact,
    nodes_of,
)


def _snapshots_by_url(snapshots: Any) -> dict[str, dict[str, Any]]:
    images = snapshots.get("images") if isinstance(snapshots, Mapping) else snapshots
    if not isinstance(images, list) or not all(isinstance(image, Mapping) for image in images):
        raise InfraInputError("snapshots must be the result of hcloud_talos_image or its images list")
    return {str(image.get("url")): dict(image) for image in images}


def server_specs(
    cluster: Any, hosts: list[str], snapshots: Any, placement_groups: bool = False
) -> list[dict[str, Any]]:
    """One ``servers`` entry of hcloud_servers per node of ``hosts``, in the definition's order.

    A node's snapshot is the image of ``snapshots`` with the node's ``image_url``.
    """
    by_url = _snapshots_by_url(snapshots)
    wanted = set(hosts or [])
    specs = []
    for node in nodes_of(cluster):
        if node.get("name") not in wanted:
            continue
        snapshot = by_url.get(str(node.get("image_url")))
        if snapshot is None:
            raise InfraInputError(
                f"node {node.get('name')}: no snapshot of its image {node.get('image_url')}; "
                "run the definition role and hcloud_talos_image for the play's nodes first"
            )
        pool = node.get("pool")
        specs.append(
            {
                "name": node.get("name"),
                "role": node.get("role"),
                "pool": pool,
                "server_type": node.get("size"),
                "location": node.get("location"),
                "image": str(snapshot.get("image_id")),
                "private_ipv4": node.get("address"),
                "placement_group": f"{cluster.get('name')}-{pool}" if placement_groups else None,
            }
        )
    return specs


def infra(
    cluster: Any, servers: Any, load_balancer_address: str | None = None, endpoint: bool = True
) -> dict[str, Any]:
    """``talosforge_infra`` from an hcloud_servers result: every server of the cluster, in the definition's order.

    The endpoint's fallback control plane is the first one of the play (``servers.nodes``); with
    ``endpoint=False`` (read-only runs) the endpoint is left empty.
    """
    if not isinstance(servers, Mapping):
        raise InfraInputError("servers must be the result of hcloud_servers")
    known = facts_by_name(servers.get("cluster_nodes") or [], "servers.cluster_nodes")
    nodes = in_definition_order(cluster, known)
    fact: dict[str, Any] = {}
    if endpoint:
        play = list(facts_by_name(servers.get("nodes") or [], "servers.nodes").values())
        fact = endpoint_fact(cluster, first_control_plane(play), load_balancer_address)
    return infra_fact("hcloud", fact, nodes)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "hcloud_server_specs": as_filter("hcloud_server_specs", server_specs),
            "hcloud_infra": as_filter("hcloud_infra", infra),
        }
