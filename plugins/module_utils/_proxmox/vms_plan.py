# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Pure decisions of proxmox_vms: what exists, the plan (a Step per node), VM ids, node facts, the diff.

Nothing here talks to the API: ``vms_apply`` reads what the plan needs first (the VMs of ``/cluster/resources``,
the configs ``configs_to_read`` names, ``/cluster/nextid`` when ``needs_next_id``) and carries the plan out. A VM
belongs to the cluster when its tags hold both ``talosforge`` and ``cluster-<name>``; a VM of a node's name
without them is someone else's and is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vm_spec import (
    COLLECTION_TAG,
    GIB,
    MIB,
    NEEDS_REBOOT,
    PlanError,
    VmSpec,
    cluster_tag,
    compare_config,
    disk_growth,
    tags_of,
)


@dataclass
class Existing:
    """A VM found in /cluster/resources."""

    vmid: int
    pve_node: str
    name: str
    tags: set[str]
    status: str
    maxcpu: int | None = None
    maxmem: int | None = None
    maxdisk: int | None = None

    @classmethod
    def from_resource(cls, item: Mapping[str, Any]) -> Existing:
        def number(key: str) -> int | None:
            value = item.get(key)
            return int(value) if isinstance(value, (int, float)) else None

        return cls(
            vmid=int(item["vmid"]),
            pve_node=str(item.get("node") or ""),
            name=str(item.get("name") or ""),
            tags=tags_of(item.get("tags")),
            status=str(item.get("status") or "unknown"),
            maxcpu=number("maxcpu"),
            maxmem=number("maxmem"),
            maxdisk=number("maxdisk"),
        )

    def owned_by(self, cluster: str) -> bool:
        return {COLLECTION_TAG, cluster_tag(cluster)} <= self.tags


@dataclass
class Step:
    """What to do for one node: create, update or nothing (and start, resize) -- with why."""

    spec: VmSpec
    action: str  # create | update | unchanged
    vmid: int
    existing: Existing | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # config key -> wanted value
    before: dict[str, Any] = field(default_factory=dict)
    resize_to: int | None = None  # GiB
    start: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged" or self.start or self.resize_to is not None


def looks_unchanged(spec: VmSpec, vm: Existing, settings: Mapping[str, Any]) -> bool:
    """Whether the resource summary alone shows the VM as wanted (then its config is not even read)."""
    wanted_tags = tags_of(spec.wanted(settings)["tags"])
    return (
        vm.pve_node == spec.pve_node
        and vm.maxcpu == spec.cores
        and vm.maxmem == spec.memory * MIB
        and vm.maxdisk == spec.disk * GIB  # a larger disk is read, to say it is never shrunk
        and wanted_tags <= vm.tags
        and not settings.get("cloud_init")  # ipconfig0 is not in the summary
    )


def allocate_vmids(specs: list[VmSpec], taken: set[int], base: int | None, next_free: int | None) -> dict[str, int]:
    """VM ids for the nodes that have no VM yet: ``base + index`` with vmid_base, else the free ids from
    ``next_free`` (PVE's /cluster/nextid) upwards, skipping ``taken``. A node's own ``vmid`` always wins."""
    result: dict[str, int] = {}
    used = set(taken)
    candidate = max(100, next_free or 100)
    for spec in specs:
        if spec.vmid is not None:
            vmid = spec.vmid
        elif base is not None:
            vmid = base + spec.index
        else:
            while candidate in used:
                candidate += 1
            vmid = candidate
        if vmid in used:
            raise PlanError(
                f'node "{spec.name}": VM id {vmid} is already used by another VM; choose another vmid_base '
                "(or vmid), or remove that VM"
            )
        used.add(vmid)
        result[spec.name] = vmid
    return result


def cluster_vms(specs: list[VmSpec], vms: list[Existing], cluster: str) -> dict[str, Existing]:
    """The cluster's VMs by name; raises PlanError when two of them share a name, or a VM of a node's name is not
    the cluster's (it is left alone, so the node cannot have it)."""
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
    for spec in specs:
        other = foreign.get(spec.name)
        if spec.name not in by_name and other is not None:
            raise PlanError(
                f'node "{spec.name}": VM {other.vmid} on {other.pve_node} has that name but not the tags '
                f"talosforge and cluster-{cluster}; it is not this cluster's and is left alone. Rename or "
                "remove it, or add the tags if it is this node's VM"
            )
    return by_name


