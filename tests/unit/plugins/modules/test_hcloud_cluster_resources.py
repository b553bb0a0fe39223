# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.hcloud_cluster_resources(_info) through main() against the Hetzner Cloud simulator."""

from __future__ import annotations

import json
import time

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.hcloud import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_cluster_resources as module
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_cluster_resources_info, hcloud_servers
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

TOKEN = "resources-token-never-shown-42"
LABELS = {"talosforge.io/cluster": "prod", "talosforge.io/managed-by": "talosforge.cluster"}
OTHER = {"talosforge.io/cluster": "other", "talosforge.io/managed-by": "talosforge.cluster"}
KINDS = ["servers", "load_balancers", "floating_ips", "firewalls", "placement_groups", "networks", "ssh_keys"]
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfM3bZ4n2R7pX0Yq0cG6m1q5Vh8y3b5a2rN0t9d8K7x prod"


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)
    check_documentation(hcloud_cluster_resources_info, ModuleDocFragment)


def build(client, labels, prefix):
    """One resource of every kind, labelled ``labels``, named ``prefix``-*; and a load balancer the hcloud cloud
    controller manager would make for a Service, in that network, with only the CCM's label."""
    network = client.call(
        "POST",
        "/networks",
        {
            "name": prefix,
            "ip_range": "10.0.0.0/16",
            "labels": labels,
            "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}],
        },
    )
    client.call("POST", "/firewalls", {"name": prefix, "labels": labels, "rules": []})
    client.call("POST", "/placement_groups", {"name": f"{prefix}-cp", "type": "spread", "labels": labels})
    client.call(
        "POST",
        "/load_balancers",
        {"name": f"{prefix}-api", "load_balancer_type": "lb11", "location": "fsn1", "labels": labels},
    )
    client.call(
        "POST", "/floating_ips", {"type": "ipv4", "home_location": "fsn1", "name": f"{prefix}-vip", "labels": labels}
    )
    client.call(
        "POST",
        "/ssh_keys",
        {
            "name": f"{prefix}-key",
            "public_key": PUBLIC_KEY.replace("prod", prefix)
            if prefix == "prod"
            else PUBLIC_KEY.replace("x prod", "y other"),
            "labels": labels,
        },
    )
    client.call(
        "POST",
        "/load_balancers",
        {
            "name": f"{prefix}-ingress",
            "load_balancer_type": "lb11",
            "location": "fsn1",
            "network": network["network"]["id"],
            "labels": {"hcloud-ccm/service-uid": f"uid-of-{prefix}-ingress"},
        },
    )


@pytest.fixture
def sim(tmp_path, capsys):
    with harness.running("hcloud", tmp_path / "sim", validate=True, action_latency_ms=100) as simulator:
        client = HcloudClient(TOKEN, simulator.url + "/v1")
        build(client, LABELS, "prod")
        build(client, OTHER, "other")
        for cluster, prefix in (("prod", "prod"), ("other", "other")):
            run_module(
                hcloud_servers,
                {
                    "api_token": TOKEN,
                    "api_endpoint": simulator.url + "/v1",
                    "cluster": cluster,
                    "image": "debian-12",
                    "server_type": "cx22",
                    "network": prefix,
                    "firewalls": [prefix],
                    "placement_group": f"{prefix}-cp",
                    "servers": [{"name": f"{prefix}-{i}", "location": "fsn1"} for i in range(3)],
                },
                capsys,
            )
        client.call(
            "POST",
            "/servers",
            {
                "name": "hand-made",
                "server_type": "cx22",
                "image": "debian-12",
                "location": "fsn1",
                "labels": {"talosforge.io/cluster": "prod"},
            },
        )
        simulator.client = client
        yield simulator
        assert simulator.app.drift == []


def args(sim, **extra):
    return {"api_token": TOKEN, "api_endpoint": sim.url + "/v1", "cluster": "prod", **extra}


def names(client, kind):
    return sorted(item.get("name") for item in client.list(kind))


def writes(sim):
    time.sleep(0.05)
    return [r for r in sim.requests() if r["method"] in ("POST", "PUT", "DELETE") and r["path"].startswith("/v1/")]


def test_lists_exactly_what_carries_both_labels(sim, capsys):
    before = len(writes(sim))
    result = run_module(hcloud_cluster_resources_info, args(sim), capsys)
    assert result["changed"] is False
    found = {(r["kind"], r["name"]) for r in result["resources"]}
    assert found == {
        ("servers", "prod-0"),
        ("servers", "prod-1"),
        ("servers", "prod-2"),
        ("load_balancers", "prod-api"),
        ("load_balancers", "prod-ingress"),  # the CCM's, in prod's network; other-ingress is not
        ("floating_ips", "prod-vip"),
        ("firewalls", "prod"),
        ("placement_groups", "prod-cp"),
        ("networks", "prod"),
        ("ssh_keys", "prod-key"),
    }
    assert result["api_requests"] == len(KINDS) + 1  # and the CCM's load balancers
    narrowed = run_module(hcloud_cluster_resources_info, args(sim, label_selector="talosforge.io/role=worker"), capsys)
    assert {r["kind"] for r in narrowed["resources"]} == {"servers"}
    assert len(writes(sim)) == before


def test_state_must_be_given_to_delete(sim, capsys):
    before = len(writes(sim))
    refused = run_module(module, args(sim), capsys)
    assert refused["failed"] is True and "state" in refused["msg"]
    assert len(writes(sim)) == before


def test_check_mode_lists_what_would_go_and_deletes_nothing(sim, capsys):
    before = len(writes(sim))
    result = run_module(module, args(sim, state="absent", _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert result["changed"] is True and len(result["diff"]["before"]["resources"]) == 10
    assert len(writes(sim)) == before


def test_absent_deletes_in_dependency_order_and_leaves_the_rest(sim, capsys):
    before = len(writes(sim))
    result = run_module(module, args(sim, state="absent"), capsys)
    assert result["changed"] is True
    client = sim.client
    assert names(client, "servers") == ["hand-made", "other-0", "other-1", "other-2"]
    for kind, remaining in (
        ("networks", ["other"]),
        ("firewalls", ["other"]),
        ("load_balancers", ["other-api", "other-ingress"]),
        ("floating_ips", ["other-vip"]),
        ("placement_groups", ["other-cp"]),
        ("ssh_keys", ["other-key"]),
    ):
        assert names(client, kind) == remaining, kind
    deleted = [r["path"].split("/")[2] for r in writes(sim)[before:] if r["method"] == "DELETE"]
    order = [KINDS.index(kind) for kind in deleted]
    assert order == sorted(order) and len(deleted) == 10
    again = run_module(module, args(sim, state="absent"), capsys)
    assert again["changed"] is False and again["resources"] == []


def test_protection_stops_the_teardown_unless_lifted(sim, capsys):
    client = sim.client
    server = next(s for s in client.list("servers") if s["name"] == "prod-1")
    client.wait_actions(
        [
            client.call(
                "POST", f"/servers/{server['id']}/actions/change_protection", {"delete": True, "rebuild": True}
            )["action"]
        ]
    )
    before = len(writes(sim))
    refused = run_module(module, args(sim, state="absent"), capsys)
    assert refused["failed"] is True and refused["failure"]["code"] == "protected" and "prod-1" in refused["msg"]
    assert len(writes(sim)) == before
    done = run_module(module, args(sim, state="absent", remove_protection=True), capsys)
    assert done["changed"] is True and "prod-1" not in names(client, "servers")
    assert TOKEN not in json.dumps(refused) + json.dumps(done)
