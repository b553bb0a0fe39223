# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resolved model: inheritance, pool expansion, derived values and the shape of to_dict()."""

from __future__ import annotations

import copy
import json

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.model import Cluster
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.resolve import build_schematic
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster

PROXMOX = {
    "name": "demo",
    "talos_version": "v1.13.9",
    "kubernetes_version": "v1.34.1",
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1", "pve2"]}},
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"vip": "10.0.1.100"},
}
HCLOUD = {
    "name": "demo",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "hcloud"},
    "network": {"nodes": "10.0.1.0/24"},
    # A Hetzner server's address is known only once it exists: a single control plane needs an endpoint.
    "endpoint": {"host": "k8s.example.org"},
    "node_defaults": {"size": "cpx22"},
}


def load(base: dict, **changes) -> tuple[Cluster, list]:
    document = copy.deepcopy(base)
    document.update(changes)
    cluster, issues = load_cluster(document)
    assert cluster is not None
    errors = [i for i in issues if i.is_error]
    assert not errors, errors
    return cluster, issues


def by_name(cluster: Cluster) -> dict:
    return {node.name: node for node in cluster.nodes}


def test_node_false_wins_over_group_true_and_none_inherits():
    # A list set to [] on a node is "set": it replaces the group's list. Absent (None) inherits.
    cluster, _unused = load(
        PROXMOX,
        worker={"extensions": ["siderolabs/iscsi-tools"], "taints": ["dedicated=db:NoSchedule"]},
        nodes=[
            {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"},
            {"name": "w-1", "role": "worker", "address": "10.0.1.21", "extensions": [], "taints": None},
            {"name": "w-2", "role": "worker", "address": "10.0.1.22"},
        ],
    )
    nodes = by_name(cluster)
    assert nodes["w-1"].extensions == []
    assert nodes["w-1"].taints == ["dedicated=db:NoSchedule"]
    assert nodes["w-2"].extensions == ["siderolabs/iscsi-tools"]
    assert nodes["cp-1"].extensions == []


def test_boolean_false_over_group_true_in_settings():
    cluster, _unused = load(
        HCLOUD,
        allow_scheduling_on_control_planes=False,
        platform={"cni": {"type": "cilium", "kube_proxy_replacement": False}},
        nodes=[{"name": "cp-1", "role": "controlplane"}, {"name": "w-1", "role": "worker"}],
    )
    assert cluster.platform.kube_proxy_replacement is False
    assert cluster.allow_scheduling_on_control_planes is False


def test_most_specific_scalar_wins():
    cluster, _unused = load(
        HCLOUD,
        control_plane={"size": "ccx13", "install_disk": "/dev/sdb"},
        node_pools=[{"name": "w", "role": "worker", "count": 1, "size": "cax21"}],
        nodes=[{"name": "cp-1", "role": "controlplane", "install_disk": "/dev/nvme0n1"}],
    )
    nodes = by_name(cluster)
    assert nodes["cp-1"].size == "ccx13"
    assert nodes["cp-1"].install_disk == "/dev/nvme0n1"
    assert nodes["w-1"].size == "cax21"
    assert nodes["w-1"].arch == "arm64"
    assert nodes["w-1"].install_disk == "/dev/sda"


def test_labels_merge_key_by_key_and_specific_wins():
    cluster, _unused = load(
        PROXMOX,
        node_defaults={"labels": {"a": "defaults", "b": "defaults", "c": "defaults"}},
        worker={"labels": {"b": "worker"}},
        node_pools=[{"name": "p", "role": "worker", "count": 1, "first_address": "10.0.1.50", "labels": {"c": "pool"}}],
        nodes=[{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "labels": {"a": "node"}}],
    )
    nodes = by_name(cluster)
    assert nodes["p-1"].labels == {"a": "defaults", "b": "worker", "c": "pool"}
    assert nodes["cp-1"].labels == {"a": "node", "b": "defaults", "c": "defaults"}


def test_patches_add_up_in_documented_order():
    def patch(tag: str) -> dict:
        return {"machine": {"nodeLabels": {"from": tag}}}

    cluster, _unused = load(
        PROXMOX,
        patches=[patch("cluster")],
        node_defaults={"patches": [patch("defaults")]},
        worker={"patches": [patch("worker")]},
        control_plane={"patches": [patch("control_plane")]},
        node_pools=[
            {"name": "p", "role": "worker", "count": 1, "first_address": "10.0.1.50", "patches": ["machine: {}\n"]}
        ],
        nodes=[{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "patches": [patch("node")]}],
    )
    nodes = by_name(cluster)
    tags = [p["machine"]["nodeLabels"]["from"] for p in nodes["cp-1"].patches]
    assert tags == ["cluster", "defaults", "control_plane", "node"]
    assert nodes["p-1"].patches[:3] == [patch("cluster"), patch("defaults"), patch("worker")]
    assert nodes["p-1"].patches[3] == "machine: {}\n"
    assert cluster.to_dict()["patches"] == [patch("cluster")]


def test_proxmox_size_merges_with_defaults():
    cluster, _unused = load(
        PROXMOX,
        node_defaults={"size": {"cores": 4}},
        worker={"size": {"memory": 16384}},
        node_pools=[{"name": "w", "role": "worker", "count": 1, "first_address": "10.0.1.50", "size": {"disk": 100}}],
        nodes=[{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}],
    )
    nodes = by_name(cluster)
    assert nodes["w-1"].size == {"cores": 4, "memory": 16384, "disk": 100}
    assert nodes["cp-1"].size == {"cores": 4, "memory": 4096, "disk": 20}


def test_pool_expansion():
    cluster, _unused = load(
        HCLOUD,
        endpoint={"load_balancer": {"type": "lb11"}},
        nodes=[{"name": "extra", "role": "worker", "address": "10.0.1.99", "location": "hel1"}],
        node_pools=[
            {"name": "cp", "role": "controlplane", "count": 3, "first_address": "10.0.1.11"},
            {"name": "w", "role": "worker", "count": 4, "first_address": "10.0.1.20", "locations": ["fsn1", "nbg1"]},
            {"name": "none", "role": "worker", "count": 0},
        ],
    )
    nodes = cluster.nodes
    assert [n.name for n in nodes] == ["extra", "cp-1", "cp-2", "cp-3", "w-1", "w-2", "w-3", "w-4"]
    assert [str(n.address) for n in nodes[4:]] == ["10.0.1.20", "10.0.1.21", "10.0.1.22", "10.0.1.23"]
    assert [n.location for n in nodes[4:]] == ["fsn1", "nbg1", "fsn1", "nbg1"]
    assert [n.index for n in nodes[4:]] == [0, 1, 2, 3]
    assert {n.pool for n in nodes[4:]} == {"w"}
    assert nodes[0].pool is None and nodes[0].index == 0 and nodes[0].location == "hel1"
    assert nodes[1].location == "fsn1"  # provider.hcloud.location default
    assert cluster.node_groups == {
        "controlplane": ["cp-1", "cp-2", "cp-3"],
        "worker": ["extra", "w-1", "w-2", "w-3", "w-4"],
    }


def test_proxmox_nodes_spread_round_robin_unless_located():
    cluster, _unused = load(
        PROXMOX,
        node_pools=[{"name": "cp", "role": "controlplane", "count": 3, "first_address": "10.0.1.11"}],
        nodes=[{"name": "w-1", "role": "worker", "address": "10.0.1.21", "location": "pve2"}],
    )
    assert [(n.name, n.location) for n in cluster.nodes] == [
        ("w-1", "pve2"),
        ("cp-1", "pve1"),
        ("cp-2", "pve2"),
        ("cp-3", "pve1"),
    ]


@pytest.mark.parametrize(
    ("provider", "platform"),
    [
        ({"type": "hcloud"}, "hcloud"),
        ({"type": "proxmox", "proxmox": {"api_url": "https://p:8006", "nodes": ["p"], "addressing": "meta"}}, "metal"),
        ({"type": "proxmox", "proxmox": {"api_url": "https://p:8006", "nodes": ["p"], "addressing": "dhcp"}}, "metal"),
        (
            {"type": "proxmox", "proxmox": {"api_url": "https://p:8006", "nodes": ["p"], "addressing": "cloud-init"}},
            "nocloud",
        ),
        (
            {"type": "proxmox", "proxmox": {"api_url": "https://p:8006", "nodes": ["p"], "addressing": "nocloud"}},
            "nocloud",
        ),
    ],
)
def test_talos_platform_per_provider(provider, platform):
    defaults = {"size": "cpx22"} if provider["type"] == "hcloud" else {}
    node = {"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}
    cluster, _unused = load(HCLOUD, provider=provider, node_defaults=defaults, nodes=[node])
    assert cluster.nodes[0].platform == platform


def test_schematic_from_extensions_kernel_args_and_meta():
    # DHCP addressing: the schematic holds exactly what the nodes set (META addressing adds key 10, see
    # test_cluster_static_addressing.py).
    dhcp = copy.deepcopy(PROXMOX["provider"])
    dhcp["proxmox"]["addressing"] = "dhcp"
    cluster, _unused = load(
        PROXMOX,
        provider=dhcp,
        nodes=[
            {
                "name": "cp-1",
                "role": "controlplane",
                "address": "10.0.1.11",
                "extensions": ["siderolabs/qemu-guest-agent", "siderolabs/tailscale"],
                "kernel_args": ["net.ifnames=0"],
                "meta": [{"key": "0xa", "value": "addresses: []"}, {"key": "12", "value": "x"}],
            },
            {"name": "cp-2", "role": "controlplane", "address": "10.0.1.12"},
            {"name": "cp-3", "role": "controlplane", "address": "10.0.1.13", "extensions": ["siderolabs/zfs"]},
        ],
    )
    nodes = by_name(cluster)
    assert nodes["cp-1"].schematic == {
        "customization": {
            "extraKernelArgs": ["net.ifnames=0"],
            "meta": [{"key": 10, "value": "addresses: []"}, {"key": 12, "value": "x"}],
            "systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent", "siderolabs/tailscale"]},
        }
    }
    assert list(nodes["cp-1"].schematic["customization"]) == ["extraKernelArgs", "meta", "systemExtensions"]
    assert nodes["cp-2"].schematic == {"customization": {}}
    assert nodes["cp-3"].schematic == {
        "customization": {"systemExtensions": {"officialExtensions": ["siderolabs/zfs"]}}
    }
    assert build_schematic([], [], []) == {"customization": {}}


