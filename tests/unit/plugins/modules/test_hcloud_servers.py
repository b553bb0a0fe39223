# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.hcloud_servers through main() against the Hetzner Cloud simulator (contract-validated)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.hcloud import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_servers as module
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_servers_info
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

REPO = Path(__file__).resolve().parents[4]
TOKEN = "test-token-must-never-show-up-0123456789"
WRITES = ("POST", "PUT", "DELETE")
LOCATIONS = ("fsn1", "nbg1", "hel1")


def test_argument_spec_matches_documentation():
    spec = check_documentation(module, ModuleDocFragment)
    assert spec["api_token"]["no_log"] and spec["servers"]["options"]["user_data"]["no_log"]
    check_documentation(hcloud_servers_info, ModuleDocFragment)


@pytest.fixture
def sim(tmp_path):
    with harness.running("hcloud", tmp_path / "sim", validate=True, token=TOKEN, action_latency_ms=150) as simulator:
        client = HcloudClient(TOKEN, simulator.url + "/v1")
        client.call(
            "POST",
            "/networks",
            {
                "name": "prod",
                "ip_range": "10.0.0.0/16",
                "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}],
            },
        )
        client.call("POST", "/firewalls", {"name": "prod", "rules": []})
        client.call("POST", "/placement_groups", {"name": "prod-cp", "type": "spread"})
        simulator.reset_log = len(simulator.requests())
        yield simulator
        assert simulator.app.drift == [], "the simulator answered outside the contract"


def servers(count, workers=0):
    nodes = [
        {
            "name": f"cp-{i + 1}",
            "role": "controlplane",
            "pool": "cp",
            "location": LOCATIONS[i % 3],
            "placement_group": "prod-cp",
            "private_ipv4": f"10.0.1.{11 + i}",
        }
        for i in range(count)
    ]
    nodes += [
        {
            "name": f"w-{i + 1}",
            "pool": "amd64",
            "server_type": "cx32",
            "location": LOCATIONS[i % 3],
            "private_ipv4": f"10.0.1.{101 + i}",
            "user_data": "machine: {token: secret-pki-key}",
        }
        for i in range(workers)
    ]
    return nodes


def args(sim, nodes, **extra):
    return {
        "api_token": TOKEN,
        "api_endpoint": sim.url + "/v1",
        "cluster": "prod",
        "server_type": "cpx31",
        "image": "debian-12",
        "network": "prod",
        "firewalls": ["prod"],
        "servers": nodes,
        **extra,
    }


def api_log(sim, since=0):
    """The simulator's log of API requests (after the fixture's set-up), waiting briefly for the last records."""
    time.sleep(0.05)
    return [r for r in sim.requests()[sim.reset_log :][since:] if r["path"].startswith("/v1/")]


def project_servers(sim):
    return HcloudClient(TOKEN, sim.url + "/v1").list("servers")


def test_creates_all_then_a_rerun_costs_one_request(sim, capsys):
    first = run_module(module, args(sim, servers(3, 3), _ansible_diff=True), capsys)
    assert first["changed"] is True
    assert [step["action"] for step in first["plan"]] == ["create"] * 6
    assert [n["name"] for n in first["nodes"]] == ["cp-1", "cp-2", "cp-3", "w-1", "w-2", "w-3"]
    for node, location, address in zip(
        first["nodes"],
        LOCATIONS * 2,
        ["10.0.1.11", "10.0.1.12", "10.0.1.13", "10.0.1.101", "10.0.1.102", "10.0.1.103"],
        strict=True,
    ):
        assert node["status"] == "running" and node["location"] == location and node["private_ipv4"] == address
        assert node["provider"] == "hcloud" and node["provider_id"].isdigit()
        assert node["talos_address"] == node["public_ipv4"] and node["public_ipv4"].startswith("127.")
    assert "secret-pki-key" not in json.dumps(first)
    made = {s["name"]: s for s in project_servers(sim)}
    assert made["cp-1"]["labels"] == {
        "talosforge.io/cluster": "prod",
        "talosforge.io/managed-by": "talosforge.cluster",
        "talosforge.io/role": "controlplane",
        "talosforge.io/pool": "cp",
    }
    assert made["w-2"]["server_type"]["name"] == "cx32" and made["cp-2"]["placement_group"]["name"] == "prod-cp"
    # Actions were awaited together: one GET /actions per round carries several ids.
    polls = [r for r in api_log(sim) if r["path"] == "/v1/actions"]
    assert max(len(r["query"]["id"]) for r in polls) == 6
    before = len(api_log(sim))
    again = run_module(module, args(sim, servers(3, 3)), capsys)
    assert again["changed"] is False and {s["action"] for s in again["plan"]} == {"unchanged"}
    assert again["nodes"] == first["nodes"]
    rerun = api_log(sim, before)
    assert [(r["method"], r["path"]) for r in rerun] == [("GET", "/v1/servers")] and again["api_requests"] == 1


