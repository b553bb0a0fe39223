# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lost answer never makes a second resource: every create the collection sends, under the simulator's
cut-after-acting fault (the create happens, its answer never arrives), ends with exactly one resource and a
successful run."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud import servers_apply
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient, HcloudError
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_talos_image
from module_harness import run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

TOKEN = "lost-answers-token-never-shown-3"
SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
HAS_SSH = bool(shutil.which("ssh") and shutil.which("ssh-keygen") and shutil.which("/usr/sbin/sshd"))


def cut(simulator, path: str, count: int = 1) -> None:
    simulator.set_fault(cut_after_acting=True, method="POST", path=path, count=count)


def made(simulator, path: str) -> list[dict]:
    """The POSTs to ``path`` the simulator carried out (their answers lost or not)."""
    time.sleep(0.05)
    return [r for r in simulator.requests() if r["method"] == "POST" and r["path"] == path and r["status"] == 201]


@pytest.fixture
def sim(tmp_path):
    with harness.running("hcloud", tmp_path / "sim", validate=True, token=TOKEN, action_latency_ms=50) as simulator:
        yield simulator
        assert simulator.app.drift == []


@pytest.mark.parametrize("network", [False, True])
def test_a_server_create_whose_answer_is_lost_is_adopted(sim, network):
    client = HcloudClient(TOKEN, sim.url + "/v1")
    node = {"name": "cp-1", "role": "controlplane", "location": "fsn1"}
    if network:
        client.call(
            "POST",
            "/networks",
            {
                "name": "prod",
                "ip_range": "10.0.0.0/16",
                "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}],
            },
        )
        node.update(network="prod", private_ipv4="10.0.1.11")
    params = {
        "cluster": "prod",
        "image": "debian-12",
        "server_type": "cx22",
        "enable_ipv4": True,
        "servers": [node],
        "wait_timeout": 60,
    }
    cut(sim, "^/v1/servers$", count=3)
    result = servers_apply.converge(client, params, check_mode=False)
    assert result["changed"] is True
    assert [s["name"] for s in client.list("servers")] == ["cp-1"]
    assert len(made(sim, "/v1/servers")) == 1
    assert result["nodes"][0]["status"] == "running"
    if network:
        assert result["nodes"][0]["private_ipv4"] == "10.0.1.11"


@pytest.fixture
def lab(tmp_path):
    with (
        harness.running("image-factory", tmp_path / "factory", raw_image_size=1 << 20) as factory,
        harness.running("hcloud", tmp_path / "hcloud", validate=True, action_latency_ms=50) as simulator,
    ):
        request = urllib.request.Request(factory.url + "/schematics", data=b"customization: {}\n", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["id"] == SCHEMATIC
        simulator.factory = factory
        yield simulator
        assert simulator.app.drift == []


@pytest.mark.skipif(not HAS_SSH, reason="needs the OpenSSH client and server")
@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("^/v1/ssh_keys$", "/v1/ssh_keys"),
        ("^/v1/servers$", "/v1/servers"),
        ("/actions/create_image$", None),
    ],
)
def test_every_create_of_the_snapshot_build_survives_a_lost_answer(lab, capsys, path, logged):
    url = f"{lab.factory.url}/image/{SCHEMATIC}/v1.13.9/hcloud-amd64.raw.xz"
    args = {
        "api_token": TOKEN,
        "api_endpoint": lab.url + "/v1",
        "cluster": "prod",
        "talos_version": "v1.13.9",
        "images": [{"url": url, "schematic_id": SCHEMATIC, "arch": "amd64"}],
    }
    cut(lab, path)
    result = run_module(hcloud_talos_image, args, capsys)
    assert result.get("failed") is not True, result.get("msg")
    assert [i["state"] for i in result["images"]] == ["built"]
    client = HcloudClient(TOKEN, lab.url + "/v1")
    snapshots = client.list("images", {"type": "snapshot"})
    assert [str(s["id"]) for s in snapshots] == [str(result["images"][0]["image_id"])]
    assert snapshots[0]["status"] == "available"
    assert client.list("servers") == [] and client.list("ssh_keys") == []  # the temporaries made once, deleted
    if logged:
        assert len(made(lab, logged)) == 1


def test_create_sends_again_only_when_nothing_was_made_and_adopts_on_uniqueness(sim):
    client = HcloudClient(TOKEN, sim.url + "/v1", sleep=lambda _s: None)
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfM3bZ4n2R7pX0Yq0cG6m1q5Vh8y3b5a2rN0t9d8K7x k"

    def named(name):
        found = client.list("ssh_keys", {"name": name})
        return {"ssh_key": found[0]} if found else None

    sim.set_fault(drop_connection=True, path="^/v1/ssh_keys$", method="POST")  # lost BEFORE acting
    first = client.create("/ssh_keys", {"name": "a", "public_key": key}, lambda: named("a"))
    assert [k["name"] for k in client.list("ssh_keys")] == ["a"] and first["ssh_key"]["name"] == "a"
    again = client.create("/ssh_keys", {"name": "a", "public_key": key}, lambda: named("a"))  # uniqueness_error
    assert again["ssh_key"]["id"] == first["ssh_key"]["id"]
    with pytest.raises(HcloudError) as caught:  # uniqueness_error and nothing of ours to adopt: the API's error
        client.create("/ssh_keys", {"name": "b", "public_key": key}, lambda: None)
    assert caught.value.code == "uniqueness_error"
    assert len(client.list("ssh_keys")) == 1
