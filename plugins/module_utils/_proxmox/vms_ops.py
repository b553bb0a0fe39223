# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Converging Talos VMs through the PVE API, in phases that each run across all VMs at once.

plan: one ``/cluster/resources`` call; a VM's config is read only when the summary shows a difference.
apply: create or reconfigure every VM (in parallel), wait for all their tasks together; grow disks; start the
stopped ones; wait for the guest agents. A VM whose step fails drops out of later phases; the others go on.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    ProxmoxClient,
    ProxmoxError,
    quote,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.tasks import poll_until, wait_tasks
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_plan import (
    DISK_SLOT,
    NEEDS_REBOOT,
    Existing,
    PlanError,
    Step,
    VmSpec,
    allocate_vmids,
    compare_config,
    disk_growth,
    looks_unchanged,
)


@dataclass
class Run:
    """Shared settings of one module run."""

    client: ProxmoxClient
    settings: Mapping[str, Any]
    workers: int = 8
    task_timeout: float = 600.0
    poll_interval: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    failures: dict[str, str] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)  # VMs made in this run (they exist even if a later phase failed)
    started: set[str] = field(default_factory=set)  # VMs started in this run
    task_logs: dict[str, list[str]] = field(default_factory=dict)

    def vm_path(self, step_or_vm: Any) -> str:
        node = step_or_vm.existing.pve_node if isinstance(step_or_vm, Step) and step_or_vm.existing else None
        if isinstance(step_or_vm, Step):
            return f"/nodes/{quote(node or step_or_vm.spec.pve_node)}/qemu/{step_or_vm.vmid}"
        return f"/nodes/{quote(step_or_vm.pve_node)}/qemu/{step_or_vm.vmid}"

    def each(self, items: list[Any], work: Callable[[Any], Any]) -> list[tuple[Any, Exception | None]]:
        return in_parallel(items, self.workers, None, lambda _client, item: work(item), (ProxmoxError,), "pve")

    def fail(self, name: str, error: Exception) -> None:
        self.failures.setdefault(name, str(error))
        if isinstance(error, ProxmoxError) and error.task_log:
            self.task_logs[name] = list(error.task_log)


def list_vms(client: ProxmoxClient) -> list[Existing]:
    """Every QEMU VM of the PVE cluster (templates left out), from one /cluster/resources call."""
    items = client.get("/cluster/resources", type="vm") or []
    return [
        Existing.from_resource(item)
        for item in items
        if isinstance(item, Mapping) and item.get("type") == "qemu" and not item.get("template")
    ]


def plan(run: Run, specs: list[VmSpec], vms: list[Existing]) -> tuple[list[Step], list[Existing]]:
    """One Step per spec (in order) and the cluster's VMs that no spec names (candidates for pruning)."""
    cluster = run.settings["cluster"]
    by_name: dict[str, Existing] = {}
    for vm in vms:
        if vm.owned_by(cluster):
            if vm.name in by_name:
                raise PlanError(
                    f'two VMs of cluster "{cluster}" are named "{vm.name}" ({by_name[vm.name].vmid} and {vm.vmid}); '
                    "remove one of them"
                )
            by_name[vm.name] = vm
    foreign = {vm.name: vm for vm in vms if not vm.owned_by(cluster)}
    missing: list[VmSpec] = []
    steps: list[Step] = []
    to_read: list[Step] = []
    for spec in specs:
        vm = by_name.get(spec.name)
        if vm is None:
            other = foreign.get(spec.name)
            if other is not None:
                raise PlanError(
                    f'node "{spec.name}": VM {other.vmid} on {other.pve_node} has that name but not the tags '
                    f"talosforge and cluster-{cluster}; it is not this cluster's and is left alone. Rename or "
                    "remove it, or add the tags if it is this node's VM"
                )
            missing.append(spec)
            steps.append(Step(spec, "create", 0, start=run.settings.get("start", True)))
            continue
        step = Step(spec, "unchanged", vm.vmid, vm, start=run.settings.get("start", True) and vm.status != "running")
        if vm.pve_node != spec.pve_node:
            step.notes.append(f"the VM runs on {vm.pve_node}, not {spec.pve_node}; migrate it to move it")
        if not looks_unchanged(spec, vm, run.settings):
            to_read.append(step)
        steps.append(step)
    for step, (config, error) in zip(
        to_read, run.each(to_read, lambda s: run.client.get(run.vm_path(s) + "/config")), strict=True
    ):
        if error is not None:
            raise error
        step.changes, step.before, notes = compare_config(step.spec, config or {}, run.settings)
        step.notes.extend(notes)
        step.resize_to = disk_growth(step.spec, config or {})
        if step.changes:
            step.action = "update"
            if step.existing and step.existing.status == "running" and set(step.changes) & set(NEEDS_REBOOT):
                step.notes.append("takes effect when the VM is rebooted (PVE keeps the change pending until then)")
    if missing:
        taken = {vm.vmid for vm in vms}
        needs_next = run.settings.get("vmid_base") is None and any(s.vmid is None for s in missing)
        next_free = int(run.client.get("/cluster/nextid")) if needs_next else None
        ids = allocate_vmids(missing, taken, run.settings.get("vmid_base"), next_free)
        for step in steps:
            if step.action == "create":
                step.vmid = ids[step.spec.name]
    owned = {spec.name for spec in specs}
    orphans = [vm for name, vm in by_name.items() if name not in owned]
    return steps, orphans


