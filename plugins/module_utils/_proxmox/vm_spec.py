# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""One node's VM on Proxmox VE as it should be: the spec, its config and create parameters, PVE's value formats.

Pure: nothing here talks to the API. ``compare_config`` says how a VM's config differs from the wanted one;
``vms_plan`` decides what to do about it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

COLLECTION_TAG = "talosforge"
DISK_SLOT = "scsi0"
GIB = 1 << 30
MIB = 1 << 20
_UNITS = {"": 1, "K": 1 << 10, "M": MIB, "G": GIB, "T": 1 << 40}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]?)")
# Config keys whose new value a running VM takes only when it is rebooted.
NEEDS_REBOOT = ("cores", "memory", "serial0", "agent", "ipconfig0", "nameserver")


class PlanError(InputError):
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
