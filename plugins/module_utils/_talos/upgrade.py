# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_upgrade module: carry out the plan of ``upgrade_plan`` one node at a time, then Kubernetes.

Every node is read first; the plan is refused when etcd quorum is at risk. Between two nodes the cluster's health is
checked (``health``). A failure stops the upgrade with every step's status, so that a re-run resumes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.health import check_health
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    NodesFailed,
    TalosInputError,
    by_name,
    check_positive,
    direct,
    errors_message,
    node_failure,
    node_state,
    require_control_plane,
    split_outcomes,
    validate_nodes,
    wait_for,
    workers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.output import (
    classify_error,
    go_duration,
    normalize_version,
    parse_k8s_current,
    same_schematic,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.upgrade_plan import (
    NodeState,
    UpgradePlanError,
    UpgradeStep,
    UpgradeTarget,
    plan_upgrade,
)

K8S_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")


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
        raise TalosInputError("; ".join(errors), errors)
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
    done = talosctl.run(args, direct(node), check=False)
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
    failures: list[dict[str, Any]] = []
    for node in planes:
        try:
            dry = talosctl.run(["upgrade-k8s", "--to", target.lstrip("v"), "--dry-run"], direct(node))
        except TalosctlError as exc:
            if classify_error(exc.stderr or str(exc)) == "unreachable":
                failures.append(node_failure(node["name"], exc))
                continue
            raise
        current = parse_k8s_current(dry.stdout + "\n" + dry.stderr)
        result: dict[str, Any] = {"to_version": target, "changed": current != target, "node": node["name"]}
        if current:
            result["from_version"] = current
        if result["changed"] and not check_mode:
            talosctl.run(["upgrade-k8s", "--to", target.lstrip("v")], direct(node))
        return result
    message = "no control plane answered for the Kubernetes upgrade: " + "; ".join(f["msg"] for f in failures)
    raise NodesFailed(message, {}, failures)


def _diff(steps: list[UpgradeStep]) -> dict[str, str]:
    moving = [step for step in steps if step.action == "upgrade"]
    return {
        "before": "".join(f"{s.node}: {s.from_version} schematic {s.from_schematic or 'none'}\n" for s in moving),
        "after": "".join(f"{s.node}: {s.to_version} schematic {s.to_schematic or 'none'}\n" for s in moving),
    }


def _read_and_plan(params: dict[str, Any], talosctl: Talosctl, nodes: list[Node], targets: Any) -> list[UpgradeStep]:
    """Read every node in parallel and plan the rolling upgrade; nothing is touched when either fails."""
    named = by_name(nodes)
    outcomes = talosctl.run_per_node(
        list(named), lambda client, name: read_node(client, named[name], params), workers(params)
    )
    states, failures = split_outcomes(nodes, outcomes)
    if failures:
        message = errors_message("reading the nodes", failures, len(nodes)) + ". No node was upgraded."
        raise NodesFailed(message, {}, failures)
    try:
        return plan_upgrade([states[node["name"]] for node in nodes], targets)
    except UpgradePlanError as exc:
        raise UpgradePlanError(f"{exc}. No node was upgraded.") from exc


def _roll(
    talosctl: Talosctl,
    nodes: list[Node],
    steps: list[UpgradeStep],
    params: dict[str, Any],
    status: dict[str, str],
    upgraded: list[str],
    report: Callable[[], dict[str, Any]],
) -> None:
    """Upgrade node by node in plan order, health checked before each; ``status`` and ``upgraded`` follow every
    step, so that ``report()`` tells where a failure left the cluster."""
    named = by_name(nodes)
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
        except (TalosctlError, TalosInputError) as exc:
            if step.action == "wait":
                status[step.node] = "failed"
            message = str(exc) if str(exc).startswith("node ") else f"before upgrading node {step.node}: {exc}"
            failure = node_failure(step.node, exc)
            raise NodesFailed(f"{message}. Re-run the task to resume the upgrade.", report(), [failure]) from exc
        status[step.node] = "upgraded"
        upgraded.append(step.node)


def upgrade_cluster(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: read every node, plan, upgrade node by node (health checked between), then Kubernetes."""
    check_positive(params, "wait_timeout", "poll_interval")
    nodes = validate_nodes(params["nodes"], ("address", "role"))
    targets = _targets(nodes, params.get("image"))
    k8s = params.get("kubernetes_version")
    planes = require_control_plane(nodes) if k8s is not None or params["health_check"] else []
    if k8s is not None and not K8S_VERSION.match(k8s.strip()):
        raise TalosInputError(f"kubernetes_version must look like 1.36.3, got {k8s!r}")
    talosctl.at_least(params["wait_timeout"] + 60)
    steps = _read_and_plan(params, talosctl, nodes, targets)

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
        _roll(talosctl, nodes, steps, params, status, upgraded, report)
        if upgraded and params["health_check"]:
            try:
                check_health(talosctl, nodes, params["wait_timeout"])
            except TalosctlError as exc:
                failure = node_failure(exc.node or upgraded[-1], exc)
                raise NodesFailed(f"after the upgrade: {exc}", report(), [failure]) from exc

    result = report()
    if result["changed"]:
        result["diff"] = _diff(steps)
    if k8s is not None:
        try:
            result["kubernetes"] = upgrade_kubernetes(talosctl, planes, k8s.strip(), check_mode)
        except NodesFailed as exc:  # the Talos upgrade above is done: report it with the failure
            raise NodesFailed(str(exc), report(), exc.failures) from exc
        result["changed"] = result["changed"] or result["kubernetes"]["changed"]
    return result
