# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The published model: what the roles read instead of deriving it in Jinja, computed once."""

from __future__ import annotations

import copy
import os

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.published import published_model
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster

HCLOUD = {
    "name": "demo",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "hcloud"},
    "network": {"nodes": "10.0.1.0/24"},
    "node_defaults": {"size": "cpx22"},
    "nodes": [{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}],
}
PROXMOX = {
    "name": "lab",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "image_factory": {"cache_dir": "images"},
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1"]}},
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"vip": "10.0.1.100"},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"},
        {"name": "w-1", "role": "worker", "address": "10.0.1.21"},
    ],
}


def publish(base: dict, selected=None, **changes) -> tuple[dict, list]:
    document = copy.deepcopy(base)
    document.update(changes)
    cluster, issues = load_cluster(document)
    assert cluster is not None and not [i for i in issues if i.is_error], issues
    return published_model(cluster, "/srv/inventory", selected)


@pytest.mark.parametrize(
    ("endpoint", "kind", "floating"),
    [
        ({"load_balancer": {"type": "lb11"}}, "load_balancer", None),
        ({"vip": "203.0.113.100"}, "floating_ip", {"address": "203.0.113.100", "type": "ipv4"}),
        ({"vip": "2001:db8::100"}, "floating_ip", {"address": "2001:db8::100", "type": "ipv6"}),
        ({"vip": "10.0.1.100"}, "vip", None),  # inside network.nodes: an alias IP
        ({"host": "api.example.org"}, "host", None),
        ({}, "host", None),
    ],
)
def test_hcloud_endpoint_kind_and_floating_ip(endpoint, kind, floating):
    model, _images = publish(HCLOUD, endpoint=endpoint)
    assert model["endpoint"]["kind"] == kind
    assert model["endpoint"]["floating_ip"] == floating


def test_proxmox_vip_is_never_a_floating_ip_and_there_are_no_hcloud_labels():
    model, _images = publish(PROXMOX, endpoint={"vip": "10.0.1.100"})
    assert (model["endpoint"]["kind"], model["endpoint"]["floating_ip"]) == ("vip", None)
    assert model["provider"]["labels"] is None


def test_hcloud_labels_come_from_the_label_module():
    model, _images = publish(HCLOUD)
    assert model["provider"]["labels"] == {
        "cluster": {"talosforge.io/cluster": "demo", "talosforge.io/managed-by": "talosforge.cluster"},
        "selector": "talosforge.io/cluster=demo,talosforge.io/managed-by=talosforge.cluster",
        "control_plane_selector": (
            "talosforge.io/cluster=demo,talosforge.io/managed-by=talosforge.cluster,talosforge.io/role=controlplane"
        ),
        "role_key": "talosforge.io/role",
        "pool_key": "talosforge.io/pool",
    }


def test_pool_addresses():
    platform = {
        "load_balancer": {
            "type": "metallb",
            "pools": [
                {"name": "ingress-pool", "addresses": ["10.0.1.200-10.0.1.210"]},
                {"name": "dns-pool", "addresses": ["10.0.1.224/28", "10.0.1.240/32"]},
            ],
        },
        "ingress": {"type": "ingress-nginx", "pool": "ingress-pool"},
        "dns": {"powerdns": {"enabled": True, "pool": "dns-pool", "zone": "k8s.example.org"}},
    }
    model, _images = publish(PROXMOX, platform=platform)
    pools = model["platform"]["load_balancer"]["pools"]
    assert [p["first_address"] for p in pools] == ["10.0.1.200", "10.0.1.224"]
    assert model["platform"]["ingress"]["address"] == "10.0.1.200"
    assert model["platform"]["dns"]["powerdns"]["address"] == "10.0.1.224"
    bare, _images = publish(PROXMOX)
    assert bare["platform"]["ingress"]["address"] is None and bare["platform"]["dns"]["powerdns"]["address"] is None


def test_talos_files_cache_dir_and_image_plan():
    model, images = publish(PROXMOX, selected=["w-1"])
    root = os.path.expanduser("~/.talosforge/lab")
    assert model["talos_files"]["dir"] == root
    assert model["talos_files"]["talosconfig"] == f"{root}/configs/talosconfig"
    assert model["image_factory"]["cache_dir"] == "/srv/inventory/images"
    # every node gets its image fields; the plan lists the selected nodes' images only
    assert all(node["image_url"] and node["schematic_id"] and node["installer_image"] for node in model["nodes"])
    assert [image["nodes"] for image in images] == [["w-1"]]
    assert images[0]["url"] == model["nodes"][1]["image_url"]  # the join key of nodes and images


def test_without_images():
    cluster, _issues = load_cluster(copy.deepcopy(PROXMOX))
    model, images = published_model(cluster, "/", with_images=False)
    assert images == [] and "image_url" not in model["nodes"][0]
