"""VMs in the Proxmox VE simulator: create with import-from, config, resize, power, guest agent, tasks, locks."""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from proxmox_testlib import (
    META_NETWORK,
    NODE_ADDRESS,
    PVEClient,
    download_image,
    factory_and_pve,
    traffic_problems,
    vm_params,
)

from sandbox.harness import RunningSimulator
from sandbox.simulators.talos.nodes import TalosNodes

pytestmark = pytest.mark.slow
AGENT = "siderolabs/qemu-guest-agent"


def test_create_imports_the_image_and_config_reads_back(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    pve.app.tasks.set_latency(0.3, "qmcreate")
    upid = client.ok("POST", "/nodes/pve1/qemu", **vm_params())
    assert ":qmcreate:101:root@pam!talosforge:" in upid
    assert client.ok("GET", "/nodes/pve1/qemu/101/config")["lock"] == "create"  # while the task runs
    assert client.ok("GET", "/nodes/pve1/qemu/101/status/current")["lock"] == "create"
    assert client.post("/nodes/pve1/qemu/101/status/start").reason == "VM is locked (create)"
    assert client.wait(upid)["exitstatus"] == "OK"
    assert "scsi0: local-lvm:vm-101-disk-0 (1G) imported from local:import/talos.qcow2" in client.log(upid)
    config = client.ok("GET", "/nodes/pve1/qemu/101/config")
    assert config["scsi0"] == "local-lvm:vm-101-disk-0,discard=on,iothread=1,size=1G"
    assert config["net0"].startswith("virtio=BC:24:11:") and config["net0"].endswith(",bridge=vmbr0,tag=20")
    assert (config["cores"], config["memory"], config["agent"], config["tags"]) == (
        2,
        "4096",
        "enabled=1",
        "talosforge;cluster-sandbox",
    )
    assert len(config["digest"]) == 40 and "lock" not in config
    [listed] = client.ok("GET", "/nodes/pve1/qemu")
    assert (listed["vmid"], listed["name"], listed["status"], listed["maxmem"], listed["maxdisk"]) == (
        101,
        "cp-1",
        "stopped",
        4 << 30,
        1 << 30,
    )
    assert client.ok("GET", "/nodes/pve2/qemu") == []
    [resource] = client.ok("GET", "/cluster/resources", type="vm")
    assert (resource["id"], resource["node"], resource["tags"]) == ("qemu/101", "pve1", "talosforge;cluster-sandbox")
    assert client.ok("GET", "/cluster/nextid") == 100 and client.ok("GET", "/cluster/nextid", vmid=102) == 102
    assert client.get("/cluster/nextid", vmid=101).status == 400
    volumes = client.ok("GET", "/nodes/pve1/storage/local-lvm/content", vmid=101)
    assert [(item["volid"], item["size"]) for item in volumes] == [("local-lvm:vm-101-disk-0", 1 << 30)]
    assert traffic_problems(pve) == []


def test_create_refusals(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    assert client.run("POST", "/nodes/pve1/qemu", **vm_params())["exitstatus"] == "OK"
    twice = client.post("/nodes/pve2/qemu", **vm_params())
    assert (twice.status, twice.reason) == (500, "unable to create VM 101 - VM 101 already exists on node 'pve1'")
    missing = client.post("/nodes/pve1/qemu", **vm_params(102, scsi0="local-lvm:0,import-from=local:import/nope.qcow2"))
    assert (missing.status, missing.reason) == (500, "volume 'local:import/nope.qcow2' does not exist")
    elsewhere = client.post("/nodes/pve2/qemu", **vm_params(102))  # the image was downloaded on pve1 only
    assert elsewhere.reason == "volume 'local:import/talos.qcow2' does not exist"
    no_images = client.post("/nodes/pve1/qemu", **vm_params(103, scsi0="local:0,import-from=local:import/talos.qcow2"))
    assert no_images.reason == "storage 'local' does not support vm images"
    bad_tag = client.post("/nodes/pve1/qemu", **vm_params(104, net0="virtio,bridge=vmbr0,tag=0"))
    assert bad_tag.status == 400 and bad_tag.body["errors"] == {
        "net0": "invalid format - format error\ntag: value must have a minimum value of 1"
    }


def test_config_update_is_idempotent_and_guarded_by_digest(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params())
    before = client.ok("GET", "/nodes/pve1/qemu/101/config")
    assert client.put("/nodes/pve1/qemu/101/config", cores=2, memory=4096).data is None
    assert client.ok("GET", "/nodes/pve1/qemu/101/config")["digest"] == before["digest"]  # same values, same digest
    stale = client.put("/nodes/pve1/qemu/101/config", cores=4, digest="0" * 40)
    assert (stale.status, stale.reason) == (
        500,
        "detected modified configuration - file changed by other user? Try again.",
    )
    upid = client.ok(
        "POST", "/nodes/pve1/qemu/101/config", cores=4, memory=8192, digest=before["digest"], delete="description"
    )
    assert client.wait(upid)["type"] == "qmconfig"
    after = client.ok("GET", "/nodes/pve1/qemu/101/config")
    assert (after["cores"], after["memory"], "description" in after) == (4, "8192", False)
    assert after["scsi0"] == before["scsi0"] and after["net0"] == before["net0"]
    client.put("/nodes/pve1/qemu/101/config", scsi0="local-lvm:vm-101-disk-0,discard=on,iothread=1,ssd=1")
    assert (
        client.ok("GET", "/nodes/pve1/qemu/101/config")["scsi0"]
        == "local-lvm:vm-101-disk-0,discard=on,iothread=1,size=1G,ssd=1"
    )
    added = client.ok(
        "POST", "/nodes/pve1/qemu/101/config", ide2="local-lvm:cloudinit", ipconfig0="ip=10.5.0.31/24,gw=10.5.0.1"
    )
    assert client.wait(added)["exitstatus"] == "OK"
    assert client.ok("GET", "/nodes/pve1/qemu/101/config")["ide2"] == "local-lvm:vm-101-cloudinit,media=cdrom"
    assert traffic_problems(pve) == []


def test_resize_grows_and_never_shrinks(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params())
    assert client.run("PUT", "/nodes/pve1/qemu/101/resize", disk="scsi0", size="20G")["exitstatus"] == "OK"
    assert client.run("PUT", "/nodes/pve1/qemu/101/resize", disk="scsi0", size="+4G")["type"] == "resize"
    assert client.ok("GET", "/nodes/pve1/qemu/101/config")["scsi0"].endswith(",size=24G")
    assert client.ok("GET", "/nodes/pve1/storage/local-lvm/status")["used"] == 24 << 30
    shrink = client.put("/nodes/pve1/qemu/101/resize", disk="scsi0", size="10G")
    assert (shrink.status, shrink.reason) == (500, "shrinking disks is not supported")
    assert client.put("/nodes/pve1/qemu/101/resize", disk="scsi1", size="10G").reason == "disk 'scsi1' does not exist"
    assert client.put("/nodes/pve1/qemu/101/resize", disk="scsi0", size="lots").status == 400


def test_lock_timeout_and_failed_tasks(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params())
    control = PVEControl(pve)
    control.post("lock-timeouts", {"vmid": 101, "count": 2})
    for path in ("/nodes/pve1/qemu/101/status/start", "/nodes/pve1/qemu/101/config"):
        locked = client.post(path)
        assert (locked.status, locked.reason) == (
            500,
            "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout",
        )
    control.post("task-failures", {"type": "qmstart", "message": "start failed: QEMU exited with code 1"})
    failed = client.run("POST", "/nodes/pve1/qemu/101/status/start")
    assert failed["exitstatus"] == "start failed: QEMU exited with code 1"
    assert client.ok("GET", "/nodes/pve1/qemu/101/status/current")["status"] == "stopped"
    assert TalosNodes(pve.state_dir).list() == []
    pve.app.tasks.fail_next("qmcreate", "unable to create VM 102 - simulated")
    created = client.run("POST", "/nodes/pve1/qemu", **vm_params(102))
    assert created["exitstatus"] == "unable to create VM 102 - simulated"
    assert [vm["vmid"] for vm in client.ok("GET", "/nodes/pve1/qemu")] == [101]


def test_full_storage_fails_the_create_task(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    PVEControl(pve).post("storage", {"node": "pve1", "storage": "local-lvm", "total": 512 << 20})
    status = client.run("POST", "/nodes/pve1/qemu", **vm_params())
    assert status["exitstatus"].startswith(
        "lvcreate 'pve/vm-101-disk-0' error:   Volume group \"pve\" has insufficient"
    )
    assert client.ok("GET", "/nodes/pve1/qemu") == []


def test_task_latency_is_settable(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params())
    PVEControl(pve).post("task-latency", {"seconds": 1.5, "type": "qmstart"})
    started = time.monotonic()
    upid = client.ok("POST", "/nodes/pve1/qemu/101/status/start")
    assert client.ok("GET", f"/nodes/pve1/tasks/{upid}/status")["status"] == "running"
    assert "exitstatus" not in client.ok("GET", f"/nodes/pve1/tasks/{upid}/status")
    assert client.wait(upid)["exitstatus"] == "OK"
    assert 1.5 <= time.monotonic() - started < 10
    quick = time.monotonic()
    client.run("POST", "/nodes/pve1/qemu/101/status/stop")  # other types keep the default
    assert time.monotonic() - quick < 1.5
    fields = upid.split(":")
    assert (fields[0], fields[1], fields[5], fields[6], fields[7], fields[8]) == (
        "UPID",
        "pve1",
        "qmstart",
        "101",
        "root@pam!talosforge",
        "",
    )
    assert all(len(part) == 8 and int(part, 16) >= 0 for part in fields[2:5])


class PVEControl:
    """The simulator's /_sandbox/proxmox/ controls over HTTPS."""

    def __init__(self, pve: RunningSimulator) -> None:
        self.pve = pve
        self.client = PVEClient(pve)

    def post(self, action: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            f"{self.pve.url}/_sandbox/proxmox/{action}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, context=self.client.context, timeout=10) as answer:
            assert answer.status in (200, 201)


def test_indexes_agent_command_reboot_and_task_list(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = vm_pair
    client = PVEClient(pve)
    download_image(client, factory, [AGENT], META_NETWORK)
    client.run("POST", "/nodes/pve1/qemu", **vm_params(101, start=1))
    assert {"config", "status"} <= {item["subdir"] for item in client.ok("GET", "/nodes/pve1/qemu/101")}
    assert {"content", "status"} <= {item["subdir"] for item in client.ok("GET", "/nodes/pve1/storage/local")}
    assert client.ok("POST", "/nodes/pve1/qemu/101/agent", command="ping") == {"result": {}}
    interfaces = client.ok("POST", "/nodes/pve1/qemu/101/agent", command="network-get-interfaces")
    assert interfaces["result"][1]["ip-addresses"][0]["ip-address"] == NODE_ADDRESS
    assert client.post("/nodes/pve1/qemu/101/agent", command="get-osinfo").status == 501
    assert client.run("POST", "/nodes/pve1/qemu/101/status/reboot")["type"] == "qmreboot"
    assert TalosNodes(pve.state_dir).get(NODE_ADDRESS).stage == "maintenance"
    tasks = client.ok("GET", "/nodes/pve1/tasks")
    assert {task["type"] for task in tasks} >= {"download", "qmcreate", "qmreboot"}
    assert all(task["status"] == "OK" and task["endtime"] >= task["starttime"] for task in tasks)
    assert [task["type"] for task in client.ok("GET", "/nodes/pve1/tasks", vmid=101, limit=2)] == [
        "qmreboot",
        "qmcreate",
    ]
    assert client.ok("GET", "/nodes/pve1/tasks", typefilter="download", errors=1) == []
    pve.app.tasks.set_latency(0.5, "qmreset")
    running = client.ok("POST", "/nodes/pve1/qemu/101/status/reset")
    assert [task["upid"] for task in client.ok("GET", "/nodes/pve1/tasks", source="active")] == [running]
    assert running not in [task["upid"] for task in client.ok("GET", "/nodes/pve1/tasks")]
    client.wait(running)
    assert traffic_problems(pve) == []


def test_many_vms_in_parallel(vm_pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    """Per-node images with their own META address, created and started concurrently, as the collection does."""
    factory, pve = vm_pair
    client = PVEClient(pve)
    count = 6

    def one(index: int) -> str:
        address = f"10.5.0.{40 + index}"
        meta = META_NETWORK.replace(NODE_ADDRESS, address)
        download_image(client, factory, [AGENT], meta, filename=f"node-{index}.qcow2")
        vm = vm_params(
            300 + index, name=f"node-{index}", scsi0=f"local-lvm:0,import-from=local:import/node-{index}.qcow2"
        )
        client.run("POST", "/nodes/pve1/qemu", **vm)
        client.run("POST", f"/nodes/pve1/qemu/{300 + index}/status/start")
        return address

    with ThreadPoolExecutor(max_workers=count) as pool:
        addresses = list(pool.map(one, range(count), timeout=60))
    assert sorted(node.address for node in TalosNodes(pve.state_dir).list()) == sorted(addresses)
    assert len(client.ok("GET", "/nodes/pve1/qemu")) == count
    assert traffic_problems(pve) == []


def test_state_survives_a_restart_and_reset_forgets_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with factory_and_pve(state) as (factory, pve):
        client = PVEClient(pve)
        download_image(client, factory, [AGENT], META_NETWORK)
        client.run("POST", "/nodes/pve1/qemu", **vm_params(101, start=1))
        config = client.ok("GET", "/nodes/pve1/qemu/101/config")
    with factory_and_pve(state) as (_factory, pve):
        client = PVEClient(pve)
        assert client.ok("GET", "/nodes/pve1/qemu/101/config") == config
        assert client.ok("GET", "/nodes/pve1/qemu/101/status/current")["status"] == "running"
        assert [item["volid"] for item in client.ok("GET", "/nodes/pve1/storage/local/content")] == [
            "local:import/talos.qcow2"
        ]
        assert client.ok("POST", "/nodes/pve1/qemu/101/agent/ping") == {"result": {}}
        pve.reset()
        assert client.ok("GET", "/nodes/pve1/qemu") == []
        assert client.ok("GET", "/nodes/pve1/storage/local/content") == []
        assert TalosNodes(pve.state_dir).list() == []
        assert not (state / "proxmox" / "storage").exists()
        assert (state / "proxmox" / "ca.pem").exists() and client.ok("GET", "/version")
