"""Server type changes, ISOs, PTR records and load-balancer type and public-interface changes in the Hetzner
simulator, against cloud.spec.json and through the official hcloud library."""

from __future__ import annotations

import time
from typing import Any

from hcloud.isos import Iso
from hcloud.load_balancer_types import LoadBalancerType
from hcloud.locations import Location
from hcloud.server_types import ServerType
from hcloud_testlib import api, control, hcloud, read, refused, succeeded

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
LB = {"name": "api", "load_balancer_type": "lb11", "location": "fsn1"}


def _server(sim: Any, name: str = "cp-1", off: bool = False, **extra: Any) -> dict[str, Any]:
    server = succeeded(api(sim, "POST", "/v1/servers", {**SERVER, "name": name, **extra}))["server"]
    if off:
        succeeded(api(sim, "POST", f"/v1/servers/{server['id']}/actions/poweroff"))
    return succeeded(api(sim, "GET", f"/v1/servers/{server['id']}"))["server"]


def _wait(sim: Any, action: dict[str, Any]) -> dict[str, Any]:
    for _attempt in range(200):
        found = succeeded(api(sim, "GET", f"/v1/actions/{action['id']}"))["action"]
        if found["status"] != "running":
            return found
        time.sleep(0.02)
    raise AssertionError(f"action {action['id']} still running")


# --- change_type -------------------------------------------------------------------------------------------------
def test_change_type_needs_a_stopped_server_and_happens_when_its_action_ends(hcloud_sim) -> None:
    running = _server(hcloud_sim)
    path = f"/v1/servers/{running['id']}/actions/change_type"
    assert refused(api(hcloud_sim, "POST", path, {"server_type": "cx32", "upgrade_disk": True}))[:2] == (
        422,
        "server_not_stopped",
    )
    succeeded(api(hcloud_sim, "POST", f"/v1/servers/{running['id']}/actions/poweroff"))
    control(hcloud_sim, "POST", "action-latency", {"ms": 300, "command": "change_server_type"})
    action = succeeded(api(hcloud_sim, "POST", path, {"server_type": "cx32", "upgrade_disk": False}))["action"]
    assert action["command"] == "change_server_type"
    assert read(hcloud_sim, "server", running["id"])["server_type"]["name"] == "cx22"  # not yet
    assert _wait(hcloud_sim, action)["status"] == "success"
    server = read(hcloud_sim, "server", running["id"])
    assert (server["server_type"]["name"], server["primary_disk_size"]) == ("cx32", 40)
    assert server["status"] == "running"  # "copies the content of its disk, and starts it again"


def test_change_type_refuses_other_architectures_unknown_types_and_smaller_disks(hcloud_sim) -> None:
    server = _server(hcloud_sim, off=True)
    path = f"/v1/servers/{server['id']}/actions/change_type"
    arm = api(hcloud_sim, "POST", path, {"server_type": "cax21", "upgrade_disk": True})
    assert refused(arm)[:2] == (422, "invalid_server_type")
    unknown = api(hcloud_sim, "POST", path, {"server_type": "cx999", "upgrade_disk": True})
    assert refused(unknown) == (422, "invalid_input", ["server_type"])
    missing = api(hcloud_sim, "POST", path, {"server_type": "cx32"})
    assert refused(missing) == (422, "invalid_input", ["upgrade_disk"])
    _wait(hcloud_sim, succeeded(api(hcloud_sim, "POST", path, {"server_type": "cx32", "upgrade_disk": True}))["action"])
    _wait(hcloud_sim, succeeded(api(hcloud_sim, "POST", f"/v1/servers/{server['id']}/actions/poweroff"))["action"])
    assert read(hcloud_sim, "server", server["id"])["primary_disk_size"] == 80
    smaller = api(hcloud_sim, "POST", path, {"server_type": "cx22", "upgrade_disk": False})
    assert refused(smaller)[:2] == (422, "invalid_server_type")
    ash = _server(hcloud_sim, "ash", off=True, server_type="cpx11", location="ash")
    elsewhere = api(
        hcloud_sim,
        "POST",
        f"/v1/servers/{ash['id']}/actions/change_type",
        {
            "server_type": "cx32",
            "upgrade_disk": True,
        },
    )
    assert refused(elsewhere)[:2] == (422, "invalid_server_type")


