"""Handlers: QEMU VMs (list, create, config, resize, destroy)."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from ...httpbase import operation
from . import disks
from .api import Call, PVEError
from .core import ProxmoxCore
from .model import VM, format_size, parse_size
from .tasks import Task, TaskError
from .validate import property_schema

# create/config parameters that are options of the call, not lines of the VM config
NOT_CONFIG = frozenset(
    "node vmid start storage archive force unique pool bwlimit live-restore import-working-storage ha-managed "
    "delete digest revert skiplock background_delay".split()
)


NET_OPTIONS = frozenset("bridge firewall link_down mtu queues rate tag trunks".split())


def _config_schema(app: ProxmoxCore) -> dict[str, Any]:
    method = app.schema.method("/nodes/{node}/qemu/{vmid}/config", "GET")
    assert method is not None, "pve-apidata.json documents GET /nodes/{node}/qemu/{vmid}/config"
    return dict(method.returns.get("properties") or {})


def mac_for(vmid: int, key: str) -> str:
    digest = hashlib.sha256(f"{vmid}/{key}".encode()).digest()
    return "BC:24:11:" + ":".join(f"{byte:02X}" for byte in digest[:3])


def normalize_net(vmid: int, key: str, value: str) -> str:
    """``virtio,bridge=vmbr0`` -> ``virtio=BC:24:11:..,bridge=vmbr0`` (PVE generates the MAC address)."""
    items = [item for item in value.split(",") if item]
    model, mac, options = "", "", {}
    for position, item in enumerate(items):
        name, separator, text = item.partition("=")
        if position == 0 and not separator:
            model = name
        elif name == "model":
            model = text
        elif name == "macaddr":
            mac = text
        elif name in NET_OPTIONS:
            options[name] = text
        else:
            model, mac = name, text  # keyAlias form: virtio=<mac>
    mac = mac or mac_for(vmid, key)
    return ",".join([f"{model}={mac}", *(f"{name}={text}" for name, text in sorted(options.items()))])


def config_lines(app: ProxmoxCore, vmid: int, params: dict[str, Any]) -> dict[str, str]:
    """The config lines a create/config call sets (typed values back to PVE's stored text)."""
    schema = _config_schema(app)
    lines: dict[str, str] = {}
    for key, value in params.items():
        if key in NOT_CONFIG or property_schema(schema, key) is None:
            continue
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if re.fullmatch(r"net\d+", key):
            text = normalize_net(vmid, key, text)
        lines[key] = text
    return lines


def typed_config(app: ProxmoxCore, vm: VM) -> dict[str, Any]:
    """A stored config as the API returns it: integers and 0/1 booleans where the schema says so."""
    schema = _config_schema(app)
    result: dict[str, Any] = {}
    for key, text in vm.config.items():
        kind = (property_schema(schema, key) or {}).get("type")
        if kind == "integer" or kind == "boolean":
            result[key] = int(text) if re.fullmatch(r"-?\d+", text) else text
        elif kind == "number":
            result[key] = float(text)
        else:
            result[key] = text
    if vm.lock:
        result["lock"] = vm.lock
    result["digest"] = vm.digest()
    return result


def _apply_disks(app: ProxmoxCore, vm: VM, plans: list[disks.DiskPlan], task: Task | None) -> None:
    node = app.cluster.nodes[vm.node]
    with app.cluster.lock:
        for plan in plans:
            try:
                line, volume = plan.apply(app.cluster, node, vm.vmid)
            except PVEError as error:
                raise TaskError(error.message) from None
            vm.config[plan.key] = line
            if task is not None and volume is not None:
                verb = "imported from " + plan.source.volid if plan.source else "allocated"
                task.log.append(f"{plan.key}: {volume.volid} ({format_size(volume.size)}) {verb}")
        app.cluster.save()


def _plans(app: ProxmoxCore, call: Call, vmid: int, keys: list[str]) -> list[disks.DiskPlan]:
    node = app.cluster.nodes[call.get("node")]
    return [disks.plan(app.cluster, node, key, str(call.get(key)), app.import_disk_size) for key in keys]


class QemuHandlers(ProxmoxCore):
    """VMs: list, create, config, resize, destroy."""

    @operation("GET", "/nodes/{node}/qemu")
    def vm_list(self, call: Call) -> list[dict[str, Any]]:
        with self.cluster.lock:
            vms = sorted(self.cluster.nodes[call.get("node")].vms.values(), key=lambda vm: vm.vmid)
            return [self.vm_summary(vm) for vm in vms]

    @operation("POST", "/nodes/{node}/qemu")
    def vm_create(self, call: Call) -> str:
        vmid = int(call.get("vmid"))
        node_name = call.get("node")
        with self.cluster.lock:
            existing = self.cluster.vm_anywhere(vmid)
            if existing is not None:
                raise PVEError(500, f"unable to create VM {vmid} - VM {vmid} already exists on node '{existing.node}'")
            lines = config_lines(self, vmid, call.params)
            disk_keys = [key for key in lines if disks.DISK_KEY.fullmatch(key)]
            plans = _plans(self, call, vmid, disk_keys)
            for key in disk_keys:
                del lines[key]
            lines.setdefault("smbios1", f"uuid={uuid.uuid5(uuid.NAMESPACE_OID, f'pve/{vmid}')}")
            lines.setdefault("vmgenid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"vmgenid/{vmid}")))
            lines.setdefault("meta", f"creation-qemu=9.2.0,ctime={int(self.clock())}")
            vm = VM(vmid, node_name, lines, lock="create")
            self.cluster.nodes[node_name].vms[vmid] = vm
            self.cluster.save()

        def work(task: Task) -> None:
            _apply_disks(self, vm, plans, task)
            with self.cluster.lock:
                vm.lock = None
                self.cluster.save()
            if call.get("start"):
                self.boot(vm, task)

        def undo(task: Task, error: str) -> None:
            self.destroy(vm, task)

        return self.tasks.start(node_name, "qmcreate", str(vmid), call.user, work, undo).upid

    @operation("GET", "/nodes/{node}/qemu/{vmid}")
    def vm_index(self, call: Call) -> list[dict[str, str]]:
        self.vm(call)
        return [{"subdir": name} for name in ("config", "status", "agent", "resize")]

    @operation("GET", "/nodes/{node}/qemu/{vmid}/config")
    def vm_config(self, call: Call) -> dict[str, Any]:
        with self.cluster.lock:
            return typed_config(self, self.vm(call))

    @operation("POST", "/nodes/{node}/qemu/{vmid}/config")
    def vm_config_async(self, call: Call) -> str:
        vm = self.vm(call)
        self.check_unlocked(vm, call)

        def work(task: Task) -> None:
            try:
                _update(self, call, task)
            except PVEError as error:  # found inside the worker, as PVE does once it holds the config lock
                raise TaskError(error.message) from None

        return self.tasks.start(call.get("node"), "qmconfig", str(vm.vmid), call.user, work).upid

    @operation("PUT", "/nodes/{node}/qemu/{vmid}/config")
    def vm_config_sync(self, call: Call) -> None:
        try:
            _update(self, call, None)
        except TaskError as error:
            raise PVEError(500, str(error)) from None
        return None

    @operation("PUT", "/nodes/{node}/qemu/{vmid}/resize")
    def vm_resize(self, call: Call) -> str:
        vm = self.vm(call)
        key, wanted = call.get("disk"), str(call.get("size"))
        with self.cluster.lock:
            self.check_unlocked(vm, call)
            if key not in vm.config or not disks.volumes_of({key: vm.config[key]}):
                raise PVEError(500, f"disk '{key}' does not exist")
            current = disks.disk_size(vm.config, key)
            new_size = current + parse_size(wanted[1:]) if wanted.startswith("+") else parse_size(wanted)
            if new_size < current:
                raise PVEError(500, "shrinking disks is not supported")
            volid = disks.volumes_of({key: vm.config[key]})[0]
            storage = self.cluster.nodes[vm.node].storages[volid.split(":", 1)[0]]
            if new_size - current > storage.avail:
                raise PVEError(500, f"unable to resize '{volid}': storage '{storage.name}' is full")

        def work(task: Task) -> None:
            with self.cluster.lock:
                storage.volumes[volid].size = new_size
                file, options = disks.parse_drive(vm.config[key])
                options["size"] = format_size(new_size)
                vm.config[key] = ",".join([file, *(f"{name}={value}" for name, value in sorted(options.items()))])
                self.cluster.save()
            task.log.append(f"resized {volid} from {format_size(current)} to {format_size(new_size)}")

        return self.tasks.start(vm.node, "resize", str(vm.vmid), call.user, work).upid

    @operation("DELETE", "/nodes/{node}/qemu/{vmid}")
    def vm_destroy(self, call: Call) -> str:
        vm = self.vm(call)
        with self.cluster.lock:
            self.check_unlocked(vm, call)
            if vm.status == "running":
                raise PVEError(500, f"VM {vm.vmid} is running - destroy failed")
            for storage in self.cluster.nodes[vm.node].storages.values():
                for volid in storage.volumes:
                    if f":base-{vm.vmid}-" in volid and "/" in volid.split(":", 1)[1]:
                        base = volid.split("/")[0]
                        raise PVEError(500, f"base volume '{base}' is still in use by linked cloned VM")
            vm.lock = "destroyed"
        return self.tasks.start(vm.node, "qmdestroy", str(vm.vmid), call.user, lambda task: self.destroy(vm, task)).upid


def _update(app: ProxmoxCore, call: Call, task: Task | None) -> None:
    vm = app.vm(call)
    with app.cluster.lock:
        app.check_unlocked(vm, call)
        if call.get("digest") and call.get("digest") != vm.digest():
            raise PVEError(500, "detected modified configuration - file changed by other user? Try again.")
        lines = config_lines(app, vm.vmid, call.params)
        deletions = [key for key in re.split(r"[,;\s]+", call.get("delete") or "") if key]
        for key in deletions:
            if key in lines:
                raise PVEError(400, "Parameter verification failed.", {key: "conflicts with delete"})
        plans = []
        for key in [key for key in lines if disks.DISK_KEY.fullmatch(key)]:
            current_file = disks.parse_drive(vm.config.get(key, ""))[0]
            file, options = disks.parse_drive(lines[key])
            if current_file and file == current_file and "import-from" not in options:
                options["size"] = disks.parse_drive(vm.config[key])[1].get("size", options.get("size", ""))
                lines[key] = ",".join([file, *(f"{name}={value}" for name, value in sorted(options.items()) if value)])
                continue
            if current_file:
                raise PVEError(500, f"{key}: replacing a disk is not modelled by the simulator; delete it first")
            plans.append(disks.plan(app.cluster, app.cluster.nodes[vm.node], key, lines.pop(key), app.import_disk_size))
        for key in deletions:
            value = vm.config.pop(key, None)
            if value and disks.DISK_KEY.fullmatch(key) and disks.volumes_of({key: value}):
                index = 0
                while f"unused{index}" in vm.config:
                    index += 1
                vm.config[f"unused{index}"] = disks.volumes_of({key: value})[0]
        vm.config.update(lines)
        app.cluster.save()
    if plans:
        _apply_disks(app, vm, plans, task)
