"""What starts when a Proxmox VE simulator VM boots a Talos image: a node at its META or ipconfig0 address, the
guest agent when the schematic has it, nothing reachable without a static address."""

from __future__ import annotations

import pytest
from proxmox_testlib import META_NETWORK, NODE_ADDRESS, PVEClient, download_image, traffic_problems, vm_params

from sandbox.harness import RunningSimulator
from sandbox.simulators.talos.nodes import TalosNodes
from sandbox.simulators.talos.state import NodeNotFound

pytestmark = pytest.mark.slow
AGENT = "siderolabs/qemu-guest-agent"


def test_start_boots_a_talos_node_at_the_meta_address(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    schematic = download_image(client, factory, [AGENT], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params())
    not_running = client.post("/nodes/pve1/qemu/101/agent/ping")
    assert (not_running.status, not_running.reason) == (500, "VM 101 is not running")
    upid = client.ok("POST", "/nodes/pve1/qemu/101/status/start")
    assert client.wait(upid)["exitstatus"] == "OK"
    assert client.log(upid)[0].startswith(f"Talos v1.13.9 (metal) boots into maintenance mode at {NODE_ADDRESS}")
    node = TalosNodes(pve.state_dir).get(NODE_ADDRESS)
    assert (node.stage, node.schematic, node.talos_version, node.platform) == (
        "maintenance",
        schematic,
        "v1.13.9",
        "metal",
    )
    current = client.ok("GET", "/nodes/pve1/qemu/101/status/current")
    assert (current["status"], current["qmpstatus"], current["agent"], current["ha"]) == (
        "running",
        "running",
        1,
        {"managed": 0},
    )
    assert client.ok("POST", "/nodes/pve1/qemu/101/agent/ping") == {"result": {}}
    interfaces = client.ok("GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces")["result"]
    assert [address["ip-address"] for address in interfaces[1]["ip-addresses"]] == [NODE_ADDRESS]
    assert interfaces[1]["ip-addresses"][0]["prefix"] == 24
    assert client.post("/nodes/pve1/qemu/101/status/start").reason == "VM 101 already running"
    assert client.delete("/nodes/pve1/qemu/101").reason == "VM 101 is running - destroy failed"
    assert client.run("POST", "/nodes/pve1/qemu/101/status/shutdown")["exitstatus"] == "OK"
    with pytest.raises(NodeNotFound):
        TalosNodes(pve.state_dir).get(NODE_ADDRESS)
    assert client.post("/nodes/pve1/qemu/101/status/shutdown").reason == "VM 101 not running"
    assert client.run("POST", "/nodes/pve1/qemu/101/status/stop")["exitstatus"] == "OK"  # stopping a stopped VM is fine
    client.run("POST", "/nodes/pve1/qemu/101/status/start")
    assert client.run("POST", "/nodes/pve1/qemu/101/status/stop")["type"] == "qmstop"
    assert TalosNodes(pve.state_dir).list() == []
    destroyed = client.run("DELETE", "/nodes/pve1/qemu/101", purge=1, **{"destroy-unreferenced-disks": 1})
    assert destroyed["type"] == "qmdestroy" and destroyed["exitstatus"] == "OK"
    assert client.ok("GET", "/nodes/pve1/qemu") == []
    assert client.ok("GET", "/nodes/pve1/storage/local-lvm/content") == []
    assert traffic_problems(pve) == []


def test_guest_agent_needs_the_extension_and_the_option(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params(101, start=1))
    assert client.ok("GET", "/nodes/pve1/qemu/101/status/current")["status"] == "running"  # start=1 in create
    answer = client.post("/nodes/pve1/qemu/101/agent/ping")
    assert (answer.status, answer.reason, answer.body["message"]) == (
        500,
        "QEMU guest agent is not running",
        "QEMU guest agent is not running\n",
    )
    client.run("POST", "/nodes/pve1/qemu/101/status/stop")
    client.put("/nodes/pve1/qemu/101/config", delete="agent")
    client.run("POST", "/nodes/pve1/qemu/101/status/start")
    assert client.post("/nodes/pve1/qemu/101/agent/ping").reason == "No QEMU guest agent configured"
    assert TalosNodes(pve.state_dir).get(NODE_ADDRESS).stage == "maintenance"


def test_no_static_address_means_no_reachable_node(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], None)
    client.run("POST", "/nodes/pve1/qemu", **vm_params())
    upid = client.ok("POST", "/nodes/pve1/qemu/101/status/start")
    client.wait(upid)
    assert "it would use DHCP, which the simulator does not model" in client.log(upid)[0]
    assert TalosNodes(pve.state_dir).list() == []
    interfaces = client.ok("GET", "/nodes/pve1/qemu/101/agent/network-get-interfaces")["result"]
    assert interfaces[1]["ip-addresses"] == []


def test_nocloud_image_takes_ipconfig0(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    schematic = download_image(
        client, factory, [AGENT], None, image="nocloud-amd64.qcow2", filename="nocloud.qcow2", node="pve2"
    )
    vm = vm_params(
        201,
        scsi0="local-lvm:0,import-from=local:import/nocloud.qcow2",
        ide2="local-lvm:cloudinit",
        ipconfig0="ip=10.5.0.21/24,gw=10.5.0.1",
        citype="nocloud",
    )
    client.run("POST", "/nodes/pve2/qemu", node="pve2", **vm)
    client.run("POST", "/nodes/pve2/qemu/201/status/start", node="pve2")
    node = TalosNodes(pve.state_dir).get("10.5.0.21")
    assert (node.platform, node.schematic) == ("nocloud", schematic)
    assert client.get("/nodes/pve1/qemu/201/config").status == 500  # the VM lives on pve2