def _name(item: Any) -> str:
    return item.spec.name if isinstance(item, Step) else item.name


def _phase(run: Run, items: list[Any], call: Callable[[Any], Any]) -> list[Any]:
    """Issue ``call`` for every item (Step or Existing) in parallel, then wait for all the tasks it started
    together; return the items whose call and task went well (the others are recorded in ``run.failures``)."""
    issued = []
    for item, (upid, error) in zip(items, run.each(items, call), strict=True):
        if error is not None:
            run.fail(_name(item), error)
        else:
            issued.append((item, upid))
    upids = [str(upid) for _item, upid in issued if upid]
    outcomes = wait_tasks(run.client, upids, run.task_timeout, run.poll_interval, run.workers, run.sleep)
    good = []
    for item, upid in issued:
        outcome = outcomes.get(str(upid)) if upid else None
        if outcome is not None and not outcome.ok:
            run.fail(_name(item), outcome.error())
        else:
            good.append(item)
    return good


def apply(run: Run, steps: list[Step]) -> list[Step]:
    """Make every step happen; return the steps that went through (failures are in ``run.failures``)."""
    settings = run.settings
    created = _phase(
        run,
        [s for s in steps if s.action == "create"],
        lambda s: run.client.post(f"/nodes/{quote(s.spec.pve_node)}/qemu", **s.spec.create_params(settings, s.vmid)),
    )
    run.created = {step.spec.name for step in created}
    _phase(
        run,
        [s for s in steps if s.action == "update"],
        lambda s: run.client.post(run.vm_path(s) + "/config", **s.changes),
    )
    for step, (config, error) in zip(
        created, run.each(created, lambda s: run.client.get(run.vm_path(s) + "/config")), strict=True
    ):
        if error is not None:
            run.fail(step.spec.name, error)
        else:
            step.resize_to = disk_growth(step.spec, config or {})
    alive = [s for s in steps if s.spec.name not in run.failures]
    _phase(
        run,
        [s for s in alive if s.resize_to is not None],
        lambda s: run.client.put(run.vm_path(s) + "/resize", disk=DISK_SLOT, size=f"{s.resize_to}G"),
    )
    alive = [s for s in alive if s.spec.name not in run.failures]
    started = _phase(run, [s for s in alive if s.start], lambda s: run.client.post(run.vm_path(s) + "/status/start"))
    run.started = {step.spec.name for step in started}
    return [s for s in steps if s.spec.name not in run.failures]


def _agent_ready(run: Run, step: Step) -> Any:
    try:
        run.client.post(run.vm_path(step) + "/agent/ping")
    except ProxmoxError as exc:
        if "no qemu guest agent configured" in str(exc).lower():
            raise ProxmoxError(f"{exc}; the VM's agent option is off, so no agent will ever answer") from exc
        if exc.status is not None and exc.status >= 500:
            return None  # "QEMU guest agent is not running" until the guest has booted
        raise
    return True


def wait_for_agents(run: Run, steps: list[Step], timeout: float) -> list[Step]:
    """Wait until the guest agent of every step's VM answers a ping; return the steps whose agent never did."""
    if not steps:
        return []
    answers = poll_until(
        steps, lambda s: _agent_ready(run, s), timeout, run.poll_interval, run.workers, sleep=run.sleep
    )
    return [step for step, ready in zip(steps, answers, strict=True) if not ready]


def agent_address(run: Run, step: Step) -> str | None:
    """The first global IPv4 address the guest agent reports (DHCP addressing), or None."""
    data = run.client.get(run.vm_path(step) + "/agent/network-get-interfaces") or {}
    for interface in data.get("result") or []:
        for entry in interface.get("ip-addresses") or []:
            try:
                ip = ipaddress.ip_address(str(entry.get("ip-address", "")))
            except ValueError:
                continue
            if ip.version == 4 and not (ip.is_loopback or ip.is_link_local):
                return str(ip)
    return None


def remove(run: Run, vms: list[Existing]) -> list[Existing]:
    """Stop (hard) and destroy the VMs with their disks, all in parallel; return those removed."""
    _phase(
        run, [vm for vm in vms if vm.status == "running"], lambda vm: run.client.post(run.vm_path(vm) + "/status/stop")
    )
    alive = [vm for vm in vms if vm.name not in run.failures]
    destroy = {"purge": 1, "destroy-unreferenced-disks": 1}
    return _phase(run, alive, lambda vm: run.client.delete(run.vm_path(vm), **destroy))
