# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform role's filters: releases in install order with Talos's values, one object per pool, the Gateway, and
each Service pinned to its planned address."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter.platform_plan import FilterModule
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.published import published_model
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import load_cluster

FILTERS = FilterModule().filters()
VERSIONS = {
    "cilium": "1.20.0",
    "hcloud-ccm": "1.35.0",
    "metallb": "0.16.1",
    "ingress-nginx": "4.15.1",
    "envoy-gateway": "v1.9.0",
    "cert-manager": "v1.21.1",
    "sealed-secrets": "2.18.5",
    "hcloud-csi": "2.22.1",
    "flux-operator": "0.49.0",
}
# Seed 001's shape: Proxmox, MetalLB with three pools, ingress-nginx, PowerDNS on its own pool, cert-manager.
SEED_001 = {
    "name": "lab",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1"]}},
    "network": {"nodes": "10.0.3.0/24"},
    "endpoint": {"vip": "10.0.3.10"},
    "node_pools": [
        {"name": "cp", "role": "controlplane", "count": 3, "first_address": "10.0.3.11"},
        {"name": "worker", "role": "worker", "count": 2, "first_address": "10.0.3.21"},
    ],
    "platform": {
        "cni": {"type": "cilium", "host_legacy_routing": True},
        "load_balancer": {
            "type": "metallb",
            "pools": [
                {"name": "ingress-pool", "addresses": ["10.0.3.2/32"]},
                {"name": "dns-pool", "addresses": ["10.0.3.3/32"]},
                {"name": "services-pool", "addresses": ["10.0.3.100-10.0.3.150"]},
            ],
        },
        "ingress": {"type": "ingress-nginx", "pool": "ingress-pool", "replicas": 2},
        "cert_manager": {"enabled": True, "email": "ops@example.org", "dns01": "powerdns"},
        "dns": {"powerdns": {"enabled": True, "pool": "dns-pool", "zone": "k8s.example.org"}},
        "sealed_secrets": {"enabled": True},
    },
}


def model(document: dict, **platform_changes) -> dict:
    document = copy.deepcopy(document)
    for key, value in platform_changes.items():
        document["platform"][key] = value
    cluster, issues = load_cluster(document)
    assert cluster is not None and not [i for i in issues if i.is_error], issues
    return published_model(cluster, "/srv", with_images=False)[0]