@pytest.mark.parametrize(
    ("endpoint", "nodes", "url"),
    [
        ({"vip": "10.0.1.100"}, 3, "https://10.0.1.100:6443"),
        ({"vip": "10.0.1.100", "host": "k8s.example.org", "port": 443}, 3, "https://k8s.example.org:443"),
        ({}, 1, "https://10.0.1.11:6443"),
        ({"load_balancer": {"type": "lb11"}}, 3, None),
        ({"load_balancer": {"type": "lb11"}, "host": "api.example.org"}, 3, "https://api.example.org:6443"),
    ],
)
def test_endpoint_url(endpoint, nodes, url):
    pool = {"name": "cp", "role": "controlplane", "count": nodes, "first_address": "10.0.1.11"}
    cluster, _unused = load(HCLOUD, endpoint=endpoint, node_pools=[pool])
    assert cluster.endpoint.url == url


def test_endpoint_url_brackets_ipv6():
    cluster, _unused = load(
        PROXMOX,
        network={"nodes": "fd00:1::/64"},
        endpoint={"vip": "fd00:1::100"},
        nodes=[{"name": "cp-1", "role": "controlplane", "address": "fd00:1::11"}],
    )
    assert cluster.endpoint.url == "https://[fd00:1::100]:6443"
    assert str(cluster.network.pods).startswith("fd00:")


