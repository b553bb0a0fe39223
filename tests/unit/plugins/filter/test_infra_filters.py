# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The provider filters: module input for the play's nodes, and talosforge_infra in the definition's order."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter import hcloud_infra, proxmox_infra

URL_AMD = "https://f/image/aaa/v1.13.9/hcloud-amd64.raw.xz"
URL_ARM = "https://f/image/aaa/v1.13.9/hcloud-arm64.raw.xz"
HCLOUD = {
    "name": "prod",
    "endpoint": {"vip": None, "host": None, "port": 6443, "kind": "load_balancer", "load_balancer": {"type": "lb11"}},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "pool": None, "size": "cx22", "location": "fsn1",
         "address": "10.0.1.11", "image_url": URL_AMD},
        {"name": "w-1", "role": "worker", "pool": "arm", "size": "cax11", "location": "nbg1",
         "address": "10.0.1.21", "image_url": URL_ARM},
        {"name": "w-2", "role": "worker", "pool": "arm", "size": "cax11", "location": "nbg1",
         "address": "10.0.1.22", "image_url": URL_ARM},
    ],
}  # fmt: skip
SNAPSHOTS = {"images": [{"url": URL_ARM, "image_id": 202}, {"url": URL_AMD, "image_id": 101}]}


def fact(name, role, address, provider="hcloud", **extra):
    return {"name": name, "role": role, "provider": provider, "talos_address": address, **extra}


def test_server_specs_join_snapshots_on_the_image_url_in_definition_order():
    specs = hcloud_infra.server_specs(HCLOUD, ["w-1", "cp-1"], SNAPSHOTS, placement_groups=True)
    assert specs == [
        {"name": "cp-1", "role": "controlplane", "pool": None, "server_type": "cx22", "location": "fsn1",
         "image": "101", "private_ipv4": "10.0.1.11", "placement_group": "prod-None"},
        {"name": "w-1", "role": "worker", "pool": "arm", "server_type": "cax11", "location": "nbg1",
         "image": "202", "private_ipv4": "10.0.1.21", "placement_group": "prod-arm"},
    ]  # fmt: skip
    assert hcloud_infra.server_specs(HCLOUD, ["w-2"], SNAPSHOTS["images"])[0]["placement_group"] is None


def test_server_specs_fail_for_a_node_without_snapshot():
    run = hcloud_infra.FilterModule().filters()["hcloud_server_specs"]
    with pytest.raises(AnsibleFilterError, match="hcloud_server_specs: node w-1: no snapshot"):
        run(HCLOUD, ["w-1"], {"images": [{"url": URL_AMD, "image_id": 1}]})
    with pytest.raises(AnsibleFilterError, match="talosforge_cluster"):
        run({"nodes": "x"}, [], SNAPSHOTS)


def test_hcloud_infra_every_known_server_in_definition_order_and_the_load_balancer():
    servers = {
        "nodes": [fact("w-1", "worker", "203.0.113.21")],
        "cluster_nodes": [fact("w-1", "worker", "203.0.113.21"), fact("cp-1", "controlplane", "203.0.113.11")],
    }
    infra = hcloud_infra.infra(HCLOUD, servers, "198.51.100.1")
    assert infra["provider"] == "hcloud"
    assert [n["name"] for n in infra["nodes"]] == ["cp-1", "w-1"]
    assert infra["endpoint"] == {"address": "198.51.100.1", "port": 6443, "kind": "load_balancer"}
    assert hcloud_infra.infra(HCLOUD, servers, endpoint=False)["endpoint"] == {}


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ({"vip": "203.0.113.100", "kind": "floating_ip"}, ("203.0.113.100", "floating_ip")),
        ({"vip": "10.0.1.100", "kind": "vip"}, ("10.0.1.100", "vip")),
        ({"host": "api.example.org", "kind": "host"}, ("api.example.org", "host")),
        ({"kind": "host"}, ("203.0.113.11", "host")),  # the play's first control plane
    ],
)
def test_hcloud_infra_endpoint_address(endpoint, expected):
    cluster = {**HCLOUD, "endpoint": {"port": 6443, **endpoint}}
    servers = {"nodes": [fact("cp-1", "controlplane", "203.0.113.11")], "cluster_nodes": []}
    got = hcloud_infra.infra(cluster, servers)["endpoint"]
    assert (got["address"], got["kind"]) == expected


