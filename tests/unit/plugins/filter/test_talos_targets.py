# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talos_targets filter: play hosts only, definition or provider addresses, clear failures."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter.talos_targets import talos_targets

NODES = [
    {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "installer_image": "f/i:v1"},
    {"name": "worker-1", "role": "worker", "address": "10.0.1.21"},
    {"name": "worker-2", "role": "worker", "address": None},
]
INFRA = {
    "provider": "hcloud",
    "nodes": [
        {"name": "cp-1", "talos_address": "203.0.113.11"},
        {"name": "worker-1", "talos_address": "203.0.113.21"},
        {"name": "worker-2", "talos_address": "10.0.1.22"},
    ],
}


def test_definition_addresses_for_the_play_hosts_in_model_order():
    assert talos_targets(NODES, ["worker-1", "cp-1"], "/c") == [
        {"name": "cp-1", "address": "10.0.1.11", "role": "controlplane", "image": "f/i:v1", "config": "/c/cp-1.yaml"},
        {"name": "worker-1", "address": "10.0.1.21", "role": "worker", "config": "/c/worker-1.yaml"},
    ]


@pytest.mark.parametrize("infra", [INFRA, INFRA["nodes"]], ids=["facts", "node-list"])
def test_provider_addresses_win(infra):
    targets = talos_targets(NODES, ["cp-1", "worker-2"], infra=infra)
    assert [(t["name"], t["address"]) for t in targets] == [("cp-1", "203.0.113.11"), ("worker-2", "10.0.1.22")]


def test_empty_infra_means_the_definition():
    assert talos_targets(NODES, ["cp-1"], infra={})[0]["address"] == "10.0.1.11"


def test_a_node_without_an_address_fails_naming_it():
    with pytest.raises(AnsibleFilterError, match="worker-2: it has no address"):
        talos_targets(NODES, ["worker-2"])
    with pytest.raises(AnsibleFilterError, match="cp-1: the provider reported no talos_address"):
        talos_targets(NODES, ["cp-1"], infra=[{"name": "worker-1", "talos_address": "x"}])


@pytest.mark.parametrize("nodes,infra", [("nope", None), (NODES, "nope"), (NODES, [1])])
def test_wrong_input_types(nodes, infra):
    with pytest.raises(AnsibleFilterError):
        talos_targets(nodes, ["cp-1"], infra=infra)
