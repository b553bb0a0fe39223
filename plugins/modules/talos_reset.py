#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_reset
short_description: Remove Talos nodes from their cluster gracefully (leave etcd, drain, wipe)
version_added: 0.1.0
description:
  - "Reads every node of O(nodes) first (in parallel). A node in maintenance mode has no configuration left and is
    already reset: it is skipped. A node that cannot be read fails the task before any node is touched (unless
    O(ignore_unreachable=true))."
  - "Control planes leave etcd first (C(talosctl etcd leave)), one at a time, so etcd shrinks cleanly and keeps
    quorum; the task refuses to remove the last etcd members (tear a whole cluster down with the destroy playbook
    instead). Each node is then reset with C(talosctl reset --graceful), which cordons and drains it before
    wiping it. Workers are reset in parallel, at most O(parallel) at a time, before the control planes."
  - The Kubernetes Node objects of reset nodes are not deleted by Talos; delete them with C(kubectl delete node)
    or kubernetes.core.k8s.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the nodes are read and each one's planned actions are returned; nothing is run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The nodes to reset, each a mapping with C(address) and C(role) (V(controlplane) or V(worker)), both
        required, and C(name) (defaults to C(address)). Other keys are ignored.
    type: list
    elements: dict
    required: true
  graceful:
    description:
      - Cordon and drain the node (and leave etcd) before wiping it (C(talosctl reset --graceful)).
      - Control planes leave etcd explicitly first either way.
    type: bool
    default: true
  reboot:
    description:
      - Reboot the node after the reset (into maintenance mode) instead of shutting it down.
    type: bool
    default: false
  wipe_mode:
    description:
      - Which disks to wipe (C(talosctl reset --wipe-mode)).
    type: str
    choices: [all, system-disk, user-disks]
    default: all
  wait_timeout:
    description:
      - Seconds talosctl waits for each reset to complete (C(talosctl reset --timeout)).
    type: float
    default: 600.0
  ignore_unreachable:
    description:
      - Count a node that cannot be reached as already reset (for example one an earlier reset shut down), instead
        of failing.
    type: bool
    default: false
seealso:
  - module: talosforge.cluster.talos_info
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Remove a worker from the cluster
  talosforge.cluster.talos_reset:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes:
      - {name: w3, address: 10.0.0.23, role: worker}

- name: Show what removing a control plane would do
  talosforge.cluster.talos_reset:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    reboot: true
    nodes:
      - {name: cp3, address: 10.0.0.13, role: controlplane}
  check_mode: true
  register: plan
"""

RETURN = r"""
nodes:
  description: One entry per node, in the order of O(nodes).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The node's name.
      type: str
      returned: always
      sample: cp3
    role:
      description: The node's role.
      type: str
      returned: always
      sample: controlplane
    changed:
      description: Whether the node is (or, in check mode, would be) reset by this task.
      type: bool
      returned: always
    actions:
      description: The talosctl commands run (or, in check mode, to run) on the node, in order.
      type: list
      elements: str
      returned: always
      sample: [etcd leave, reset --graceful --wipe-mode all]
    status:
      description: V(planned) (check mode), V(reset), V(already reset), V(unreachable), V(failed) or V(pending).
      type: str
      returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    TalosModuleError,
    by_name,
    check_positive,
    client_from_params,
    direct,
    errors_message,
    finish,
    parsed,
    probe,
    split_outcomes,
    talos_argument_spec,
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


def argument_spec() -> dict[str, Any]:
    spec = talos_argument_spec(env_fallback)
    spec.update(
        nodes={"type": "list", "elements": "dict", "required": True},
        graceful={"type": "bool", "default": True},
        reboot={"type": "bool", "default": False},
        wipe_mode={"type": "str", "choices": ["all", "system-disk", "user-disks"], "default": "all"},
        wait_timeout={"type": "float", "default": 600.0},
        ignore_unreachable={"type": "bool", "default": False},
    )
    return spec


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
        done = talosctl.run(["etcd", "members"], check=False, **direct(node))
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
        raise TalosModuleError(
            f"resetting {', '.join(names)} would remove every etcd member of the cluster; "
            "to tear the cluster down, use the destroy playbook. No node was reset."
        )


def reset_node(talosctl: Talosctl, node: Node, params: dict[str, Any]) -> None:
    if node["role"] == "controlplane":
        talosctl.run(["etcd", "leave"], **direct(node))
    talosctl.run(reset_args(params), **direct(node))


def run_module(params: dict[str, Any], check_mode: bool, talosctl: Talosctl | None = None) -> dict[str, Any]:
    check_positive(params, "wait_timeout")
    nodes = validate_nodes(params["nodes"], ("address", "role"))
    parallel = workers(params)
    talosctl = talosctl or client_from_params(params, at_least=params["wait_timeout"] + 60)
    named = by_name(nodes)
    outcomes = talosctl.run_per_node(
        list(named), lambda client, name: read(client, named[name], params["ignore_unreachable"]), parallel
    )
    states, errors = split_outcomes(nodes, outcomes)
    if errors:
        raise TalosModuleError(
            errors_message("reading the nodes", errors, len(nodes)) + ". No node was reset.", errors=errors
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
    failures = {name: str(error) for name, (_value, error) in zip(workers_todo, outcomes, strict=True) if error}
    if not failures:
        for node in leaving:  # one control plane at a time: etcd shrinks by one member per step
            try:
                reset_node(talosctl, node, params)
            except TalosctlError as exc:
                entries[node["name"]]["status"] = "failed"
                failures[node["name"]] = str(exc)
                break
            entries[node["name"]]["status"] = "reset"
    if failures:
        raise TalosModuleError(
            errors_message("resetting", failures, len(workers_todo) + len(leaving)),
            errors=failures,
            changed=any(entry["status"] == "reset" for entry in entries.values()),
            nodes=result["nodes"],
        )
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    finish(module, run_module)


if __name__ == "__main__":
    main()
