# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Proxmox VE write whose answer is lost is carried on within the run, never sent twice blindly: under the
simulator's cut-after-acting fault (PVE does the write and starts its task, the answer never arrives) every write
the collection sends (create, reconfigure, resize, start, destroy, download) ends with one task of its kind per
VM and a successful run; after a 503 or a dropped connection (nothing done) the write is sent again. Runs follow
each other within a second, so a check that looked at task start times instead of the effect would be fooled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ansible_collections.talosforge.cluster.plugins.modules import proxmox_talos_image, proxmox_vms
from module_harness import run_module
from proxmox_lab import Lab, start_lab

VM = r"^/api2/json/nodes/pve1/qemu/\d+"
# write -> (method, path, the PVE task type it starts)
WRITES = {
    "create": ("POST", r"^/api2/json/nodes/pve1/qemu$", "qmcreate"),
    "reconfigure": ("POST", VM + "/config$", "qmconfig"),
    "resize": ("PUT", VM + "/resize$", "resize"),
    "start": ("POST", VM + "/status/start$", "qmstart"),
    "destroy": ("DELETE", VM + "$", "qmdestroy"),
}
FAULTS = {"cut": {"cut_after_acting": True}, "503": {"status": 503}, "drop": {"drop_connection": True}}


def tasks(lab, kind: str) -> list:
    return [task for task in lab.pve.app.tasks.all() if task.type == kind]


@pytest.fixture
def lab(tmp_path, capsys) -> Iterator[Lab]:
    yield from start_lab(tmp_path, capsys)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("write", WRITES)
def test_every_vm_write_rides_out_a_lost_or_refused_answer(lab, capsys, write, fault):
    method, path, kind = WRITES[write]
    if write not in ("create", "start"):
        made_first = run_module(proxmox_vms, lab.args(lab.nodes(2)), capsys)
        assert not made_first.get("failed"), made_first
    before = len(tasks(lab, kind))
    lab.pve.set_fault(method=method, path=path, count=2, **FAULTS[fault])
    result = _again(lab, capsys, write)
    assert not result.get("failed"), result.get("msg")
    spoiled = [r for r in lab.pve.requests() if r.get("fault") and r["method"] == method]
    assert len(spoiled) == 2, spoiled
    made = len(tasks(lab, kind)) - before
    assert made == 2, f"{made} {kind} tasks for 2 VMs"
    if write == "destroy":
        assert lab.pve.app.cluster.nodes["pve1"].vms == {}
    else:
        assert len(lab.pve.app.cluster.nodes["pve1"].vms) == 2
        assert run_module(proxmox_vms, lab.args(_wanted(lab, write)), capsys)["changed"] is False


def _wanted(lab, write: str) -> list:
    nodes = lab.nodes(2)
    for node in nodes:
        if write == "reconfigure":
            node.update(cores=4)
        elif write == "resize":
            node.update(disk=20)
    return nodes


def _again(lab, capsys, write: str) -> dict:
    if write == "destroy":
        return run_module(
            proxmox_vms, {**lab.api, "cluster_name": "demo", "state": "absent", "poll_interval": 0.02}, capsys
        )
    return run_module(proxmox_vms, lab.args(_wanted(lab, write)), capsys)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_download_whose_answer_is_lost_is_not_fetched_twice(lab, capsys, fault):
    before = len(tasks(lab, "download"))
    lab.pve.set_fault(method="POST", path=r"/download-url$", count=1, **FAULTS[fault])
    url = lab.image_url.replace("metal-amd64.qcow2", "nocloud-amd64.qcow2")
    args = {**lab.api, "images": [{"url": url}], "pve_nodes": ["pve1"], "name_prefix": "talosforge-demo-"}
    result = run_module(proxmox_talos_image, {**args, "poll_interval": 0.02}, capsys)
    assert not result.get("failed") and result["changed"] is True, result
    assert len(tasks(lab, "download")) - before == 1
    again = run_module(proxmox_talos_image, {**args, "poll_interval": 0.02}, capsys)
    assert again["changed"] is False
