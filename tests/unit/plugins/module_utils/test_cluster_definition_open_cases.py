# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cases docs/cluster-definition.md used to leave open, decided and enforced: IPv6 node networks on Hetzner,
two pools with one name, numbers written as text, a service network wider than kube-apiserver accepts, and a
single control plane with no fixed address and no endpoint."""

from __future__ import annotations

import pytest
import yaml
from cluster_definition_cases import changed, errors_at, path_text


# -- IPv6 node networks on Hetzner ------------------------------------------------------------------------------
@pytest.mark.parametrize("nodes", ["fd00:1::/64", "2001:db8::/64"])
def test_hetzner_refuses_an_ipv6_node_network(nodes):
    document = changed("hcloud", ("network",), {"nodes": nodes})
    del document["provider"]["hcloud"]["network_ip_range"]
    errors = errors_at(document)
    assert "network.nodes" in errors, errors
    assert "IPv4" in errors["network.nodes"][0]


def test_hetzner_refuses_an_ipv6_network_range():
    errors = errors_at(changed("hcloud", ("provider", "hcloud", "network_ip_range"), "fd00::/48"))
    assert "provider.hcloud.network_ip_range" in errors, errors
    assert "IPv4" in errors["provider.hcloud.network_ip_range"][0]


def test_proxmox_keeps_ipv6_node_networks():
    document = changed("proxmox", ("network",), {"nodes": "fd00:1::/64"})
    document["endpoint"] = {"vip": "fd00:1::100"}
    for i, node in enumerate(document["nodes"]):
        node["address"] = f"fd00:1::{11 + i}"
    document["node_pools"][0]["first_address"] = "fd00:1::21"
    document["platform"]["load_balancer"]["pools"][0]["addresses"] = ["fd00:1::200/128"]
    assert "network.nodes" not in errors_at(document)


# -- two pools with one name ------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [0, 2])
def test_two_node_pools_with_one_name_are_refused_naming_both(count):
    document = changed("hcloud", ("node_pools", 1, "name"), "cp")
    document["node_pools"][1]["count"] = count
    errors = errors_at(document)
    assert "node_pools[1].name" in errors, errors
    assert any("node_pools[0]" in message for message in errors["node_pools[1].name"]), errors


def test_two_load_balancer_pools_with_one_name_are_refused_naming_both():
    pools = ("platform", "load_balancer", "pools")
    document = changed("proxmox", pools, [{"name": "a", "addresses": ["10.0.1.200/32"]}] * 2)
    document["platform"]["load_balancer"]["pools"][1] = {"name": "a", "addresses": ["10.0.1.201/32"]}
    document["platform"]["ingress"]["pool"] = "a"
    errors = errors_at(document)
    where = "platform.load_balancer.pools[1].name"
    assert where in errors and "platform.load_balancer.pools[0]" in errors[where][0], errors


# -- numbers written as text ------------------------------------------------------------------------------------
NUMBERS = [
    ("proxmox", ("node_pools", 0, "count")),
    ("hcloud", ("node_pools", 0, "count")),
    ("proxmox", ("provider", "proxmox", "vlan")),
    ("proxmox", ("provider", "proxmox", "vmid_base")),
    ("proxmox", ("endpoint", "port")),
    ("proxmox", ("node_defaults", "size", "cores")),
    ("proxmox", ("node_defaults", "size", "memory")),
    ("proxmox", ("node_defaults", "size", "disk")),
    ("proxmox", ("platform", "ingress", "replicas")),
]


def test_yaml_reads_a_quoted_number_as_text():
    """What an inventory file hands over: "3" in quotes is a string, 3 is a number."""
    assert yaml.safe_load('count: "3"') == {"count": "3"}
    assert yaml.safe_load("count: 3") == {"count": 3}


@pytest.mark.parametrize("written", ["3", " 3", "20"])
@pytest.mark.parametrize("base, path", NUMBERS, ids=[f"{b}:{path_text(p)}" for b, p in NUMBERS])
def test_a_number_written_as_text_is_refused(base, path, written):
    errors = errors_at(changed(base, path, written))
    where = path_text(path)
    assert where in errors, f"{written!r} at {where} was accepted; errors: {errors}"
    assert any("as a number" in message for message in errors[where]), errors[where]


# -- the service network ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("services", ["172.0.0.0/11", "172.0.0.0/8", "fd00:10::/107", "fd00::/64"])
def test_a_service_network_wider_than_kube_apiserver_accepts_is_an_error(services):
    errors = errors_at(changed("proxmox", ("network", "services"), services))
    assert "network.services" in errors, errors
    assert "kube-apiserver" in errors["network.services"][0]


@pytest.mark.parametrize("services", ["172.16.0.0/12", "10.96.0.0/16", "fd00:10:96::/108", "fd00:10:96::/112"])
def test_a_service_network_kube_apiserver_accepts_has_no_error(services):
    assert "network.services" not in errors_at(changed("proxmox", ("network", "services"), services))


# -- one control plane, no fixed address, no endpoint -----------------------------------------------------------
def _single_hcloud(**endpoint):
    document = changed("hcloud", ("node_pools", 0, "count"), 1)
    del document["node_pools"][0]["locations"]
    document["endpoint"] = endpoint or None
    return document


def test_a_single_hetzner_control_plane_without_an_endpoint_is_refused():
    errors = errors_at(_single_hcloud())
    assert "endpoint" in errors, errors
    assert "endpoint.load_balancer" in errors["endpoint"][0] or "endpoint.host" in errors["endpoint"][0]


def test_a_single_dhcp_control_plane_without_an_endpoint_is_refused():
    document = changed("proxmox", ("provider", "proxmox", "addressing"), "dhcp")
    document["node_defaults"]["meta"] = []
    document["nodes"] = [{"name": "cp-1", "role": "controlplane"}]
    del document["node_pools"][0]["first_address"]
    document["platform"] = None
    document["endpoint"] = None
    errors = errors_at(document)
    assert "endpoint" in errors, errors


@pytest.mark.parametrize(
    "endpoint", [{"host": "k8s.example.org"}, {"load_balancer": {"type": "lb11"}}, {"vip": "203.0.113.7"}]
)
def test_a_single_hetzner_control_plane_with_an_endpoint_is_accepted(endpoint):
    assert "endpoint" not in errors_at(_single_hcloud(**endpoint))


def test_a_single_control_plane_with_a_fixed_address_needs_no_endpoint():
    document = changed("proxmox", ("nodes",), [{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}])
    document["endpoint"] = None
    assert errors_at(document) == {}


@pytest.mark.parametrize("address", [None, "10.0.9.300", "10.0.2.11"])
def test_a_single_control_plane_whose_address_is_already_refused_gets_no_second_error(address):
    node = {"name": "cp-1", "role": "controlplane", "address": address}
    document = changed("proxmox", ("nodes",), [node])
    document["endpoint"] = None
    errors = errors_at(document)
    assert "nodes[0].address" in errors, errors
    assert "endpoint" not in errors, errors
