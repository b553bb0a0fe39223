# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""proxmox_vms against the PVE API: read what the plan needs, then carry it out in phases across all VMs at once.

read: one ``/cluster/resources`` call; a VM's config only when the summary shows a difference; ``/cluster/nextid``
only when a new VM needs it. apply: create or reconfigure every VM (in parallel), wait for all their tasks
together; grow disks; start the stopped ones; wait for the guest agents. A VM whose step fails drops out of later
phases; the others go on, and the module ends with a PartialFailure naming the failed ones.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure, item_failure
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    ProxmoxClient,
    ProxmoxError,
    quote,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.lost_writes import (
    SEND_AGAIN,
    disk_resized,
    vm_configured,
    vm_created,
    vm_destroyed,
    vm_started,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.tasks import poll_until, wait_tasks
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vm_spec import (
    DISK_SLOT,
    VmSpec,
    disk_growth,
    settings_from_params,
    specs_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_plan import (
    Existing,
    Step,
    configs_to_read,
    diff,
    needs_next_id,
    node_facts,
    plan,
    step_result,
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
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # per VM name, its first failure
    created: set[str] = field(default_factory=set)  # VMs made in this run (they exist even if a later phase failed)
    started: set[str] = field(default_factory=set)  # VMs started in this run

    @classmethod
    def from_params(cls, client: ProxmoxClient, params: Mapping[str, Any], sleep: Callable[[float], None]) -> Run:
        """A run with the module's settings, parallelism and task waits."""
        return cls(
            client,
            settings_from_params(params),
            workers=params.get("parallel") or 8,
            task_timeout=float(params.get("task_timeout") or 600),
            poll_interval=float(params.get("poll_interval") or 1.0),
            sleep=sleep,
        )

    @staticmethod
    def node_of(step_or_vm: Any) -> str:
        """The Proxmox node a Step's or an Existing's VM is on (an existing VM stays where it is)."""
        if isinstance(step_or_vm, Step):
            return step_or_vm.existing.pve_node if step_or_vm.existing else step_or_vm.spec.pve_node
        return str(step_or_vm.pve_node)

    def vm_path(self, step_or_vm: Any) -> str:
        return f"/nodes/{quote(self.node_of(step_or_vm))}/qemu/{step_or_vm.vmid}"

    def each(self, items: list[Any], work: Callable[[Any], Any]) -> list[tuple[Any, Exception | None]]:
        return in_parallel(items, self.workers, None, lambda _client, item: work(item), (ProxmoxError,), "pve")

    def fail(self, name: str, error: Exception) -> None:
        self.failures.setdefault(name, item_failure(name, error))

    def raise_failures(self, total: int, result: Mapping[str, Any]) -> None:
        """End the run with a PartialFailure when some VMs failed."""
        if self.failures:
            raise PartialFailure.of("VMs", total, list(self.failures.values()), result)


def list_vms(client: ProxmoxClient) -> list[Existing]:
    """Every QEMU VM of the PVE cluster (templates left out), from one /cluster/resources call."""
    items = client.get("/cluster/resources", type="vm") or []
    return [
        Existing.from_resource(item)
        for item in items
        if isinstance(item, Mapping) and item.get("type") == "qemu" and not item.get("template")
    ]


def read(run: Run, specs: list[VmSpec]) -> tuple[list[Existing], dict[int, Mapping[str, Any]], int | None]:
    """What ``vms_plan.plan`` needs: every VM, the configs it must compare (read in parallel), the next free id."""
    vms = list_vms(run.client)
    wanted = configs_to_read(specs, vms, run.settings)
    configs: dict[int, Mapping[str, Any]] = {}
    for vm, (config, error) in zip(
        wanted, run.each(wanted, lambda vm: run.client.get(run.vm_path(vm) + "/config")), strict=True
    ):
        if error is not None:
            raise error
        configs[vm.vmid] = config or {}
    next_free = int(run.client.get("/cluster/nextid")) if needs_next_id(specs, vms, run.settings) else None
    return vms, configs, next_free


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
        lambda s: run.client.post(
            f"/nodes/{quote(s.spec.pve_node)}/qemu",
            settled=vm_created(run.client, s.spec.pve_node, s.vmid, s.spec.name),
            **s.spec.create_params(settings, s.vmid),
        ),
    )
    run.created = {step.spec.name for step in created}
    _phase(
        run,
        [s for s in steps if s.action == "update"],
        lambda s: run.client.post(
            run.vm_path(s) + "/config",
            settled=vm_configured(run.client, run.node_of(s), s.vmid, s.changes),
            **s.changes,
        ),
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
        lambda s: run.client.put(
            run.vm_path(s) + "/resize",
            settled=disk_resized(
                run.client, run.node_of(s), s.vmid, lambda config: disk_growth(s.spec, config) is None
            ),
            disk=DISK_SLOT,
            size=f"{s.resize_to}G",
        ),
    )
    alive = [s for s in alive if s.spec.name not in run.failures]
    started = _phase(
        run,
        [s for s in alive if s.start],
        lambda s: run.client.post(
            run.vm_path(s) + "/status/start", settled=vm_started(run.client, run.node_of(s), s.vmid)
        ),
    )
    run.started = {step.spec.name for step in started}
    return [s for s in steps if s.spec.name not in run.failures]


def _agent_ready(run: Run, step: Step) -> Any:
    try:
        run.client.post(run.vm_path(step) + "/agent/ping", settled=SEND_AGAIN)
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
        run,
        [vm for vm in vms if vm.status == "running"],
        lambda vm: run.client.post(run.vm_path(vm) + "/status/stop", settled=SEND_AGAIN),
    )
    alive = [vm for vm in vms if vm.name not in run.failures]
    destroy = {"purge": 1, "destroy-unreferenced-disks": 1}
    return _phase(
        run,
        alive,
        lambda vm: run.client.delete(
            run.vm_path(vm), settled=vm_destroyed(run.client, vm.pve_node, vm.vmid), **destroy
        ),
    )


def run_present(params: Mapping[str, Any], check_mode: bool, client: ProxmoxClient, sleep: Callable) -> dict[str, Any]:
    """Converge the VMs of ``nodes``; raises PlanError, ProxmoxError, or PartialFailure with the result."""
    specs = specs_from_params(params)
    run = Run.from_params(client, params, sleep)
    steps, orphans = plan(specs, *read(run, specs), run.settings)
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
        "vms": [step_result(step) for step in steps],
        "orphans": [] if prune else [f"{vm.pve_node}/{vm.vmid} ({vm.name})" for vm in orphans],
        "pruned": pruned,
        "reboot_required": [s.spec.name for s in steps if any("rebooted" in note for note in s.notes)],
        "diff": diff(steps, pruned),
    }
    run.raise_failures(len(steps) + len(pruned), result)
    return result


