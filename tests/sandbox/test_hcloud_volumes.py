"""Volumes in the Hetzner simulator: create (in a location or for a server), read, list filters, update, attach,
detach, resize, protection and delete, against cloud.spec.json and through the official hcloud library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hcloud.locations import Location
from hcloud_testlib import api, checked_simulator, control, hcloud, refused, succeeded

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}
APIException = hcloud.APIException


def _volume(sim: Any, ident: int) -> dict[str, Any]:
    return succeeded(api(sim, "GET", f"/v1/volumes/{ident}"))["volume"]


def _server(sim: Any, name: str = "cp-1", **extra: Any) -> dict[str, Any]:
    return succeeded(api(sim, "POST", "/v1/servers", {**SERVER, "name": name, **extra}))["server"]


def test_a_volume_made_in_a_location_is_attached_detached_and_deleted(hcloud_sim) -> None:
    body = {"name": "data", "size": 10, "location": "fsn1", "format": "ext4", "labels": {"role": "etcd"}}
    created = succeeded(api(hcloud_sim, "POST", "/v1/volumes", body))
    volume = created["volume"]
    assert created["action"]["command"] == "create_volume" and created["next_actions"] == []
    assert (volume["status"], volume["server"], volume["format"], volume["size"]) == ("creating", None, "ext4", 10)
    assert volume["linux_device"] == f"/dev/disk/by-id/scsi-0HC_Volume_{volume['id']}"
    assert _volume(hcloud_sim, volume["id"])["status"] == "available"
    server = _server(hcloud_sim)
    path = f"/v1/volumes/{volume['id']}"
    attach = succeeded(api(hcloud_sim, "POST", path + "/actions/attach", {"server": server["id"], "automount": False}))
    assert attach["action"]["command"] == "attach_volume"
    assert {item["type"] for item in attach["action"]["resources"]} == {"volume", "server"}
    assert _volume(hcloud_sim, volume["id"])["server"] == server["id"]
    assert succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["volumes"] == [volume["id"]]
    again = api(hcloud_sim, "POST", path + "/actions/attach", {"server": server["id"]})
    assert refused(again)[:2] == (422, "service_error")
    assert refused(api(hcloud_sim, "DELETE", path))[:2] == (422, "service_error")  # still attached
    succeeded(api(hcloud_sim, "POST", path + "/actions/detach"))
    assert _volume(hcloud_sim, volume["id"])["server"] is None
    assert succeeded(api(hcloud_sim, "GET", f"/v1/servers/{server['id']}"))["server"]["volumes"] == []
    assert refused(api(hcloud_sim, "POST", path + "/actions/detach"))[:2] == (422, "service_error")
    assert api(hcloud_sim, "DELETE", path)[0] == 204
    assert api(hcloud_sim, "GET", path)[0] == 404


def test_a_volume_made_for_a_server_is_attached_by_its_next_action(hcloud_sim) -> None:
    server = _server(hcloud_sim, location="nbg1")
    created = succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "d", "size": 20, "server": server["id"]}))
    assert [item["command"] for item in created["next_actions"]] == ["attach_volume"]
    assert created["volume"]["location"]["name"] == "nbg1"
    assert created["volume"]["format"] is None
    assert _volume(hcloud_sim, created["volume"]["id"])["server"] == server["id"]
    other = _server(hcloud_sim, "fsn", location="fsn1")
    detach = f"/v1/volumes/{created['volume']['id']}/actions/detach"
    succeeded(api(hcloud_sim, "POST", detach))
    attach = f"/v1/volumes/{created['volume']['id']}/actions/attach"
    assert refused(api(hcloud_sim, "POST", attach, {"server": other["id"]})) == (422, "invalid_input", ["server"])


def test_a_server_made_with_volumes_has_them_attached(hcloud_sim) -> None:
    volume = succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "v", "size": 10, "location": "fsn1"}))["volume"]
    far = succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "far", "size": 10, "location": "nbg1"}))["volume"]
    wrong = api(hcloud_sim, "POST", "/v1/servers", {**SERVER, "volumes": [far["id"]]})
    assert refused(wrong) == (422, "invalid_input", ["volumes"])
    created = succeeded(
        api(hcloud_sim, "POST", "/v1/servers", {**SERVER, "volumes": [volume["id"]], "automount": False})
    )
    assert "attach_volume" in [item["command"] for item in created["next_actions"]]
    server = succeeded(api(hcloud_sim, "GET", f"/v1/servers/{created['server']['id']}"))["server"]
    assert server["volumes"] == [volume["id"]]
    assert _volume(hcloud_sim, volume["id"])["server"] == server["id"]
    taken = api(hcloud_sim, "POST", "/v1/servers", {**SERVER, "name": "cp-2", "volumes": [volume["id"]]})
    assert refused(taken)[:2] == (422, "service_error")


def test_create_rules(hcloud_sim) -> None:
    server = _server(hcloud_sim)
    cases = [
        ({"name": "v", "size": 10}, ["location"]),
        ({"name": "v", "size": 10, "location": "fsn1", "server": server["id"]}, ["location"]),
        ({"name": "v", "size": 9, "location": "fsn1"}, ["size"]),
        ({"name": "v", "size": 10241, "location": "fsn1"}, ["size"]),
        ({"name": "v", "size": 10, "location": "mars1"}, ["location"]),
        ({"name": "v", "size": 10, "location": "fsn1", "format": "ntfs"}, ["format"]),
        ({"name": "v", "size": 10, "location": "fsn1", "automount": True}, ["automount"]),
        ({"name": "-v", "size": 10, "location": "fsn1"}, ["name"]),
        ({"name": "v", "size": 10, "location": "fsn1", "labels": {"hetzner.cloud/x": "y"}}, ["labels"]),
    ]
    for body, fields in cases:
        assert refused(api(hcloud_sim, "POST", "/v1/volumes", body)) == (422, "invalid_input", fields), body
    succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "v", "size": 10, "location": "fsn1"}))
    assert refused(api(hcloud_sim, "POST", "/v1/volumes", {"name": "v", "size": 10, "location": "fsn1"}))[:2] == (
        409,
        "uniqueness_error",
    )
    assert succeeded(api(hcloud_sim, "GET", "/v1/volumes"))["volumes"][0]["name"] == "v"


def test_resize_only_grows_and_happens_when_the_action_ends(hcloud_sim) -> None:
    control(hcloud_sim, "POST", "action-latency", {"ms": 300, "command": "resize_volume"})
    volume = succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "v", "size": 10, "location": "fsn1"}))["volume"]
    path = f"/v1/volumes/{volume['id']}"
    assert refused(api(hcloud_sim, "POST", path + "/actions/resize", {"size": 10})) == (422, "invalid_input", ["size"])
    action = succeeded(api(hcloud_sim, "POST", path + "/actions/resize", {"size": 50}))["action"]
    assert _volume(hcloud_sim, volume["id"])["size"] == 10  # still running
    assert refused(api(hcloud_sim, "POST", path + "/actions/resize", {"size": 60}))[:2] == (423, "locked")
    for _attempt in range(100):
        if succeeded(api(hcloud_sim, "GET", f"/v1/actions/{action['id']}"))["action"]["status"] != "running":
            break
        __import__("time").sleep(0.05)
    assert _volume(hcloud_sim, volume["id"])["size"] == 50


def test_protection_update_filters_and_a_deleted_server_lets_its_volumes_go(hcloud_sim) -> None:
    server = _server(hcloud_sim)
    volume = succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "v", "size": 10, "server": server["id"]}))
    path = f"/v1/volumes/{volume['volume']['id']}"
    succeeded(api(hcloud_sim, "POST", path + "/actions/change_protection", {"delete": True}))
    updated = succeeded(api(hcloud_sim, "PUT", path, {"name": "renamed", "labels": {"k": "v"}}))["volume"]
    assert (updated["name"], updated["labels"], updated["protection"]) == ("renamed", {"k": "v"}, {"delete": True})
    assert refused(api(hcloud_sim, "PUT", path, {"name": "bad name"})) == (422, "invalid_input", ["name"])
    succeeded(api(hcloud_sim, "POST", "/v1/volumes", {"name": "other", "size": 10, "location": "fsn1"}))
    assert [v["name"] for v in succeeded(api(hcloud_sim, "GET", "/v1/volumes?label_selector=k"))["volumes"]] == [
        "renamed"
    ]
    assert [v["name"] for v in succeeded(api(hcloud_sim, "GET", "/v1/volumes?name=other"))["volumes"]] == ["other"]
    assert len(succeeded(api(hcloud_sim, "GET", "/v1/volumes?status=available"))["volumes"]) == 2
    succeeded(api(hcloud_sim, "DELETE", f"/v1/servers/{server['id']}"))
    assert _volume(hcloud_sim, volume["volume"]["id"])["server"] is None
    assert refused(api(hcloud_sim, "DELETE", path))[:2] == (423, "protected")
    actions = succeeded(api(hcloud_sim, "GET", path + "/actions"))["actions"]
    assert {item["command"] for item in actions} >= {"create_volume", "attach_volume", "change_protection"}


def test_the_official_client_drives_volumes(client) -> None:
    created = client.volumes.create(size=10, name="data", location=Location(name="fsn1"), format="xfs")
    created.action.wait_until_finished(max_retries=100)
    volume = client.volumes.get_by_id(created.volume.id)
    assert (volume.size, volume.format, volume.location.name, volume.server) == (10, "xfs", "fsn1", None)
    made = client.servers.create(
        name="cp-1",
        server_type=hcloud.server_types.ServerType(name="cx22"),
        image=hcloud.images.Image(name="debian-12"),
        location=Location(name="fsn1"),
    )
    made.action.wait_until_finished(max_retries=100)
    volume.attach(made.server, automount=False).wait_until_finished(max_retries=100)
    server = client.servers.get_by_id(made.server.id)
    assert [item.id for item in server.volumes] == [volume.id]
    volume.resize(20).wait_until_finished(max_retries=100)
    volume.detach().wait_until_finished(max_retries=100)
    volume = client.volumes.get_by_id(volume.id)
    assert (volume.size, volume.server) == (20, None)
    volume.update(name="renamed", labels={"a": "b"})
    assert [item.name for item in client.volumes.get_all(label_selector="a=b")] == ["renamed"]
    volume.change_protection(delete=True).wait_until_finished(max_retries=100)
    with pytest.raises(APIException) as raised:
        volume.delete()
    assert raised.value.code == "protected"
    volume.change_protection(delete=False).wait_until_finished(max_retries=100)
    assert volume.delete() is True
    assert client.volumes.get_all() == []


def test_volumes_survive_a_restart(tmp_path: Path) -> None:
    with checked_simulator(tmp_path) as simulator:
        made = succeeded(api(simulator, "POST", "/v1/volumes", {"name": "v", "size": 10, "location": "fsn1"}))
    with checked_simulator(tmp_path) as simulator:
        assert _volume(simulator, made["volume"]["id"])["name"] == "v"
