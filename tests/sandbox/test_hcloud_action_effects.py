"""Every change the Hetzner simulator makes through an action takes effect when the action ends in success: a
failed action (injected with /_sandbox/action-failures) leaves the resource as it was, and while the action runs
the old state is read. One case per served action of servers, primary IPs, floating IPs, volumes and load
balancers that changes what a resource shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hcloud_testlib import api, control, read, succeeded

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


def _finish(sim: Any, action: dict[str, Any]) -> dict[str, Any]:
    for _attempt in range(200):
        found = succeeded(api(sim, "GET", f"/v1/actions/{action['id']}"))["action"]
        if found["status"] != "running":
            return found
        time.sleep(0.02)
    raise AssertionError(f"action {action['id']} still running")


def _server(sim: Any, name: str = "cp-1", off: bool = True, **extra: Any) -> dict[str, Any]:
    server = succeeded(api(sim, "POST", "/v1/servers", {**SERVER, "name": name, **extra}))["server"]
    if off:
        _finish(sim, succeeded(api(sim, "POST", f"/v1/servers/{server['id']}/actions/poweroff"))["action"])
    return read(sim, "server", server["id"])


@dataclass
class Case:
    command: str
    setup: Callable[[Any], tuple[str, dict[str, Any] | None, Callable[[], Any]]]  # -> path, body, read


def _change_type(sim: Any) -> Any:
    server = _server(sim)
    path = f"/v1/servers/{server['id']}/actions/change_type"
    return path, {"server_type": "cx32", "upgrade_disk": True}, lambda: read(sim, "server", server["id"])["server_type"]


def _attach_iso(sim: Any) -> Any:
    server = _server(sim, off=False)
    iso = succeeded(api(sim, "GET", "/v1/isos?architecture=x86"))["isos"][0]
    path = f"/v1/servers/{server['id']}/actions/attach_iso"
    return path, {"iso": iso["name"]}, lambda: read(sim, "server", server["id"])["iso"]


def _detach_iso(sim: Any) -> Any:
    path, body, read = _attach_iso(sim)
    _finish(sim, succeeded(api(sim, "POST", path, body))["action"])
    return path.replace("attach_iso", "detach_iso"), None, read


def _server_ptr(sim: Any) -> Any:
    server = _server(sim, off=False)
    body = {"ip": server["public_net"]["ipv4"]["ip"], "dns_ptr": "cp-1.example.com"}
    path = f"/v1/servers/{server['id']}/actions/change_dns_ptr"
    return path, body, lambda: read(sim, "server", server["id"])["public_net"]["ipv4"]["dns_ptr"]


def _pip(sim: Any, **extra: Any) -> dict[str, Any]:
    body = {"name": "pip", "type": "ipv4", "location": "fsn1", **extra}
    return succeeded(api(sim, "POST", "/v1/primary_ips", body))["primary_ip"]


def _assign(sim: Any) -> Any:
    pip = _pip(sim)
    server = _server(sim, public_net={"enable_ipv4": False, "enable_ipv6": True})
    path = f"/v1/primary_ips/{pip['id']}/actions/assign"
    body = {"assignee_type": "server", "assignee_id": server["id"]}
    return path, body, lambda: (read(sim, "primary_ip", pip["id"])["assignee_id"], _server_ipv4(sim, server))


def _server_ipv4(sim: Any, server: dict[str, Any]) -> Any:
    return read(sim, "server", server["id"])["public_net"]["ipv4"]


def _unassign(sim: Any) -> Any:
    server = _server(sim)
    pip = server["public_net"]["ipv4"]
    path = f"/v1/primary_ips/{pip['id']}/actions/unassign"
    return path, None, lambda: (read(sim, "primary_ip", pip["id"])["assignee_id"], _server_ipv4(sim, server))


def _pip_ptr(sim: Any) -> Any:
    pip = _pip(sim)
    path = f"/v1/primary_ips/{pip['id']}/actions/change_dns_ptr"
    return path, {"ip": pip["ip"], "dns_ptr": "p.example.com"}, lambda: read(sim, "primary_ip", pip["id"])["dns_ptr"]


def _fip_ptr(sim: Any) -> Any:
    fip = succeeded(api(sim, "POST", "/v1/floating_ips", {"type": "ipv4", "home_location": "fsn1"}))["floating_ip"]
    path = f"/v1/floating_ips/{fip['id']}/actions/change_dns_ptr"
    body = {"ip": fip["ip"], "dns_ptr": "f.example.com"}
    return path, body, lambda: read(sim, "floating_ip", fip["id"])["dns_ptr"]


def _volume(sim: Any) -> dict[str, Any]:
    created = succeeded(api(sim, "POST", "/v1/volumes", {"name": "v", "size": 10, "location": "fsn1"}))
    _finish(sim, created["action"])
    return created["volume"]


def _attach(sim: Any) -> Any:
    volume, server = _volume(sim), _server(sim, off=False)
    path = f"/v1/volumes/{volume['id']}/actions/attach"
    return (
        path,
        {"server": server["id"]},
        lambda: (
            read(sim, "volume", volume["id"])["server"],
            read(sim, "server", server["id"])["volumes"],
        ),
    )


def _detach(sim: Any) -> Any:
    path, body, read = _attach(sim)
    _finish(sim, succeeded(api(sim, "POST", path, body))["action"])
    return path.replace("attach", "detach"), None, read


def _resize(sim: Any) -> Any:
    volume = _volume(sim)
    path = f"/v1/volumes/{volume['id']}/actions/resize"
    return path, {"size": 40}, lambda: read(sim, "volume", volume["id"])["size"]


def _lb(sim: Any, **extra: Any) -> dict[str, Any]:
    body = {"name": "api", "load_balancer_type": "lb11", "location": "fsn1", **extra}
    return succeeded(api(sim, "POST", "/v1/load_balancers", body))["load_balancer"]


def _lb_type(sim: Any) -> Any:
    lb = _lb(sim)
    path = f"/v1/load_balancers/{lb['id']}/actions/change_type"
    return path, {"load_balancer_type": "lb21"}, lambda: read(sim, "load_balancer", lb["id"])["load_balancer_type"]


def _lb_enable(sim: Any) -> Any:
    lb = _lb(sim, public_interface=False)
    path = f"/v1/load_balancers/{lb['id']}/actions/enable_public_interface"
    return path, None, lambda: read(sim, "load_balancer", lb["id"])["public_net"]


def _lb_disable(sim: Any) -> Any:
    network = succeeded(api(sim, "POST", "/v1/networks", {"name": "n", "ip_range": "10.0.0.0/16"}))["network"]
    subnet = {"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.1.0/24"}
    succeeded(api(sim, "POST", f"/v1/networks/{network['id']}/actions/add_subnet", subnet))
    lb = _lb(sim, network=network["id"])
    path = f"/v1/load_balancers/{lb['id']}/actions/disable_public_interface"
    return path, None, lambda: read(sim, "load_balancer", lb["id"])["public_net"]["enabled"]


def _lb_ptr(sim: Any) -> Any:
    lb = _lb(sim)
    path = f"/v1/load_balancers/{lb['id']}/actions/change_dns_ptr"
    body = {"ip": lb["public_net"]["ipv4"]["ip"], "dns_ptr": "lb.example.com"}
    return path, body, lambda: read(sim, "load_balancer", lb["id"])["public_net"]["ipv4"]


CASES = {
    "change_type": Case("change_server_type", _change_type),
    "attach_iso": Case("attach_iso", _attach_iso),
    "detach_iso": Case("detach_iso", _detach_iso),
    "server_change_dns_ptr": Case("change_dns_ptr", _server_ptr),
    "primary_ip_assign": Case("assign_primary_ip", _assign),
    "primary_ip_unassign": Case("unassign_primary_ip", _unassign),
    "primary_ip_change_dns_ptr": Case("change_dns_ptr", _pip_ptr),
    "floating_ip_change_dns_ptr": Case("change_dns_ptr", _fip_ptr),
    "volume_attach": Case("attach_volume", _attach),
    "volume_detach": Case("detach_volume", _detach),
    "volume_resize": Case("resize_volume", _resize),
    "load_balancer_change_type": Case("change_load_balancer_type", _lb_type),
    "load_balancer_enable_public_interface": Case("enable_public_interface", _lb_enable),
    "load_balancer_disable_public_interface": Case("disable_public_interface", _lb_disable),
    "load_balancer_change_dns_ptr": Case("change_dns_ptr", _lb_ptr),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_change_waits_for_its_action_and_a_failed_action_changes_nothing(hcloud_sim, name: str) -> None:
    case = CASES[name]
    path, body, read = case.setup(hcloud_sim)
    before = read()
    failure = {"command": case.command, "code": "action_failed", "message": "injected"}
    assert control(hcloud_sim, "POST", "action-failures", failure)[0] == 201
    failed = _finish(hcloud_sim, succeeded(api(hcloud_sim, "POST", path, body))["action"])
    assert (failed["command"], failed["status"]) == (case.command, "error")
    assert read() == before
    control(hcloud_sim, "POST", "action-latency", {"ms": 400, "command": case.command})
    action = succeeded(api(hcloud_sim, "POST", path, body))["action"]
    assert read() == before  # still running
    assert _finish(hcloud_sim, action)["status"] == "success"
    assert read() != before
