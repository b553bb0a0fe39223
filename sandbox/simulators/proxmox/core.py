"""The Proxmox VE simulator's core: HTTPS, state, tasks, the Talos nodes its VMs boot, its own controls, and the
helpers its handlers (the ``handlers_*`` mixins, composed in app.py) share."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import threading
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from ...faults import Fault
from ...httpbase import Request, Response, SimulatorApp, route
from ..talos.nodes import TalosNodes
from . import api, controls, disks, talos_boot, tls
from . import schema as pve_schema
from .model import VM, Cluster
from .tasks import Task, Tasks

KEEP_ON_RESET = (tls.CA_FILE, tls.CERT_FILE, tls.KEY_FILE, "api-token")


class ProxmoxCore(SimulatorApp):
    name = "proxmox"
    server_header = "pve-api-daemon/3.0 (Proxmox VE simulator, talosforge sandbox)"

    def __init__(self, state_dir: Any, options: dict[str, Any]) -> None:
        super().__init__(state_dir, options)
        self.token: str = options["token"]
        self.validation: bool = bool(options["validate"])
        self.import_disk_size: int | None = options["import_disk_size"]
        self.default_latency: float = float(options["task_seconds"])
        self.factory_dir = self.state_dir / "image-factory"
        self.schema = pve_schema.load()
        self.cluster = Cluster(self.data_dir, list(options["nodes"]), int(options["storage_size"]))
        self.tasks = Tasks(self.default_latency)
        self.talos = TalosNodes(self.state_dir)
        self.lock_faults: dict[str, int] = {}
        self.incoming: set[Path] = set()  # storage files being downloaded or uploaded
        self._lock_faults_guard = threading.Lock()
        self._started = time.monotonic()
        self._tls = options["tls"]
        ca, cert, _key = tls.ensure_certificates(self.data_dir, self.cluster.node_names)
        der = ssl.PEM_cert_to_DER_cert(
            cert.read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
        )
        digest = hashlib.sha256(der).hexdigest().upper()
        self.fingerprint = ":".join(digest[index : index + 2] for index in range(0, len(digest), 2))
        self.ca_file = ca
        token_file = self.data_dir / "api-token"
        token_file.write_text(self.token + "\n", encoding="utf-8")
        token_file.chmod(0o600)

    def tls_context(self) -> ssl.SSLContext | None:
        return tls.server_context(self.data_dir, self.cluster.node_names) if self._tls else None

    # --- serving ----------------------------------------------------------------------------------------------
    # every method the server reads reaches the pipeline: PVE answers one it does not serve with 501 in its envelope
    @route(api.HTTP_METHODS, r"/api2/json(?:/.*)?")
    def api_json(self, request: Request) -> Response:
        return api.dispatch(self, request)

    @route(api.HTTP_METHODS, r"/api2/(?!json(?:/|$)).*")
    def other_formats(self, request: Request) -> Response:
        return api.error_response(api.PVEError(501, "the simulator serves only /api2/json"))

    def fault_response(self, fault: Fault) -> Response:
        status = fault.status or 500
        message = fault.body if fault.body is not None else HTTPStatus(status).phrase
        response = api.error_response(api.PVEError(status, message))
        response.headers.update(fault.headers)
        return response

    def control(self, request: Request) -> Response:
        handled = controls.handle(self, request)
        return handled if handled is not None else super().control(request)

    def health(self) -> dict[str, Any]:
        data = super().health()
        data.update(
            ca_file=str(self.ca_file),
            nodes=self.cluster.node_names,
            task_latency=self.tasks.latency(),
            task_failures=self.tasks.failures(),
            lock_timeouts=dict(self.lock_faults),
        )
        return data

    def reset_state(self) -> None:
        self.tasks.wait_all(timeout=10)
        for path in self.data_dir.iterdir():
            if path.name in KEEP_ON_RESET:
                continue
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        with self.cluster.lock:
            for vm in self.cluster.all_vms():
                if vm.talos_address:
                    self.talos.remove(vm.talos_address)
            self.cluster.load()
        self.tasks.clear(self.default_latency)
        with self._lock_faults_guard:
            self.lock_faults.clear()

    # --- helpers for the handlers -----------------------------------------------------------------------------
    def clock(self) -> float:
        return time.time()

    def uptime(self) -> int:
        return int(time.monotonic() - self._started) + 3600

    def require_node(self, name: str) -> None:
        if name not in self.cluster.nodes:
            raise api.PVEError(
                500,
                f"hostname lookup '{name}' failed - failed to get address info for: {name}: Name or service not known",
            )

    def vm(self, call: api.Call) -> VM:
        node = call.get("node")
        vm = self.cluster.nodes[node].vms.get(int(call.get("vmid")))
        if vm is None:
            raise api.PVEError(
                500, f"Configuration file 'nodes/{node}/qemu-server/{call.get('vmid')}.conf' does not exist"
            )
        return vm

    def take_lock_fault(self, vmid: int) -> bool:
        with self._lock_faults_guard:
            for key in (str(vmid), "*"):
                if self.lock_faults.get(key, 0) > 0:
                    self.lock_faults[key] -= 1
                    if self.lock_faults[key] <= 0:
                        del self.lock_faults[key]
                    return True
        return False

    def check_unlocked(self, vm: VM, call: api.Call) -> None:
        if self.take_lock_fault(vm.vmid):
            raise api.PVEError(500, f"can't lock file '/var/lock/qemu-server/lock-{vm.vmid}.conf' - got timeout")
        if vm.lock and not call.get("skiplock"):
            raise api.PVEError(500, f"VM is locked ({vm.lock})")

    def agent_enabled(self, vm: VM) -> bool:
        first = vm.config.get("agent", "0").split(",")[0].removeprefix("enabled=").lower()
        return first in ("1", "true", "yes", "on")

    def memory_bytes(self, vm: VM) -> int:
        text = vm.config.get("memory", "512").removeprefix("current=").split(",")[0]
        return int(text) << 20 if text.isdigit() else 512 << 20

    def node_memory_used(self, node: str) -> int:
        with self.cluster.lock:
            running = [vm for vm in self.cluster.nodes[node].vms.values() if vm.status == "running"]
            return (2 << 30) + sum(self.memory_bytes(vm) for vm in running)

    def vm_summary(self, vm: VM) -> dict[str, Any]:
        """The fields of a VM in /nodes/{node}/qemu, /cluster/resources and status/current."""
        boot_key = next((key for key in ("scsi0", "virtio0", "sata0", "ide0") if key in vm.config), None)
        cpus = int(vm.config.get("cores", "1")) * int(vm.config.get("sockets", "1"))
        running = vm.status == "running"
        data: dict[str, Any] = {
            "vmid": vm.vmid,
            "name": vm.config.get("name", f"VM{vm.vmid}"),
            "status": vm.status,
            "cpus": cpus,
            "maxmem": self.memory_bytes(vm),
            "mem": self.memory_bytes(vm) // 4 if running else 0,
            "maxdisk": disks.disk_size(vm.config, boot_key) if boot_key else 0,
            "uptime": int(time.time() - vm.started) if running and vm.started else 0,
            "cpu": 0.01 if running else 0,
            "template": 1 if vm.config.get("template") == "1" else 0,
            "diskread": 0,
            "diskwrite": 0,
            "netin": 0,
            "netout": 0,
        }
        if vm.config.get("tags"):
            data["tags"] = vm.config["tags"]
        if vm.lock:
            data["lock"] = vm.lock
        if running:
            data["pid"] = 100000 + vm.vmid
        return data

    # --- what tasks do ----------------------------------------------------------------------------------------
    def _boot_image(self, vm: VM) -> dict[str, str] | None:
        order = vm.config.get("boot", "")
        keys = order.removeprefix("order=").split(";") if order.startswith("order=") else []
        keys += sorted(key for key in vm.config if disks.DISK_KEY.fullmatch(key))
        node = self.cluster.nodes[vm.node]
        for key in keys:
            if key not in vm.config:
                continue
            file = disks.parse_drive(vm.config[key])[0]
            storage = node.storages.get(file.split(":", 1)[0])
            volume = storage.volumes.get(file) if storage else None
            if volume is not None and volume.image:
                return volume.image
        return None

    def boot(self, vm: VM, task: Task) -> None:
        with self.cluster.lock:
            plan = talos_boot.boot_plan(self._boot_image(vm), vm.config, self.factory_dir)
            vm.status, vm.started = "running", time.time()
            vm.boot_image = {key: str(value) for key, value in plan.items() if value not in (None, False)}
            if plan.get("guest_agent"):
                vm.boot_image["guest_agent"] = "1"
            task.log.append(str(plan["note"]))
            if plan.get("address"):
                self.talos.add(
                    plan["address"], version=plan["version"], schematic=plan["schematic"], platform=plan["platform"]
                )
                vm.talos_address = plan["address"]
            self.cluster.save()

    def halt(self, vm: VM, task: Task) -> None:
        with self.cluster.lock:
            if vm.talos_address:
                self.talos.remove(vm.talos_address)
                task.log.append(f"Talos node {vm.talos_address} powered off (removed from the sandbox)")
            vm.status, vm.started, vm.talos_address, vm.boot_image = "stopped", None, None, None
            self.cluster.save()

    def destroy(self, vm: VM, task: Task) -> None:
        with self.cluster.lock:
            if vm.talos_address:
                self.talos.remove(vm.talos_address)
            node = self.cluster.nodes[vm.node]
            for storage in node.storages.values():
                for volid in [volid for volid, volume in storage.volumes.items() if volume.vmid == vm.vmid]:
                    del storage.volumes[volid]
                    task.log.append(f"Removed volume '{volid}'")
            node.vms.pop(vm.vmid, None)
            self.cluster.save()
