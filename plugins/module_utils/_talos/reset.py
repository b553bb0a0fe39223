# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_reset module: take nodes out of the cluster and wipe them; workers in parallel, then control planes
one at a time (each leaves etcd first), never the last etcd members."""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    NodesFailed,
    TalosInputError,
    by_name,
    check_positive,
    direct,
    errors_message,
    node_failure,
    parsed,
    probe,
    split_outcomes,
    validate_nodes,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    classify_error,
    go_duration,
    parse_etcd_members,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)


def reset_args(params: dict[str, Any]) -> list[str]:
    args = ["reset", "--graceful" if params["graceful"] else "--graceful=false", "--wipe-mode", params["wipe_mode"]]
    if params["reboot"]:
        args.append("--reboot")
    return args + ["--timeout", go_duration(params["wait_timeout"])]


def read(talosctl: Talosctl, node: Node, ignore_unreachable: bool) -> str:
    """configured, maintenance (already reset) or unreachable (only with ignore_unreachable)."""
    try:
        return "maintenance" if probe(talosctl, node)["maintenance"] else "configured"
    except TalosctlError as exc:
        if ignore_unreachable and classify_error(exc.stderr or str(exc)) == "unreachable":
            return "unreachable"
        raise


def check_quorum(talosctl: Talosctl, leaving: list[Node]) -> None:
    """Refuse to remove every etcd member: that is a teardown, not a node removal."""
    members: list[dict[str, Any]] = []
    for node in leaving:
        done = talosctl.run(["etcd", "members"], direct(node), check=False)
        if done.ok:
            members = parsed(parse_etcd_members, done, node)
            break
    if not members:
        return
    addresses = [node["address"] for node in leaving]
    names = [node["name"] for node in leaving]

    def leaves(member: dict[str, Any]) -> bool:
        urls = member.get("peer_urls", []) + member.get("client_urls", [])
        return member.get("hostname") in names or any(
            f"//{a}:" in u or f"//[{a}]:" in u for a in addresses for u in urls
        )

    if all(leaves(member) for member in members):
        raise TalosInputError(
            f"resetting {', '.join(names)} would remove every etcd member of the cluster; "
            "to tear the cluster down, use the destroy playbook. No node was reset."
        )


def reset_node(talosctl: Talosctl, node: Node, params: dict[str, Any]) -> None:
    if node["role"] == "controlplane":
        talosctl.run(["etcd", "leave"], direct(node))
    talosctl.run(reset_args(params), direct(node))


def reset_nodes(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: read every node, plan, check etcd quorum, then reset the workers and the control planes."""
    check_positive(params, "wait_timeout")
    nodes = validate_nodes(params["nodes"], ("address", "role"))
    parallel = workers(params)
    talosctl.at_least(params["wait_timeout"] + 60)
    named = by_name(nodes)
    outcomes = talosctl.run_per_node(
        list(named), lambda client, name: read(client, named[name], params["ignore_unreachable"]), parallel
    )
    states, failures = split_outcomes(nodes, outcomes)
    if failures:
        raise NodesFailed(
            errors_message("reading the nodes", failures, len(nodes)) + ". No node was reset.", {}, failures
        )
    command = " ".join(reset_args(params)[:-2])
    entries: dict[str, dict[str, Any]] = {}
    for node in nodes:
        todo = states[node["name"]] == "configured"
        actions = (["etcd leave"] if node["role"] == "controlplane" else []) + [command] if todo else []
        status = "planned" if check_mode else "pending"
        entries[node["name"]] = {
            "name": node["name"],
            "role": node["role"],
            "changed": todo,
            "actions": actions,
            "status": status if todo else {"maintenance": "already reset"}.get(states[node["name"]], "unreachable"),
        }
    result = {"changed": any(entry["changed"] for entry in entries.values()), "nodes": list(entries.values())}
    leaving = [node for node in nodes if entries[node["name"]]["changed"] and node["role"] == "controlplane"]
    if leaving:
        check_quorum(talosctl, leaving)
    if check_mode or not result["changed"]:
        return result

    workers_todo = [node["name"] for node in nodes if entries[node["name"]]["changed"] and node["role"] == "worker"]
    outcomes = talosctl.run_per_node(
        workers_todo, lambda client, name: reset_node(client, named[name], params), parallel
    )
    for name, (_value, error) in zip(workers_todo, outcomes, strict=True):
        entries[name]["status"] = "failed" if error else "reset"
    _done, failures = split_outcomes([named[name] for name in workers_todo], outcomes)
    if not failures:
        for node in leaving:  # one control plane at a time: etcd shrinks by one member per step
            try:
                reset_node(talosctl, node, params)
            except TalosctlError as exc:
                entries[node["name"]]["status"] = "failed"
                failures.append(node_failure(node["name"], exc))
                break
            entries[node["name"]]["status"] = "reset"
    if failures:
        raise NodesFailed(
            errors_message("resetting", failures, len(workers_todo) + len(leaving)),
            {"changed": any(entry["status"] == "reset" for entry in entries.values()), "nodes": result["nodes"]},
            failures,
        )
    return result
