# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validator's contract: every problem at once, each with its path, a message and a fix."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.issues import Issue
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.read_node_values import (
    label_key_problem,
    parse_meta_key,
    taint_problem,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.validate import format_issues, load_cluster

BASE = {
    "name": "demo",
    "talos_version": "v1.13.9",
    "kubernetes_version": "1.34.1",
    "provider": {"type": "proxmox", "proxmox": {"api_url": "https://pve.example.org:8006", "nodes": ["pve1"]}},
    "network": {"nodes": "10.0.1.0/24"},
    "endpoint": {"vip": "10.0.1.100"},
    "node_pools": [
        {"name": "cp", "role": "controlplane", "count": 3, "first_address": "10.0.1.11"},
        {"name": "worker", "role": "worker", "count": 2, "first_address": "10.0.1.21"},
    ],
}


def issues_of(**changes) -> list[Issue]:
    document = copy.deepcopy(BASE)
    document.update(changes)
    return load_cluster(document)[1]


def paths(issues: list[Issue], level: str = "error") -> set[str]:
    return {issue.path for issue in issues if issue.level == level}


def test_base_is_clean():
    assert issues_of() == []


def test_all_errors_at_once():
    document = copy.deepcopy(BASE)
    document.update(
        name="Not Valid",
        talos_version="1.13",
        network={"nodes": "10.0.1.0/24", "pods": "10.0.0.0/16"},
        endpoint={"vip": "10.0.1.11"},
        node_defaults={"extensions": ["siderolabs/tailscal"], "taints": ["x:Sometimes"]},
        nodes=[{"name": "cp-1", "role": "boss", "address": "10.0.9.1"}],
        platform={"cert_manager": {"enabled": True, "email": "ops@example.org", "dns01": "powerdns"}},
        gitops={"flux": {"url": "git@github.com:a/b.git"}},
    )
    document["node_pools"][1]["count"] = 300
    cluster, issues = load_cluster(document)
    expected = {
        "name",
        "talos_version",
        "network.pods",
        "endpoint.vip",
        "node_defaults.extensions[0]",
        "node_defaults.taints[0]",
        "nodes[0].role",
        "node_pools[1].count",
        "platform.cert_manager.dns01",
        "gitops.flux.url",
    }
    assert expected <= paths(issues), format_issues(issues)
    assert cluster is not None


def test_even_number_of_control_planes_is_a_warning():
    pools = copy.deepcopy(BASE["node_pools"])
    pools[0]["count"] = 4
    issues = issues_of(node_pools=pools)
    assert paths(issues) == set()
    assert paths(issues, "warning") == {"node_pools[0].count"}
    warning = issues[0]
    assert "4 control-plane nodes" in warning.message and "3 or 5" in warning.fix


def test_even_control_planes_from_several_places_point_at_nodes():
    issues = issues_of(nodes=[{"name": "cp-extra", "role": "controlplane", "address": "10.0.1.50"}])
    assert paths(issues, "warning") == {"nodes"}


def test_odd_numbers_of_control_planes_are_fine():
    for count in (1, 3, 5):
        pools = copy.deepcopy(BASE["node_pools"])
        pools[0]["count"] = count
        assert not [i for i in issues_of(node_pools=pools) if "control-plane nodes" in i.message]


def test_issue_string_and_format():
    issue = Issue("error", "nodes[2].address", "10.0.1.300 is not an IP address", "write an address")
    assert str(issue) == "nodes[2].address: 10.0.1.300 is not an IP address. Fix: write an address."
    assert issue.to_dict() == {
        "level": "error",
        "path": "nodes[2].address",
        "message": "10.0.1.300 is not an IP address",
        "fix": "write an address",
    }
    text = format_issues([Issue("warning", "a", "w", "x."), issue])
    lines = text.splitlines()
    assert lines[0] == "The cluster definition has 1 error and 1 warning:"
    assert lines[1].startswith("  ERROR: nodes[2].address")
    assert lines[2] == "  WARNING: a: w. Fix: x."
    assert format_issues([]) == "The cluster definition has no problems."


@pytest.mark.parametrize("document", [None, [], "cluster", 42])
def test_not_a_mapping_gives_no_model(document):
    cluster, issues = load_cluster(document)
    assert cluster is None
    assert [i.path for i in issues] == ["cluster"]


def test_unknown_key_suggestion():
    issues = issues_of(platfrom={})
    issue = next(i for i in issues if i.path == "platfrom")
    assert 'did you mean "platform"' in issue.message
    assert issue.fix == 'rename it to "platform"'


def test_unknown_key_without_close_match_lists_allowed_keys():
    issues = issues_of(endpoint={"vip": "10.0.1.100", "zzz": 1})
    issue = next(i for i in issues if i.path == "endpoint.zzz")
    assert "vip, load_balancer, host, port, extra_sans" in issue.fix


@pytest.mark.parametrize(
    ("value", "key"),
    [(10, 10), ("10", 10), ("0xa", 10), ("0x0A", 10), (0, 0), (255, 255), ("0xff", 255)],
)
def test_meta_keys_accepted(value, key):
    assert parse_meta_key(value) == key


@pytest.mark.parametrize("value", [256, -1, "0x100", "ten", True, None, 1.5, "0x"])
def test_meta_keys_rejected(value):
    assert parse_meta_key(value) is None


@pytest.mark.parametrize(
    "taint", ["dedicated=ingress:NoSchedule", "gpu:NoExecute", "example.org/x=y:PreferNoSchedule", "k=:NoSchedule"]
)
def test_taints_accepted(taint):
    assert taint_problem(taint) is None


@pytest.mark.parametrize("taint", ["k=v", "k=v:Never", ":NoSchedule", "bad key=v:NoSchedule", "k=bad value:NoExecute"])
def test_taints_rejected(taint):
    assert taint_problem(taint)


@pytest.mark.parametrize("key", ["app", "example.org/tier", "topology.kubernetes.io/zone", "a_b.c-d", "A1"])
def test_label_keys_accepted(key):
    assert label_key_problem(key) is None


@pytest.mark.parametrize("key", ["", "-a", "a-", "Example.org/x", "/x", "x/", "a b", "a" * 64, 5])
def test_label_keys_rejected(key):
    assert label_key_problem(key)


def test_proxmox_static_addressing_needs_addresses_but_dhcp_does_not():
    nodes = [{"name": "cp-1", "role": "controlplane"}]
    static = issues_of(node_pools=[], endpoint={}, nodes=nodes)
    assert "nodes[0].address" in paths(static)
    provider = copy.deepcopy(BASE["provider"])
    provider["proxmox"]["addressing"] = "dhcp"
    dhcp = issues_of(node_pools=[], endpoint={}, nodes=nodes, provider=provider)
    assert "nodes[0].address" not in paths(dhcp)


def test_dhcp_without_guest_agent_is_fine_but_hcloud_needs_server_types():
    issues = issues_of(provider={"type": "hcloud"}, endpoint={"load_balancer": {"type": "lb11"}})
    assert {"node_pools[0].size", "node_pools[1].size"} <= paths(issues)


def test_control_plane_memory_below_2048_is_a_warning():
    issues = issues_of(control_plane={"size": {"memory": 1024}}, worker={"size": {"memory": 512}})
    assert paths(issues) == set()
    assert paths(issues, "warning") == {"control_plane.size.memory", "worker.size.memory"}


def test_pool_running_into_the_broadcast_address():
    pools = copy.deepcopy(BASE["node_pools"])
    pools[1].update(first_address="10.0.1.253", count=3)
    issues = issues_of(node_pools=pools)
    issue = next(i for i in issues if i.path == "node_pools[1].count")
    assert "room for 2" in issue.message
    pools[1]["count"] = 2
    assert issues_of(node_pools=pools) == []


def test_powerdns_zone_and_edge_domain_mismatch_warns():
    platform = {"dns": {"powerdns": {"enabled": True, "zone": "a.example.org"}}}
    edge = {
        "host": "vps.example.org",
        "domain": "b.example.org",
        "mesh": {"type": "none"},
        "acme": {"email": "a@b.org"},
    }
    issues = issues_of(platform=platform, edge=edge)
    assert "platform.dns.powerdns.zone" in paths(issues, "warning")


def test_edge_mesh_without_tailscale_extension_warns():
    edge = {"host": "vps.example.org", "domain": "k8s.example.org", "acme": {"email": "a@b.org"}}
    assert "edge.mesh.type" in paths(issues_of(edge=edge), "warning")
    assert "edge.mesh.type" not in paths(
        issues_of(edge=edge, node_defaults={"extensions": ["siderolabs/tailscale"]}), "warning"
    )


def test_hcloud_private_vip_outside_network_is_an_error_public_is_fine():
    hcloud = {
        "provider": {"type": "hcloud"},
        "node_defaults": {"size": "cpx22"},
        "endpoint": {"vip": "10.9.9.9"},
    }
    assert "endpoint.vip" in paths(issues_of(**hcloud))
    hcloud["endpoint"] = {"vip": "198.51.100.20"}
    assert "endpoint.vip" not in paths(issues_of(**hcloud))


def test_every_issue_has_a_fix_sentence():
    document = copy.deepcopy(BASE)
    document.update(network={"nodes": "10.0.1.1/24", "gateway": "x"}, endpoint={"vip": "y"}, patches=[1])
    for issue in load_cluster(document)[1]:
        assert issue.fix and issue.message and issue.path


def test_never_raises_on_mangled_definitions():
    """Random values in random places of valid definitions: always issues, never an exception."""
    import json
    import random
    from pathlib import Path

    import yaml

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "definitions" / "valid"
    documents = [yaml.safe_load(p.read_text(encoding="utf-8"))["cluster"] for p in sorted(fixtures.glob("*.yml"))]
    values = [None, 0, -1, 3.5, True, "", "x", "10.0.1.5", "10.0.1.0/24", "fd00::1", "0xa", "1.2.3.4-1.2.3.9",
              [], ["a"], [{"key": 1}], {}, {"name": "n"}, 10**40]  # fmt: skip
    rng = random.Random(20260101)

    def places(obj, path=()):
        if path:
            yield path
        children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
        for key, value in children:
            yield from places(value, (*path, key))

    for _unused in range(400):
        document = copy.deepcopy(rng.choice(documents))
        for _unused in range(rng.randint(1, 3)):
            *parents, last = rng.choice(list(places(document)))
            target = document
            for key in parents:
                target = target[key]
            target[last] = copy.deepcopy(rng.choice(values))
        cluster, issues = load_cluster(document)
        assert cluster is not None
        json.dumps(cluster.to_dict())
        assert all(str(issue) for issue in issues)