def test_defaults():
    cluster, _unused = load(HCLOUD, nodes=[{"name": "cp-1", "role": "controlplane"}])
    model = cluster.to_dict()
    assert model["image_factory"] == {
        "url": "https://factory.talos.dev",
        "installer_registry": "factory.talos.dev",
        "validate_certs": True,
        "download": False,
        "cache_dir": "~/.cache/talosforge/images",
    }
    assert model["network"] == {
        "nodes": "10.0.1.0/24",
        "gateway": "10.0.1.1",
        "nameservers": ["1.1.1.1", "8.8.8.8"],
        "pods": "10.244.0.0/16",
        "services": "10.96.0.0/12",
    }
    assert model["provider"]["settings"]["network_ip_range"] == "10.0.1.0/24"
    assert model["provider"]["settings"]["location"] == "fsn1"
    assert model["provider"]["settings"]["network_zone"] == "eu-central"
    assert model["endpoint"]["port"] == 6443
    assert model["platform"]["cni"] == {"type": "cilium", "kube_proxy_replacement": True, "host_legacy_routing": False}
    assert model["platform"]["hcloud"] == {"ccm": True, "csi": True}
    assert model["gitops"]["flux"] == {
        "enabled": False, "url": None, "branch": "main", "path": "clusters/demo", "version": "2.9.x",
        "components": ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"],
    }  # fmt: skip
    assert model["gitops"]["layout"] == {"infrastructure": "infrastructure", "apps": "apps"}
    assert model["edge"] is None
    assert model["nodes"][0]["install_disk"] == "/dev/sda"
    assert model["nodes"][0]["arch"] == "amd64"


def test_hcloud_gateway_is_first_address_of_the_hetzner_network():
    cluster, _unused = load(
        HCLOUD,
        provider={"type": "hcloud", "hcloud": {"network_ip_range": "10.0.0.0/16"}},
        nodes=[{"name": "cp-1", "role": "controlplane", "address": "10.0.1.1"}],
    )
    assert str(cluster.network.gateway) == "10.0.0.1"


def test_installer_registry_follows_factory_url():
    cluster, _unused = load(
        HCLOUD,
        image_factory={"url": "https://factory.example.org:8443/"},
        nodes=[{"name": "cp-1", "role": "controlplane"}],
    )
    assert cluster.image_factory.url == "https://factory.example.org:8443"
    assert cluster.image_factory.installer_registry == "factory.example.org:8443"