def configs_to_read(specs: list[VmSpec], vms: list[Existing], settings: Mapping[str, Any]) -> list[Existing]:
    """The nodes' VMs whose config the plan needs: those whose resource summary shows a difference."""
    by_name = cluster_vms(specs, vms, settings["cluster"])
    return [
        by_name[spec.name]
        for spec in specs
        if spec.name in by_name and not looks_unchanged(spec, by_name[spec.name], settings)
    ]


def needs_next_id(specs: list[VmSpec], vms: list[Existing], settings: Mapping[str, Any]) -> bool:
    """Whether a VM will be made whose id comes from PVE's /cluster/nextid (no vmid_base, no vmid of its own)."""
    by_name = cluster_vms(specs, vms, settings["cluster"])
    return settings.get("vmid_base") is None and any(s.vmid is None for s in specs if s.name not in by_name)


def _existing_step(
    spec: VmSpec, vm: Existing, configs: Mapping[int, Mapping[str, Any]], settings: Mapping[str, Any]
) -> Step:
    step = Step(spec, "unchanged", vm.vmid, vm, start=settings.get("start", True) and vm.status != "running")
    if vm.pve_node != spec.pve_node:
        step.notes.append(f"the VM runs on {vm.pve_node}, not {spec.pve_node}; migrate it to move it")
    if looks_unchanged(spec, vm, settings):
        return step
    config = configs[vm.vmid]
    step.changes, step.before, notes = compare_config(spec, config, settings)
    step.notes.extend(notes)
    step.resize_to = disk_growth(spec, config)
    if step.changes:
        step.action = "update"
        if vm.status == "running" and set(step.changes) & set(NEEDS_REBOOT):
            step.notes.append("takes effect when the VM is rebooted (PVE keeps the change pending until then)")
    return step


def plan(
    specs: list[VmSpec],
    vms: list[Existing],
    configs: Mapping[int, Mapping[str, Any]],
    next_free: int | None,
    settings: Mapping[str, Any],
) -> tuple[list[Step], list[Existing]]:
    """One Step per spec (in order) and the cluster's VMs that no spec names (candidates for pruning).

    ``vms`` are every VM of the PVE cluster, ``configs`` the config of (at least) each VM ``configs_to_read``
    names, by VM id, and ``next_free`` PVE's /cluster/nextid when ``needs_next_id`` (else None).
    """
    by_name = cluster_vms(specs, vms, settings["cluster"])
    steps: list[Step] = []
    for spec in specs:
        vm = by_name.get(spec.name)
        if vm is not None:
            steps.append(_existing_step(spec, vm, configs, settings))
        elif not spec.image:
            raise PlanError(f'node "{spec.name}": no image to import the disk from; set image (a volume id)')
        else:
            steps.append(Step(spec, "create", 0, start=settings.get("start", True)))
    missing = [step.spec for step in steps if step.action == "create"]
    if missing:
        ids = allocate_vmids(missing, {vm.vmid for vm in vms}, settings.get("vmid_base"), next_free)
        for step in steps:
            if step.action == "create":
                step.vmid = ids[step.spec.name]
    named = {spec.name for spec in specs}
    return steps, [vm for name, vm in by_name.items() if name not in named]


def node_facts(spec: VmSpec, vmid: int, status: str | None, address: str | None) -> dict[str, Any]:
    """One entry of ``talosforge_infra.nodes`` (docs/stage-contract.md)."""
    plain = address.split("/", 1)[0] if address else None
    return {
        "name": spec.name,
        "role": spec.role,
        "provider": "proxmox",
        "provider_id": f"{spec.pve_node}/{vmid}",
        "location": spec.pve_node,
        "public_ipv4": None,
        "public_ipv6": None,
        "private_ipv4": plain,
        "talos_address": plain,
        "status": status or None,
    }


def step_result(step: Step) -> dict[str, Any]:
    """One entry of the module's ``vms`` result."""
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


def diff(steps: list[Step], pruned: list[str]) -> dict[str, Any]:
    """Before/after of the VMs that change (and of those pruned), keyed by node name."""
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
