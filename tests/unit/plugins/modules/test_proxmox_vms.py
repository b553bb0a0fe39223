# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.proxmox_vms through main(), against the Proxmox VE simulator with schema validation on."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.proxmox import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.modules import proxmox_talos_image, proxmox_vms, proxmox_vms_info
from module_harness import check_documentation, run_module
from proxmox_lab import Lab, start_lab

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pve_sim = pytest.importorskip("sandbox.simulators.proxmox")
controls = pytest.importorskip("sandbox.simulators.proxmox.controls")


@pytest.fixture
def lab(tmp_path, capsys) -> Iterator[Lab]:
    yield from start_lab(tmp_path, capsys)


@pytest.mark.parametrize("module", [proxmox_vms, proxmox_vms_info])
def test_argument_spec_matches_documentation(module):
    check_documentation(module, ModuleDocFragment)


def test_info_reads_only_the_clusters_vms_with_one_request(lab, capsys):
    run_module(proxmox_vms, lab.args(lab.nodes(2), vmid_base=4100), capsys)
    run_module(proxmox_vms, {**lab.args(lab.nodes(1), vmid_base=4200), "cluster_name": "other"}, capsys)
    before = len(lab.api_log())
    found = run_module(proxmox_vms_info, {**lab.api, "cluster_name": "demo", "_ansible_check_mode": True}, capsys)
    assert found["changed"] is False and found["api_requests"] == 1
    assert [(v["name"], v["vmid"], v["pve_node"], v["status"]) for v in found["vms"]] == [
        ("n1", 4100, "pve1", "running"),
        ("n2", 4101, "pve1", "running"),
    ]
    assert found["vms"][0]["tags"] == ["cluster-demo", "controlplane", "talosforge"]
    assert [r["method"] for r in lab.api_log()[before:]] == ["GET"]
    refused = run_module(proxmox_vms_info, {**lab.api, "api_token_secret": "0" * 36, "cluster_name": "demo"}, capsys)
    assert refused["failed"] is True and refused["failure"]["status"] == 401


def test_create_five_then_rerun_changes_nothing_with_one_request(lab, capsys):
    nodes = lab.nodes(5)
    result = run_module(proxmox_vms, lab.args(nodes, vmid_base=4100), capsys)
    assert result["changed"] is True, result
    assert [v["action"] for v in result["vms"]] == ["create"] * 5
    assert [n["provider_id"] for n in result["nodes"]] == [f"pve1/{4100 + i}" for i in range(5)]
    assert [n["talos_address"] for n in result["nodes"]] == [f"10.5.0.{11 + i}" for i in range(5)]
    assert {n["status"] for n in result["nodes"]} == {"running"}
    assert not [r for r in lab.api_log() if r["status"] >= 400 and "/agent/" not in r["path"]]
    config = lab.pve.app.cluster.nodes["pve1"].vms[4100].config
    assert config["tags"].split(";") == ["cluster-demo", "controlplane", "talosforge"]
    assert config["agent"].startswith("enabled=1") and config["serial0"] == "socket"
    assert "size=10G" in config["scsi0"] and config["net0"].startswith("virtio=")
    before = len(lab.api_log())
    again = run_module(proxmox_vms, lab.args(nodes, vmid_base=4100), capsys)
    assert again["changed"] is False and again["api_requests"] == 1
    assert [r["path"] for r in lab.api_log()[before:]] == ["/api2/json/cluster/resources"]
    assert again["nodes"] == result["nodes"]


def test_memory_cores_and_disk_changes_are_applied_and_shrink_refused(lab, capsys):
    nodes = lab.nodes(2)
    run_module(proxmox_vms, lab.args(nodes), capsys)
    changed = copy.deepcopy(nodes)
    changed[0].update(memory=4096, cores=4, disk=30)
    changed[1].update(disk=5)
    result = run_module(proxmox_vms, lab.args(changed, _ansible_diff=True), capsys)
    assert result["changed"] is True
    first, second = result["vms"]
    assert first["action"] == "update" and first["changes"] == {"cores": 4, "memory": 4096}
    assert first["resize_to_gib"] == 30 and result["reboot_required"] == ["n1"]
    assert second["action"] == "unchanged" and second["resize_to_gib"] is None
    assert "never shrunk" in second["notes"][0]
    assert result["diff"]["before"]["n1"] == {"cores": 2, "memory": "2048"}
    vmid = int(result["nodes"][0]["provider_id"].split("/")[1])
    config = lab.pve.app.cluster.nodes["pve1"].vms[vmid].config
    assert config["cores"] == "4" and config["memory"] == "4096" and "size=30G" in config["scsi0"]
    assert not [r for r in lab.writes() if r["path"].endswith("/status/stop")]  # no reboot done for us
    again = run_module(proxmox_vms, lab.args(changed), capsys)
    assert again["changed"] is False


