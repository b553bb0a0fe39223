"""The cluster inventory plugin: hosts and groups from a definition, as ansible-inventory shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.published import published_model
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster

REPO = Path(__file__).resolve().parents[4]
COLLECTIONS = REPO / ".build" / "collections"
SEED_INVENTORIES = sorted(p for p in (REPO / "inventories").glob("*/cluster.talosforge.yml"))


def ansible_inventory(path: Path, *args: str) -> dict:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def write_inventory(tmp_path: Path, cluster: dict) -> Path:
    path = tmp_path / "lab.talosforge.yml"
    path.write_text(yaml.safe_dump({"plugin": "talosforge.cluster.cluster", "cluster": cluster}), encoding="utf-8")
    return path


LAB = {
    "name": "lab",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "image_factory": {"cache_dir": "images"},
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1"]}},
    "network": {"nodes": "10.20.0.0/24"},
    "endpoint": {"vip": "10.20.0.5"},
    "node_pools": [
        {"name": "cp", "role": "controlplane", "count": 3, "first_address": "10.20.0.11"},
        {"name": "big-workers", "role": "worker", "count": 2, "first_address": "10.20.0.21"},
    ],
    "nodes": [{"name": "gpu", "role": "worker", "address": "10.20.0.31", "labels": {"gpu": "yes"}}],
}


def test_groups_by_role_and_pool(tmp_path):
    inventory = ansible_inventory(write_inventory(tmp_path, LAB), "--list")
    assert inventory["talos"]["children"] == ["controlplane", "worker", "pool_cp", "pool_big_workers"]
    assert inventory["controlplane"]["hosts"] == ["cp-1", "cp-2", "cp-3"]
    assert inventory["worker"]["hosts"] == ["gpu", "big-workers-1", "big-workers-2"]
    assert inventory["pool_big_workers"]["hosts"] == ["big-workers-1", "big-workers-2"]


def test_host_vars_carry_the_node_and_the_resolved_cluster(tmp_path):
    path = write_inventory(tmp_path, LAB)
    host = ansible_inventory(path, "--host", "gpu")
    assert host["ansible_connection"] == "local"
    assert host["talosforge_node"]["address"] == "10.20.0.31"
    assert host["talosforge_node"]["labels"] == {"gpu": "yes"}
    assert host["talosforge_cluster"]["endpoint"]["url"] == "https://10.20.0.5:6443"
    assert host["talosforge_definition"] == LAB
    # A relative cache folder is taken from the inventory file's folder.
    assert host["talosforge_cluster"]["image_factory"]["cache_dir"] == str(tmp_path / "images")


def test_the_inventory_publishes_the_same_model_as_the_definition_role(tmp_path):
    """talosforge_node has the image fields docs/cluster-definition.md promises; the derived values are there."""
    host = ansible_inventory(write_inventory(tmp_path, LAB), "--host", "gpu")
    node = host["talosforge_node"]
    assert node["image_url"].endswith("metal-amd64.qcow2") and node["schematic_id"] and node["installer_image"]
    cluster, _issues = load_cluster(LAB)
    assert cluster is not None
    model, _images = published_model(cluster, str(tmp_path))
    assert host["talosforge_cluster"] == model
    assert host["talosforge_cluster"]["endpoint"]["kind"] == "vip"


def test_limit_to_one_group_selects_its_hosts(tmp_path):
    path = write_inventory(tmp_path, LAB)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "-i", str(path), "controlplane", "--list-hosts"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [line.strip() for line in done.stdout.splitlines()[1:]] == ["cp-1", "cp-2", "cp-3"]


def test_keyed_groups_from_constructed_options(tmp_path):
    path = write_inventory(tmp_path, LAB)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["keyed_groups"] = [{"key": "talosforge_node.labels.gpu | default('no')", "prefix": "gpu"}]
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    inventory = ansible_inventory(path, "--list")
    assert inventory["gpu_yes"]["hosts"] == ["gpu"]


def test_an_invalid_definition_still_loads_so_the_site_playbook_can_report_every_problem(tmp_path):
    broken = {**LAB, "network": {"nodes": "10.20.0.0/24", "pods": "10.20.0.0/16"}}
    inventory = ansible_inventory(write_inventory(tmp_path, broken), "--list")
    assert inventory["controlplane"]["hosts"] == ["cp-1", "cp-2", "cp-3"]
    assert "image_url" not in inventory["_meta"]["hostvars"]["cp-1"]["talosforge_node"]  # no image plan with errors


def test_a_definition_that_is_not_a_mapping_is_refused_with_its_reason(tmp_path):
    path = tmp_path / "bad.talosforge.yml"
    path.write_text("plugin: talosforge.cluster.cluster\ncluster: [not, a, mapping]\n", encoding="utf-8")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "cluster" in done.stderr


@pytest.mark.parametrize("path", SEED_INVENTORIES, ids=lambda p: p.parent.name)
def test_every_example_inventory_loads_with_its_nodes(path):
    inventory = ansible_inventory(path, "--list")
    definition = yaml.safe_load(path.read_text(encoding="utf-8"))["cluster"]
    expected = len(definition.get("nodes", [])) + sum(p["count"] for p in definition.get("node_pools", []))
    hosts = set(inventory.get("controlplane", {}).get("hosts", [])) | set(inventory.get("worker", {}).get("hosts", []))
    assert len(hosts) == expected
    assert inventory["controlplane"]["hosts"]
