"""Primary IPs in the Hetzner simulator: create (alone or for a stopped server), assign, unassign, protection, PTR
records, update, list filters and delete, against cloud.spec.json and through the official hcloud library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hcloud.locations import Location
from hcloud_testlib import api, checked_simulator, control, hcloud, refused, succeeded

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
APIException = hcloud.APIException


def _server(sim: Any, name: str = "cp-1", off: bool = True, **extra: Any) -> dict[str, Any]:
    server = succeeded(api(sim, "POST", "/v1/servers", {**SERVER, "name": name, **extra}))["server"]
    if off:
        succeeded(api(sim, "POST", f"/v1/servers/{server['id']}/actions/poweroff"))
    return succeeded(api(sim, "GET", f"/v1/servers/{server['id']}"))["server"]


def _pip(sim: Any, ident: int) -> dict[str, Any]:
    return succeeded(api(sim, "GET", f"/v1/primary_ips/{ident}"))["primary_ip"]


def test_a_primary_ip_made_alone_is_assigned_and_unassigned_on_a_stopped_server(hcloud_sim) -> None:
    body = {"name": "api-v4", "type": "ipv4", "location": "fsn1", "labels": {"role": "api"}}
    created = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", body))
    pip = created["primary_ip"]
    assert (pip["assignee_id"], pip["assignee_type"], pip["auto_delete"], pip["location"]["name"]) == (
        None,
        "server",
        False,
        "fsn1",
    )
    assert pip["dns_ptr"][0]["ip"] == pip["ip"]
    server = _server(hcloud_sim, public_net={"enable_ipv4": False, "enable_ipv6": True})
    assert server["public_net"]["ipv4"] is None
    assign = f"/v1/primary_ips/{pip['id']}/actions/assign"
    action = succeeded(api(hcloud_sim, "POST", assign, {"assignee_type": "server", "assignee_id": server["id"]}))
    assert action["action"]["command"] == "assign_primary_ip"
    assert _pip(hcloud_sim, pip["id"])["assignee_id"] == server["id"]
    shown = succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["public_net"]["ipv4"]
    assert (shown["id"], shown["ip"]) == (pip["id"], pip["ip"])
    again = refused(api(hcloud_sim, "POST", assign, {"assignee_type": "server", "assignee_id": server["id"]}))
    assert again[:2] == (422, "primary_ip_already_assigned")
    succeeded(api(hcloud_sim, "POST", f"/v1/primary_ips/{pip['id']}/actions/unassign"))
    assert _pip(hcloud_sim, pip["id"])["assignee_id"] is None
    assert succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["public_net"]["ipv4"] is None


def test_assign_and_unassign_need_a_stopped_server_and_a_free_slot(hcloud_sim) -> None:
    running = _server(hcloud_sim, "running", off=False)
    pip = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "p", "type": "ipv4", "location": "fsn1"}))
    assign = f"/v1/primary_ips/{pip['primary_ip']['id']}/actions/assign"
    target = {"assignee_type": "server", "assignee_id": running["id"]}
    assert refused(api(hcloud_sim, "POST", assign, target))[:2] == (422, "server_not_stopped")
    stopped = _server(hcloud_sim, "stopped")
    target["assignee_id"] = stopped["id"]
    assert refused(api(hcloud_sim, "POST", assign, target))[:2] == (422, "server_has_ipv4")
    own = running["public_net"]["ipv4"]["id"]
    assert refused(api(hcloud_sim, "POST", f"/v1/primary_ips/{own}/actions/unassign"))[:2] == (
        422,
        "server_not_stopped",
    )
    created = api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "q", "type": "ipv6", **target})
    assert refused(created)[:2] == (422, "server_has_ipv6")
    elsewhere = _server(hcloud_sim, "nbg", location="nbg1", public_net={"enable_ipv4": False, "enable_ipv6": True})
    target["assignee_id"] = elsewhere["id"]
    assert refused(api(hcloud_sim, "POST", assign, target)) == (422, "invalid_input", ["assignee_id"])


def test_a_primary_ip_made_for_a_server_and_the_create_rules(hcloud_sim) -> None:
    server = _server(hcloud_sim, public_net={"enable_ipv4": True, "enable_ipv6": False})
    body = {"name": "v6", "type": "ipv6", "assignee_type": "server", "assignee_id": server["id"]}
    created = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", body))
    assert created["primary_ip"]["assignee_id"] == server["id"]
    assert created["primary_ip"]["location"]["name"] == "fsn1"
    shown = succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["public_net"]["ipv6"]
    assert shown["ip"] == created["primary_ip"]["ip"]
    assert refused(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "x", "type": "ipv4"})) == (
        422,
        "invalid_input",
        ["location"],
    )
    unknown = {"name": "x", "type": "ipv4", "location": "mars1"}
    assert refused(api(hcloud_sim, "POST", "/v1/primary_ips", unknown)) == (422, "invalid_input", ["location"])
    lonely = {"name": "x", "type": "ipv4", "location": "fsn1", "assignee_id": server["id"]}
    assert refused(api(hcloud_sim, "POST", "/v1/primary_ips", lonely)) == (422, "invalid_input", ["assignee_type"])
    twice = {"name": "v6", "type": "ipv4", "location": "fsn1"}
    assert refused(api(hcloud_sim, "POST", "/v1/primary_ips", twice))[:2] == (409, "uniqueness_error")


def test_the_public_ipv4_of_a_load_balancer_target_stays(hcloud_sim) -> None:
    lb = {"name": "api", "load_balancer_type": "lb11", "location": "fsn1"}
    lb_id = succeeded(api(hcloud_sim, "POST", "/v1/load_balancers", lb))["load_balancer"]["id"]
    by_id = _server(hcloud_sim, "by-id")
    by_label = _server(hcloud_sim, "by-label", labels={"role": "cp"})
    private = _server(hcloud_sim, "private", labels={"role": "worker"})
    targets = [
        {"type": "server", "server": {"id": by_id["id"]}},
        {"type": "label_selector", "label_selector": {"selector": "role=cp"}},
        {"type": "label_selector", "label_selector": {"selector": "role=worker"}, "use_private_ip": True},
    ]
    for target in targets:
        succeeded(api(hcloud_sim, "POST", f"/v1/load_balancers/{lb_id}/actions/add_target", target))
    for server in (by_id, by_label):
        ipv4, ipv6 = server["public_net"]["ipv4"]["id"], server["public_net"]["ipv6"]["id"]
        answer = api(hcloud_sim, "POST", f"/v1/primary_ips/{ipv4}/actions/unassign")
        assert refused(answer)[:2] == (422, "server_is_load_balancer_target")
        succeeded(api(hcloud_sim, "POST", f"/v1/primary_ips/{ipv6}/actions/unassign"))  # its IPv6 is no target
    succeeded(api(hcloud_sim, "POST", f"/v1/primary_ips/{private['public_net']['ipv4']['id']}/actions/unassign"))


def test_protection_update_list_filters_and_delete(hcloud_sim) -> None:
    pip = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "p", "type": "ipv4", "location": "fsn1"}))[
        "primary_ip"
    ]
    path = f"/v1/primary_ips/{pip['id']}"
    succeeded(api(hcloud_sim, "POST", path + "/actions/change_protection", {"delete": True}))
    assert _pip(hcloud_sim, pip["id"])["protection"] == {"delete": True}
    assert refused(api(hcloud_sim, "DELETE", path))[:2] == (423, "protected")
    assert refused(api(hcloud_sim, "PUT", path, {"auto_delete": True})) == (422, "invalid_input", ["auto_delete"])
    updated = succeeded(api(hcloud_sim, "PUT", path, {"name": "renamed", "labels": {"tier": "edge"}}))["primary_ip"]
    assert (updated["name"], updated["labels"]) == ("renamed", {"tier": "edge"})
    _server(hcloud_sim)  # its own two primary IPs, auto-deleting, without labels
    names = [
        item["name"]
        for item in succeeded(api(hcloud_sim, "GET", "/v1/primary_ips?label_selector=tier==edge"))["primary_ips"]
    ]
    assert names == ["renamed"]
    assert len(succeeded(api(hcloud_sim, "GET", "/v1/primary_ips?name=renamed"))["primary_ips"]) == 1
    assert len(succeeded(api(hcloud_sim, "GET", "/v1/primary_ips"))["primary_ips"]) == 3
    succeeded(api(hcloud_sim, "POST", path + "/actions/change_protection", {"delete": False}))
    succeeded(api(hcloud_sim, "PUT", path, {"auto_delete": True}))
    assert refused(api(hcloud_sim, "POST", path + "/actions/change_protection", {"delete": True})) == (
        422,
        "invalid_input",
        ["delete"],
    )
    assert api(hcloud_sim, "DELETE", path)[0] == 204
    assert api(hcloud_sim, "GET", path)[0] == 404


def test_an_assigned_primary_ip_must_be_unassigned_before_delete(hcloud_sim) -> None:
    server = _server(hcloud_sim, off=False)
    own = server["public_net"]["ipv4"]["id"]
    assert refused(api(hcloud_sim, "DELETE", f"/v1/primary_ips/{own}"))[:2] == (422, "must_be_unassigned")


def test_a_server_given_a_primary_ip_of_the_wrong_kind_or_place_is_refused(hcloud_sim) -> None:
    v6 = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "v6", "type": "ipv6", "location": "fsn1"}))
    wrong_kind = {**SERVER, "public_net": {"ipv4": v6["primary_ip"]["id"]}}
    assert refused(api(hcloud_sim, "POST", "/v1/servers", wrong_kind)) == (422, "invalid_input", ["public_net.ipv4"])
    v4 = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "v4", "type": "ipv4", "location": "nbg1"}))
    wrong_place = {**SERVER, "public_net": {"ipv4": v4["primary_ip"]["id"]}}
    assert refused(api(hcloud_sim, "POST", "/v1/servers", wrong_place)) == (422, "invalid_input", ["public_net.ipv4"])


def test_ptr_records_of_a_primary_ip(hcloud_sim) -> None:
    v4 = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "v4", "type": "ipv4", "location": "fsn1"}))
    v6 = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "v6", "type": "ipv6", "location": "fsn1"}))
    v4, v6 = v4["primary_ip"], v6["primary_ip"]
    change = f"/v1/primary_ips/{v4['id']}/actions/change_dns_ptr"
    succeeded(api(hcloud_sim, "POST", change, {"ip": v4["ip"], "dns_ptr": "api.example.com"}))
    assert _pip(hcloud_sim, v4["id"])["dns_ptr"] == [{"ip": v4["ip"], "dns_ptr": "api.example.com"}]
    succeeded(api(hcloud_sim, "POST", change, {"ip": v4["ip"], "dns_ptr": None}))
    assert _pip(hcloud_sim, v4["id"])["dns_ptr"] == v4["dns_ptr"]  # reset to the default
    assert refused(api(hcloud_sim, "POST", change, {"ip": "192.0.2.1", "dns_ptr": "x.example.com"}))[2] == ["ip"]
    assert refused(api(hcloud_sim, "POST", change, {"ip": v4["ip"], "dns_ptr": "not a name"}))[2] == ["dns_ptr"]
    assert v6["dns_ptr"] == []
    host = v6["ip"].split("/")[0] + "1"
    change6 = f"/v1/primary_ips/{v6['id']}/actions/change_dns_ptr"
    succeeded(api(hcloud_sim, "POST", change6, {"ip": host, "dns_ptr": "six.example.com"}))
    assert _pip(hcloud_sim, v6["id"])["dns_ptr"] == [{"ip": host, "dns_ptr": "six.example.com"}]
    succeeded(api(hcloud_sim, "POST", change6, {"ip": host, "dns_ptr": None}))
    assert _pip(hcloud_sim, v6["id"])["dns_ptr"] == []


def test_a_failed_assign_action_leaves_the_primary_ip_unassigned(hcloud_sim) -> None:
    pip = succeeded(api(hcloud_sim, "POST", "/v1/primary_ips", {"name": "p", "type": "ipv4", "location": "fsn1"}))
    server = _server(hcloud_sim, public_net={"enable_ipv4": False, "enable_ipv6": True})
    failure = {"command": "assign_primary_ip", "code": "action_failed", "message": "injected"}
    assert control(hcloud_sim, "POST", "action-failures", failure)[0] == 201
    assign = f"/v1/primary_ips/{pip['primary_ip']['id']}/actions/assign"
    succeeded(api(hcloud_sim, "POST", assign, {"assignee_type": "server", "assignee_id": server["id"]}))
    assert _pip(hcloud_sim, pip["primary_ip"]["id"])["assignee_id"] is None


def test_the_official_client_drives_primary_ips(client) -> None:
    created = client.primary_ips.create(type="ipv4", name="edge", location=Location(name="fsn1"), labels={"a": "b"})
    pip = client.primary_ips.get_by_id(created.primary_ip.id)
    assert (pip.name, pip.assignee_id, pip.location.name) == ("edge", None, "fsn1")
    server = client.servers.create(
        name="cp-1",
        server_type=hcloud.server_types.ServerType(name="cx22"),
        image=hcloud.images.Image(name="debian-12"),
        location=Location(name="fsn1"),
        public_net=hcloud.servers.ServerCreatePublicNetwork(enable_ipv4=False, enable_ipv6=True),
        start_after_create=False,
    )
    server.action.wait_until_finished(max_retries=100)
    pip.assign(assignee_id=server.server.id, assignee_type="server").wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.server.id).public_net.primary_ipv4.id == pip.id
    pip.change_dns_ptr(ip=pip.ip, dns_ptr="edge.example.com").wait_until_finished(max_retries=100)
    assert client.servers.get_by_id(server.server.id).public_net.ipv4.dns_ptr == "edge.example.com"
    pip.unassign().wait_until_finished(max_retries=100)
    pip.change_protection(delete=True).wait_until_finished(max_retries=100)
    with pytest.raises(APIException) as raised:
        pip.delete()
    assert raised.value.code == "protected"
    pip.update(name="edge-2", auto_delete=False)
    assert [item.name for item in client.primary_ips.get_all(label_selector="a=b")] == ["edge-2"]
    pip.change_protection(delete=False).wait_until_finished(max_retries=100)
    assert pip.delete() is True


def test_primary_ips_survive_a_restart(tmp_path: Path) -> None:
    with checked_simulator(tmp_path) as simulator:
        made = succeeded(api(simulator, "POST", "/v1/primary_ips", {"name": "p", "type": "ipv4", "location": "fsn1"}))
    with checked_simulator(tmp_path) as simulator:
        assert _pip(simulator, made["primary_ip"]["id"])["name"] == "p"
