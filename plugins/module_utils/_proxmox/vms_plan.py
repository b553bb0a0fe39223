# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Pure decisions about Talos VMs on Proxmox VE: the wanted config, what exists, the plan, VM ids, node facts.

Nothing here talks to the API. A VM belongs to the cluster when its name is a node's name and its tags hold both
``talosforge`` and ``cluster-<name>``; a VM of that name without the tags is someone else's and is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

COLLECTION_TAG = "talosforge"
DISK_SLOT = "scsi0"
GIB = 1 << 30
MIB = 1 << 20
_UNITS = {"": 1, "K": 1 << 10, "M": MIB, "G": GIB, "T": 1 << 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]?)")
# Config keys the module manages on an existing VM (the others are only set when the VM is made).
MANAGED = ("cores", "memory", "tags", "net0", "agent", "serial0", "onboot", "ipconfig0", "nameserver")
NEEDS_REBOOT = ("cores", "memory", "serial0", "agent", "ipconfig0", "nameserver")


class PlanError(Exception):
    """The node list or what exists in Proxmox does not allow a plan (ownership, VM ids, bad values)."""


def cluster_tag(cluster: str) -> str:
    return f"cluster-{cluster}"


def tags_of(value: Any) -> set[str]:
    """PVE tag lists are separated by ``;`` (also ``,`` or spaces when written by hand)."""
    return {tag for tag in re.split(r"[;, ]+", str(value or "")) if tag}


def size_bytes(text: Any) -> int | None:
    """``20G`` / ``512M`` / ``1.5T`` / bytes -> bytes; None when unreadable."""
    match = _SIZE.fullmatch(str(text or "").strip())
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def disk_options(value: Any) -> dict[str, str]:
    """``local-lvm:vm-101-disk-0,discard=on,size=20G`` -> {"file": ..., "discard": "on", "size": "20G"}."""
    options: dict[str, str] = {}
    for index, part in enumerate(str(value or "").split(",")):
        if "=" in part:
            key, _sep, text = part.partition("=")
            options[key.strip()] = text.strip()
        elif index == 0 and part:
            options["file"] = part.strip()
    return options


def memory_mib(value: Any) -> int | None:
    """``4096`` or ``current=4096`` -> 4096."""
    text = str(value if value is not None else "")
    for part in text.split(","):
        key, _sep, number = part.rpartition("=")
        if key in ("", "current") and number.strip().isdigit():
            return int(number)
    return None


@dataclass
class VmSpec:
    """What one node's VM should be."""

    name: str
    role: str
    pve_node: str
    cores: int
    memory: int  # MiB
    disk: int  # GiB
    image: str | None  # volume id to import the disk from
    address: str | None = None  # the node's static address (CIDR for cloud-init)
    vmid: int | None = None
    index: int = 0

    def wanted(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The managed config keys and their wanted values."""
        net = f"virtio,bridge={settings['bridge']}" + (f",tag={settings['vlan']}" if settings.get("vlan") else "")
        config: dict[str, Any] = {
            "cores": self.cores,
            "memory": self.memory,
            "tags": ";".join(sorted({COLLECTION_TAG, cluster_tag(settings["cluster"]), self.role})),
            "net0": net,
            "agent": "enabled=1",
            "serial0": "socket",
            "onboot": 1,
        }
        if settings.get("cloud_init"):
            gateway = f",gw={settings['gateway']}" if settings.get("gateway") else ""
            config["ipconfig0"] = f"ip={self.address}{gateway}" if self.address else "ip=dhcp"
            if settings.get("nameservers"):
                config["nameserver"] = " ".join(settings["nameservers"])
        return config

    def create_params(self, settings: Mapping[str, Any], vmid: int) -> dict[str, Any]:
        """Parameters of POST /nodes/{node}/qemu: the managed keys plus the disk, boot order and fixed settings."""
        if not self.image:
            raise PlanError(f'node "{self.name}": no image to import the disk from; set image (a volume id)')
        params = {
            "vmid": vmid,
            "name": self.name,
            **self.wanted(settings),
            "sockets": 1,
            "cpu": settings.get("cpu_type") or "x86-64-v2-AES",
            "scsihw": "virtio-scsi-single",
            "ostype": "l26",
            DISK_SLOT: f"{settings['storage']}:0,import-from={self.image},discard=on,iothread=1,ssd=1",
            "boot": f"order={DISK_SLOT}",
            "description": f"Talos node {self.name} ({self.role}) of cluster {settings['cluster']}; "
            "managed by talosforge.cluster",
        }
        if settings.get("cloud_init"):
            params["ide2"] = f"{settings['storage']}:cloudinit"
            params["citype"] = "nocloud"
        return params


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


def compare_config(spec: VmSpec, config: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[dict, dict, list]:
    """(changes, before, notes) between a VM's config and the wanted one; the NIC keeps its MAC address."""
    wanted = spec.wanted(settings)
    changes: dict[str, Any] = {}
    before: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in wanted.items():
        current = config.get(key)
        if key == "memory":
            same = memory_mib(current) == value
        elif key == "tags":
            same = tags_of(value) <= tags_of(current)
            value = ";".join(sorted(tags_of(current) | tags_of(value)))
        elif key == "net0":
            have, want = disk_options(current), disk_options(value)
            model = next((m for m in have if m in ("virtio", "e1000", "vmxnet3", "rtl8139")), None)
            same = model == "virtio" and have.get("bridge") == want.get("bridge") and have.get("tag") == want.get("tag")
            if not same and model == "virtio" and have.get("virtio"):
                value = value.replace("virtio", f"virtio={have['virtio']}", 1)
        elif key == "onboot":
            same = str(current) in ("1", "True", "true")
        elif key == "agent":  # "1" and "enabled=1" say the same; other agent options are the user's
            options = disk_options(current)
            same = options.get("enabled", options.get("file")) == "1"
        else:
            same = str(current) == str(value) if current is not None else False
        if not same:
            changes[key] = value
            before[key] = current
    disk = size_bytes(disk_options(config.get(DISK_SLOT)).get("size"))
    if disk is not None and disk > spec.disk * GIB:
        notes.append(f"disk is {disk / GIB:g} GiB, more than the wanted {spec.disk} GiB: disks are never shrunk")
    return changes, before, notes


def disk_growth(spec: VmSpec, config: Mapping[str, Any]) -> int | None:
    """The GiB to resize the boot disk to, or None when it is already as large (or larger)."""
    current = size_bytes(disk_options(config.get(DISK_SLOT)).get("size"))
    if current is None or current < spec.disk * GIB:
        return spec.disk
    return None


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


def node_facts(spec: VmSpec, vmid: int, status: str, address: str | None) -> dict[str, Any]:
    """One entry of ``talosforge_infra.nodes`` (docs/node-facts.md)."""
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
