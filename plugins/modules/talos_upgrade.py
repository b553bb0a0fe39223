#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: talos_upgrade
short_description: Rolling Talos upgrade, one node at a time, control planes first; Kubernetes upgrade too
version_added: 0.1.0
description:
  - "Reads every node first (in parallel: Talos version, schematic, stage and readiness). A node that cannot be
    reached is waited for (at most O(wait_timeout) seconds: it may be rebooting after an interrupted run); a node
    that cannot be read fails the task before any node is touched."
  - "Then plans the upgrade: control planes first, then workers, in the order of O(nodes); a node already on the
    target version B(and) schematic is skipped, so a re-run after an interruption continues with the nodes still
    behind. At most one control plane may be down at a time, to keep etcd quorum: when more than one is not ready
    the task fails without touching anything; when one is not ready, it is dealt with first."
  - "Then upgrades the nodes one at a time with C(talosctl upgrade --image). Before each node (and once at the end),
    with O(health_check=true), the cluster must pass C(talosctl health) (see M(talosforge.cluster.talos_health)).
    After each node, the module waits (at most O(wait_timeout) seconds) until the node is back, ready, on the
    target version and schematic. A node that reboots in the middle of its upgrade (talosctl loses the
    connection) is waited for the same way and verified; a node that does not come back on the target fails the
    task naming it, and a re-run resumes from there."
  - With O(kubernetes_version), C(talosctl upgrade-k8s --to) runs after the Talos upgrade. It is first run with
    C(--dry-run), which says which version the cluster runs; when that is already the target, nothing is done.
extends_documentation_fragment:
  - talosforge.cluster.talos
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the nodes are read and the plan is returned; the Kubernetes upgrade is dry-run only.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The diff lists the nodes to upgrade with their current and target versions and schematics.
options:
  nodes:
    description:
      - The nodes to upgrade, each a mapping with C(address) and C(role) (V(controlplane) or V(worker)), both
        required, C(name) (defaults to C(address)), and optionally C(image), the node's own installer image (for
        example for a node group with other system extensions). Other keys are ignored.
      - With O(health_check=true) or O(kubernetes_version), include the control planes, even to upgrade only
        workers. The checks and the Kubernetes upgrade run from one of them, and nodes already on the target are
        skipped anyway.
    type: list
    elements: dict
    required: true
  image:
    description:
      - The installer image to upgrade to, for the nodes without their own C(image), for example
        C(factory.talos.dev/metal-installer/<schematic>:v1.13.9).
      - Its tag is the target Talos version; for an Image Factory image, the path segment of 64 hex digits is the
        target schematic. An image that is not a factory image targets nodes without a schematic.
    type: str
  kubernetes_version:
    description:
      - Upgrade Kubernetes to this version (C(talosctl upgrade-k8s --to)) after the Talos upgrade.
    type: str
  health_check:
    description:
      - Require C(talosctl health) to pass before each node and after the last one.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each node to come back after its upgrade, and for each health check.
    type: float
    default: 900.0
  poll_interval:
    description:
      - Seconds between two reads of a node while waiting for it.
    type: float
    default: 10.0
notes:
  - Nodes are drained before they reboot (the default of C(talosctl upgrade)).
  - A Kubernetes upgrade needs every node on a Talos version that supports the target Kubernetes version; upgrade
    Talos first (as this module does when both are asked).
seealso:
  - module: talosforge.cluster.talos_info
  - module: talosforge.cluster.talos_health
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Upgrade Talos on every node, then Kubernetes
  talosforge.cluster.talos_upgrade:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    image: "factory.talos.dev/metal-installer/{{ schematic_id }}:v1.13.9"
    kubernetes_version: 1.36.3
    nodes: "{{ talos_nodes }}"

- name: Show the plan only
  talosforge.cluster.talos_upgrade:
    talosconfig: "{{ cluster_dir }}/talosconfig"
    image: "factory.talos.dev/metal-installer/{{ schematic_id }}:v1.13.9"
    nodes: "{{ talos_nodes }}"
  check_mode: true
  register: plan
"""

RETURN = r"""
steps:
  description: The plan, in the order it runs, with what happened to each node.
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: The node's name.
      type: str
      returned: always
      sample: cp1
    role:
      description: The node's role.
      type: str
      returned: always
      sample: controlplane
    action:
      description: V(upgrade), V(skip) (already on the target) or V(wait) (on the target, not ready yet).
      type: str
      returned: always
    reason:
      description: Why.
      type: str
      returned: always
      sample: Talos v1.13.8 -> v1.13.9
    status:
      description:
        - V(planned) (check mode), V(upgraded), V(skipped), V(ready) (waited for), V(failed) (its upgrade or wait
          failed) or V(pending) (not reached, or the health check before it failed).
      type: str
      returned: always
    from_version:
      description: The version the node ran before.
      type: str
      returned: always
    to_version:
      description: The target version.
      type: str
      returned: always
    from_schematic:
      description: The schematic the node ran before.
      type: str
      returned: always
    to_schematic:
      description: The target schematic.
      type: str
      returned: always
    image:
      description: The installer image used.
      type: str
      returned: always
    note:
      description: Something to know about this node's upgrade (for example, a lost connection it recovered from).
      type: str
      returned: when there is one