def test_kubernetes_version_is_stored_without_v():
    cluster, _unused = load(PROXMOX, nodes=[{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}])
    assert cluster.kubernetes_version == "1.34.1"


TO_DICT_KEYS = {
    "name", "talos_version", "kubernetes_version", "allow_scheduling_on_control_planes", "image_factory", "provider",
    "network", "endpoint", "patches", "nodes", "node_groups", "platform", "gitops", "edge",
}  # fmt: skip
NODE_KEYS = {
    "name", "role", "address", "pool", "index", "size", "arch", "location", "install_disk", "extensions",
    "kernel_args", "meta", "labels", "taints", "patches", "platform", "schematic",
}  # fmt: skip


def test_to_dict_shape_and_json():
    cluster, _unused = load(
        PROXMOX,
        patches=[{"machine": {"install": {"wipe": True}}}],
        nodes=[{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "meta": [{"key": 10, "value": "v"}]}],
        edge={"host": "vps.example.org", "domain": "k8s.example.org", "acme": {"email": "a@example.org"}},
    )
    model = cluster.to_dict()
    assert set(model) == TO_DICT_KEYS
    assert set(model["nodes"][0]) == NODE_KEYS
    assert set(model["image_factory"]) == {"url", "installer_registry", "validate_certs", "download", "cache_dir"}
    assert set(model["provider"]) == {"type", "settings"}
    assert set(model["network"]) == {"nodes", "gateway", "nameservers", "pods", "services"}
    assert set(model["endpoint"]) == {"vip", "load_balancer", "host", "port", "extra_sans", "url"}
    assert set(model["edge"]) == {"host", "public_address", "domain", "mesh", "acme"}
    assert model["nodes"][0]["meta"] == [{"key": 10, "value": "v"}]
    assert json.loads(json.dumps(model)) == model
    # to_dict hands out copies: changing them does not change the model.
    model["nodes"][0]["patches"][0]["machine"]["install"]["wipe"] = False
    assert cluster.nodes[0].patches[0]["machine"]["install"]["wipe"] is True


def test_model_is_returned_with_errors():
    document = copy.deepcopy(PROXMOX)
    document["nodes"] = [
        {"name": "cp-1", "role": "controlplane", "address": "10.9.9.9"},
        {"name": "cp-2", "role": "controlplane"},
    ]
    cluster, issues = load_cluster(document)
    assert any(issue.is_error for issue in issues)
    assert [n.name for n in cluster.nodes] == ["cp-1", "cp-2"]
    json.dumps(cluster.to_dict())


def test_gitops_layout_of_seed_001_and_flux_settings():
    cluster, _unused = load(
        HCLOUD,
        nodes=[{"name": "cp-1", "role": "controlplane"}],
        gitops={
            "flux": {"url": "ssh://git@git.example.org/infra/cluster.git", "path": "k8s/clusters/demo",
                     "version": "2.9.4",
                     "components": ["source-controller", "kustomize-controller", "helm-controller"]},
            "layout": {"infrastructure": "k8s/infrastructure", "apps": "k8s/apps"},
        },
    )  # fmt: skip
    model = cluster.to_dict()["gitops"]
    assert model["flux"]["version"] == "2.9.4" and len(model["flux"]["components"]) == 3
    assert model["layout"] == {"infrastructure": "k8s/infrastructure", "apps": "k8s/apps"}


FLUX_TREE_COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller"]


@pytest.mark.parametrize(
    ("gitops", "where", "words"),
    [
        ({"flux": {"url": "ssh://g/r.git", "components": ["source-controller"]}}, "gitops.flux.components",
         "lacks kustomize-controller, helm-controller"),
        ({"flux": {"url": "ssh://g/r.git", "components": [*FLUX_TREE_COMPONENTS, "flagger"]}},
         "gitops.flux.components[3]", "unknown Flux component"),
        ({"flux": {"url": "ssh://g/r.git", "version": "latest"}}, "gitops.flux.version", "not a Flux version"),
        ({"flux": {"url": "ssh://g/r.git"}, "layout": {"apps": "/abs"}}, "gitops.layout.apps", "not a path inside"),
        ({"flux": {"url": "ssh://g/r.git", "path": "k8s"}, "layout": {"apps": "k8s/apps"}}, "gitops.layout.apps",
         "contain each other"),
        ({"flux": {"url": "ssh://g/r.git"}, "layout": {"cluster": "x"}}, "gitops.layout.cluster", "unknown key"),
    ],
)  # fmt: skip
def test_gitops_settings_refused(gitops, where, words):
    document = copy.deepcopy(HCLOUD)
    document.update(gitops=gitops, nodes=[{"name": "cp-1", "role": "controlplane"}])
    _unused, issues = load_cluster(document)
    found = [issue for issue in issues if issue.path == where and issue.is_error]
    assert found and words in found[0].message, [str(issue) for issue in issues]
