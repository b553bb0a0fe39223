# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.hcloud_cluster_base through main(), against the Hetzner Cloud simulator (answers validated
against the spec): one task makes the network, firewall, placement groups and API endpoint; a re-run is one list
request per kind; drift is fixed in place; every create and change rides out transient faults and lost answers
without making anything twice; bad input is refused before any request."""

from __future__ import annotations

import json
import time

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.hcloud import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_cluster_base as module
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

TOKEN = "cluster-base-token-never-shown-5"
LABELS = {"talosforge.io/cluster": "prod", "talosforge.io/managed-by": "talosforge.cluster"}
RULES = [
    {"protocol": "tcp", "port": "6443", "source_ips": ["0.0.0.0/0", "::/0"], "description": "Kubernetes API"},
    {"protocol": "tcp", "port": "50000", "source_ips": ["203.0.113.0/24"], "description": "Talos API"},
    {"protocol": "tcp", "port": "1-65535", "source_ips": ["10.0.0.0/16"], "description": "node-to-node TCP"},
    {"protocol": "icmp", "source_ips": ["10.0.0.0/16"], "description": "node-to-node ICMP"},
]
CREATES = ["/v1/networks", "/v1/firewalls", "/v1/placement_groups", "/v1/load_balancers", "/v1/floating_ips"]


@pytest.fixture
def sim(tmp_path):
    with harness.running("hcloud", tmp_path / "sim", validate=True, token=TOKEN, action_latency_ms=30) as simulator:
        simulator.client = HcloudClient(TOKEN, simulator.url + "/v1")
        yield simulator
        assert simulator.app.drift == [], "the simulator answered outside the contract"


def args(sim, endpoint: str = "load_balancer", **extra) -> dict:
    result = {
        "api_token": TOKEN,
        "api_endpoint": sim.url + "/v1",
        "cluster": "prod",
        "delete_protection": True,
        "network": {"ip_range": "10.0.0.0/16", "subnet_ip_range": "10.0.1.0/24"},
        "firewall": {"rules": RULES},
        "placement_groups": ["controlplane", "workers"],
        "wait_timeout": 30,
    }
    if endpoint == "load_balancer":
        result["load_balancer"] = {
            "location": "fsn1",
            "target_label_selector": "talosforge.io/cluster=prod,talosforge.io/role=controlplane",
        }
    else:
        result["floating_ip"] = {"home_location": "fsn1"}
    result.update(extra)
    return result


def requests(sim, since: int = 0) -> list[dict]:
    time.sleep(0.05)
    return [r for r in sim.requests() if r["path"].startswith("/v1/")][since:]


def writes(sim, since: int = 0) -> list[dict]:
    return [r for r in requests(sim, since) if r["method"] != "GET"]


def made(sim) -> dict[str, int]:
    """How many of each kind exist."""
    return {path: len(sim.client.list(path.rsplit("/", 1)[1])) for path in CREATES}


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


def test_one_task_makes_everything_whole_then_a_rerun_is_one_list_per_kind(sim, capsys):
    result = run_module(module, args(sim), capsys)
    assert result["changed"] is True, result
    assert [(p["kind"], p["name"], p["action"]) for p in result["plan"]] == [
        ("network", "prod", "create"),
        ("firewall", "prod", "create"),
        ("placement_group", "prod-controlplane", "create"),
        ("placement_group", "prod-workers", "create"),
        ("load_balancer", "prod-api", "create"),
    ]
    network = sim.client.call("GET", f"/networks/{result['network']['id']}")["network"]
    assert network["labels"] == LABELS and network["protection"]["delete"] is True
    assert [s["ip_range"] for s in network["subnets"]] == ["10.0.1.0/24"]
    firewall = sim.client.call("GET", f"/firewalls/{result['firewall']['id']}")["firewall"]
    assert [(r["protocol"], r["port"]) for r in firewall["rules"]] == [
        ("tcp", "6443"),
        ("tcp", "50000"),
        ("tcp", "1-65535"),
        ("icmp", None),
    ]
    groups = sim.client.list("placement_groups")
    assert sorted((g["name"], g["labels"]["talosforge.io/pool"], g["type"]) for g in groups) == [
        ("prod-controlplane", "controlplane", "spread"),
        ("prod-workers", "workers", "spread"),
    ]
    lb = sim.client.call("GET", f"/load_balancers/{result['load_balancer']['id']}")["load_balancer"]
    assert lb["protection"]["delete"] is True and lb["private_net"][0]["network"] == network["id"]
    assert [(s["listen_port"], s["destination_port"], s["protocol"]) for s in lb["services"]] == [(6443, 6443, "tcp")]
    assert lb["targets"][0]["label_selector"]["selector"].endswith("talosforge.io/role=controlplane")
    assert lb["targets"][0]["use_private_ip"] is True
    assert result["load_balancer"]["ipv4"] == lb["public_net"]["ipv4"]["ip"]
    assert result["load_balancer"]["private_ipv4"] == lb["private_net"][0]["ip"]
    creates = [r["path"] for r in writes(sim) if r["method"] == "POST" and r["path"] in CREATES]
    assert sorted(creates) == sorted(CREATES[:3] + ["/v1/placement_groups", "/v1/load_balancers"])
    assert TOKEN not in json.dumps(result)
    before = len(requests(sim))
    again = run_module(module, args(sim), capsys)
    assert again["changed"] is False and {p["action"] for p in again["plan"]} == {"none"}
    assert again["api_requests"] == 4 and len(requests(sim, before)) == 4
    assert {r["method"] for r in requests(sim, before)} == {"GET"}
    assert again["load_balancer"] == result["load_balancer"] and again["network"] == result["network"]


def test_check_mode_on_an_empty_project_plans_everything_and_writes_nothing(sim, capsys):
    planned = run_module(module, {**args(sim), "_ansible_check_mode": True, "_ansible_diff": True}, capsys)
    assert planned["changed"] is True and planned["load_balancer"] is None and planned["network"] is None
    assert {p["action"] for p in planned["plan"]} == {"create"}
    assert planned["plan"][0]["changes"] == ["create", "delete protection"]
    assert planned["diff"]["before"]["network/prod"] == "absent"
    assert writes(sim) == []


def test_drift_is_fixed_in_place_and_what_cannot_change_is_reported(sim, capsys):
    first = run_module(module, args(sim), capsys)
    net, fw, lb = (first[k]["id"] for k in ("network", "firewall", "load_balancer"))
    client = sim.client
    client.call("PUT", f"/networks/{net}", {"labels": {**LABELS, "team": "platform"}})
    client.call("POST", f"/networks/{net}/actions/delete_subnet", {"ip_range": "10.0.1.0/24"})
    client.call("POST", f"/networks/{net}/actions/change_protection", {"delete": False})
    client.call("POST", f"/firewalls/{fw}/actions/set_rules", {"rules": [{**RULES[0], "direction": "in"}]})
    client.call("POST", f"/load_balancers/{lb}/actions/delete_service", {"listen_port": 6443})
    selector = {"selector": "talosforge.io/cluster=prod,talosforge.io/role=controlplane"}
    client.call(
        "POST", f"/load_balancers/{lb}/actions/remove_target", {"type": "label_selector", "label_selector": selector}
    )
    time.sleep(0.2)
    fixed = run_module(module, {**args(sim), "_ansible_diff": True}, capsys)
    assert fixed["changed"] is True, fixed
    plan = {p["name"] if p["kind"] != "firewall" else "firewall": p for p in fixed["plan"]}
    assert plan["prod"]["changes"] == ["delete protection", "subnet 10.0.1.0/24"]
    assert plan["firewall"]["changes"] == ["rules"] and plan["prod-api"]["changes"] == ["service 6443", "target"]
    network = client.call("GET", f"/networks/{net}")["network"]
    assert network["labels"]["team"] == "platform" and network["protection"]["delete"] is True  # theirs kept
    assert run_module(module, args(sim), capsys)["changed"] is False
    bigger = args(sim)
    bigger["load_balancer"]["type"] = "lb21"
    resized = run_module(module, bigger, capsys)
    assert resized["changed"] is True and resized["plan"][-1]["changes"] == ["type lb21"]
    assert client.call("GET", f"/load_balancers/{lb}")["load_balancer"]["load_balancer_type"]["name"] == "lb21"
    assert run_module(module, bigger, capsys)["changed"] is False
    moved = bigger
    moved["load_balancer"]["location"] = "nbg1"
    moved["network"]["ip_range"] = "10.0.0.0/8"
    reported = run_module(module, moved, capsys)
    assert reported["changed"] is False and "not changed in place" in " ".join(reported["plan"][-1]["drift"])
    assert "change_ip_range" in reported["plan"][0]["drift"][0]


@pytest.mark.parametrize("path", CREATES)
def test_a_lost_create_answer_is_adopted_never_made_twice(sim, capsys, path):
    endpoint = "floating_ip" if path.endswith("floating_ips") else "load_balancer"
    sim.set_fault(cut_after_acting=True, method="POST", path=f"^{path}$", count=2)
    result = run_module(module, args(sim, endpoint), capsys)
    assert result["changed"] is True and not result.get("failed"), result
    cut = [r for r in requests(sim) if r.get("fault") == "cut" and r["path"] == path]
    assert len(cut) == (2 if path.endswith("placement_groups") else 1) and {r["status"] for r in cut} == {201}
    counts = made(sim)
    wanted = {p: 1 for p in CREATES} | {"/v1/placement_groups": 2}
    wanted["/v1/floating_ips" if endpoint == "load_balancer" else "/v1/load_balancers"] = 0
    assert counts == wanted
    assert run_module(module, args(sim, endpoint), capsys)["changed"] is False


@pytest.mark.parametrize("fault", ["503", "drop", "cut"])
def test_transient_faults_on_every_request_are_ridden_out(sim, capsys, fault):
    """Each kind's list, create and change actions meet the fault once; the run ends whole and nothing is doubled."""
    spoil = {"503": {"status": 503}, "drop": {"drop_connection": True}, "cut": {"cut_after_acting": True}}[fault]
    for path in (r"^/v1/(networks|firewalls|placement_groups|load_balancers)$", r"/actions/"):
        for method in ("GET", "POST") if fault != "cut" else ("POST",):
            sim.set_fault(path=path, method=method, count=3, **spoil)
    result = run_module(module, args(sim), capsys)
    assert not result.get("failed") and result["changed"] is True, result
    spoiled = [r for r in requests(sim) if r.get("fault")]
    assert len(spoiled) >= (9 if fault != "cut" else 5), [(r["method"], r["path"]) for r in spoiled]
    assert made(sim) == {p: 1 for p in CREATES} | {"/v1/placement_groups": 2, "/v1/floating_ips": 0}
    assert run_module(module, args(sim), capsys)["changed"] is False