upgraded:
  description: The names of the nodes upgraded by this task.
  returned: always
  type: list
  elements: str
  sample: [cp1, cp2]
kubernetes:
  description: The Kubernetes upgrade, when O(kubernetes_version) is set.
  returned: when O(kubernetes_version) is set
  type: dict
  contains:
    from_version:
      description: The version the cluster ran, as talosctl detected it.
      type: str
      returned: when detected
      sample: v1.35.2
    to_version:
      description: The target version.
      type: str
      returned: always
      sample: v1.36.3
    changed:
      description: Whether Kubernetes was (or, in check mode, would be) upgraded.
      type: bool
      returned: always
"""

import re
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    TalosModuleError,
    by_name,
    check_health,
    check_positive,
    client_from_params,
    direct,
    errors_message,
    finish,
    node_state,
    require_control_plane,
    split_outcomes,
    talos_argument_spec,
    validate_nodes,
    wait_for,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    NodeState,
    UpgradePlanError,
    UpgradeStep,
    UpgradeTarget,
    classify_error,
    go_duration,
    normalize_version,
    parse_k8s_current,
    plan_upgrade,
    same_schematic,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)

K8S_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")


def argument_spec() -> dict[str, Any]:
    spec = talos_argument_spec(env_fallback)
    spec.update(
        nodes={"type": "list", "elements": "dict", "required": True},
        image={"type": "str"},
        kubernetes_version={"type": "str"},
        health_check={"type": "bool", "default": True},
        wait_timeout={"type": "float", "default": 900.0},
        poll_interval={"type": "float", "default": 10.0},
    )
    return spec


def _targets(nodes: list[Node], image: str | None) -> dict[str, UpgradeTarget]:
    targets: dict[str, UpgradeTarget] = {}
    errors: list[str] = []
    for index, node in enumerate(nodes):
        wanted = node.get("image") or image
        where = f"nodes[{index}].image ({node['name']})" if node.get("image") else f"image (for node {node['name']})"
        if not wanted:
            errors.append(f"node {node['name']}: no installer image; set image, or image on the node")
            continue
        try:
            targets[node["name"]] = UpgradeTarget.from_image(str(wanted))
        except ValueError as exc:
            errors.append(f"{where}: {exc}")
    if errors:
        raise TalosModuleError("; ".join(errors), errors=errors)
    return targets


def _is_there(talosctl: Talosctl, node: Node, step: UpgradeStep, seen: dict[str, Any]) -> bool:
    state = node_state(talosctl, node)
    seen.update(stage=state.stage, version=state.version)
    return (
        state.ready
        and normalize_version(state.version) == normalize_version(step.to_version)
        and (not state.schematic_known or same_schematic(state.schematic, step.to_schematic))
    )


def read_node(talosctl: Talosctl, node: Node, params: dict[str, Any]) -> NodeState:
    """The node's state; a node that cannot be reached (rebooting, after an interrupted run) is waited for."""
    try:
        return node_state(talosctl, node)
    except TalosctlError as exc:
        if classify_error(exc.stderr or str(exc)) != "unreachable":
            raise
    state, error = wait_for(lambda: node_state(talosctl, node), params["wait_timeout"], params["poll_interval"])
    if state is None:
        raise TalosctlError(f"could not be read within {params['wait_timeout']:g} s: {error}", node=node["name"])
    return state


def wait_until_there(talosctl: Talosctl, node: Node, step: UpgradeStep, params: dict[str, Any], why: str) -> None:
    seen: dict[str, Any] = {}
    done, error = wait_for(
        lambda: _is_there(talosctl, node, step, seen), params["wait_timeout"], params["poll_interval"]
    )
    if not done:
        last = f"last seen on {seen.get('version') or 'unknown'}, stage {seen.get('stage') or 'unknown'}"
        raise TalosctlError(
            f"{why}, but the node was not back, ready, on {step.to_version} (schematic {step.to_schematic or 'none'}) "
            f"within {params['wait_timeout']:g} s ({last}" + (f"; last error: {error}" if error else "") + ")",
            node=node["name"],
        )


def upgrade_node(talosctl: Talosctl, node: Node, step: UpgradeStep, params: dict[str, Any]) -> None:
    args = ["upgrade", "--image", step.image or "", "--timeout", go_duration(params["wait_timeout"])]
    done = talosctl.run(args, check=False, **direct(node))
    why = "talosctl upgrade finished"
    if not done.ok:
        message = done.stderr.strip() or done.stdout.strip()
        if classify_error(message) != "unreachable":
            raise TalosctlError(f"talosctl upgrade failed: {message}", result=done, node=node["name"])
        # The connection dropped, typically because the node rebooted in the middle: wait for it and verify.
        why = f"talosctl upgrade lost the connection ({message.splitlines()[-1] if message else 'no message'})"
        step.extra["note"] = why + "; the node was waited for and verified"
    wait_until_there(talosctl, node, step, params, why)