def test_check_mode_plans_and_writes_nothing(lab, capsys):
    before = len(lab.writes())
    result = run_module(proxmox_vms, lab.args(lab.nodes(3), _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert result["changed"] is True and [v["action"] for v in result["vms"]] == ["create"] * 3
    assert set(result["diff"]["after"]) == {"n1", "n2", "n3"}
    assert len(lab.writes()) == before
    assert lab.pve.app.cluster.nodes["pve1"].vms == {}


def test_a_failed_task_is_reported_with_its_log(lab, capsys):
    controls.fail_next_task(lab.pve.app, "qmstart", "start failed: simulated KVM error")
    result = run_module(proxmox_vms, lab.args(lab.nodes(2)), capsys)
    assert result["failed"] is True
    [failure] = result["failures"]
    assert "start failed: simulated KVM error" in failure["msg"]
    assert any("simulated KVM error" in line for line in failure["failure"]["details"]["task_log"])
    assert "1 of 2 VMs failed" in result["msg"]
    assert sorted(n["status"] for n in result["nodes"]) == ["running", "stopped"]
    healed = run_module(proxmox_vms, lab.args(lab.nodes(2)), capsys)
    assert healed["changed"] is True and [v["action"] for v in healed["vms"]].count("unchanged") == 2


def test_lock_timeout_is_retried(lab, capsys):
    nodes = lab.nodes(1)
    created = run_module(proxmox_vms, lab.args(nodes), capsys)
    vmid = int(created["nodes"][0]["provider_id"].split("/")[1])
    controls.lock_timeout(lab.pve.app, vmid, count=2)
    nodes[0]["memory"] = 3072
    result = run_module(proxmox_vms, lab.args(nodes), capsys)
    assert result["changed"] is True, result
    statuses = [r["status"] for r in lab.writes() if r["path"].endswith(f"/qemu/{vmid}/config")]
    assert statuses == [500, 500, 200]


def test_tls_fails_without_the_ca(lab, capsys):
    args = lab.args(lab.nodes(1))
    del args["ca_path"]
    result = run_module(proxmox_vms, args, capsys)
    assert result["failed"] is True and "TLS error" in result["msg"] and "ca_path" in result["msg"]


def test_a_wrong_token_keeps_pves_message(lab, capsys):
    result = run_module(proxmox_vms, {**lab.args(lab.nodes(1)), "api_token_secret": "wrong"}, capsys)
    assert result["failed"] is True and result["failure"]["status"] == 401 and "invalid token value" in result["msg"]


def test_prune_only_when_told_and_destroy_by_tag(lab, capsys):
    run_module(proxmox_vms, lab.args(lab.nodes(3)), capsys)
    kept = run_module(proxmox_vms, lab.args(lab.nodes(2)), capsys)
    assert kept["changed"] is False and len(kept["orphans"]) == 1 and "(n3)" in kept["orphans"][0]
    assert len(lab.pve.app.cluster.nodes["pve1"].vms) == 3
    pruned = run_module(proxmox_vms, lab.args(lab.nodes(2), prune=True), capsys)
    assert pruned["changed"] is True and pruned["pruned"] == ["n3"]
    assert len(lab.pve.app.cluster.nodes["pve1"].vms) == 2
    planned = run_module(
        proxmox_vms, {**lab.api, "cluster_name": "demo", "state": "absent", "_ansible_check_mode": True}, capsys
    )
    assert planned["changed"] is True and len(planned["removed"]) == 2
    assert len(lab.pve.app.cluster.nodes["pve1"].vms) == 2
    gone = run_module(
        proxmox_vms, {**lab.api, "cluster_name": "demo", "state": "absent", "poll_interval": 0.02}, capsys
    )
    assert gone["changed"] is True and len(gone["removed"]) == 2
    assert lab.pve.app.cluster.nodes["pve1"].vms == {}
    again = run_module(proxmox_vms, {**lab.api, "cluster_name": "demo", "state": "absent"}, capsys)
    assert again["changed"] is False


def test_a_vm_of_the_same_name_without_tags_is_refused(lab, capsys):
    created = run_module(proxmox_vms, lab.args(lab.nodes(1)), capsys)
    vmid = int(created["nodes"][0]["provider_id"].split("/")[1])
    lab.pve.app.cluster.nodes["pve1"].vms[vmid].config["tags"] = "other"
    result = run_module(proxmox_vms, lab.args(lab.nodes(1)), capsys)
    assert result["failed"] is True and "not this cluster's" in result["msg"]


def test_a_full_disk_storage_is_reported_per_vm(lab, capsys):
    controls.set_storage_total(lab.pve.app, "pve1", "local-lvm", full=True)
    result = run_module(proxmox_vms, lab.args(lab.nodes(2)), capsys)
    assert result["failed"] is True and "2 of 2 VMs failed" in result["msg"]
    assert all("full" in f["msg"] or "space" in f["msg"] for f in result["failures"]), result["failures"]


def test_a_parameter_error_keeps_pves_words(lab, capsys):
    result = run_module(proxmox_vms, lab.args(lab.nodes(1, memory=8)), capsys)
    assert result["failed"] is True
    [failure] = result["failures"]
    assert "HTTP 400" in failure["msg"] and "memory" in failure["msg"], failure


def test_an_image_without_the_guest_agent_fails_the_wait_with_a_hint(lab, capsys):
    from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import client_from_params

    bare, _canonical = client_from_params({"url": lab.factory.url}).register_schematic({"customization": {}})
    url = f"{lab.factory.url}/image/{bare}/v1.13.9/metal-amd64.qcow2"
    stored = run_module(proxmox_talos_image, {**lab.api, "images": [{"url": url}], "pve_nodes": ["pve1"]}, capsys)
    nodes = lab.nodes(1)
    nodes[0]["image"] = stored["images"][0]["volid"]
    result = run_module(proxmox_vms, lab.args(nodes, wait_timeout=1), capsys)
    assert result["failed"] is True and "siderolabs/qemu-guest-agent" in result["msg"]
    assert result["nodes"][0]["status"] == "running"
    without_wait = run_module(proxmox_vms, lab.args(nodes, wait_agent=False), capsys)
    assert without_wait["changed"] is False and not without_wait.get("failed")