def test_the_official_client_changes_a_server_type(client) -> None:
    made = client.servers.create(
        name="cp-1",
        server_type=ServerType(name="cx22"),
        image=hcloud.images.Image(name="debian-12"),
        location=Location(name="fsn1"),
        start_after_create=False,
    )
    made.action.wait_until_finished(max_retries=100)
    server = client.servers.get_by_id(made.server.id)
    server.change_type(ServerType(name="cx42"), upgrade_disk=True).wait_until_finished(max_retries=100)
    server = client.servers.get_by_id(server.id)
    assert (server.server_type.name, server.primary_disk_size) == ("cx42", 160)


# --- ISOs --------------------------------------------------------------------------------------------------------
def test_the_iso_catalogue_and_its_filters(hcloud_sim) -> None:
    isos = succeeded(api(hcloud_sim, "GET", "/v1/isos"))["isos"]
    assert isos and {item["type"] for item in isos} == {"public"}
    assert {item["architecture"] for item in isos} == {"x86", "arm"}  # the spec's schema admits no null
    arm = succeeded(api(hcloud_sim, "GET", "/v1/isos?architecture=arm"))["isos"]
    assert {item["architecture"] for item in arm} == {"arm"}
    wildcard = succeeded(api(hcloud_sim, "GET", "/v1/isos?architecture=arm&include_architecture_wildcard=true"))["isos"]
    assert wildcard == arm
    alone = api(hcloud_sim, "GET", "/v1/isos?include_architecture_wildcard=true")
    assert refused(alone) == (422, "invalid_input", ["include_architecture_wildcard"])
    one = isos[0]
    assert succeeded(api(hcloud_sim, "GET", f"/v1/isos/{one['id']}"))["iso"] == one
    assert succeeded(api(hcloud_sim, "GET", f"/v1/isos?name={one['name']}"))["isos"] == [one]
    assert refused(api(hcloud_sim, "GET", "/v1/isos/1"))[:2] == (404, "not_found")


def test_attach_and_detach_iso(hcloud_sim) -> None:
    server = _server(hcloud_sim)
    isos = succeeded(api(hcloud_sim, "GET", "/v1/isos?architecture=x86"))["isos"]
    path = f"/v1/servers/{server['id']}/actions"
    action = succeeded(api(hcloud_sim, "POST", path + "/attach_iso", {"iso": isos[0]["name"]}))["action"]
    assert action["command"] == "attach_iso"
    assert read(hcloud_sim, "server", server["id"])["iso"] == isos[0]
    succeeded(api(hcloud_sim, "POST", path + "/attach_iso", {"iso": str(isos[1]["id"])}))  # replaces the first
    assert read(hcloud_sim, "server", server["id"])["iso"]["id"] == isos[1]["id"]
    succeeded(api(hcloud_sim, "POST", path + "/detach_iso"))
    assert read(hcloud_sim, "server", server["id"])["iso"] is None
    assert refused(api(hcloud_sim, "POST", path + "/detach_iso"))[:2] == (422, "service_error")
    assert refused(api(hcloud_sim, "POST", path + "/attach_iso", {"iso": "nope.iso"})) == (
        422,
        "invalid_input",
        ["iso"],
    )
    arm = succeeded(api(hcloud_sim, "GET", "/v1/isos?architecture=arm"))["isos"][0]
    assert refused(api(hcloud_sim, "POST", path + "/attach_iso", {"iso": arm["name"]})) == (
        422,
        "invalid_input",
        ["iso"],
    )


def test_the_official_client_attaches_an_iso(client) -> None:
    iso = client.isos.get_all(architecture=["x86"])[0]
    assert client.isos.get_by_id(iso.id).name == iso.name
    made = client.servers.create(
        name="cp-1",
        server_type=ServerType(name="cx22"),
        image=hcloud.images.Image(name="debian-12"),
        location=Location(name="fsn1"),
    )
    made.action.wait_until_finished(max_retries=100)
    server = client.servers.get_by_id(made.server.id)
    server.attach_iso(Iso(name=iso.name)).wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.id).iso.name == iso.name
    server.detach_iso().wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.id).iso is None