QCOW = "https://f/image/bbb/v1.13.9/metal-amd64.qcow2"
PROXMOX = {
    "name": "lab",
    "provider": {"type": "proxmox", "settings": {"addressing": "meta"}},
    "network": {"nodes": "10.11.80.0/24"},
    "endpoint": {"vip": "10.11.80.100", "host": None, "port": 6443, "kind": "vip"},
    "nodes": [
        {"name": "cp-1", "role": "controlplane", "location": "pve1", "address": "10.11.80.11",
         "size": {"cores": 2, "memory": 4096, "disk": 20}, "image_url": QCOW},
        {"name": "cp-2", "role": "controlplane", "location": "pve2", "address": "10.11.80.12",
         "size": {"cores": 2, "memory": 4096, "disk": 20}, "image_url": QCOW},
        {"name": "w-1", "role": "worker", "location": "pve1", "address": None,
         "size": {"cores": "4", "memory": 8192, "disk": 40}, "image_url": "https://f/z.qcow2"},
    ],
}  # fmt: skip


def test_proxmox_image_specs_one_per_url_with_its_pve_nodes_and_checksum():
    files = {QCOW: {"download_sha256": "ab" * 32}}
    assert proxmox_infra.image_specs(PROXMOX, ["cp-1", "cp-2", "w-1"], files) == [
        {"url": QCOW, "pve_nodes": ["pve1", "pve2"], "checksum": "sha256:" + "ab" * 32},
        {"url": "https://f/z.qcow2", "pve_nodes": ["pve1"]},
    ]
    assert proxmox_infra.image_specs(PROXMOX, ["w-1"]) == [{"url": "https://f/z.qcow2", "pve_nodes": ["pve1"]}]


def test_proxmox_vm_specs_volumes_by_url_and_cloud_init_prefix():
    images = {"images": [{"url": QCOW, "volid": "local:import/a.qcow2"}, {"url": "https://f/z.qcow2", "volid": "z"}]}
    specs = proxmox_infra.vm_specs(PROXMOX, ["w-1", "cp-1"], images)
    assert specs == [
        {"name": "cp-1", "role": "controlplane", "pve_node": "pve1", "cores": 2, "memory": 4096, "disk": 20,
         "image": "local:import/a.qcow2", "address": "10.11.80.11"},
        {"name": "w-1", "role": "worker", "pve_node": "pve1", "cores": 4, "memory": 8192, "disk": 40, "image": "z"},
    ]  # fmt: skip
    nocloud = {**PROXMOX, "provider": {"type": "proxmox", "settings": {"addressing": "nocloud"}}}
    assert proxmox_infra.vm_specs(nocloud, ["cp-1"], images)[0]["address"] == "10.11.80.11/24"
    run = proxmox_infra.FilterModule().filters()["proxmox_vm_specs"]
    with pytest.raises(AnsibleFilterError, match="no stored image"):
        run(PROXMOX, ["cp-1"], {"images": []})


def test_proxmox_infra_reported_and_static_facts_in_definition_order():
    vms = {"nodes": [fact("cp-2", "controlplane", "10.11.80.12", "proxmox", provider_id="pve2/101")]}
    infra = proxmox_infra.infra(PROXMOX, vms)
    assert [n["name"] for n in infra["nodes"]] == ["cp-1", "cp-2"]  # w-1 has no static address and no report
    assert infra["nodes"][0] == {
        "name": "cp-1", "role": "controlplane", "provider": "proxmox", "provider_id": None, "location": "pve1",
        "public_ipv4": None, "public_ipv6": None, "private_ipv4": "10.11.80.11", "talos_address": "10.11.80.11",
        "status": None,
    }  # fmt: skip
    assert infra["nodes"][1]["provider_id"] == "pve2/101"
    assert infra["endpoint"] == {"address": "10.11.80.100", "port": 6443, "kind": "vip"}
    hostless = {**PROXMOX, "endpoint": {"vip": None, "host": None, "port": 6443, "kind": "host"}}
    assert proxmox_infra.infra(hostless)["endpoint"]["address"] == "10.11.80.11"
    assert proxmox_infra.infra(PROXMOX, endpoint=False)["endpoint"] == {}
