"""Templates and clones in the Proxmox VE simulator (qm.adoc "Copies and Clones")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from proxmox_testlib import (
    META_NETWORK,
    NODE_ADDRESS,
    PVEClient,
    factory_and_pve,
    image_url,
    register_schematic,
    traffic_problems,
)

from sandbox.harness import RunningSimulator
from sandbox.simulators.talos.nodes import TalosNodes

pytestmark = pytest.mark.slow


@pytest.fixture
def pve_with_vm(tmp_path: Path) -> Iterator[tuple[RunningSimulator, PVEClient]]:
    with factory_and_pve(tmp_path / "state", import_disk_size=1 << 30) as (factory, pve):
        client = PVEClient(pve)
        schematic = register_schematic(factory, ["siderolabs/qemu-guest-agent"], META_NETWORK)
        client.run(
            "POST",
            "/nodes/pve1/storage/local/download-url",
            url=image_url(factory, schematic),
            content="import",
            filename="talos.qcow2",
        )
        client.run(
            "POST",
            "/nodes/pve1/qemu",
            vmid=100,
            name="talos",
            memory=2048,
            scsi0="local-lvm:0,import-from=local:import/talos.qcow2",
            net0="virtio,bridge=vmbr0",
            agent="1",
            boot="order=scsi0",
        )
        yield pve, client


def test_full_clone_of_a_vm(pve_with_vm: tuple[RunningSimulator, PVEClient]) -> None:
    pve, client = pve_with_vm
    upid = client.ok("POST", "/nodes/pve1/qemu/100/clone", newid=101, name="cp-1")
    assert ":qmclone:100:" in upid
    assert client.wait(upid)["exitstatus"] == "OK"
    source, clone = (client.ok("GET", f"/nodes/pve1/qemu/{vmid}/config") for vmid in (100, 101))
    assert clone["name"] == "cp-1" and clone["scsi0"] == "local-lvm:vm-101-disk-0,size=1G"
    assert clone["net0"] != source["net0"] and clone["net0"].endswith(",bridge=vmbr0")
    assert clone["smbios1"] != source["smbios1"]
    assert client.ok("GET", "/nodes/pve1/storage/local-lvm/status")["used"] == 2 << 30
    client.run("POST", "/nodes/pve1/qemu/101/status/start")
    assert TalosNodes(pve.state_dir).get(NODE_ADDRESS).stage == "maintenance"  # the clone boots the same image
    linked = client.post("/nodes/pve1/qemu/100/clone", newid=102, full=0)
    assert (linked.status, linked.reason) == (
        500,
        "Linked clone feature is not supported for running or non-template VMs",
    )
    taken = client.post("/nodes/pve1/qemu/100/clone", newid=101)
    assert taken.reason == "unable to create VM 101: config file already exists"
    assert client.post("/nodes/pve1/qemu/100/clone", newid=102, target="pve2").status == 500
    assert traffic_problems(pve) == []


def test_template_and_linked_clone(pve_with_vm: tuple[RunningSimulator, PVEClient]) -> None:
    pve, client = pve_with_vm
    assert client.run("POST", "/nodes/pve1/qemu/100/template")["type"] == "qmtemplate"
    template = client.ok("GET", "/nodes/pve1/qemu/100/config")
    assert (template["template"], template["scsi0"]) == (1, "local-lvm:base-100-disk-0,size=1G")
    assert client.post("/nodes/pve1/qemu/100/template").reason == "VM 100 is already a template"
    [listed] = client.ok("GET", "/nodes/pve1/qemu")
    assert listed["template"] == 1
    assert client.run("POST", "/nodes/pve1/qemu/100/clone", newid=110, name="linked")["exitstatus"] == "OK"
    linked = client.ok("GET", "/nodes/pve1/qemu/110/config")
    assert linked["scsi0"] == "local-lvm:base-100-disk-0/vm-110-disk-0,size=1G" and "template" not in linked
    assert client.ok("GET", "/nodes/pve1/storage/local-lvm/status")["used"] == 1 << 30  # copy-on-write
    assert client.run("POST", "/nodes/pve1/qemu/100/clone", newid=111, full=1)["exitstatus"] == "OK"
    assert client.ok("GET", "/nodes/pve1/qemu/111/config")["scsi0"] == "local-lvm:vm-111-disk-0,size=1G"
    refused = client.delete("/nodes/pve1/qemu/100")
    assert refused.reason == "base volume 'local-lvm:base-100-disk-0' is still in use by linked cloned VM"
    client.run("DELETE", "/nodes/pve1/qemu/110")
    assert client.run("DELETE", "/nodes/pve1/qemu/100")["exitstatus"] == "OK"
    assert [vm["vmid"] for vm in client.ok("GET", "/nodes/pve1/qemu")] == [111]
    assert traffic_problems(pve) == []