# --- PTR records -------------------------------------------------------------------------------------------------
def test_server_ptr_records_show_in_public_net_and_in_its_primary_ips(hcloud_sim) -> None:
    server = _server(hcloud_sim)
    ipv4, ipv6 = server["public_net"]["ipv4"], server["public_net"]["ipv6"]
    assert ipv6["dns_ptr"] == []
    path = f"/v1/servers/{server['id']}/actions/change_dns_ptr"
    action = succeeded(api(hcloud_sim, "POST", path, {"ip": ipv4["ip"], "dns_ptr": "cp-1.example.com"}))["action"]
    assert action["command"] == "change_dns_ptr"
    assert read(hcloud_sim, "server", server["id"])["public_net"]["ipv4"]["dns_ptr"] == "cp-1.example.com"
    pip = read(hcloud_sim, "primary_ip", ipv4["id"])
    assert pip["dns_ptr"] == [{"ip": ipv4["ip"], "dns_ptr": "cp-1.example.com"}]
    host6 = ipv6["ip"].split("/")[0] + "5"
    succeeded(api(hcloud_sim, "POST", path, {"ip": host6, "dns_ptr": "cp-1.example.com"}))
    assert read(hcloud_sim, "server", server["id"])["public_net"]["ipv6"]["dns_ptr"] == [
        {"ip": host6, "dns_ptr": "cp-1.example.com"}
    ]
    succeeded(api(hcloud_sim, "POST", path, {"ip": ipv4["ip"], "dns_ptr": None}))
    assert read(hcloud_sim, "server", server["id"])["public_net"]["ipv4"]["dns_ptr"] == ipv4["dns_ptr"]
    assert refused(api(hcloud_sim, "POST", path, {"ip": "192.0.2.9", "dns_ptr": "a.example.com"})) == (
        422,
        "invalid_input",
        ["ip"],
    )
    assert refused(api(hcloud_sim, "POST", path, {"ip": "not-an-ip", "dns_ptr": "a.example.com"}))[2] == ["ip"]
    assert refused(api(hcloud_sim, "POST", path, {"ip": ipv4["ip"], "dns_ptr": "-bad-"}))[2] == ["dns_ptr"]


def test_floating_ip_and_load_balancer_ptr_records(hcloud_sim) -> None:
    fip = succeeded(api(hcloud_sim, "POST", "/v1/floating_ips", {"type": "ipv4", "home_location": "fsn1"}))
    fip = fip["floating_ip"]
    path = f"/v1/floating_ips/{fip['id']}/actions/change_dns_ptr"
    succeeded(api(hcloud_sim, "POST", path, {"ip": fip["ip"], "dns_ptr": "vip.example.com"}))
    assert read(hcloud_sim, "floating_ip", fip["id"])["dns_ptr"] == [{"ip": fip["ip"], "dns_ptr": "vip.example.com"}]
    assert refused(api(hcloud_sim, "POST", path, {"ip": "192.0.2.1", "dns_ptr": "x.example.com"}))[2] == ["ip"]
    lb = succeeded(api(hcloud_sim, "POST", "/v1/load_balancers", LB))["load_balancer"]
    path = f"/v1/load_balancers/{lb['id']}/actions/change_dns_ptr"
    address = lb["public_net"]["ipv4"]["ip"]
    succeeded(api(hcloud_sim, "POST", path, {"ip": address, "dns_ptr": "lb.example.com"}))
    assert read(hcloud_sim, "load_balancer", lb["id"])["public_net"]["ipv4"]["dns_ptr"] == "lb.example.com"
    assert refused(api(hcloud_sim, "POST", path, {"ip": "192.0.2.1", "dns_ptr": "x.example.com"}))[2] == ["ip"]


def test_the_official_client_changes_ptr_records(client) -> None:
    made = client.servers.create(
        name="cp-1",
        server_type=ServerType(name="cx22"),
        image=hcloud.images.Image(name="debian-12"),
        location=Location(name="fsn1"),
    )
    made.action.wait_until_finished(max_retries=100)
    server = client.servers.get_by_id(made.server.id)
    server.change_dns_ptr(server.public_net.ipv4.ip, "cp-1.example.com").wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.id).public_net.ipv4.dns_ptr == "cp-1.example.com"
    fip = client.floating_ips.create(type="ipv4", home_location=Location(name="fsn1")).floating_ip
    fip.change_dns_ptr(fip.ip, "vip.example.com").wait_until_finished(max_retries=100)
    assert client.floating_ips.get_by_id(fip.id).dns_ptr == [{"ip": fip.ip, "dns_ptr": "vip.example.com"}]
    lb = client.load_balancers.create(
        name="api", load_balancer_type=LoadBalancerType(name="lb11"), location=Location(name="fsn1")
    ).load_balancer
    lb.change_dns_ptr(lb.public_net.ipv4.ip, "lb.example.com").wait_until_finished(max_retries=100)
    assert client.load_balancers.get_by_id(lb.id).public_net.ipv4.dns_ptr == "lb.example.com"


