# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_apply_config module: read every node, dry-run its configuration, then apply where something changes.

Nothing is applied before every node has been read and has accepted its configuration in a dry run, so a node that
refuses its configuration fails the task before any node changes; check mode stops after the reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    NodesFailed,
    by_name,
    check_positive,
    direct,
    errors_message,
    maintenance_api,
    probe,
    split_outcomes,
    validate_nodes,
    wait_for,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    mask_config,
    parse_dry_run,
    parse_dry_run_mode,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Connection,
    Talosctl,
    TalosctlError,
)

MODES = ["auto", "no-reboot", "reboot", "staged"]


def _home(path: str) -> str:
    """``~/x`` as ``$HOME/x``: ``config`` is a plain string suboption, so Ansible does not expand it as a path."""
    return str(Path.home() / path[2:]) if path.startswith("~/") else path


def _check_config(index: int, node: Node) -> list[str]:
    path = node.get("config")
    if not path:
        return []
    where = f"nodes[{index}].config ({node.get('name') or node.get('address')})"
    path = _home(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return [f"{where}: cannot read {path}: {exc.strerror or exc}"]
    except UnicodeDecodeError:
        return [f"{where}: {path} is not UTF-8 text"]
    if not text.strip():
        return [f"{where}: {path} is empty"]
    node["config"] = path
    node["_text"] = text
    return []


def _apply_args(node: Node, mode: str, dry_run: bool) -> list[str]:
    args = ["apply-config", "--file", node["config"], "--mode", mode]
    return args + ["--dry-run"] if dry_run else args


def _connection(node: Node, insecure: bool) -> Connection:
    return maintenance_api(node) if insecure else direct(node)


def _diff(node: Node, state: dict[str, Any], diff: str) -> dict[str, str]:
    label = f"{node['name']} ({node['address']})"
    if state["maintenance"]:
        return {
            "before": "",
            "after": mask_config(node["_text"]),
            "before_header": f"{label}: maintenance mode, no configuration",
            "after_header": f"{label}: {node['config']}",
        }
    return {"prepared": f"--- {label}: applied configuration\n+++ {label}: {node['config']}\n{mask_config(diff)}"}


def _mode(params: dict[str, Any], entry: dict[str, Any]) -> str:
    """The first configuration of a node in maintenance mode always installs and reboots: mode auto."""
    return "auto" if entry["maintenance"] else params["mode"]


def read_node(
    talosctl: Talosctl, node: Node, params: dict[str, Any], maintenance_first: bool = False
) -> dict[str, Any]:
    """Probe the node, then dry-run the configuration on it: whether it changes, how, and the diff.

    A node in maintenance mode checks the configuration in the dry run too, so that a configuration it would refuse
    fails the task before any node is changed; applying to it is always a change.
    """
    state = probe(talosctl, node, params["insecure"], maintenance_first)
    entry: dict[str, Any] = {
        "name": node["name"],
        "address": node["address"],
        "maintenance": state["maintenance"],
        "insecure": state["insecure"],
        "changed": True,
        "applied": False,
        "stage": state["stage"],
    }
    result = talosctl.run(_apply_args(node, _mode(params, entry), True), _connection(node, state["insecure"]))
    output = result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")
    entry["apply_mode"] = parse_dry_run_mode(output) or ""
    if state["maintenance"]:
        return {"entry": entry, "diff": _diff(node, state, "")}
    changed, diff = parse_dry_run(output)
    entry["changed"] = changed
    return {"entry": entry, "diff": _diff(node, state, diff) if changed else None}


def apply_node(talosctl: Talosctl, node: Node, entry: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Apply the configuration, then (with wait) wait until the node answers mTLS outside maintenance mode."""
    talosctl.run(_apply_args(node, _mode(params, entry), False), _connection(node, entry["insecure"]))
    entry["applied"] = True
    if not params["wait"]:
        return entry

    def configured() -> bool:
        state = probe(talosctl, node, "never")
        entry["stage"] = state["stage"]
        return not state["maintenance"]

    done, error = wait_for(configured, params["wait_timeout"], params["poll_interval"])
    if not done:
        last = f"; last error: {error}" if error else f"; it is still in stage {entry['stage']}"
        raise TalosctlError(
            f"the configuration was applied but the node did not leave maintenance mode within "
            f"{params['wait_timeout']:g} s{last}. Check its console (install disk, network) and re-run",
            node=node["name"],
        )
    entry["insecure"] = False
    return entry


def apply_configs(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: check everything, read every node, then apply where something changes."""
    check_positive(params, "wait_timeout", "poll_interval")
    nodes = validate_nodes(params["nodes"], ("address", "config"), _check_config)
    parallel = workers(params)
    named = by_name(nodes)
    names = list(named)

    # The first node says which API to try first on the others: on a first run every node is in maintenance mode.
    outcomes = talosctl.run_per_node(names[:1], lambda client, name: read_node(client, named[name], params), parallel)
    first = outcomes[0][0] if outcomes and outcomes[0][1] is None else None
    fresh = bool(first and first["entry"]["maintenance"])
    outcomes += talosctl.run_per_node(
        names[1:], lambda client, name: read_node(client, named[name], params, fresh), parallel
    )
    reads, failures = split_outcomes(nodes, outcomes)
    if failures:
        raise NodesFailed(
            errors_message("reading the nodes", failures, len(nodes)) + ". No node was changed.",
            {"nodes": [reads[name]["entry"] for name in names if name in reads]},
            failures,
        )
    entries = {name: reads[name]["entry"] for name in names}
    diffs = [reads[name]["diff"] for name in names if reads[name]["diff"]]
    result: dict[str, Any] = {"changed": bool(diffs), "nodes": [entries[name] for name in names]}
    if diffs:
        result["diff"] = diffs
    if check_mode:
        return result

    pending = [name for name in names if entries[name]["changed"]]
    outcomes = talosctl.run_per_node(
        pending, lambda client, name: apply_node(client, named[name], entries[name], params), parallel
    )
    _applied, failures = split_outcomes([named[name] for name in pending], outcomes)
    if failures:
        raise NodesFailed(
            errors_message("applying the configuration", failures, len(pending)),
            {"changed": any(entry["applied"] for entry in entries.values()), "nodes": result["nodes"]},
            failures,
        )
    return result
