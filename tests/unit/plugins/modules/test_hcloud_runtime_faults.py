# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's Hetzner client under run-time faults, against the simulator (contract-validated).

Class tests: every DELETE the collection makes succeeds when the simulator answers 404 ``not_found`` (the resource
vanished between list and delete); a spent rate-limit budget is paced at the refill rate.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud import image_build, resources, servers_apply
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    HcloudClient,
    HcloudError,
    retry_wait,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_plan import temporary_labels

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

TOKEN = "runtime-faults-token-never-shown-7"
LABELS = {"talosforge.io/cluster": "prod", "talosforge.io/managed-by": "talosforge.cluster"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfM3bZ4n2R7pX0Yq0cG6m1q5Vh8y3b5a2rN0t9d8K7x prod"


@pytest.fixture
def sim(tmp_path):
    with harness.running("hcloud", tmp_path / "sim", validate=True, token=TOKEN, action_latency_ms=20) as simulator:
        yield simulator
        assert simulator.app.drift == [], "the simulator answered outside the contract"


def client_of(simulator, **kwargs) -> HcloudClient:
    return HcloudClient(TOKEN, simulator.url + "/v1", sleep=lambda _s: None, **kwargs)


def make_all(client: HcloudClient, labels: dict[str, str], prefix: str) -> None:
    """A server, SSH key, firewall, placement group and network carrying ``labels``."""
    client.call(
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
    client.call("POST", "/placement_groups", {"name": f"{prefix}-pg", "type": "spread", "labels": labels})
    client.call("POST", "/ssh_keys", {"name": f"{prefix}-key", "public_key": KEY, "labels": labels})
    answer = client.call(
        "POST",
        "/servers",
        {"name": f"{prefix}-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1", "labels": labels},
    )
    client.wait_actions([answer.get("action"), *(answer.get("next_actions") or [])], 30, interval=0.02)


def every_delete_is_gone(simulator) -> None:
    simulator.set_fault(404, path="^/v1/", method="DELETE", body="not_found", count=1000)


def test_the_cluster_resources_removal_counts_a_vanished_resource_as_deleted(sim):
    client = client_of(sim)
    make_all(client, LABELS, "prod")
    every_delete_is_gone(sim)
    params = {"cluster": "prod", "parallel": 4, "wait_timeout": 30, "include_snapshots": True}
    result = resources.remove(client, params, check_mode=False)
    assert result["changed"] is True
    assert {r["kind"] for r in result["resources"]} >= {"servers", "ssh_keys", "firewalls", "networks"}
    assert result["diff"]["after"] == {"resources": []}


def test_a_pruned_server_that_vanished_is_reported_deleted(sim):
    client = client_of(sim)
    make_all(client, LABELS, "prod")
    every_delete_is_gone(sim)
    params = {"cluster": "prod", "servers": [], "prune": True, "wait_timeout": 30, "parallel": 2}
    result = servers_apply.converge(client, params, check_mode=False)
    assert result["changed"] is True
    assert [(step["name"], step["action"]) for step in result["plan"]] == [("prod-1", "delete")]


def test_the_image_builds_leftover_sweep_and_cleanup_accept_a_vanished_resource(sim):
    client = client_of(sim)
    make_all(client, temporary_labels("prod"), "talosforge-image-build-x")
    found = image_build.leftovers(client, "prod")
    assert len(found["servers"]) == 1 and len(found["ssh_keys"]) == 1
    every_delete_is_gone(sim)
    image_build.clean_leftovers(client, found, 30)
    builder = image_build.Builder(client, lambda *a: (0, "", ""), {"cluster": "prod", "wait_timeout": 30})
    builder._cleanup(found["servers"][0]["id"], found["ssh_keys"][0]["id"])


def test_other_404s_are_still_errors(sim):
    client = client_of(sim)
    sim.set_fault(404, path="^/v1/", method="DELETE", body="not_found")
    with pytest.raises(HcloudError) as caught:
        client.call("DELETE", "/ssh_keys/424242", ok=(204,))
    assert caught.value.code == "not_found"


# -- a spent rate-limit budget ----------------------------------------------------------------------------------


def test_a_429_waits_one_refill_interval_not_until_the_bucket_is_full():
    now = 1_000_000.0
    spent = {"RateLimit-Limit": "3600", "RateLimit-Remaining": "0", "RateLimit-Reset": str(int(now) + 3600)}
    assert retry_wait(429, "rate_limit_exceeded", spent, 0, now) == pytest.approx(1.0)
    small = {"RateLimit-Limit": "36000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(int(now) + 3600)}
    assert retry_wait(429, "rate_limit_exceeded", small, 3, now) == pytest.approx(0.1)


def test_a_spent_budget_is_paced_at_the_refill_rate(sim):
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = HcloudClient(TOKEN, sim.url + "/v1", sleep=sleep)
    sim.app.rate_limit.configure(36000, remaining=0)  # ten requests a second, none left now
    before = len(sim.requests())
    for _round in range(3):
        assert client.list("servers") == []
    statuses = [r["status"] for r in sim.requests()[before:]]
    assert statuses.count(200) == 3
    assert waits and max(waits) <= 0.5, waits  # one refill interval (0.1 s), not the 3600 s to a full bucket
    assert sum(waits) < 5


def test_parallel_requests_share_the_refilled_budget(sim):
    client = HcloudClient(TOKEN, sim.url + "/v1")
    sim.app.rate_limit.configure(36000, remaining=0)
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _i: client.list("ssh_keys"), range(8)))
    assert found == [[]] * 8


def test_a_budget_that_refills_too_slowly_fails_at_once_naming_the_rate(sim):
    sleeps: list[float] = []
    client = HcloudClient(TOKEN, sim.url + "/v1", sleep=sleeps.append)
    sim.app.rate_limit.configure(3, remaining=0)  # one request every 20 minutes: beyond the 300 s bound
    with pytest.raises(HcloudError) as caught:
        client.list("servers")
    assert caught.value.code == "rate_limit_exceeded"
    assert "1200 s" in str(caught.value)
    assert sleeps == []


def test_a_vanished_resource_whose_protection_or_firewall_is_being_lifted_counts_as_deleted(sim):
    client = client_of(sim)
    make_all(client, LABELS, "prod")
    server = client.list("servers")[0]
    client.call("POST", f"/servers/{server['id']}/actions/change_protection", {"delete": True, "rebuild": True})
    firewall = client.list("firewalls")[0]
    client.call(
        "POST",
        f"/firewalls/{firewall['id']}/actions/apply_to_resources",
        {"apply_to": [{"type": "label_selector", "label_selector": {"selector": "talosforge.io/cluster=prod"}}]},
    )
    sim.set_fault(404, path="/actions/(change_protection|remove_from_resources)$", body="not_found", count=100)
    every_delete_is_gone(sim)
    params = {"cluster": "prod", "parallel": 4, "wait_timeout": 30, "remove_protection": True}
    result = resources.remove(client, params, check_mode=False)
    assert result["changed"] is True