def test_a_name_taken_by_something_not_the_clusters_is_refused_and_named(sim, capsys):
    sim.client.call("POST", "/firewalls", {"name": "prod", "labels": {"owner": "someone-else"}, "rules": []})
    result = run_module(module, args(sim), capsys)
    assert result["failed"] is True and result["failures"][0]["name"] == "firewall/prod"
    assert "without the cluster's labels" in result["msg"] and "1 of 5 resources failed" in result["msg"]
    assert result["failures"][0]["failure"]["code"] == "uniqueness_error"
    owner = sim.client.list("firewalls", {"name": "prod"})[0]
    assert owner["labels"] == {"owner": "someone-else"}  # left alone
    assert result["network"]["id"] and result["load_balancer"]["id"]  # the rest was made


def test_a_floating_ip_with_another_address_fails_naming_both(sim, capsys):
    result = run_module(
        module, args(sim, "floating_ip", floating_ip={"home_location": "fsn1", "address": "192.0.2.7"}), capsys
    )
    assert result["failed"] is True and "192.0.2.7" in result["msg"] and result["floating_ip"]["ip"] in result["msg"]
    given = result["floating_ip"]["ip"]
    good = run_module(module, args(sim, "floating_ip", floating_ip={"home_location": "fsn1", "address": given}), capsys)
    assert good["changed"] is False and good["floating_ip"]["ip"] == given


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"network": {"ip_range": "10.0.0.0/16", "subnet_ip_range": "10.1.0.0/24"}}, "network.subnet_ip_range"),
        ({"network": {"ip_range": "fd00::/64", "subnet_ip_range": "fd00::/80"}}, "IPv4 only"),
        ({"network": {"ip_range": "10.0.0.1/16", "subnet_ip_range": "10.0.1.0/24"}}, "network.ip_range"),
        ({"firewall": {"rules": [{"protocol": "tcp", "source_ips": ["10.0.0.0/8"]}]}}, "firewall.rules[0].port"),
        ({"firewall": {"rules": [{"protocol": "tcp", "port": "80-20", "source_ips": ["::/0"]}]}}, "firewall.rules[0]"),
        ({"firewall": {"rules": [{"protocol": "icmp", "port": "1"}]}}, "firewall.rules[0].port"),
        ({"firewall": {"rules": [{"protocol": "udp", "port": "53"}]}}, "needs source_ips"),
        ({"firewall": {"rules": [{"protocol": "udp", "port": "53", "source_ips": ["nope"]}]}}, "source_ips"),
        ({"placement_groups": ["Not A Label!"]}, "placement_groups[0]"),
        ({"floating_ip": {"home_location": "fsn1", "address": "not-an-ip"}}, "floating_ip.address"),
    ],
)
def test_bad_input_is_refused_before_any_request(sim, capsys, change, named):
    result = run_module(module, {**args(sim), **change}, capsys)
    assert result["failed"] is True and named in result["msg"], result["msg"]
    assert requests(sim) == []


def test_a_permanent_refusal_names_the_resource_and_keeps_the_api_code(sim, capsys):
    sim.set_fault(
        403,
        path="^/v1/load_balancers$",
        method="POST",
        count=1,
        body='{"error": {"code": "forbidden", "message": "insufficient permissions", "details": {}}}',
    )
    result = run_module(module, args(sim), capsys)
    assert result["failed"] is True and result["failures"][0]["name"] == "load_balancer/prod-api"
    assert result["failures"][0]["failure"]["code"] == "forbidden" and result["failures"][0]["failure"]["status"] == 403
    assert result["network"]["id"] is not None and TOKEN not in json.dumps(result)