def test_info_reads_the_cluster_nodes_with_one_request(sim, capsys):
    made = run_module(module, args(sim, servers(2, 1)), capsys)
    before = len(api_log(sim))
    found = run_module(
        hcloud_servers_info, {"api_token": TOKEN, "api_endpoint": sim.url + "/v1", "cluster": "prod"}, capsys
    )
    assert found["changed"] is False and found["cluster_nodes"] == made["cluster_nodes"]
    assert [n["name"] for n in found["cluster_nodes"]] == ["cp-1", "cp-2", "w-1"]
    assert [(r["method"], r["path"]) for r in api_log(sim, before)] == [("GET", "/v1/servers")]
    assert found["api_requests"] == 1


def test_check_mode_plans_and_writes_nothing(sim, capsys):
    result = run_module(module, args(sim, servers(2), _ansible_check_mode=True, _ansible_diff=True), capsys)
    assert result["changed"] is True and [s["action"] for s in result["plan"]] == ["create", "create"]
    assert set(result["diff"]["after"]) == {"cp-1", "cp-2"} and result["diff"]["before"] == {}
    assert all(n["provider_id"] is None for n in result["nodes"])
    assert not [r for r in api_log(sim) if r["method"] in WRITES]


def test_drift_is_fixed_and_reported(sim, capsys):
    run_module(module, args(sim, servers(2)), capsys)
    client = HcloudClient(TOKEN, sim.url + "/v1")
    cp1 = next(s for s in project_servers(sim) if s["name"] == "cp-1")
    client.call(
        "PUT",
        f"/servers/{cp1['id']}",
        {"labels": {"talosforge.io/cluster": "prod", "talosforge.io/managed-by": "talosforge.cluster"}},
    )
    client.wait_actions([client.call("POST", f"/servers/{cp1['id']}/actions/poweroff")["action"]])
    firewall = client.list("firewalls", {"name": "prod"})[0]
    client.wait_actions(
        client.call(
            "POST",
            f"/firewalls/{firewall['id']}/actions/remove_from_resources",
            {"remove_from": [{"type": "server", "server": {"id": cp1["id"]}}]},
        )["actions"]
    )
    check = run_module(module, args(sim, servers(2), delete_protection=True, _ansible_check_mode=True), capsys)
    step = check["plan"][0]
    assert step["action"] == "update"
    assert step["changes"] == ["labels", "delete_protection", "firewalls", "power_on"]
    fixed = run_module(module, args(sim, servers(2), delete_protection=True), capsys)
    assert fixed["changed"] is True and {n["status"] for n in fixed["nodes"]} == {"running"}
    cp1 = next(s for s in project_servers(sim) if s["name"] == "cp-1")
    assert cp1["labels"]["talosforge.io/role"] == "controlplane" and cp1["protection"]["delete"] is True
    assert [f["id"] for f in cp1["public_net"]["firewalls"]] == [firewall["id"]]
    quiet = run_module(module, args(sim, servers(2), delete_protection=True, server_type="cx22"), capsys)
    assert quiet["changed"] is False and "server_type is cpx31" in quiet["plan"][0]["drift"][0]


def test_servers_outside_the_list_go_only_with_prune(sim, capsys):
    run_module(module, args(sim, servers(3)), capsys)
    kept = run_module(module, args(sim, servers(2)), capsys)
    assert kept["changed"] is False and kept["plan"][2]["name"] == "cp-3" and "prune" in kept["plan"][2]["drift"][0]
    assert len(project_servers(sim)) == 3
    pruned = run_module(module, args(sim, servers(2), prune=True), capsys)
    assert pruned["changed"] is True and pruned["plan"][2]["action"] == "delete"
    assert sorted(s["name"] for s in project_servers(sim)) == ["cp-1", "cp-2"]


def test_a_lost_create_answer_is_adopted_not_duplicated(sim, capsys):
    # The server is made but its answer breaks off: the client looks for it by name and adopts it instead of
    # sending the create again (a resend would meet uniqueness_error, 409).
    sim.set_fault(truncate_after=0, path="^/v1/servers$", method="POST", count=1)
    sim.set_fault(503, path="^/v1/servers$", method="POST", count=1)
    result = run_module(module, args(sim, servers(3)), capsys)
    assert result["changed"] is True and "adopted" in sum((s["changes"] for s in result["plan"]), [])
    assert sorted(s["name"] for s in project_servers(sim)) == ["cp-1", "cp-2", "cp-3"]
    assert {n["status"] for n in result["nodes"]} == {"running"}
    statuses = [r["status"] for r in api_log(sim) if r["method"] == "POST" and r["path"] == "/v1/servers"]
    assert 409 not in statuses and 503 in statuses and statuses.count(201) == 3


