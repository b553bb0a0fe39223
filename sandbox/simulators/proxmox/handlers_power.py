"""Handlers: VM status, start/stop/shutdown, and the QEMU guest agent."""

from __future__ import annotations

import time
from typing import Any

from .api import Call, PVEError, handles
from .handlers_qemu import mac_for
from .model import VM
from .tasks import Task


def _power(app: Any, call: Call, kind: str, action: Any) -> str:
    vm = app.vm(call)
    with app.cluster.lock:
        app.check_unlocked(vm, call)
        if kind == "qmstart" and vm.status == "running":
            raise PVEError(500, f"VM {vm.vmid} already running")
        if kind == "qmshutdown" and vm.status != "running":
            raise PVEError(500, f"VM {vm.vmid} not running")
    return app.tasks.start(vm.node, kind, str(vm.vmid), call.user, lambda task: action(vm, task)).upid


@handles("GET", "/nodes/{node}/qemu/{vmid}/status")
def status_index(app: Any, call: Call) -> list[dict[str, Any]]:
    app.vm(call)
    return [{"subdir": name} for name in ("current", "start", "stop", "shutdown", "reboot", "reset")]


@handles("GET", "/nodes/{node}/qemu/{vmid}/status/current")
def status_current(app: Any, call: Call) -> dict[str, Any]:
    with app.cluster.lock:
        vm = app.vm(call)
        data = app.vm_summary(vm)
        data["ha"] = {"managed": 0}
        data["qmpstatus"] = vm.status
        data["agent"] = 1 if app.agent_enabled(vm) else 0
        if vm.status == "running":
            data["running-machine"] = "pc-q35-9.2+pve1"
            data["running-qemu"] = "9.2.0"
        return data


@handles("POST", "/nodes/{node}/qemu/{vmid}/status/start")
def start(app: Any, call: Call) -> str:
    return _power(app, call, "qmstart", app.boot)


@handles("POST", "/nodes/{node}/qemu/{vmid}/status/stop")
def stop(app: Any, call: Call) -> str:
    return _power(app, call, "qmstop", app.halt)


@handles("POST", "/nodes/{node}/qemu/{vmid}/status/shutdown")
def shutdown(app: Any, call: Call) -> str:
    return _power(app, call, "qmshutdown", app.halt)


def _agent(app: Any, call: Call) -> VM:
    vm = app.vm(call)
    if vm.status != "running":
        raise PVEError(500, f"VM {vm.vmid} is not running")
    if not app.agent_enabled(vm):
        raise PVEError(500, "No QEMU guest agent configured")
    if not (vm.boot_image or {}).get("guest_agent"):
        raise PVEError(500, "QEMU guest agent is not running")
    return vm


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent/ping")
def agent_ping(app: Any, call: Call) -> dict[str, Any]:
    _agent(app, call)
    return {"result": {}}


@handles("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces")
def agent_interfaces(app: Any, call: Call) -> dict[str, Any]:
    vm = _agent(app, call)
    loopback = {
        "name": "lo",
        "hardware-address": "00:00:00:00:00:00",
        "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}],
        "statistics": {"rx-bytes": 0, "tx-bytes": 0, "rx-packets": 0, "tx-packets": 0},
    }
    net0 = vm.config.get("net0", "")
    mac = net0.split(",")[0].partition("=")[2] or mac_for(vm.vmid, "net0")
    addresses = []
    address = (vm.boot_image or {}).get("address")
    if address:
        family = "ipv6" if ":" in address else "ipv4"
        addresses.append(
            {"ip-address-type": family, "ip-address": address, "prefix": int(vm.boot_image.get("prefix", 24))}
        )
    eth0 = {"name": "eth0", "hardware-address": mac.lower(), "ip-addresses": addresses}
    return {"result": [loopback, eth0]}


@handles("POST", "/nodes/{node}/qemu/{vmid}/agent")
def agent_command(app: Any, call: Call) -> dict[str, Any]:
    """The generic agent call; ``ping`` and ``network-get-interfaces`` are modelled, other commands are 501."""
    command = call.get("command")
    if command == "ping":
        return agent_ping(app, call)
    if command == "network-get-interfaces":
        return agent_interfaces(app, call)
    _agent(app, call)
    raise PVEError(501, f"guest agent command '{command}' is not implemented by the simulator")


def _restart(app: Any, vm: VM, task: Task) -> None:
    """reboot/reset: the VM keeps running; the Talos node reboots into the stage it was in."""
    with app.cluster.lock:
        vm.started = time.time()
        app.cluster.save()
    task.log.append(f"VM {vm.vmid} restarted")


@handles("POST", "/nodes/{node}/qemu/{vmid}/status/reboot")
def reboot(app: Any, call: Call) -> str:
    if app.vm(call).status != "running":
        raise PVEError(500, f"VM {call.get('vmid')} not running")
    return _power(app, call, "qmreboot", lambda vm, task: _restart(app, vm, task))


@handles("POST", "/nodes/{node}/qemu/{vmid}/status/reset")
def reset(app: Any, call: Call) -> str:
    if app.vm(call).status != "running":
        raise PVEError(500, f"VM {call.get('vmid')} not running")
    return _power(app, call, "qmreset", lambda vm, task: _restart(app, vm, task))