def run_absent(params: Mapping[str, Any], check_mode: bool, client: ProxmoxClient, sleep: Callable) -> dict[str, Any]:
    """Remove every VM tagged with the cluster (the node list, when given, is not needed)."""
    run = Run.from_params(client, params, sleep)
    owned = [vm for vm in list_vms(client) if vm.owned_by(params["cluster_name"])]
    removed = owned if check_mode else remove(run, owned)
    names = [vm.name for vm in removed]
    result = {
        "changed": bool(owned),
        "removed": [f"{vm.pve_node}/{vm.vmid} ({vm.name})" for vm in removed],
        "nodes": [],
        "diff": {"before": {n: {"status": "exists"} for n in names}, "after": dict.fromkeys(names)},
    }
    run.raise_failures(len(owned), result)
    return result


def info(params: Mapping[str, Any], client: ProxmoxClient) -> dict[str, Any]:
    """The cluster's VMs (carrying its tags) from one /cluster/resources call, sorted by name; writes nothing."""
    owned = sorted((vm for vm in list_vms(client) if vm.owned_by(params["cluster_name"])), key=lambda vm: vm.name)
    vms = [
        {"name": vm.name, "vmid": vm.vmid, "pve_node": vm.pve_node, "status": vm.status, "tags": sorted(vm.tags)}
        for vm in owned
    ]
    return {"changed": False, "vms": vms, "api_requests": client.requests}
