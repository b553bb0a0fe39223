# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the Proxmox provider: wanted config, comparison, VM ids, node facts, image names, UPIDs."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    ProxmoxClient,
    ProxmoxError,
    api_base,
    encode_form,
    error_from_http,
    is_lock_timeout,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.images_plan import (
    ImagePlanError,
    ImageSpec,
    default_filename,
    images_from_params,
    plan_targets,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.tasks import (
    parse_upid,
    poll_until,
    succeeded,
    wait_tasks,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vm_spec import (
    GIB,
    MIB,
    PlanError,
    VmSpec,
    compare_config,
    disk_growth,
    memory_mib,
    size_bytes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_plan import (
    Existing,
    allocate_vmids,
    looks_unchanged,
    node_facts,
)

SETTINGS = {"cluster": "demo", "storage": "local-lvm", "bridge": "vmbr0", "vlan": None}
ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"


def spec(**changes) -> VmSpec:
    values = {
        "name": "cp-1",
        "role": "controlplane",
        "pve_node": "pve1",
        "cores": 2,
        "memory": 4096,
        "disk": 20,
        "image": "local:import/x.qcow2",
        "address": "10.0.1.11",
    }
    values.update(changes)
    return VmSpec(**values)


def current_config(**changes) -> dict:
    config = {
        "cores": 2,
        "memory": "4096",
        "tags": "controlplane;cluster-demo;talosforge",
        "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
        "agent": "enabled=1",
        "serial0": "socket",
        "onboot": 1,
        "scsi0": "local-lvm:vm-101-disk-0,discard=on,iothread=1,size=20G,ssd=1",
    }
    config.update(changes)
    return config


def test_create_params_import_the_disk_and_tag_the_vm():
    params = spec().create_params({**SETTINGS, "vlan": 40}, 4100)
    assert params["scsi0"] == "local-lvm:0,import-from=local:import/x.qcow2,discard=on,iothread=1,ssd=1"
    assert params["net0"] == "virtio,bridge=vmbr0,tag=40"
    assert params["tags"] == "cluster-demo;controlplane;talosforge"
    assert params["agent"] == "enabled=1" and params["serial0"] == "socket" and params["boot"] == "order=scsi0"
    assert params["vmid"] == 4100 and params["name"] == "cp-1" and "ide2" not in params
    with pytest.raises(PlanError, match="no image"):
        spec(image=None).create_params(SETTINGS, 1)


def test_cloud_init_adds_the_drive_and_ipconfig():
    settings = {**SETTINGS, "cloud_init": True, "gateway": "10.0.1.1", "nameservers": ["1.1.1.1", "8.8.8.8"]}
    params = spec(address="10.0.1.11/24").create_params(settings, 101)
    assert params["ide2"] == "local-lvm:cloudinit" and params["citype"] == "nocloud"
    assert params["ipconfig0"] == "ip=10.0.1.11/24,gw=10.0.1.1"
    assert params["nameserver"] == "1.1.1.1 8.8.8.8"


def test_compare_config_finds_nothing_on_an_equal_vm():
    changes, before, notes = compare_config(spec(), current_config(), SETTINGS)
    assert (changes, before, notes) == ({}, {}, [])
    assert disk_growth(spec(), current_config()) is None


def test_compare_config_reports_real_differences_and_keeps_the_mac():
    config = current_config(cores=1, memory="current=2048", net0="virtio=BC:24:11:00:00:01,bridge=vmbr1")
    changes, before, _notes = compare_config(spec(), config, {**SETTINGS, "vlan": 7})
    assert changes == {"cores": 2, "memory": 4096, "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=7"}
    assert before == {"cores": 1, "memory": "current=2048", "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr1"}


def test_agent_spellings_are_equal():
    for spelling in ("1", "enabled=1", "enabled=1,fstrim_cloned_disks=1", "1,type=virtio"):
        assert compare_config(spec(), current_config(agent=spelling), SETTINGS)[0] == {}
    assert compare_config(spec(), current_config(agent="0"), SETTINGS)[0] == {"agent": "enabled=1"}


def test_extra_tags_are_kept_and_missing_ones_added():
    changes, _before, _notes = compare_config(spec(), current_config(tags="prod;talosforge"), SETTINGS)
    assert changes == {"tags": "cluster-demo;controlplane;prod;talosforge"}


def test_disk_grows_never_shrinks():
    assert disk_growth(spec(disk=40), current_config()) == 40
    _changes, _before, notes = compare_config(spec(disk=10), current_config(), SETTINGS)
    assert notes == ["disk is 20 GiB, more than the wanted 10 GiB: disks are never shrunk"]
    assert disk_growth(spec(disk=10), current_config()) is None


def test_summary_decides_when_the_config_must_be_read():
    vm = Existing(
        101, "pve1", "cp-1", {"talosforge", "cluster-demo", "controlplane"}, "running", 2, 4096 * MIB, 20 * GIB
    )
    assert looks_unchanged(spec(), vm, SETTINGS)
    assert not looks_unchanged(spec(cores=4), vm, SETTINGS)
    assert not looks_unchanged(spec(disk=30), vm, SETTINGS)
    assert not looks_unchanged(spec(), vm, {**SETTINGS, "cloud_init": True})
    vm.tags = {"talosforge"}
    assert not looks_unchanged(spec(), vm, SETTINGS)
    assert not vm.owned_by("demo")


def test_vmids_from_base_or_next_free():
    specs = [spec(name=f"n{i}", index=i) for i in range(3)]
    assert allocate_vmids(specs, set(), 4100, None) == {"n0": 4100, "n1": 4101, "n2": 4102}
    assert allocate_vmids(specs, {100, 101, 103}, None, 100) == {"n0": 102, "n1": 104, "n2": 105}
    specs[1].vmid = 900
    assert allocate_vmids(specs, set(), 4100, None)["n1"] == 900
    with pytest.raises(PlanError, match="VM id 4102 is already used"):
        allocate_vmids(specs, {4102}, 4100, None)


def test_node_facts_shape():
    facts = node_facts(spec(address="10.0.1.11/24"), 4100, "running", "10.0.1.11/24")
    assert facts == {
        "name": "cp-1",
        "role": "controlplane",
        "provider": "proxmox",
        "provider_id": "pve1/4100",
        "location": "pve1",
        "public_ipv4": None,
        "public_ipv6": None,
        "private_ipv4": "10.0.1.11",
        "talos_address": "10.0.1.11",
        "status": "running",
    }


def test_sizes_and_memory():
    assert size_bytes("20G") == 20 * GIB and size_bytes("512M") == 512 * MIB and size_bytes("1.5T") == 1.5 * (1 << 40)
    assert size_bytes("junk") is None
    assert memory_mib("current=4096") == 4096 and memory_mib(2048) == 2048 and memory_mib(None) is None


def test_upids():
    upid = "UPID:pve1:0000A1B2:00C0FFEE:66F00100:qmcreate:100:root@pam!ansible:"
    assert parse_upid(upid)["node"] == "pve1" and parse_upid(upid)["type"] == "qmcreate"
    with pytest.raises(ProxmoxError, match="not a PVE task id"):
        parse_upid("UPID:broken")
    assert succeeded("OK") and succeeded("WARNINGS: 2") and not succeeded("unable to create VM") and not succeeded(None)


def test_error_envelope_keeps_pves_words():
    body = json.dumps({"data": None, "errors": {"memory": "value must have a minimum value of 16"}})
    error = error_from_http(
        HttpError(400, body, "https://pve/api2/json/nodes/pve1/qemu", "Parameter verification failed."), "POST"
    )
    assert error.status == 400 and error.errors == {"memory": "value must have a minimum value of 16"}
    assert "Parameter verification failed." in str(error) and "memory: value must have a minimum" in str(error)
    assert error.failure() == {
        "status": 400,
        "code": None,
        "details": {"errors": {"memory": "value must have a minimum value of 16"}, "task_log": []},
        "request": "POST https://pve/api2/json/nodes/pve1/qemu",
    }
    lock = HttpError(500, '{"data":null}', "u", "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout")
    assert is_lock_timeout(lock) and not is_lock_timeout(HttpError(500, "", "u", "internal error"))


def test_form_encoding_and_base():
    assert encode_form({"a": True, "b": None, "delete": ["x", "y"], "c": 3}) == b"a=1&delete=x%2Cy&c=3"
    assert api_base("https://pve:8006/") == "https://pve:8006/api2/json"
    assert api_base("https://pve:8006/api2/json") == "https://pve:8006/api2/json"


def test_token_id_is_checked():
    with pytest.raises(ProxmoxError, match="user@realm!tokenid"):
        ProxmoxClient(None, "root@pam", "secret")  # type: ignore[arg-type]
    with pytest.raises(ProxmoxError, match="api_token_secret is empty"):
        ProxmoxClient(None, "root@pam!ci", "")  # type: ignore[arg-type]


def test_image_names_encode_the_image_and_the_cluster():
    url = f"http://127.0.0.1:18701/image/{ID}/v1.13.9/metal-amd64.qcow2"
    assert default_filename(url, "talosforge-demo-") == "talosforge-demo-376567988ad3-v1.13.9-metal-amd64.qcow2"
    with pytest.raises(ImagePlanError, match="not an Image Factory URL"):
        default_filename("https://example.org/talos.qcow2", "x-")
    with pytest.raises(ImagePlanError, match=r"images\[0\].*does not end in"):
        images_from_params({"images": [{"url": url, "filename": "a.txt"}], "pve_nodes": ["p"], "content": "import"})


def test_shared_storage_gets_one_copy():
    image = ImageSpec("u", "f.qcow2", None, ["pve1", "pve2"], 0)
    assert [t.pve_node for t in plan_targets([image], "local", "import", False, {})] == ["pve1", "pve2"]
    shared = plan_targets([image], "cephfs", "import", True, {"pve1": {"cephfs:import/f.qcow2"}})
    assert [(t.pve_node, t.present, t.volid) for t in shared] == [("pve1", True, "cephfs:import/f.qcow2")]


class FakeTasks:
    """Answers task status: ``ends`` maps a UPID to the poll at which it stops, with its exit status."""

    def __init__(self, ends: dict):
        self.ends = ends
        self.polls: dict[str, int] = {}
        self.requests = 0

    def get(self, path: str, **params):
        upid = urllib.parse.unquote(path.split("/tasks/")[1].rsplit("/", 1)[0])
        if path.endswith("/log"):
            return [{"n": i, "t": f"line {i}"} for i in range(1, 31)] + [{"n": 31, "t": "TASK ERROR: boom"}]
        self.polls[upid] = self.polls.get(upid, 0) + 1
        at, exitstatus = self.ends.get(upid, (None, None))
        if at is None or self.polls[upid] < at:
            return {"status": "running"}
        return {"status": "stopped", "exitstatus": exitstatus}


def upid(name: str) -> str:
    return f"UPID:pve1:0000A1B2:00C0FFEE:66F00100:qmstart:{name}:root@pam!ci:"


def test_many_tasks_are_polled_together_within_a_bounded_time():
    fake = FakeTasks({upid("1"): (2, "OK"), upid("2"): (3, "WARNINGS: 1"), upid("3"): (1, "start failed: boom")})
    outcomes = wait_tasks(fake, [upid("1"), upid("2"), upid("3"), upid("4")], timeout=0.3, interval=0.01)
    assert outcomes[upid("1")].ok and outcomes[upid("2")].ok
    failed = outcomes[upid("3")]
    assert not failed.ok and failed.exitstatus == "start failed: boom"
    assert failed.log_tail[-1] == "TASK ERROR: boom" and len(failed.log_tail) == 20
    assert "boom" in failed.message()
    stuck = outcomes[upid("4")]
    assert stuck.timed_out and not stuck.ok and "still running" in stuck.message()
    assert fake.polls[upid("3")] == 1  # a stopped task is not polled again


def test_poll_until_gives_up_at_the_deadline():
    clock = iter(range(100))
    calls = []
    results = poll_until([1, 2], calls.append, 3, 1.0, clock=lambda: next(clock), sleep=lambda s: None)
    assert results == [None, None] and 2 <= len(calls) <= 6
