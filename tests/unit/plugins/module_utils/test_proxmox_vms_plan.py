# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure plan of proxmox_vms (_proxmox/vms_plan.py): what is read, and what is decided from it, with no server."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vm_spec import (
    GIB,
    MIB,
    PlanError,
    VmSpec,
    specs_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.vms_plan import (
    Existing,
    configs_to_read,
    diff,
    needs_next_id,
    plan,
    step_result,
)

SETTINGS = {"cluster": "demo", "storage": "local-lvm", "bridge": "vmbr0", "vlan": None, "start": True}
TAGS = {"talosforge", "cluster-demo"}


def spec(name: str, index: int = 0, **changes) -> VmSpec:
    values = {"role": "worker", "pve_node": "pve1", "cores": 2, "memory": 2048, "disk": 10}
    values.update(image="local:import/talos.qcow2", address=f"10.5.0.{11 + index}", index=index)
    values.update(changes)
    return VmSpec(name=name, **values)


def vm(name: str, vmid: int, role: str = "worker", status: str = "running", **changes) -> Existing:
    """A VM as /cluster/resources shows it, by default exactly as ``spec(name)`` wants it."""
    values = {"pve_node": "pve1", "tags": TAGS | {role}, "status": status}
    values.update(maxcpu=2, maxmem=2048 * MIB, maxdisk=10 * GIB)
    values.update(changes)
    return Existing(vmid=vmid, name=name, **values)


def config(**changes) -> dict:
    """A VM's /config as PVE answers it, matching ``spec(...)``."""
    values = {
        "cores": 2,
        "memory": "2048",
        "tags": "cluster-demo;talosforge;worker",
        "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0",
        "agent": "enabled=1",
        "serial0": "socket",
        "onboot": 1,
        "scsi0": "local-lvm:vm-101-disk-0,discard=on,iothread=1,size=10G,ssd=1",
    }
    values.update(changes)
    return values


def test_a_new_cluster_reads_nothing_but_the_next_free_id():
    specs = [spec(f"n{i}", i) for i in range(3)]
    others = [Existing(100, "pve1", "dns", {"prod"}, "running"), Existing(102, "pve1", "web", set(), "stopped")]
    assert configs_to_read(specs, others, SETTINGS) == []
    assert needs_next_id(specs, others, SETTINGS)
    steps, orphans = plan(specs, others, {}, 100, SETTINGS)
    assert [(s.spec.name, s.action, s.vmid, s.start) for s in steps] == [
        ("n0", "create", 101, True),
        ("n1", "create", 103, True),
        ("n2", "create", 104, True),
    ]
    assert orphans == []
    assert [step_result(s)["changed"] for s in steps] == [True] * 3
    assert diff(steps, [])["after"]["n1"] == {"vmid": 103, "pve_node": "pve1", "status": "running"}
    assert diff(steps, [])["before"] == {"n0": None, "n1": None, "n2": None}


def test_vmid_base_and_own_ids_need_no_next_id():
    specs = [spec("n0", 0), spec("n1", 1, vmid=900)]
    settings = {**SETTINGS, "vmid_base": 4100}
    assert not needs_next_id(specs, [], settings)
    assert not needs_next_id([spec("n1", 1, vmid=900)], [], SETTINGS)
    steps, _orphans = plan(specs, [], {}, None, settings)
    assert [s.vmid for s in steps] == [4100, 900]
    with pytest.raises(PlanError, match="VM id 4100 is already used"):
        plan(specs, [Existing(4100, "pve1", "other", set(), "running")], {}, None, settings)


def test_an_unchanged_cluster_reads_no_config_and_starts_only_what_is_stopped():
    specs = [spec("n0", 0), spec("n1", 1)]
    vms = [vm("n0", 201), vm("n1", 202, status="stopped")]
    assert configs_to_read(specs, vms, SETTINGS) == []
    assert not needs_next_id(specs, vms, SETTINGS)
    steps, orphans = plan(specs, vms, {}, None, SETTINGS)
    assert [(s.action, s.vmid, s.start, s.changed) for s in steps] == [
        ("unchanged", 201, False, False),
        ("unchanged", 202, True, True),
    ]
    assert orphans == []
    assert diff(steps, []) == {"before": {"n1": {"status": "stopped"}}, "after": {"n1": {"status": "running"}}}
    held, _orphans = plan(specs, vms, {}, None, {**SETTINGS, "start": False})
    assert [s.start for s in held] == [False, False]


