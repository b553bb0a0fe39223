"""The simulated cluster's state: PVE nodes, their storages and volumes, and their VMs; saved as one JSON file.

``<state>/proxmox/cluster.json`` holds everything but file contents; downloaded and uploaded images live as real
files under ``<state>/proxmox/storage/<node>/<storage>/`` (``import/``, ``template/iso/``). VM disks are sizes only
(no bytes are written for them). Every change happens under :attr:`Cluster.lock` and is saved at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

GIB = 1 << 30
CONTENT_DIRS = {"import": "import", "iso": "template/iso", "vztmpl": "template/cache"}


@dataclass
class Volume:
    volid: str  # e.g. local:import/talos.qcow2, local-lvm:vm-100-disk-0
    content: str  # import, iso, vztmpl, images
    format: str  # qcow2, raw, iso, ...
    size: int
    ctime: int
    vmid: int | None = None
    image: dict[str, str] | None = None  # Talos image facts: schematic, version, platform (from the file's label)
    virtual_size: int | None = None  # a qcow2 image's disk size (from its header); None: the file size


@dataclass
class Storage:
    name: str
    type: str  # dir or lvmthin
    content: list[str]
    total: int
    volumes: dict[str, Volume] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return sum(volume.size for volume in self.volumes.values())

    @property
    def avail(self) -> int:
        return max(self.total - self.used, 0)


@dataclass
class VM:
    vmid: int
    node: str
    config: dict[str, str]  # PVE's stored form: property strings, as in /etc/pve/qemu-server/<vmid>.conf
    status: str = "stopped"
    started: float | None = None
    lock: str | None = None
    talos_address: str | None = None
    boot_image: dict[str, str] | None = None

    def digest(self) -> str:
        """SHA-1 of the config as PVE would write it (key: value lines, sorted)."""
        text = "".join(f"{key}: {value}\n" for key, value in sorted(self.config.items()))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Node:
    name: str
    storages: dict[str, Storage]
    vms: dict[int, VM] = field(default_factory=dict)


def default_storages(size: int) -> dict[str, Storage]:
    return {
        "local": Storage("local", "dir", ["backup", "import", "iso", "vztmpl"], size),
        "local-lvm": Storage("local-lvm", "lvmthin", ["images", "rootdir"], size),
    }


class Cluster:
    """All nodes; find VMs cluster-wide (VMIDs are unique across the cluster, as in PVE)."""

    def __init__(self, folder: Path, node_names: list[str], storage_size: int) -> None:
        self.folder = folder
        self.file = folder / "cluster.json"
        self.lock = threading.RLock()
        self.node_names = node_names
        self.storage_size = storage_size
        self.nodes: dict[str, Node] = {}
        self.load()

    # --- persistence ------------------------------------------------------------------------------------------
    def load(self) -> None:
        with self.lock:
            try:
                data = json.loads(self.file.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                data = {}
            self.nodes = {}
            for name in self.node_names:
                saved = data.get(name)
                if saved is None:
                    self.nodes[name] = Node(name, default_storages(self.storage_size))
                    continue
                storages = {
                    key: Storage(
                        item["name"],
                        item["type"],
                        item["content"],
                        item["total"],
                        {volid: Volume(**volume) for volid, volume in item["volumes"].items()},
                    )
                    for key, item in saved["storages"].items()
                }
                vms = {int(vmid): VM(**vm) for vmid, vm in saved["vms"].items()}
                self.nodes[name] = Node(name, storages, vms)

    def save(self) -> None:
        with self.lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = {
                name: {
                    "storages": {key: asdict(storage) for key, storage in node.storages.items()},
                    "vms": {str(vmid): asdict(vm) for vmid, vm in node.vms.items()},
                }
                for name, node in self.nodes.items()
            }
            temporary = self.file.with_name(self.file.name + ".tmp")
            temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.file)

    # --- look-ups ---------------------------------------------------------------------------------------------
    def all_vms(self) -> list[VM]:
        with self.lock:
            return [vm for node in self.nodes.values() for vm in node.vms.values()]

    def vm_anywhere(self, vmid: int) -> VM | None:
        with self.lock:
            return next((vm for vm in self.all_vms() if vm.vmid == vmid), None)

    def next_free_vmid(self, start: int = 100) -> int:
        with self.lock:
            taken = {vm.vmid for vm in self.all_vms()}
        vmid = start
        while vmid in taken:
            vmid += 1
        return vmid

    def storage_folder(self, node: str, storage: str) -> Path:
        return self.folder / "storage" / node / storage

    def volume_file(self, node: str, volid: str) -> Path:
        storage, _colon, name = volid.partition(":")
        content, _slash, filename = name.partition("/")
        return self.storage_folder(node, storage) / CONTENT_DIRS.get(content, content) / filename


def now() -> int:
    return int(time.time())


def format_size(size: int) -> str:
    """PVE's way of writing a disk size in a config: the largest unit that divides it (``20G``, ``4M``)."""
    for unit, factor in (("T", 1 << 40), ("G", GIB), ("M", 1 << 20), ("K", 1 << 10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def parse_size(text: str) -> int:
    """``20G``/``512M``/``1.5G``/``1048576`` in bytes (disk-size format; bare numbers are bytes)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": GIB, "T": 1 << 40}
    factor = units.get(text[-1:].upper(), 1)
    number = text[:-1] if factor != 1 else text
    return int(float(number) * factor)