def test_seed_001_releases_in_install_order_with_talos_settings_for_cilium():
    releases = FILTERS["platform_releases"](model(SEED_001), VERSIONS)
    assert [r["name"] for r in releases] == ["cilium", "metallb", "ingress-nginx", "cert-manager", "sealed-secrets"]
    cilium = releases[0]["values"]
    assert cilium["ipam"] == {"mode": "kubernetes"}
    assert (cilium["k8sServiceHost"], cilium["k8sServicePort"]) == ("localhost", 7445)
    assert "SYS_MODULE" not in cilium["securityContext"]["capabilities"]["ciliumAgent"]
    assert cilium["cgroup"] == {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"}
    assert cilium["bpf"] == {"hostLegacyRouting": True}
    assert cilium["operator"]["replicas"] == 2
    assert "l2announcements" not in cilium
    nginx = releases[2]["values"]["controller"]
    assert nginx["replicaCount"] == 2
    assert nginx["service"]["annotations"] == {
        "metallb.io/address-pool": "ingress-pool",
        "metallb.io/loadBalancerIPs": "10.0.3.2",
    }
    assert [r["name"] for r in FILTERS["platform_releases"](model(SEED_001), VERSIONS, step="cni")] == ["cilium"]


def test_a_mirror_serves_every_chart_under_its_upstream_name_and_user_values_merge_over_ours():
    releases = FILTERS["platform_releases"](
        model(SEED_001, ingress={"type": "gateway", "pool": "ingress-pool"}),
        VERSIONS,
        "http://127.0.0.1:18704/",
        {"cilium": {"operator": {"replicas": 3}, "hubble": {"enabled": False}}},
    )
    assert {r["repo"] for r in releases} == {"http://127.0.0.1:18704/"}
    assert [r["chart"] for r in releases][:3] == ["cilium", "metallb", "gateway-helm"]
    cilium = releases[0]["values"]
    assert cilium["operator"] == {"replicas": 3} and cilium["hubble"] == {"enabled": False}
    assert cilium["ipam"] == {"mode": "kubernetes"}


def test_flux_operator_is_the_gitops_steps_release_when_flux_is_enabled():
    document = {**copy.deepcopy(SEED_001), "gitops": {"flux": {"url": "ssh://git@git.example.org/lab.git"}}}
    releases = FILTERS["platform_releases"](model(document), VERSIONS)
    assert releases[-1] == {
        "name": "flux-operator", "namespace": "flux-system", "chart": "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator",
        "repo": "", "version": "0.49.0", "values": {},
    }  # fmt: skip
    assert [r["name"] for r in FILTERS["platform_releases"](model(document), VERSIONS, step="gitops")] == [
        "flux-operator"
    ]
    assert "flux-operator" not in [
        r["name"] for r in FILTERS["platform_releases"](model(document), VERSIONS, step="services")
    ]
    mirrored = FILTERS["platform_releases"](model(document), VERSIONS, "http://127.0.0.1:18704/", step="gitops")
    assert (mirrored[0]["chart"], mirrored[0]["repo"]) == ("flux-operator", "http://127.0.0.1:18704/")
    assert "flux-operator" not in [r["name"] for r in FILTERS["platform_releases"](model(SEED_001), VERSIONS)]


def test_pools_one_object_each_reserved_for_the_services_that_name_them():
    objects = FILTERS["platform_objects"](model(SEED_001), "services")
    pools = {o["metadata"]["name"]: o for o in objects if o["kind"] == "IPAddressPool"}
    assert list(pools) == ["ingress-pool", "dns-pool", "services-pool"]
    assert [pools[name]["spec"]["autoAssign"] for name in pools] == [False, False, True]
    assert {o["metadata"]["namespace"] for o in objects} == {"metallb-system"}
    advert = [o for o in objects if o["kind"] == "L2Advertisement"]
    assert advert[0]["spec"]["ipAddressPools"] == list(pools)
    namespace = FILTERS["platform_objects"](model(SEED_001), "namespaces")[0]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_cilium_l2_pools_select_services_by_pool_label_and_the_gateway_sits_on_the_planned_address():
    cluster = model(
        SEED_001,
        load_balancer={
            "type": "cilium-l2",
            "pools": [
                {"name": "ingress-pool", "addresses": ["10.0.3.2/32"]},
                {"name": "services-pool", "addresses": ["10.0.3.100-10.0.3.150"]},
            ],
        },
        ingress={"type": "cilium", "pool": "ingress-pool"},
        dns={"powerdns": {"enabled": False}},
        cert_manager={"enabled": False},
    )
    objects = FILTERS["platform_objects"](cluster, "services")
    pools = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "CiliumLoadBalancerIPPool"}
    assert pools["ingress-pool"] == {
        "blocks": [{"cidr": "10.0.3.2/32"}],
        "serviceSelector": {"matchLabels": {"talosforge.io/pool": "ingress-pool"}},
    }
    assert pools["services-pool"]["blocks"] == [{"start": "10.0.3.100", "stop": "10.0.3.150"}]
    assert pools["services-pool"]["serviceSelector"]["matchExpressions"][0]["operator"] == "NotIn"
    gateway = next(o for o in objects if o["kind"] == "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "cilium"
    assert gateway["spec"]["infrastructure"] == {
        "labels": {"talosforge.io/pool": "ingress-pool"},
        "annotations": {"lbipam.cilium.io/ips": "10.0.3.2"},
    }
    cilium = FILTERS["platform_releases"](cluster, VERSIONS)[0]["values"]
    assert cilium["l2announcements"] == {"enabled": True}
    assert cilium["gatewayAPI"]["enabled"] is True


def test_powerdns_sharing_the_ingress_pool_gets_the_next_address():
    document = copy.deepcopy(SEED_001)
    document["platform"]["load_balancer"]["pools"] = [{"name": "edge", "addresses": ["10.0.3.2-10.0.3.3"]}]
    document["platform"]["ingress"]["pool"] = "edge"
    document["platform"]["dns"]["powerdns"]["pool"] = "edge"
    published = model(document)
    assert published["platform"]["ingress"]["address"] == "10.0.3.2"
    assert published["platform"]["dns"]["powerdns"]["address"] == "10.0.3.3"


def test_hcloud_cni_step_carries_the_ccm_with_native_routing():
    hcloud = {
        "name": "prod",
        "talos_version": "v1.13.9",
        "kubernetes_version": "1.34.1",
        "provider": {"type": "hcloud", "hcloud": {"location": "fsn1"}},
        "network": {"nodes": "10.0.1.0/24", "pods": "10.244.0.0/16"},
        "endpoint": {"load_balancer": {"type": "lb11"}},
        "node_defaults": {"size": "cpx22"},
        "node_pools": [{"name": "cp", "role": "controlplane", "count": 3}],
        "platform": {"load_balancer": {"type": "hcloud"}},
    }
    cluster, issues = load_cluster(hcloud)
    assert not [i for i in issues if i.is_error], issues
    releases = FILTERS["platform_releases"](published_model(cluster, "/", with_images=False)[0], VERSIONS)
    assert [(r["name"], r["namespace"]) for r in releases] == [
        ("cilium", "kube-system"),
        ("hcloud-ccm", "kube-system"),
        ("hcloud-csi", "kube-system"),
    ]
    assert releases[0]["values"]["routingMode"] == "native"
    assert releases[1]["values"]["networking"] == {"enabled": True, "clusterCIDR": "10.244.0.0/16"}


def test_bad_input_is_a_filter_error_naming_the_filter():
    with pytest.raises(AnsibleFilterError, match="platform_releases: no chart version for cilium"):
        FILTERS["platform_releases"](model(SEED_001), {})
    with pytest.raises(AnsibleFilterError, match="platform_objects: part must be"):
        FILTERS["platform_objects"](model(SEED_001), "everything")
    assert FILTERS["node_expectations"](["cp-1"], ready=False) == [{"apiVersion": "v1", "kind": "Node", "name": "cp-1"}]


def test_cilium_values_that_break_dns_on_talos_are_refused_unless_host_legacy_routing_is_on():
    masquerade = {"cilium": {"bpf": {"masquerade": True}}}
    without = copy.deepcopy(SEED_001)
    without["platform"]["cni"]["host_legacy_routing"] = False
    with pytest.raises(AnsibleFilterError, match="breaks DNS on Talos"):
        FILTERS["platform_releases"](model(without), VERSIONS, "", masquerade)
    cilium = FILTERS["platform_releases"](model(SEED_001), VERSIONS, "", masquerade)[0]["values"]
    assert cilium["bpf"] == {"hostLegacyRouting": True, "masquerade": True}
