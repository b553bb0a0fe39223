#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_apply_config
short_description: Apply machine configurations to many Talos nodes in parallel, in maintenance mode or over mTLS
version_added: 0.1.0
description:
  - Applies each node's rendered machine configuration (for example the files written by
    M(talosforge.cluster.talos_machine_config)) with C(talosctl apply-config), at most O(parallel) nodes at a time.
  - "Every node is first read, and nothing is applied before all of them have been: the node list and the
    configuration files are checked, then each node is probed, then each node is asked for a C(--dry-run), in
    which it validates its configuration. If any of this fails (an unreachable node, a configuration a node
    refuses), the task fails naming the node and no node is changed."
  - "How a node is reached is detected per node (O(insecure=auto)): the module reads the node's C(machinestatus)
    over mTLS with O(talosconfig). A node that refuses the client certificate the way a node in maintenance mode
    does (TLS or certificate errors) is read again through the insecure maintenance API; if it answers there, it
    is in maintenance mode and gets C(--insecure). A node that answers neither fails the task. When the first
    node of the list turns out to be in maintenance mode, the others are asked in the other order (the
    maintenance API first, then mTLS), which saves a call per node on a cluster's first run."
  - A node in maintenance mode has no configuration yet, so applying always changes it. For a configured node,
    C(talosctl apply-config --dry-run) decides whether anything would change and provides the diff; the
    configuration is applied only to the nodes where it would.
  - After applying, with O(wait=true), the module waits (at most O(wait_timeout) seconds) until each changed node
    answers over mTLS outside maintenance mode. A node that does not fails the task with its name; the other
    nodes keep their result.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the nodes are probed and dry-run only; nothing is applied.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - One diff per changed node, with secrets (keys, tokens, encryption secrets) masked.
      - For a configured node it is the diff talosctl prints for the dry run; for a node in maintenance mode it is
        the whole configuration as the new state.