def upgrade_kubernetes(talosctl: Talosctl, planes: list[Node], version: str, check_mode: bool) -> dict[str, Any]:
    target = normalize_version(version) or version
    errors: list[str] = []
    for node in planes:
        try:
            dry = talosctl.run(["upgrade-k8s", "--to", target.lstrip("v"), "--dry-run"], **direct(node))
        except TalosctlError as exc:
            if classify_error(exc.stderr or str(exc)) == "unreachable":
                errors.append(str(exc))
                continue
            raise
        current = parse_k8s_current(dry.stdout + "\n" + dry.stderr)
        result: dict[str, Any] = {"to_version": target, "changed": current != target, "node": node["name"]}
        if current:
            result["from_version"] = current
        if result["changed"] and not check_mode:
            talosctl.run(["upgrade-k8s", "--to", target.lstrip("v")], **direct(node))
        return result
    raise TalosModuleError("no control plane answered for the Kubernetes upgrade: " + "; ".join(errors))


def _diff(steps: list[UpgradeStep]) -> dict[str, str]:
    moving = [step for step in steps if step.action == "upgrade"]
    return {
        "before": "".join(f"{s.node}: {s.from_version} schematic {s.from_schematic or 'none'}\n" for s in moving),
        "after": "".join(f"{s.node}: {s.to_version} schematic {s.to_schematic or 'none'}\n" for s in moving),
    }


def run_module(params: dict[str, Any], check_mode: bool, talosctl: Talosctl | None = None) -> dict[str, Any]:
    check_positive(params, "wait_timeout", "poll_interval")
    nodes = validate_nodes(params["nodes"], ("address", "role"))
    targets = _targets(nodes, params.get("image"))
    k8s = params.get("kubernetes_version")
    planes = require_control_plane(nodes) if k8s is not None or params["health_check"] else []
    if k8s is not None and not K8S_VERSION.match(k8s.strip()):
        raise TalosModuleError(f"kubernetes_version must look like 1.36.3, got {k8s!r}")
    talosctl = talosctl or client_from_params(params, at_least=params["wait_timeout"] + 60)
    named = by_name(nodes)

    outcomes = talosctl.run_per_node(
        list(named), lambda client, name: read_node(client, named[name], params), workers(params)
    )
    states, errors = split_outcomes(nodes, outcomes)
    if errors:
        raise TalosModuleError(
            errors_message("reading the nodes", errors, len(nodes)) + ". No node was upgraded.", errors=errors
        )
    try:
        steps = plan_upgrade([states[node["name"]] for node in nodes], targets)
    except UpgradePlanError as exc:
        raise TalosModuleError(f"{exc}. No node was upgraded.") from exc

    status = {
        step.node: ("skipped" if step.action == "skip" else "planned" if check_mode else "pending") for step in steps
    }
    upgraded: list[str] = []

    def report() -> dict[str, Any]:
        return {
            "changed": bool(upgraded) or (check_mode and any(step.action == "upgrade" for step in steps)),
            "steps": [{**step.as_dict(), "status": status[step.node]} for step in steps],
            "upgraded": list(upgraded),
        }

    if not check_mode:
        for step in steps:
            if step.action == "skip":
                continue
            node = named[step.node]
            try:
                if step.action == "wait":
                    wait_until_there(talosctl, node, step, params, "the node is on the target but not ready")
                    status[step.node] = "ready"
                    continue
                if params["health_check"]:
                    check_health(talosctl, nodes, params["wait_timeout"], avoid=step.node)
                status[step.node] = "failed"  # from here on, the node has been touched
                upgrade_node(talosctl, node, step, params)
            except (TalosctlError, TalosModuleError) as exc:
                if step.action == "wait":
                    status[step.node] = "failed"
                details = report()
                if isinstance(exc, TalosModuleError):
                    details.update({key: value for key, value in exc.details.items() if key not in details})
                message = str(exc) if str(exc).startswith("node ") else f"before upgrading node {step.node}: {exc}"
                raise TalosModuleError(f"{message}. Re-run the task to resume the upgrade.", **details) from exc
            status[step.node] = "upgraded"
            upgraded.append(step.node)
        if upgraded and params["health_check"]:
            try:
                check_health(talosctl, nodes, params["wait_timeout"])
            except TalosModuleError as exc:
                raise TalosModuleError(f"after the upgrade: {exc}", **{**exc.details, **report()}) from exc

    result = report()
    if result["changed"]:
        result["diff"] = _diff(steps)
    if k8s is not None:
        result["kubernetes"] = upgrade_kubernetes(talosctl, planes, k8s.strip(), check_mode)
        result["changed"] = result["changed"] or result["kubernetes"]["changed"]
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    finish(module, run_module)


if __name__ == "__main__":
    main()
