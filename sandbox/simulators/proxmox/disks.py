"""VM disks: what a drive string asks for (import, new volume, cloud-init drive, CD-ROM) and how PVE stores it.

``scsi0: local-lvm:0,import-from=local:import/talos.qcow2,discard=on`` becomes, once the create task ran,
``scsi0: local-lvm:vm-100-disk-0,discard=on,size=1G``: the file is the allocated volume, ``import-from`` is
gone, ``size=`` is added and the other options keep their (alphabetical) order, as PVE prints property strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .api import PVEError
from .model import GIB, Cluster, Node, Volume, format_size, now, parse_size

DISK_KEY = re.compile(r"(?:ide|sata|scsi|virtio)\d+|efidisk0|tpmstate0")
_NEW_VOLUME = re.compile(r"(?P<storage>[a-z][a-z0-9\-_.]*[a-z0-9]):(?P<size>\d+(?:\.\d+)?)", re.IGNORECASE)
_CLOUDINIT = re.compile(r"(?P<storage>[a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit", re.IGNORECASE)
CLOUDINIT_SIZE = 4 << 20


@dataclass
class DiskPlan:
    """One drive of a create/config request, checked; :meth:`apply` allocates it (in the task)."""

    key: str
    options: dict[str, str]  # the drive's other options (without file, import-from, size)
    kind: str  # import, new, cloudinit, existing, none
    storage: str = ""
    size: int = 0
    source: Volume | None = None
    existing: str = ""

    def apply(self, cluster: Cluster, node: Node, vmid: int) -> tuple[str, Volume | None]:
        """(stored drive string, new volume or None); PVEError when the storage cannot hold it."""
        if self.kind in ("existing", "none"):
            return _print(self.existing, self.options), None
        storage = node.storages[self.storage]
        if self.kind == "cloudinit":
            volid = f"{self.storage}:vm-{vmid}-cloudinit"
        else:
            index = 0
            while f"{self.storage}:vm-{vmid}-disk-{index}" in storage.volumes:
                index += 1
            volid = f"{self.storage}:vm-{vmid}-disk-{index}"
        if self.size > storage.avail:
            raise PVEError(
                500,
                f"lvcreate 'pve/{volid.split(':', 1)[1]}' error:   Volume group \"pve\" has insufficient free space "
                f"({storage.avail // 4194304} extents): {self.size // 4194304} required.",
            )
        volume = Volume(volid, "images", "raw", self.size, now(), vmid, self.source.image if self.source else None)
        storage.volumes[volid] = volume
        options = dict(self.options)
        if self.kind == "cloudinit":
            options["media"] = "cdrom"
        else:
            options["size"] = format_size(self.size)
        return _print(volid, options), volume


def _print(file: str, options: dict[str, str]) -> str:
    return ",".join([file, *(f"{key}={value}" for key, value in sorted(options.items()))])


def parse_drive(text: str) -> tuple[str, dict[str, str]]:
    """(file, other options) of a drive string; the first item may omit ``file=`` (or be ``volume=``)."""
    items = [item for item in text.split(",") if item]
    file, options = "", {}
    for position, item in enumerate(items):
        key, separator, value = item.partition("=")
        if not separator and position == 0:
            file = item
        elif key in ("file", "volume"):
            file = value
        else:
            options[key] = value
    return file, options


def plan(cluster: Cluster, node: Node, key: str, text: str, import_size: int | None) -> DiskPlan:
    """Check a drive string against the node's storages and volumes; PVEError (500) as PVE words it."""
    file, options = parse_drive(text)
    source_name = options.pop("import-from", None)
    options.pop("size", None)
    cloudinit = _CLOUDINIT.fullmatch(file)
    new = _NEW_VOLUME.fullmatch(file)
    if cloudinit:
        images_storage(node, cloudinit.group("storage"))
        return DiskPlan(key, options, "cloudinit", cloudinit.group("storage"), CLOUDINIT_SIZE)
    if new:
        storage = images_storage(node, new.group("storage"))
        if source_name:
            source = _source_volume(cluster, node, source_name)
            size = import_size or source.virtual_size or source.size
            return DiskPlan(key, options, "import", storage, size, source)
        size = int(float(new.group("size")) * GIB)
        if size <= 0:
            raise PVEError(500, f"{key}: unable to allocate a volume of size 0 without 'import-from'")
        return DiskPlan(key, options, "new", storage, size)
    if source_name:
        raise PVEError(500, f"{key}: 'import-from' requires special syntax - use <storage ID>:0,import-from=<source>")
    if file in ("none", "cdrom") or file.startswith("/"):
        return DiskPlan(key, options, "none", existing=file)
    _source_volume(cluster, node, file)
    return DiskPlan(key, options, "existing", existing=file)


def images_storage(node: Node, name: str) -> str:
    storage = node.storages.get(name)
    if storage is None:
        raise PVEError(500, f"storage '{name}' does not exist")
    if "images" not in storage.content:
        raise PVEError(500, f"storage '{name}' does not support vm images")
    return name


def _source_volume(cluster: Cluster, node: Node, volid: str) -> Volume:
    if volid.startswith("/"):
        raise PVEError(500, f"import-from: the simulator imports only from volumes, not from the path '{volid}'")
    storage = node.storages.get(volid.split(":", 1)[0])
    volume = storage.volumes.get(volid) if storage else None
    if volume is None:
        raise PVEError(500, f"volume '{volid}' does not exist")
    return volume


def volumes_of(config: dict[str, Any]) -> list[str]:
    """Volume IDs a VM config refers to (disks, cloud-init drives, unused disks)."""
    found = []
    for key, value in config.items():
        if DISK_KEY.fullmatch(key) or re.fullmatch(r"unused\d+", key):
            file, _options = parse_drive(str(value))
            if re.match(r"[^:/]+:(?:base-\d+-[^/]+/)?(?:vm|base)-\d+-", file):
                found.append(file)
    return found


def disk_size(config: dict[str, Any], key: str) -> int:
    _file, options = parse_drive(str(config.get(key, "")))
    return parse_size(options["size"]) if options.get("size") else 0
