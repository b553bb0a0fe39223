# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_info module: what every node runs and how it is, and the etcd members. Reads only; a node that cannot
be read is reported as unreachable, it does not fail the task."""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    by_name,
    control_planes,
    direct,
    installer_image,
    parsed,
    probe,
    schematic,
    talos_version,
    validate_nodes,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    DEFAULT_SCHEMATIC,
    parse_etcd_members,
    parse_installer_image,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)


def read_node(talosctl: Talosctl, node: Node) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": node["name"], "address": node["address"], "role": node.get("role") or ""}
    state = probe(talosctl, node)
    entry.update(
        reachable=True,
        maintenance=state["maintenance"],
        stage=state["stage"],
        ready=state["ready"],
        unmet_conditions=state["unmet_conditions"],
    )
    if not state["maintenance"]:
        entry["version"] = talos_version(talosctl, node)
        entry["schematic"], entry["extensions"], known = schematic(talosctl, node)
        entry["installer_image"] = installer_image(talosctl, node)
        if not known and entry["installer_image"]:
            entry["schematic"] = parse_installer_image(entry["installer_image"]).schematic or DEFAULT_SCHEMATIC
    return entry


def etcd_members(talosctl: Talosctl, nodes: list[Node], entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    for node in control_planes(nodes):
        entry = entries[node["name"]]
        if not entry.get("reachable") or entry.get("maintenance"):
            continue
        done = talosctl.run(["etcd", "members"], direct(node), check=False)
        if done.ok:
            return parsed(parse_etcd_members, done, node)
    return []


def read_cluster(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: every node read in parallel, then the etcd members from the first control plane that answers."""
    nodes = validate_nodes(params["nodes"])
    named = by_name(nodes)
    outcomes = talosctl.run_per_node(list(named), lambda client, name: read_node(client, named[name]), workers(params))
    entries: dict[str, dict[str, Any]] = {}
    for node, (entry, error) in zip(nodes, outcomes, strict=True):
        if error is not None:
            entry = {
                "name": node["name"],
                "address": node["address"],
                "role": node.get("role") or "",
                "reachable": False,
                "error": str(error),
            }
        entries[node["name"]] = entry
    try:
        members = etcd_members(talosctl, nodes, entries)
    except TalosctlError:
        members = []
    return {"changed": False, "nodes": [entries[node["name"]] for node in nodes], "etcd_members": members}
