"""Handlers: convert a VM to a template, and clone a VM or template (full copies and linked clones).

As in PVE (qm.adoc, "Copies and Clones"): cloning a normal VM always makes a full copy; a template is cloned
linked by default (``full=0``; the new disks are the template's base volumes plus a copy-on-write layer, so no
space is used until written) or fully with ``full=1``. Converting to a template renames the VM's disks
``base-<vmid>-disk-<n>``. Linked clones cannot change the target storage. Local storages are per node, so the
simulator refuses ``target`` other than the source's node, as PVE does for VMs on local storage.
"""

from __future__ import annotations

import uuid

from ...httpbase import operation
from . import disks
from .api import Call, PVEError
from .core import ProxmoxCore
from .handlers_qemu import normalize_net
from .model import VM, Volume, format_size, now
from .tasks import Task, TaskError


class CloneHandlers(ProxmoxCore):
    """Templates and clones of VMs."""

    @operation("POST", "/nodes/{node}/qemu/{vmid}/template")
    def vm_template(self, call: Call) -> str:
        vm = self.vm(call)
        with self.cluster.lock:
            self.check_unlocked(vm, call)
            if vm.status == "running":
                raise PVEError(500, f"VM {vm.vmid} is running - unable to create template")
            if vm.config.get("template") == "1":
                raise PVEError(500, f"VM {vm.vmid} is already a template")

        def work(task: Task) -> None:
            with self.cluster.lock:
                node = self.cluster.nodes[vm.node]
                for key, value in list(vm.config.items()):
                    if not disks.DISK_KEY.fullmatch(key) or not disks.volumes_of({key: value}):
                        continue
                    old = disks.volumes_of({key: value})[0]
                    if "-cloudinit" in old:
                        continue
                    storage = node.storages[old.split(":", 1)[0]]
                    new = old.replace(f":vm-{vm.vmid}-", f":base-{vm.vmid}-")
                    volume = storage.volumes.pop(old)
                    volume.volid = new
                    storage.volumes[new] = volume
                    vm.config[key] = value.replace(old, new, 1)
                    task.log.append(f"renamed {old} to {new}")
                vm.config["template"] = "1"
                self.cluster.save()

        return self.tasks.start(vm.node, "qmtemplate", str(vm.vmid), call.user, work).upid

    @operation("POST", "/nodes/{node}/qemu/{vmid}/clone")
    def vm_clone(self, call: Call) -> str:
        source = self.vm(call)
        newid = int(call.get("newid"))
        template = source.config.get("template") == "1"
        full = bool(call.get("full", not template))
        with self.cluster.lock:
            self.check_unlocked(source, call)
            if self.cluster.vm_anywhere(newid) is not None:
                raise PVEError(500, f"unable to create VM {newid}: config file already exists")
            if call.get("target") not in (None, source.node):
                raise PVEError(500, f"can't clone VM to node '{call.get('target')}' (VM uses local storage)")
            if not full and not template:
                raise PVEError(500, "Linked clone feature is not supported for running or non-template VMs")
            if not full and call.get("storage"):
                raise PVEError(500, "changing the target storage is not possible for linked clones")
            if call.get("storage"):
                disks.images_storage(self.cluster.nodes[source.node], call.get("storage"))
            config = {key: value for key, value in source.config.items() if key not in ("template", "meta")}
            config["name"] = call.get("name") or f"Copy-of-VM-{source.config.get('name', source.vmid)}"
            if call.get("description") is not None:
                config["description"] = call.get("description")
            config["smbios1"] = f"uuid={uuid.uuid5(uuid.NAMESPACE_OID, f'pve/{newid}')}"
            config["vmgenid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vmgenid/{newid}"))
            config["meta"] = f"creation-qemu=9.2.0,ctime={int(self.clock())}"
            for key in [key for key in config if key.startswith("net")]:
                model = config[key].split(",")[0].split("=")[0]
                rest = ",".join(config[key].split(",")[1:])
                config[key] = normalize_net(newid, key, f"{model},{rest}" if rest else model)
            clone = VM(newid, source.node, config, lock="clone")
            self.cluster.nodes[source.node].vms[newid] = clone
            source.lock = "clone"
            self.cluster.save()

        def work(task: Task) -> None:
            with self.cluster.lock:
                source.lock = None
                _copy_disks(self, source, clone, full, call.get("storage"), task)
                clone.lock = None
                self.cluster.save()

        def undo(task: Task, error: str) -> None:
            with self.cluster.lock:
                source.lock = None
            self.destroy(clone, task)

        return self.tasks.start(source.node, "qmclone", str(source.vmid), call.user, work, undo).upid


def _copy_disks(app: ProxmoxCore, source: VM, clone: VM, full: bool, target: str | None, task: Task) -> None:
    node = app.cluster.nodes[source.node]
    for key, value in list(clone.config.items()):
        if not disks.DISK_KEY.fullmatch(key) or not disks.volumes_of({key: value}):
            continue
        old = disks.volumes_of({key: value})[0]
        storage_name = target or old.split(":", 1)[0]
        storage = node.storages[storage_name]
        original = node.storages[old.split(":", 1)[0]].volumes[old]
        suffix = "cloudinit" if old.endswith("-cloudinit") else None
        index = 0
        while f"{storage_name}:vm-{clone.vmid}-disk-{index}" in storage.volumes:
            index += 1
        name = f"vm-{clone.vmid}-{suffix}" if suffix else f"vm-{clone.vmid}-disk-{index}"
        volid = f"{storage_name}:{old.split(':', 1)[1]}/{name}" if not full and not suffix else f"{storage_name}:{name}"
        size = original.size if (full or suffix) else 0
        if size > storage.avail:
            raise TaskError(f"storage '{storage_name}' has insufficient free space for {format_size(original.size)}")
        storage.volumes[volid] = Volume(volid, "images", original.format, size, now(), clone.vmid, original.image)
        clone.config[key] = value.replace(old, volid, 1)
        task.log.append(f"{'full' if full else 'linked'} clone of {key} ({old}) to {volid}")