# --- load balancers ----------------------------------------------------------------------------------------------
def test_load_balancer_change_type(hcloud_sim) -> None:
    lb = succeeded(api(hcloud_sim, "POST", "/v1/load_balancers", LB))["load_balancer"]
    path = f"/v1/load_balancers/{lb['id']}/actions/change_type"
    action = succeeded(api(hcloud_sim, "POST", path, {"load_balancer_type": "lb21"}))["action"]
    assert action["command"] == "change_load_balancer_type"
    assert read(hcloud_sim, "load_balancer", lb["id"])["load_balancer_type"]["name"] == "lb21"
    assert refused(api(hcloud_sim, "POST", path, {"load_balancer_type": "lb99"})) == (
        422,
        "invalid_input",
        ["load_balancer_type"],
    )
    servers = [_server(hcloud_sim, f"s{index}") for index in range(26)]
    for server in servers:
        target = {"type": "server", "server": {"id": server["id"]}}
        succeeded(api(hcloud_sim, "POST", f"/v1/load_balancers/{lb['id']}/actions/add_target", target))
    assert refused(api(hcloud_sim, "POST", path, {"load_balancer_type": "lb11"}))[:2] == (
        422,
        "invalid_load_balancer_type",
    )


def test_load_balancer_public_interface(hcloud_sim) -> None:
    lb = succeeded(api(hcloud_sim, "POST", "/v1/load_balancers", LB))["load_balancer"]
    path = f"/v1/load_balancers/{lb['id']}/actions"
    assert refused(api(hcloud_sim, "POST", path + "/disable_public_interface"))[:2] == (
        422,
        "load_balancer_not_attached_to_network",
    )
    network = succeeded(api(hcloud_sim, "POST", "/v1/networks", {"name": "n", "ip_range": "10.0.0.0/16"}))["network"]
    subnet = {"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.1.0/24"}
    succeeded(api(hcloud_sim, "POST", f"/v1/networks/{network['id']}/actions/add_subnet", subnet))
    succeeded(api(hcloud_sim, "POST", path + "/attach_to_network", {"network": network["id"]}))
    server = _server(hcloud_sim)
    public_target = {"type": "server", "server": {"id": server["id"]}, "use_private_ip": False}
    succeeded(api(hcloud_sim, "POST", path + "/add_target", public_target))
    assert refused(api(hcloud_sim, "POST", path + "/disable_public_interface"))[:2] == (
        422,
        "targets_without_use_private_ip",
    )
    succeeded(api(hcloud_sim, "POST", path + "/remove_target", {"type": "server", "server": {"id": server["id"]}}))
    action = succeeded(api(hcloud_sim, "POST", path + "/disable_public_interface"))["action"]
    assert action["command"] == "disable_public_interface"
    assert read(hcloud_sim, "load_balancer", lb["id"])["public_net"]["enabled"] is False
    succeeded(api(hcloud_sim, "POST", path + "/enable_public_interface"))
    shown = read(hcloud_sim, "load_balancer", lb["id"])["public_net"]
    assert shown["enabled"] is True and shown["ipv4"]["ip"] == lb["public_net"]["ipv4"]["ip"]


def test_a_load_balancer_made_without_public_interface_gets_an_address_when_enabled(hcloud_sim) -> None:
    lb = succeeded(api(hcloud_sim, "POST", "/v1/load_balancers", {**LB, "public_interface": False}))["load_balancer"]
    assert lb["public_net"]["ipv4"]["ip"] is None
    succeeded(api(hcloud_sim, "POST", f"/v1/load_balancers/{lb['id']}/actions/enable_public_interface"))
    assert read(hcloud_sim, "load_balancer", lb["id"])["public_net"]["ipv4"]["ip"].startswith("127.88.")


def test_the_official_client_changes_load_balancers(client) -> None:
    lb = client.load_balancers.create(
        name="api", load_balancer_type=LoadBalancerType(name="lb11"), location=Location(name="fsn1")
    ).load_balancer
    lb.change_type(LoadBalancerType(name="lb31")).wait_until_finished(max_retries=100)
    network = client.networks.create(name="n", ip_range="10.0.0.0/16")
    network.add_subnet(hcloud.networks.NetworkSubnet(type="cloud", ip_range="10.0.1.0/24", network_zone="eu-central"))
    lb.attach_to_network(network).wait_until_finished(max_retries=100)
    lb.disable_public_interface().wait_until_finished(max_retries=100)
    lb = client.load_balancers.get_by_id(lb.id)
    assert (lb.load_balancer_type.name, lb.public_net.enabled) == ("lb31", False)
    lb.enable_public_interface().wait_until_finished(max_retries=100)
    assert client.load_balancers.get_by_id(lb.id).public_net.enabled is True
