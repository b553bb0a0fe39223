# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.cluster_definition through main(): the published model, the image plan, issues on failure."""

from __future__ import annotations

from ansible_collections.talosforge.cluster.plugins.modules import cluster_definition as module
from module_harness import check_documentation, run_module

DEFINITION = {
    "name": "lab",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1"]}},
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"vip": "10.0.1.100"},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"},
        {"name": "cp-2", "role": "controlplane", "address": "10.0.1.12"},
        {"name": "w-1", "role": "worker", "address": "10.0.1.21"},
    ],
}


def test_argument_spec_matches_documentation():
    spec = check_documentation(module)
    assert spec["fail_on_warnings"]["default"] is False


def test_model_and_plan_with_warnings(capsys, tmp_path):
    source = tmp_path / "cluster.talosforge.yml"
    result = run_module(module, {"definition": DEFINITION, "source": str(source), "selected_nodes": ["w-1"]}, capsys)
    assert result["changed"] is False
    assert result["cluster"]["endpoint"]["kind"] == "vip"
    assert result["cluster"]["talos_files"]["configs"].endswith("/.talosforge/lab/configs")
    assert [image["nodes"] for image in result["images"]] == [["w-1"]]
    assert [issue["level"] for issue in result["issues"]] == ["warning"]  # two control planes


def test_failure_carries_every_issue(capsys):
    result = run_module(module, {"definition": DEFINITION, "fail_on_warnings": True}, capsys)
    assert result["failed"] and "control" in result["msg"]
    assert result["issues"][0]["level"] == "warning"
    result = run_module(module, {"definition": {**DEFINITION, "network": {"nodes": "nope"}}}, capsys)
    assert result["failed"] and any(issue["path"] == "network.nodes" for issue in result["issues"])