def test_a_difference_in_the_summary_reads_that_config_and_plans_the_change():
    specs = [spec("n0", 0, cores=4), spec("n1", 1, disk=20)]
    vms = [vm("n0", 201), vm("n1", 202, status="stopped")]
    assert [v.vmid for v in configs_to_read(specs, vms, SETTINGS)] == [201, 202]
    configs = {201: config(), 202: config()}
    steps, _orphans = plan(specs, vms, configs, None, SETTINGS)
    first, second = steps
    assert (first.action, first.changes, first.before) == ("update", {"cores": 4}, {"cores": 2})
    assert first.notes == ["takes effect when the VM is rebooted (PVE keeps the change pending until then)"]
    assert (second.action, second.changes, second.resize_to, second.start) == ("unchanged", {}, 20, True)
    assert diff(steps, [])["after"] == {"n0": {"cores": 4}, "n1": {"disk_gib": 20, "status": "running"}}


def test_a_larger_disk_is_never_shrunk_and_only_noted():
    specs = [spec("n0", 0, disk=5)]
    vms = [vm("n0", 201)]
    [step], _orphans = plan(specs, vms, {201: config()}, None, SETTINGS)
    assert step.action == "unchanged" and step.resize_to is None
    assert step.notes == ["disk is 10 GiB, more than the wanted 5 GiB: disks are never shrunk"]


def test_cloud_init_always_reads_the_config():
    specs = [spec("n0", 0)]
    settings = {**SETTINGS, "cloud_init": True, "gateway": "10.5.0.1"}
    assert [v.vmid for v in configs_to_read(specs, [vm("n0", 201)], settings)] == [201]
    [step], _orphans = plan(specs, [vm("n0", 201)], {201: config()}, None, settings)
    assert step.changes == {"ipconfig0": "ip=10.5.0.11,gw=10.5.0.1"}


def test_the_clusters_vms_outside_the_list_are_orphans_and_others_are_left_alone():
    specs = [spec("n0", 0)]
    vms = [vm("n0", 201), vm("n1", 202), Existing(300, "pve1", "n9", {"talosforge", "cluster-prod"}, "running")]
    steps, orphans = plan(specs, vms, {}, None, SETTINGS)
    assert [s.action for s in steps] == ["unchanged"] and [o.vmid for o in orphans] == [202]
    assert diff(steps, ["n1"]) == {"before": {"n1": {"status": "exists"}}, "after": {"n1": None}}


def test_a_vm_on_another_pve_node_is_kept_with_a_note():
    [step], _orphans = plan([spec("n0", 0)], [vm("n0", 201, pve_node="pve2")], {201: config()}, None, SETTINGS)
    assert step.vmid == 201 and step.notes[0] == "the VM runs on pve2, not pve1; migrate it to move it"
    assert step_result(step)["pve_node"] == "pve2"


def test_a_foreign_vm_of_a_nodes_name_is_refused_before_any_config_is_read():
    specs = [spec("n0", 0)]
    vms = [Existing(150, "pve1", "n0", {"worker"}, "running")]
    for decide in (
        lambda: configs_to_read(specs, vms, SETTINGS),
        lambda: needs_next_id(specs, vms, SETTINGS),
        lambda: plan(specs, vms, {}, 100, SETTINGS),
    ):
        with pytest.raises(PlanError, match="VM 150 on pve1 has that name but not the tags"):
            decide()


def test_two_vms_of_the_cluster_with_one_name_are_refused():
    vms = [vm("n0", 201), vm("n0", 202)]
    with pytest.raises(PlanError, match=r'two VMs of cluster "demo" are named "n0" \(201 and 202\)'):
        configs_to_read([spec("n0", 0)], vms, SETTINGS)


def test_a_new_vm_needs_an_image():
    with pytest.raises(PlanError, match='node "n0": no image to import the disk from'):
        plan([spec("n0", 0, image=None)], [], {}, 100, SETTINGS)


def test_the_node_list_is_checked_entry_by_entry():
    params = {
        "state": "present",
        "cloud_init": True,
        "nodes": [
            {"name": "a", "pve_node": "pve1", "cores": 0, "memory": 2048, "disk": 10, "image": "x"},
            {"name": "a", "pve_node": "pve1", "cores": 2, "memory": 2048, "disk": 10},
            {"name": "b", "pve_node": "pve1", "cores": 2, "memory": 2048, "disk": 10},
        ],
    }
    with pytest.raises(InputError) as caught:
        specs_from_params(params)
    text = str(caught.value)
    assert "nodes[0].cores: must be a positive number" in text and "nodes[0].address" in text
    assert 'nodes[1]: node "a" is listed twice' in text
    assert "nodes[2].image: is required" in text and "nodes[2].address" in text
