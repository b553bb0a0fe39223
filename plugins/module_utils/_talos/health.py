# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Cluster health with ``talosctl health``: the talos_health module, and the checks talos_upgrade runs between nodes."""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    TalosInputError,
    address_names,
    check_positive,
    control_planes,
    direct,
    require_control_plane,
    validate_nodes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    classify_error,
    go_duration,
    parse_health,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Result,
    Talosctl,
    TalosctlError,
)


class HealthCheckFailed(TalosctlError):
    """talosctl health failed. ``failure.details`` adds to talosctl's ``node`` (where it ran), ``rc`` and
    ``stderr``: ``checks`` (each with ``name``, ``ok``, ``message``), ``failed_check`` and ``failed_nodes``
    (node name: talosctl's reason)."""

    def __init__(self, message: str, result: Result, source: str, parsed: dict[str, Any], failed: dict[str, str]):
        super().__init__(
            message, result=result, checks=parsed["checks"], failed_check=parsed["failed_check"], failed_nodes=failed
        )
        self.node = source  # the message does not start with it: it names the failed check and nodes instead
        self.details["node"] = source


def health_args(nodes: list[Node], wait_timeout: float) -> list[str]:
    planes = control_planes(nodes)
    workers = [node for node in nodes if node not in planes]
    args = ["health", "--wait-timeout", go_duration(wait_timeout)]
    args += ["--control-plane-nodes", ",".join(node["address"] for node in planes)]
    if workers:
        args += ["--worker-nodes", ",".join(node["address"] for node in workers)]
    return args


def check_health(
    talosctl: Talosctl, nodes: list[Node], wait_timeout: float, avoid: str | None = None
) -> dict[str, Any]:
    """Run talosctl health from a control plane (not ``avoid`` when another one exists); raise on failure.

    Returns {"node", "checks"}; raises HealthCheckFailed naming the failed check and its nodes.
    """
    planes = require_control_plane(nodes)
    order = [node for node in planes if node["name"] != avoid] + [node for node in planes if node["name"] == avoid]
    names = address_names(nodes)
    for index, source in enumerate(order):
        done = talosctl.run(health_args(nodes, wait_timeout), direct(source), check=False)
        parsed = parse_health(done.stdout + "\n" + done.stderr)
        if done.ok:
            return {"node": source["name"], "checks": parsed["checks"]}
        if not parsed["checks"] and classify_error(done.stderr) == "unreachable" and index + 1 < len(order):
            continue  # this control plane is down; ask the next one
        failed_nodes = {names.get(address, address): reason for address, reason in parsed["failed_nodes"].items()}
        if parsed["failed_check"]:
            where = ", ".join(f"{name} ({reason})" for name, reason in failed_nodes.items()) or "the cluster"
            message = f"health check '{parsed['failed_check']}' failed on {where}"
        else:
            message = f"talosctl health failed on node {source['name']}: {done.stderr.strip() or done.stdout.strip()}"
        raise HealthCheckFailed(message, done, source["name"], parsed, failed_nodes)
    raise TalosInputError("no control plane to run the health checks from")


def cluster_health(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The talos_health module: wait (at most ``wait_timeout``) until the cluster is healthy. Reads only."""
    check_positive(params, "wait_timeout")
    nodes = validate_nodes(params["nodes"])
    talosctl.at_least(params["wait_timeout"] + 30)
    return {"changed": False, **check_health(talosctl, nodes, params["wait_timeout"])}
