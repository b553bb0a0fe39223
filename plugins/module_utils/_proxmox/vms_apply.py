# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.proxmox_vms does, without Ansible: parameters in, result out (or PartialFailure)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    ProxmoxClient,
    ProxmoxError,
    run_state,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_ops import (
    Run,
    agent_address,
    apply,
    list_vms,
    plan,
    remove,
    wait_for_agents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_plan import (
    PlanError,
    Step,
    VmSpec,
    node_facts,
)


def specs_from_params(params: Mapping[str, Any]) -> list[VmSpec]:
    """A VmSpec per entry of ``nodes``; raises PlanError naming every bad entry."""
    specs: list[VmSpec] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(params.get("nodes") or []):
        where = f"nodes[{index}]"
        name = entry.get("name")
        if name in seen:
            errors.append(f'{where}: node "{name}" is listed twice')
            continue
        seen.add(name)
        for key in ("cores", "memory", "disk"):
            if not isinstance(entry.get(key), int) or entry[key] < 1:
                errors.append(f"{where}.{key}: must be a positive number, not {entry.get(key)!r}")
        if params.get("state") == "present" and not entry.get("image"):
            errors.append(f"{where}.image: is required to create the VM (a volume id such as local:import/x.qcow2)")
        if params.get("cloud_init") and not entry.get("address") and params.get("state") == "present":
            errors.append(f"{where}.address: is required with cloud_init=true (the node's address/prefix)")
        specs.append(
            VmSpec(
                name=name,
                role=entry.get("role") or "worker",
                pve_node=entry.get("pve_node"),
                cores=entry.get("cores") or 0,
                memory=entry.get("memory") or 0,
                disk=entry.get("disk") or 0,
                image=entry.get("image"),
                address=entry.get("address"),
                vmid=entry.get("vmid"),
                index=index,
            )
        )
    if errors:
        raise PlanError("; ".join(errors))
    return specs


def settings_from_params(params: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("storage", "bridge", "vlan", "cloud_init", "gateway", "nameservers", "vmid_base", "cpu_type", "start")
    return {"cluster": params["cluster_name"], **{key: params.get(key) for key in keys}}


def _step_result(step: Step, check_mode: bool) -> dict[str, Any]:
    return {
        "name": step.spec.name,
        "vmid": step.vmid,
        "pve_node": step.existing.pve_node if step.existing else step.spec.pve_node,
        "action": step.action,
        "changes": dict(step.changes),
        "resize_to_gib": step.resize_to,
        "start": step.start,
        "changed": step.changed,
        "notes": list(step.notes),
    }


def _diff(steps: list[Step], pruned: list[str]) -> dict[str, Any]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for step in steps:
        if not step.changed:
            continue
        if step.action == "create":
            before[step.spec.name] = None
            after[step.spec.name] = {"vmid": step.vmid, "pve_node": step.spec.pve_node, "status": "running"}
            continue
        before[step.spec.name] = dict(step.before)
        after[step.spec.name] = dict(step.changes)
        if step.resize_to is not None:
            after[step.spec.name]["disk_gib"] = step.resize_to
        if step.start:
            before[step.spec.name]["status"] = step.existing.status if step.existing else None
            after[step.spec.name]["status"] = "running"
    for name in pruned:
        before[name], after[name] = {"status": "exists"}, None
    return {"before": before, "after": after}


def run_present(params: Mapping[str, Any], check_mode: bool, client: ProxmoxClient, sleep: Callable) -> dict[str, Any]:
    specs = specs_from_params(params)
    run = Run(
        client,
        settings_from_params(params),
        workers=params.get("parallel") or 8,
        task_timeout=float(params.get("task_timeout") or 600),
        poll_interval=float(params.get("poll_interval") or 1.0),
        sleep=sleep,
    )
    vms = list_vms(client)
    steps, orphans = plan(run, specs, vms)
    prune = bool(params.get("prune"))
    pruned: list[str] = []
    if not check_mode:
        done = apply(run, steps)
        waiting = [s for s in done if s.start] if params.get("wait_agent") else []
        for step in wait_for_agents(run, waiting, float(params.get("wait_timeout") or 300)):
            run.fail(
                step.spec.name,
                ProxmoxError(
                    f"the QEMU guest agent did not answer within {params.get('wait_timeout')} s; the VM is running. "
                    "Check that its image has the siderolabs/qemu-guest-agent extension (or set wait_agent: false), "
                    "and look at its serial console"
                ),
            )
        if prune and orphans:
            pruned = [vm.name for vm in remove(run, orphans)]
    elif prune:
        pruned = [vm.name for vm in orphans]
    nodes = []
    for step in steps:
        address = step.spec.address
        if not address and not check_mode and params.get("wait_agent") and step.spec.name not in run.failures:
            try:
                address = agent_address(run, step)
            except ProxmoxError as exc:
                run.fail(step.spec.name, exc)
        if step.spec.name in run.started:
            status: str | None = "running"
        elif step.existing is not None:
            status = step.existing.status
        else:
            status = "stopped" if step.spec.name in run.created else None
        nodes.append(node_facts(step.spec, step.vmid, status, address))
    result: dict[str, Any] = {
        "changed": any(step.changed for step in steps) or bool(pruned),
        "nodes": nodes,
        "vms": [_step_result(step, check_mode) for step in steps],
        "orphans": [] if prune else [f"{vm.pve_node}/{vm.vmid} ({vm.name})" for vm in orphans],
        "pruned": pruned,
        "reboot_required": [s.spec.name for s in steps if any("rebooted" in note for note in s.notes)],
        "diff": _diff(steps, pruned),
    }
    if run.failures:
        result["failures"] = [
            {"name": name, "msg": msg, "task_log": run.task_logs.get(name, [])} for name, msg in run.failures.items()
        ]
        parts = "; ".join(f"{name}: {msg}" for name, msg in run.failures.items())
        message = f"{len(run.failures)} of {len(steps) + len(pruned)} VMs failed: {parts}"
        raise PartialFailure(message, result, result["failures"])
    return result


def run_absent(params: Mapping[str, Any], check_mode: bool, client: ProxmoxClient, sleep: Callable) -> dict[str, Any]:
    """Remove every VM tagged with the cluster (the node list, when given, is not needed)."""
    run = Run(client, settings_from_params(params), workers=params.get("parallel") or 8, sleep=sleep)
    run.task_timeout = float(params.get("task_timeout") or 600)
    run.poll_interval = float(params.get("poll_interval") or 1.0)
    owned = [vm for vm in list_vms(client) if vm.owned_by(params["cluster_name"])]
    removed = owned if check_mode else remove(run, owned)
    names = [vm.name for vm in removed]
    result = {
        "changed": bool(owned),
        "removed": [f"{vm.pve_node}/{vm.vmid} ({vm.name})" for vm in removed],
        "nodes": [],
        "diff": {"before": {n: {"status": "exists"} for n in names}, "after": dict.fromkeys(names)},
    }
    if run.failures:
        result["failures"] = [
            {"name": n, "msg": m, "task_log": run.task_logs.get(n, [])} for n, m in run.failures.items()
        ]
        raise PartialFailure("; ".join(f"{n}: {m}" for n, m in run.failures.items()), result, result["failures"])
    return result


def run_vms(
    params: Mapping[str, Any],
    check_mode: bool,
    client: ProxmoxClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Raises ProxmoxError, PlanError, or PartialFailure (with the partial result)."""
    return run_state(params, check_mode, run_present, run_absent, client, sleep)
