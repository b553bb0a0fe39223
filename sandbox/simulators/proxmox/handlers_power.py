"""Handlers: VM status, start/stop/shutdown, and the QEMU guest agent."""

from __future__ import annotations

import time
from typing import Any

from ...httpbase import operation
from .api import Call, PVEError
from .core import ProxmoxCore
from .handlers_qemu import mac_for
from .model import VM
from .tasks import Task


def _power(app: ProxmoxCore, call: Call, kind: str, action: Any) -> str:
    vm = app.vm(call)
    with app.cluster.lock:
        app.check_unlocked(vm, call)
        if kind == "qmstart" and vm.status == "running":
            raise PVEError(500, f"VM {vm.vmid} already running")
        if kind == "qmshutdown" and vm.status != "running":
            raise PVEError(500, f"VM {vm.vmid} not running")
    return app.tasks.start(vm.node, kind, str(vm.vmid), call.user, lambda task: action(vm, task)).upid


class PowerHandlers(ProxmoxCore):
    """A VM's status, power actions and its QEMU guest agent."""

    @operation("GET", "/nodes/{node}/qemu/{vmid}/status")
    def vm_status_index(self, call: Call) -> list[dict[str, Any]]:
        self.vm(call)
        return [{"subdir": name} for name in ("current", "start", "stop", "shutdown", "reboot", "reset")]

    @operation("GET", "/nodes/{node}/qemu/{vmid}/status/current")
    def vm_status_current(self, call: Call) -> dict[str, Any]:
        with self.cluster.lock:
            vm = self.vm(call)
            data = self.vm_summary(vm)
            data["ha"] = {"managed": 0}
            data["qmpstatus"] = vm.status
            data["agent"] = 1 if self.agent_enabled(vm) else 0
            if vm.status == "running":
                data["running-machine"] = "pc-q35-9.2+pve1"
                data["running-qemu"] = "9.2.0"
            return data

    @operation("POST", "/nodes/{node}/qemu/{vmid}/status/start")
    def vm_start(self, call: Call) -> str:
        return _power(self, call, "qmstart", self.boot)

    @operation("POST", "/nodes/{node}/qemu/{vmid}/status/stop")
    def vm_stop(self, call: Call) -> str:
        return _power(self, call, "qmstop", self.halt)

    @operation("POST", "/nodes/{node}/qemu/{vmid}/status/shutdown")
    def vm_shutdown(self, call: Call) -> str:
        return _power(self, call, "qmshutdown", self.halt)

    @operation("POST", "/nodes/{node}/qemu/{vmid}/agent/ping")
    def agent_ping(self, call: Call) -> dict[str, Any]:
        _agent(self, call)
        return {"result": {}}

    @operation("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces")
    def agent_interfaces(self, call: Call) -> dict[str, Any]:
        vm = _agent(self, call)
        loopback = {
            "name": "lo",
            "hardware-address": "00:00:00:00:00:00",
            "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}],
            "statistics": {"rx-bytes": 0, "tx-bytes": 0, "rx-packets": 0, "tx-packets": 0},
        }
        net0 = vm.config.get("net0", "")
        mac = net0.split(",")[0].partition("=")[2] or mac_for(vm.vmid, "net0")
        addresses = []
        booted = vm.boot_image or {}
        address = booted.get("address")
        if address:
            family = "ipv6" if ":" in address else "ipv4"
            addresses.append(
                {"ip-address-type": family, "ip-address": address, "prefix": int(booted.get("prefix", 24))}
            )
        eth0 = {"name": "eth0", "hardware-address": mac.lower(), "ip-addresses": addresses}
        return {"result": [loopback, eth0]}

    @operation("POST", "/nodes/{node}/qemu/{vmid}/agent")
    def agent_command(self, call: Call) -> dict[str, Any]:
        """The generic agent call; ``ping`` and ``network-get-interfaces`` are modelled, other commands are 501."""
        command = call.get("command")
        if command == "ping":
            return self.agent_ping(call)
        if command == "network-get-interfaces":
            return self.agent_interfaces(call)
        _agent(self, call)
        raise PVEError(501, f"guest agent command '{command}' is not implemented by the simulator")

    @operation("POST", "/nodes/{node}/qemu/{vmid}/status/reboot")
    def vm_reboot(self, call: Call) -> str:
        if self.vm(call).status != "running":
            raise PVEError(500, f"VM {call.get('vmid')} not running")
        return _power(self, call, "qmreboot", lambda vm, task: _restart(self, vm, task))

    @operation("POST", "/nodes/{node}/qemu/{vmid}/status/reset")
    def vm_reset(self, call: Call) -> str:
        if self.vm(call).status != "running":
            raise PVEError(500, f"VM {call.get('vmid')} not running")
        return _power(self, call, "qmreset", lambda vm, task: _restart(self, vm, task))


def _agent(app: ProxmoxCore, call: Call) -> VM:
    vm = app.vm(call)
    if vm.status != "running":
        raise PVEError(500, f"VM {vm.vmid} is not running")
    if not app.agent_enabled(vm):
        raise PVEError(500, "No QEMU guest agent configured")
    if not (vm.boot_image or {}).get("guest_agent"):
        raise PVEError(500, "QEMU guest agent is not running")
    return vm


def _restart(app: ProxmoxCore, vm: VM, task: Task) -> None:
    """reboot/reset: the VM keeps running; the Talos node reboots into the stage it was in."""
    with app.cluster.lock:
        vm.started = time.time()
        app.cluster.save()
    task.log.append(f"VM {vm.vmid} restarted")
