# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static addresses on Proxmox: META key 10 in each node's schematic (metal) or cloud-init (nocloud)."""

from __future__ import annotations

import copy
import json

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.static_addressing import network_config
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import schematic_id

BASE = {
    "name": "test-cluster",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://atlas:8006", "nodes": ["atlas"]}},
    "network": {"nodes": "10.0.0.0/16", "gateway": "10.0.0.1", "nameservers": ["10.0.0.1"]},
    "endpoint": {"vip": "10.0.3.1"},
    "node_defaults": {"extensions": ["siderolabs/qemu-guest-agent", "siderolabs/tailscale"]},
    "nodes": [
        {"name": "controlplane0", "role": "controlplane", "address": "10.0.1.1"},
        {"name": "worker0", "role": "worker", "address": "10.0.2.1"},
    ],
}


def load(**proxmox):
    document = copy.deepcopy(BASE)
    document["provider"]["proxmox"].update(proxmox)
    cluster, issues = load_cluster(document)
    return cluster, [issue for issue in issues if issue.is_error]


def meta_value(node) -> dict:
    [entry] = [m for m in node.schematic["customization"]["meta"] if m["key"] == 10]
    return json.loads(entry["value"])


def test_meta_addressing_puts_each_nodes_network_into_its_schematic():
    cluster, errors = load(addressing="meta")
    assert not errors
    cp, worker = cluster.nodes
    assert cp.platform == "metal"
    assert meta_value(cp) == {
        "addresses": [
            {
                "address": "10.0.1.1/16",
                "linkName": "ens18",
                "family": "inet4",
                "scope": "global",
                "flags": "permanent",
                "layer": "platform",
            }
        ],
        "links": [{"name": "ens18", "up": True, "layer": "platform"}],
        "routes": [
            {
                "family": "inet4",
                "gateway": "10.0.0.1",
                "outLinkName": "ens18",
                "table": "main",
                "priority": 1024,
                "scope": "global",
                "type": "unicast",
                "protocol": "static",
                "layer": "platform",
            }
        ],
        "hostnames": [{"hostname": "controlplane0", "layer": "platform"}],
        "resolvers": [{"dnsServers": ["10.0.0.1"], "layer": "platform"}],
    }
    assert meta_value(worker)["addresses"][0]["address"] == "10.0.2.1/16"
    # Per-node images: different schematics, and the extensions are still there.
    assert schematic_id(cp.schematic) != schematic_id(worker.schematic)
    assert cp.schematic["customization"]["systemExtensions"]["officialExtensions"] == [
        "siderolabs/qemu-guest-agent",
        "siderolabs/tailscale",
    ]
    assert cp.to_dict()["meta"][0]["key"] == 10
    assert cp.source("meta") == "provider.proxmox.addressing"


def test_the_generated_value_is_stable_so_the_schematic_id_is():
    first, _unused = load(addressing="meta")
    second, _unused = load(addressing="meta")
    assert [schematic_id(n.schematic) for n in first.nodes] == [schematic_id(n.schematic) for n in second.nodes]


def test_interface_setting_names_the_link():
    cluster, errors = load(addressing="meta", interface="eth0")
    assert not errors
    config = meta_value(cluster.nodes[0])
    assert config["links"] == [{"name": "eth0", "up": True, "layer": "platform"}]
    assert config["routes"][0]["outLinkName"] == "eth0"
    assert cluster.to_dict()["provider"]["settings"]["interface"] == "eth0"


def test_a_nodes_own_meta_10_wins_over_the_generated_one():
    document = copy.deepcopy(BASE)
    document["provider"]["proxmox"]["addressing"] = "meta"
    document["nodes"][1]["meta"] = [{"key": "0xa", "value": "links: []"}, {"key": 12, "value": "x"}]
    cluster, issues = load_cluster(document)
    assert not [i for i in issues if i.is_error]
    worker = cluster.nodes[1]
    assert worker.schematic["customization"]["meta"] == [{"key": 10, "value": "links: []"}, {"key": 12, "value": "x"}]


def test_nocloud_uses_the_nocloud_image_without_meta_and_refuses_meta_10():
    cluster, errors = load(addressing="nocloud")
    assert not errors
    assert all(n.platform == "nocloud" and "meta" not in n.schematic["customization"] for n in cluster.nodes)
    assert cluster.to_dict()["provider"]["settings"]["addressing"] == "nocloud"
    document = copy.deepcopy(BASE)
    document["provider"]["proxmox"]["addressing"] = "cloud-init"  # the earlier spelling reads as nocloud
    document["node_defaults"]["meta"] = [{"key": 10, "value": "links: []"}]
    cluster, issues = load_cluster(document)
    errors = [i for i in issues if i.is_error]
    assert cluster.provider.proxmox.addressing == "nocloud"
    assert [e.path for e in errors] == ["node_defaults.meta", "node_defaults.meta"]
    assert "metal platform only" in errors[0].message


def test_dhcp_adds_nothing():
    cluster, errors = load(addressing="dhcp")
    assert not errors
    assert all("meta" not in n.schematic["customization"] for n in cluster.nodes)


def test_ipv6_network_config():
    config = network_config("fd00::11", "fd00::/64", "fd00::1", ["fd00::53"], "ens18", None)
    assert config["addresses"][0] == {
        "address": "fd00::11/64",
        "linkName": "ens18",
        "family": "inet6",
        "scope": "global",
        "flags": "permanent",
        "layer": "platform",
    }
    assert config["routes"][0]["family"] == "inet6" and config["routes"][0]["priority"] == 2048
    assert "hostnames" not in config
