#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_bootstrap
short_description: Bootstrap etcd on the first Talos control plane, exactly once
version_added: 0.1.0
description:
  - Runs C(talosctl bootstrap) on the first control plane of O(nodes), once in the life of the cluster.
  - "The module first asks every control plane for its etcd members (C(talosctl etcd members), in parallel). If
    any of them answers with a member list, etcd is already bootstrapped: the task reports no change and returns
    the members. Otherwise it bootstraps the first control plane. When Talos answers that etcd is already
    bootstrapped (C(AlreadyExists)), that is not an error and not a change either."
  - With O(wait=true), it then waits until the bootstrapped node lists itself as an etcd member.
  - Never bootstrap a cluster that already has members on another control plane; the member check is what keeps a
    re-run (or a run with the node order changed) from splitting etcd.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the etcd members are read, and the task reports whether it would bootstrap.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  nodes:
    description:
      - The cluster's nodes, each a mapping with C(address) (required), C(name) (defaults to C(address)) and C(role)
        (V(controlplane) or V(worker)); other keys are ignored.
      - The first node with C(role=controlplane) is bootstrapped. When no node has a role, every node is taken as
        a control plane.
    type: list
    elements: dict
    required: true
  wait:
    description:
      - After bootstrapping, wait until the node lists itself as an etcd member.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true).
    type: float
    default: 300.0
  poll_interval:
    description:
      - Seconds between two reads of the etcd members while waiting.
    type: float
    default: 5.0
notes:
  - To rebuild a cluster from an etcd snapshot, see M(talosforge.cluster.talos_etcd_snapshot).
seealso:
  - module: talosforge.cluster.talos_apply_config
  - module: talosforge.cluster.talos_kubeconfig
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Bootstrap etcd (no change when the cluster already has members)
  talosforge.cluster.talos_bootstrap:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes:
      - {name: cp1, address: 10.0.0.11, role: controlplane}
      - {name: cp2, address: 10.0.0.12, role: controlplane}
      - {name: w1, address: 10.0.0.21, role: worker}
"""

RETURN = r"""
node:
  description: The name of the control plane that was (or, in check mode, would be) bootstrapped.
  returned: when the cluster was not bootstrapped before the task
  type: str
  sample: cp1
already_bootstrapped:
  description: Whether etcd already had members before the task.
  returned: always
  type: bool
members:
  description: The etcd members, as C(talosctl etcd members) lists them (empty in check mode before a bootstrap).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The member ID.
      type: str
      returned: always
      sample: 2b2bf5d5be5cf1b0
    hostname:
      description: The member's host name.
      type: str
      returned: always
      sample: cp1
    peer_urls:
      description: The member's peer URLs.
      type: list
      elements: str
      returned: always
      sample: [https://10.0.0.11:2380]
    client_urls:
      description: The member's client URLs.
      type: list
      elements: str
      returned: always
      sample: [https://10.0.0.11:2379]
    learner:
      description: Whether the member is a learner.
      type: bool
      returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    TalosModuleError,
    check_positive,
    client_from_params,
    direct,
    errors_message,
    finish,
    parsed,
    require_control_plane,
    split_outcomes,
    talos_argument_spec,
    validate_nodes,
    wait_for,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    classify_error,
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
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 300.0},
        poll_interval={"type": "float", "default": 5.0},
    )
    return spec


def etcd_members(talosctl: Talosctl, node: Node) -> list[dict[str, Any]]:
    """The etcd members as ``node`` sees them; [] when etcd is not running there yet."""
    result = talosctl.run(["etcd", "members"], check=False, **direct(node))
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


def run_module(params: dict[str, Any], check_mode: bool, talosctl: Talosctl | None = None) -> dict[str, Any]:
    check_positive(params, "wait_timeout", "poll_interval")
    nodes = validate_nodes(params["nodes"])
    planes = require_control_plane(nodes)
    first = planes[0]
    talosctl = talosctl or client_from_params(params)

    outcomes = talosctl.run_per_node(
        [node["name"] for node in planes],
        lambda client, name: etcd_members(client, _named(planes, name)),
        workers(params),
    )
    for members, _error in outcomes:
        if members:
            return {"changed": False, "already_bootstrapped": True, "members": members}
    found, errors = split_outcomes(planes, outcomes)
    if errors:
        raise TalosModuleError(
            errors_message("reading the etcd members", errors, len(planes))
            + ". Not bootstrapping while a control plane cannot be asked whether etcd already runs there.",
            errors=errors,
        )
    result: dict[str, Any] = {"changed": True, "already_bootstrapped": False, "node": first["name"], "members": []}
    if check_mode:
        return result

    done = talosctl.run(["bootstrap"], check=False, **direct(first))
    if not done.ok:
        if classify_error(done.stderr) != "already_exists":
            raise TalosctlError(f"talosctl bootstrap failed: {done.stderr.strip()}", result=done, node=first["name"])
        result.update(changed=False, already_bootstrapped=True)
    if params["wait"]:
        members, error = wait_for(
            lambda: etcd_members(talosctl, first), params["wait_timeout"], params["poll_interval"]
        )
        if not members:
            raise TalosModuleError(
                f"node {first['name']}: etcd was bootstrapped but no member appeared within "
                f"{params['wait_timeout']:g} s" + (f" ({error})" if error else ""),
                changed=result["changed"],
                node=first["name"],
            )
        result["members"] = members
    return result


def _named(nodes: list[Node], name: str) -> Node:
    return next(node for node in nodes if node["name"] == name)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    finish(module, run_module)


if __name__ == "__main__":
    main()
