# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_bootstrap module: bootstrap etcd on the first control plane, once in the life of the cluster.

Every control plane is asked for its etcd members first; a cluster where any of them has members is not
bootstrapped again, whatever the order of the node list.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    NodesFailed,
    check_positive,
    direct,
    errors_message,
    parsed,
    require_control_plane,
    split_outcomes,
    validate_nodes,
    wait_for,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    classify_error,
    mask_config,
    parse_etcd_members,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)


def etcd_members(talosctl: Talosctl, node: Node) -> list[dict[str, Any]]:
    """The etcd members as ``node`` sees them; [] when etcd is not running there yet."""
    result = talosctl.run(["etcd", "members"], direct(node), check=False)
    if result.ok:
        return parsed(parse_etcd_members, result, node)
    kind = classify_error(result.stderr)
    if kind == "maintenance":
        raise TalosctlError(
            "answers only the maintenance API: apply its configuration (talos_apply_config) before bootstrapping",
            result=result,
            node=node["name"],
        )
    if kind == "unreachable":
        raise TalosctlError(f"cannot be reached: {result.stderr.strip()}", result=result, node=node["name"])
    return []


def bootstrap_etcd(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: read the members on every control plane, then bootstrap the first one if none has any."""
    check_positive(params, "wait_timeout", "poll_interval")
    nodes = validate_nodes(params["nodes"])
    planes = require_control_plane(nodes)
    first = planes[0]
    named = {node["name"]: node for node in planes}

    outcomes = talosctl.run_per_node(
        list(named), lambda client, name: etcd_members(client, named[name]), workers(params)
    )
    for members, _error in outcomes:
        if members:
            return {"changed": False, "already_bootstrapped": True, "members": members}
    _found, failures = split_outcomes(planes, outcomes)
    if failures:
        raise NodesFailed(
            errors_message("reading the etcd members", failures, len(planes))
            + ". Not bootstrapping while a control plane cannot be asked whether etcd already runs there.",
            {},
            failures,
        )
    result: dict[str, Any] = {"changed": True, "already_bootstrapped": False, "node": first["name"], "members": []}
    if check_mode:
        return result

    done = talosctl.run(["bootstrap"], direct(first), check=False)
    if not done.ok:
        if classify_error(done.stderr) != "already_exists":
            raise TalosctlError(f"talosctl bootstrap failed: {done.stderr.strip()}", result=done, node=first["name"])
        result.update(changed=False, already_bootstrapped=True)
    if params["wait"]:
        members, error = wait_for(
            lambda: etcd_members(talosctl, first), params["wait_timeout"], params["poll_interval"]
        )
        if not members:
            message = f"node {first['name']}: etcd was bootstrapped but no member appeared within "
            message += f"{params['wait_timeout']:g} s" + (f" ({error})" if error else "")
            failure = {"name": first["name"], "msg": mask_config(message)}
            raise NodesFailed(message, {"changed": result["changed"], "node": first["name"]}, [failure])
        result["members"] = members
    return result