def test_a_run_killed_midway_then_rerun_ends_with_exactly_the_servers(sim, tmp_path, capsys):
    sim.app.actions.set_latency(3000)
    sim.set_latency(400, path="^/v1/servers$")  # creates two at a time, slowly: the kill leaves some undone
    nodes = servers(3, 3)
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args(sim, nodes, parallel=2)}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / ".build" / "collections"), str(REPO)])}
    process = subprocess.Popen(
        [sys.executable, module.__file__, str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sum(1 for r in api_log(sim) if r["method"] == "POST" and r["path"] == "/v1/servers") >= 2:
                break
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=10)
    sim.set_latency(0)
    assert 2 <= len(project_servers(sim)) < 6
    assert {s["status"] for s in project_servers(sim)} == {"initializing"}  # killed while they were being made
    sim.app.actions.set_latency(100)
    result = run_module(module, args(sim, nodes), capsys)
    assert sorted(s["name"] for s in project_servers(sim)) == sorted(n["name"] for n in nodes)
    assert {n["status"] for n in result["nodes"]} == {"running"}
    assert [n["private_ipv4"] for n in result["nodes"]] == [n["private_ipv4"] for n in nodes]
    assert run_module(module, args(sim, nodes), capsys)["changed"] is False


def test_rate_limit_waits_for_ratelimit_reset(sim, capsys):
    reset = int(time.time()) + 2
    sim.set_fault(
        429,
        path="^/v1/servers$",
        method="GET",
        count=1,
        headers={"RateLimit-Limit": "3600", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
    )
    started = time.monotonic()
    result = run_module(module, args(sim, servers(1)), capsys)
    assert result["changed"] is True and time.monotonic() - started >= 1.0
    first_two = api_log(sim)[:2]
    assert [r["status"] for r in first_two] == [429, 200]
    assert json.loads(first_two[0]["response_body"])["error"]["code"] == "rate_limit_exceeded"
    waited = (
        time.mktime(time.strptime(first_two[1]["ts"][:19], "%Y-%m-%dT%H:%M:%S"))
        - time.timezone
        - time.mktime(time.strptime(first_two[0]["ts"][:19], "%Y-%m-%dT%H:%M:%S"))
        + time.timezone
    )
    assert waited >= 1


def test_locked_5xx_and_dropped_connections_are_retried(sim, capsys):
    sim.set_fault(drop_connection=True, path="^/v1/servers$", method="POST", count=1)
    sim.set_fault(423, path=r"^/v1/servers/\d+/actions/poweron$", count=2, body="locked")
    sim.set_fault(502, path="^/v1/actions$", count=1)
    result = run_module(module, args(sim, servers(2)), capsys)
    assert result["changed"] is True and {n["status"] for n in result["nodes"]} == {"running"}
    assert [r["status"] for r in api_log(sim)].count(423) == 2
    creates = [r["status"] for r in api_log(sim) if r["method"] == "POST" and r["path"] == "/v1/servers"]
    assert sorted(creates, key=str) == [201, 201, None] and len(project_servers(sim)) == 2


def test_a_failed_action_is_reported_with_its_code(sim, capsys):
    from sandbox.simulators.hcloud.actions import ActionFailure

    sim.app.actions.add_failure(
        ActionFailure(command="start_server", count=1, code="server_error", message="host is down")
    )
    result = run_module(module, args(sim, servers(2)), capsys)
    assert result["failed"] is True and len(result["failures"]) == 1
    failure = result["failures"][0]
    assert failure["failure"]["code"] == "server_error" and "host is down" in failure["msg"]
    assert "start_server" in result["msg"] and failure["name"] in ("cp-1", "cp-2")


def test_the_token_never_appears_in_results_or_errors(sim, capsys):
    good = run_module(module, args(sim, servers(1), _ansible_diff=True), capsys)
    bad = run_module(module, {**args(sim, servers(1)), "api_token": TOKEN[::-1]}, capsys)
    assert bad["failed"] is True and bad["failure"]["code"] == "unauthorized" and "api_token" in bad["msg"]
    for result in (good, bad):
        assert TOKEN not in json.dumps(result) and TOKEN[::-1] not in json.dumps(result)
    assert all(r["request_headers"].get("Authorization") == "REDACTED" for r in api_log(sim))


def test_bad_input_is_refused_before_any_request(sim, capsys):
    nodes = [{"name": "a", "private_ipv4": "10.0.1.999"}, {"name": "a"}]
    result = run_module(module, args(sim, nodes), capsys)
    assert result["failed"] is True and "servers[0]" in result["msg"] and "servers[1]" in result["msg"]
    assert api_log(sim) == []


def test_private_bootstrap_without_public_addresses(sim, capsys):
    result = run_module(module, args(sim, servers(2), enable_ipv4=False, enable_ipv6=False), capsys)
    for node in result["nodes"]:
        assert node["public_ipv4"] is None and node["public_ipv6"] is None
        assert node["talos_address"] == node["private_ipv4"] and node["talos_address"].startswith("10.0.1.")
    created = [
        json.loads(r["request_body"]) for r in api_log(sim) if r["method"] == "POST" and r["path"] == "/v1/servers"
    ]
    assert {json.dumps(body["public_net"]) for body in created} == {'{"enable_ipv4": false, "enable_ipv6": false}'}
