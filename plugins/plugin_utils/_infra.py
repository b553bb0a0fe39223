# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What both provider filters build the same way: ``talosforge_infra`` (docs/stage-contract.md) from node facts.

Pure: the cluster model (``talosforge_cluster``) and the provider modules' results in, plain data out. The
filters in plugins/filter/ turn ``InfraInputError`` into Ansible's filter error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class InfraInputError(ValueError):
    """The model or a module result is not what the filter takes."""


def nodes_of(cluster: Any) -> list[dict[str, Any]]:
    """``cluster["nodes"]``, checked: the filters take ``talosforge_cluster``."""
    nodes = cluster.get("nodes") if isinstance(cluster, Mapping) else None
    if not isinstance(nodes, list) or not all(isinstance(node, Mapping) for node in nodes):
        raise InfraInputError("expects the cluster model, talosforge_cluster, with its nodes")
    return [dict(node) for node in nodes]


def facts_by_name(facts: Any, what: str) -> dict[str, dict[str, Any]]:
    """``{name: fact}`` of a module's ``nodes`` list."""
    if facts is None:
        return {}
    if not isinstance(facts, list) or not all(isinstance(fact, Mapping) for fact in facts):
        raise InfraInputError(f"{what} must be a list of node facts")
    return {str(fact.get("name")): dict(fact) for fact in facts}


def in_definition_order(cluster: Any, known: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The facts of ``known`` in the order of the definition's nodes; nodes the provider does not know are left out."""
    return [known[node["name"]] for node in nodes_of(cluster) if node.get("name") in known]


def endpoint_fact(
    cluster: Any, first_control_plane: str | None, load_balancer_address: str | None = None
) -> dict[str, Any]:
    """``talosforge_infra.endpoint``: where the Kubernetes API is reached once the infrastructure exists.

    The load balancer's address, else the VIP (floating or not), else ``endpoint.host``, else the first control
    plane the provider reported. ``kind`` is the model's ``endpoint.kind``.
    """
    endpoint = cluster.get("endpoint") or {}
    kind = endpoint.get("kind") or "host"
    if kind == "load_balancer":
        address = load_balancer_address
    else:
        address = endpoint.get("vip") or endpoint.get("host") or first_control_plane
    return {"address": address, "port": endpoint.get("port", 6443), "kind": kind}


def first_control_plane(facts: list[dict[str, Any]]) -> str | None:
    """The ``talos_address`` of the first control plane among ``facts``, None without one."""
    return next((fact.get("talos_address") for fact in facts if fact.get("role") == "controlplane"), None)


def infra_fact(provider: str, endpoint: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"provider": provider, "endpoint": endpoint, "nodes": nodes}
