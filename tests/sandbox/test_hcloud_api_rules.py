"""Rules of the Hetzner API the simulator keeps: pagination Link headers, network deletion, one name rule for
create and update, placement groups' own error codes."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hcloud_testlib import api, succeeded

from sandbox.simulators.hcloud.contract import shared_contract

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


def _key(index: int) -> str:
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([index]) * 32
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + f" rules{index}"


KEY = _key(0)
# a valid create body for every kind whose create takes a name (the test below fails for a kind missing here)
CREATE_BODIES: dict[str, dict[str, Any]] = {
    "servers": SERVER,
    "networks": {"name": "net", "ip_range": "10.0.0.0/16"},
    "placement_groups": {"name": "spread", "type": "spread"},
    "ssh_keys": {"name": "key", "public_key": KEY},
    "firewalls": {"name": "fw"},
    "floating_ips": {"name": "fip", "type": "ipv4", "home_location": "fsn1"},
    "load_balancers": {"name": "api", "load_balancer_type": "lb11", "location": "fsn1"},
    "primary_ips": {"name": "pip", "type": "ipv4", "location": "fsn1"},
    "volumes": {"name": "vol", "size": 10, "location": "fsn1"},
}
BAD_NAMES = ["", "not a hostname", "-leading-dash", "x" * 64, "under_score", "dot.", " padded"]


def _links(header: str) -> dict[str, dict[str, list[str]]]:
    """rel -> query of the link (the path checked separately)."""
    found = {}
    for url, rel in re.findall(r'<([^>]+)>;\s*rel="([a-z]+)"', header):
        parts = urlsplit(url)
        assert parts.path.startswith("/v1/"), url
        found[rel] = {**parse_qs(parts.query), "_path": [parts.path]}
    return found


def test_a_list_answer_carries_the_pagination_link_header(hcloud_sim) -> None:
    for index in range(7):
        succeeded(api(hcloud_sim, "POST", "/v1/ssh_keys", {"name": f"k{index}", "public_key": _key(index + 1)}))
    _status, headers, _body = api(hcloud_sim, "GET", "/v1/ssh_keys?per_page=3&page=2&sort=name")
    links = _links(headers["Link"])
    assert set(links) == {"prev", "next", "last"}
    assert (links["prev"]["page"], links["next"]["page"], links["last"]["page"]) == (["1"], ["3"], ["3"])
    assert links["next"]["per_page"] == ["3"] and links["next"]["sort"] == ["name"]
    assert links["next"]["_path"] == ["/v1/ssh_keys"]
    assert set(_links(api(hcloud_sim, "GET", "/v1/ssh_keys?per_page=3")[1]["Link"])) == {"next", "last"}
    assert set(_links(api(hcloud_sim, "GET", "/v1/ssh_keys?per_page=3&page=3")[1]["Link"])) == {"prev", "last"}


def _one_of_each(sim: Any) -> dict[str, int]:
    """kind -> the ID of one resource of it (every kind with a create body, and a system image)."""
    ids = {
        kind: succeeded(api(sim, "POST", f"/v1/{kind}", body))[kind[:-1]]["id"] for kind, body in CREATE_BODIES.items()
    }
    ids["images"] = succeeded(api(sim, "GET", "/v1/images?name=debian-12"))["images"][0]["id"]
    ids["primary_ips"] = succeeded(api(sim, "GET", "/v1/primary_ips"))["primary_ips"][0]["id"]
    return ids


def _served(method: str, app: Any) -> list[Any]:
    return [op for op in shared_contract().operations if op.method == method and app.handler_for(method, op.template)]


def test_every_list_operation_answers_a_link_header(hcloud_sim) -> None:
    ids = _one_of_each(hcloud_sim)
    checked = []
    for operation in _served("GET", hcloud_sim.app):
        schema = operation.spec["responses"]["200"]["content"]["application/json"]["schema"]
        if "meta" not in (schema.get("properties") or {}):
            continue
        kind = operation.template.split("/")[1]
        path = operation.template.replace("{id}", str(ids.get(kind, 0)))
        status, headers, body = api(hcloud_sim, "GET", "/v1" + path)
        assert status == 200, (path, body)
        assert "last" in _links(headers.get("Link", "")), path
        checked.append(path)
    assert len(checked) > 20


def test_deleting_a_network_detaches_its_servers_and_load_balancers(hcloud_sim) -> None:
    network = succeeded(api(hcloud_sim, "POST", "/v1/networks", CREATE_BODIES["networks"]))["network"]
    subnet = {"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.1.0/24"}
    succeeded(api(hcloud_sim, "POST", f"/v1/networks/{network['id']}/actions/add_subnet", subnet))
    server = succeeded(api(hcloud_sim, "POST", "/v1/servers", {**SERVER, "networks": [network["id"]]}))["server"]
    lb_body = {**CREATE_BODIES["load_balancers"], "network": network["id"]}
    lb = succeeded(api(hcloud_sim, "POST", "/v1/load_balancers", lb_body))["load_balancer"]
    status, _h, body = api(hcloud_sim, "DELETE", f"/v1/networks/{network['id']}")
    assert status == 204, body
    assert succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["private_net"] == []
    assert succeeded(api(hcloud_sim, "GET", f"/v1/load_balancers/{lb['id']}"))["load_balancer"]["private_net"] == []
    assert api(hcloud_sim, "GET", f"/v1/networks/{network['id']}")[0] == 404


def _answer(reply: tuple[int, Any, Any]) -> tuple[int, str | None, list[str]]:
    status, _headers, body = reply
    error = (body or {}).get("error") or {}
    fields = [item["name"] for item in (error.get("details") or {}).get("fields") or []]
    return status, error.get("code"), fields


def test_every_write_that_takes_a_name_is_covered_below(hcloud_sim) -> None:
    """Each served create or update whose body has a name is one of the kinds the name rule is tested on."""
    takes_name = set()
    for operation in [*_served("POST", hcloud_sim.app), *_served("PUT", hcloud_sim.app)]:
        body = operation.spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "name" in (body.get("schema", {}).get("properties") or {}):
            takes_name.add(operation.template.split("/")[1])
    assert takes_name == set(CREATE_BODIES)


@pytest.mark.parametrize("kind", sorted(CREATE_BODIES))
def test_update_refuses_exactly_the_names_create_refuses(hcloud_sim, kind: str) -> None:
    made = succeeded(api(hcloud_sim, "POST", f"/v1/{kind}", CREATE_BODIES[kind]))[kind[:-1]]
    original = CREATE_BODIES[kind]["name"]
    for name in BAD_NAMES:
        other = {**CREATE_BODIES[kind], "name": name}
        if kind == "ssh_keys":
            other["public_key"] = _key(99)
        created_reply = api(hcloud_sim, "POST", f"/v1/{kind}", other)
        created = _answer(created_reply)
        if created[0] < 300:  # accepted: the other one goes, so that the update meets no name already used
            assert api(hcloud_sim, "DELETE", f"/v1/{kind}/{created_reply[2][kind[:-1]]['id']}")[0] in (200, 204)
        updated = _answer(api(hcloud_sim, "PUT", f"/v1/{kind}/{made['id']}", {"name": name}))
        if created[0] < 300:
            assert updated[0] == 200, (kind, repr(name), updated)
            succeeded(api(hcloud_sim, "PUT", f"/v1/{kind}/{made['id']}", {"name": original}))
        else:
            assert updated == created, (kind, repr(name))
    assert succeeded(api(hcloud_sim, "GET", f"/v1/{kind}/{made['id']}"))[kind[:-1]]["name"] == original


def test_adding_a_running_server_to_a_placement_group_is_server_not_stopped(hcloud_sim) -> None:
    server = succeeded(api(hcloud_sim, "POST", "/v1/servers", SERVER))["server"]
    group = succeeded(api(hcloud_sim, "POST", "/v1/placement_groups", CREATE_BODIES["placement_groups"]))
    body = {"placement_group": group["placement_group"]["id"]}
    path = f"/v1/servers/{server['id']}/actions/add_to_placement_group"
    assert _answer(api(hcloud_sim, "POST", path, body))[:2] == (422, "server_not_stopped")


def test_a_stopped_server_joins_one_placement_group_only(hcloud_sim) -> None:
    server = succeeded(api(hcloud_sim, "POST", "/v1/servers", SERVER))["server"]
    succeeded(api(hcloud_sim, "POST", f"/v1/servers/{server['id']}/actions/poweroff"))
    assert succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["status"] == "off"
    group = succeeded(api(hcloud_sim, "POST", "/v1/placement_groups", CREATE_BODIES["placement_groups"]))
    body = {"placement_group": group["placement_group"]["id"]}
    path = f"/v1/servers/{server['id']}/actions/add_to_placement_group"
    succeeded(api(hcloud_sim, "POST", path, body))
    assert _answer(api(hcloud_sim, "POST", path, body))[:2] == (422, "already_in_placement_group")