options:
  nodes:
    description:
      - The nodes to configure. Each entry is a mapping with the keys C(name) (defaults to C(address)),
        C(address) (required, the IP address or host name talosctl connects to) and C(config) (required, path of
        the node's machine configuration file).
      - C(role) and other keys are accepted and ignored, so the same node list can be given to every module.
      - Names and addresses must be unique.
    type: list
    elements: dict
    required: true
  mode:
    description:
      - How the configuration is applied (C(talosctl apply-config --mode)).
      - V(auto) lets Talos decide whether a reboot is needed; V(staged) applies it at the next reboot.
      - A node in maintenance mode always gets V(auto), because its first configuration installs Talos and reboots.
    type: str
    choices: [auto, no-reboot, reboot, staged]
    default: auto
  insecure:
    description:
      - V(auto) detects per node whether it is in maintenance mode (see the description).
      - V(always) talks to every node through the insecure maintenance API; V(never) uses mTLS only.
    type: str
    choices: [auto, always, never]
    default: auto
  wait:
    description:
      - Wait until each node the configuration was applied to answers over mTLS outside maintenance mode.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each node with O(wait=true).
    type: float
    default: 600.0
  poll_interval:
    description:
      - Seconds between two reads of a node while waiting.
    type: float
    default: 5.0
notes:
  - The configuration files carry the cluster's private keys; the module never returns their content, and the diff
    masks every secret value.
seealso:
  - module: talosforge.cluster.talos_machine_config
  - module: talosforge.cluster.talos_bootstrap
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Apply the rendered configurations (maintenance mode on the first run, mTLS after)
  talosforge.cluster.talos_apply_config:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    nodes:
      - {name: cp1, address: 10.0.0.11, config: "{{ cluster_dir }}/configs/cp1.yaml"}
      - {name: cp2, address: 10.0.0.12, config: "{{ cluster_dir }}/configs/cp2.yaml"}
      - {name: w1, address: 10.0.0.21, config: "{{ cluster_dir }}/configs/w1.yaml"}
  register: applied

- name: Show what would change, without applying (run with --check --diff)
  talosforge.cluster.talos_apply_config:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    mode: no-reboot
    nodes: "{{ talos_nodes }}"
  check_mode: true
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
      sample: cp1
    address:
      description: The address talosctl connected to.
      type: str
      returned: always
      sample: 10.0.0.11
    maintenance:
      description: Whether the node was in maintenance mode before the task.
      type: bool
      returned: always
    insecure:
      description: Whether the node was reached through the insecure maintenance API (C(--insecure)).
      type: bool
      returned: always
    changed:
      description: Whether the configuration changes (or, in check mode, would change) on this node.
      type: bool
      returned: always
    applied:
      description: Whether C(talosctl apply-config) was run on this node by this task.
      type: bool
      returned: always
    apply_mode:
      description: How Talos says it applies (or would apply) the change, from the dry-run summary.
      type: str
      returned: always
      sample: Applied configuration without a reboot (skipped in dry-run).
    stage:
      description: The node's machine stage after the task (before it, in check mode).
      type: str
      returned: always
      sample: running
"""

from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    TalosModuleError,
    by_name,
    check_positive,
    client_from_params,
    errors_message,
    finish,
    probe,
    split_outcomes,
    talos_argument_spec,
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
    Talosctl,
    TalosctlError,
)

MODES = ["auto", "no-reboot", "reboot", "staged"]


def argument_spec() -> dict[str, Any]:
    spec = talos_argument_spec(env_fallback)
    spec.update(
        nodes={"type": "list", "elements": "dict", "required": True},
        mode={"type": "str", "choices": MODES, "default": "auto"},
        insecure={"type": "str", "choices": ["auto", "always", "never"], "default": "auto"},
        wait={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 600.0},
        poll_interval={"type": "float", "default": 5.0},
    )
    return spec


def _home(path: str) -> str:
    """``~/x`` as ``$HOME/x``: the node list has no suboptions, so Ansible's path type does not expand it."""
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


def _connection(node: Node, insecure: bool) -> dict[str, Any]:
    if insecure:
        return {"nodes": [node["address"]], "insecure": True, "node": node["name"]}
    return {"nodes": [node["address"]], "endpoints": [node["address"]], "node": node["name"]}


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
    result = talosctl.run(_apply_args(node, _mode(params, entry), True), **_connection(node, state["insecure"]))
    output = result.stdout + ("\n" + result.stderr if result.stderr.strip() else "")
    entry["apply_mode"] = parse_dry_run_mode(output) or ""
    if state["maintenance"]:
        return {"entry": entry, "diff": _diff(node, state, "")}
    changed, diff = parse_dry_run(output)
    entry["changed"] = changed
    return {"entry": entry, "diff": _diff(node, state, diff) if changed else None}


def apply_node(talosctl: Talosctl, node: Node, entry: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Apply the configuration, then (with wait) wait until the node answers mTLS outside maintenance mode."""
    talosctl.run(_apply_args(node, _mode(params, entry), False), **_connection(node, entry["insecure"]))
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


def run_module(params: dict[str, Any], check_mode: bool, talosctl: Talosctl | None = None) -> dict[str, Any]:
    """Check everything, read every node, then apply where something changes. Raises TalosModuleError."""
    check_positive(params, "wait_timeout", "poll_interval")
    nodes = validate_nodes(params["nodes"], ("address", "config"), _check_config)
    parallel = workers(params)
    talosctl = talosctl or client_from_params(params)
    named = by_name(nodes)
    names = list(named)

    # The first node says which API to try first on the others: on a first run every node is in maintenance mode.
    outcomes = talosctl.run_per_node(names[:1], lambda client, name: read_node(client, named[name], params), parallel)
    first = outcomes[0][0] if outcomes and outcomes[0][1] is None else None
    fresh = bool(first and first["entry"]["maintenance"])
    outcomes += talosctl.run_per_node(
        names[1:], lambda client, name: read_node(client, named[name], params, fresh), parallel
    )
    reads, errors = split_outcomes(nodes, outcomes)
    if errors:
        raise TalosModuleError(
            errors_message("reading the nodes", errors, len(nodes)) + ". No node was changed.",
            errors=errors,
            nodes=[reads[name]["entry"] for name in names if name in reads],
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
    applied, errors = split_outcomes([named[name] for name in pending], outcomes)
    if errors:
        raise TalosModuleError(
            errors_message("applying the configuration", errors, len(pending)),
            errors=errors,
            changed=any(entry["applied"] for entry in entries.values()),
            nodes=result["nodes"],
        )
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    finish(module, run_module)


if __name__ == "__main__":
    main()
