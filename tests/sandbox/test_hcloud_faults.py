"""Rate limit, injected faults in the API's error envelope, failed actions, dropped connections, action latency."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from hcloud_testlib import TOKEN, api, control, hcloud, spec_problems

from sandbox.harness import running
from sandbox.simulators.hcloud.ratelimit import RateLimit

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


def test_every_answer_carries_the_rate_limit_headers(hcloud_sim) -> None:
    before = time.time()
    first = api(hcloud_sim, "GET", "/v1/servers")[1]
    second = api(hcloud_sim, "GET", "/v1/nothing")[1]  # errors count and carry them too
    assert first["RateLimit-Limit"] == "3600"
    assert int(first["RateLimit-Remaining"]) == 3599
    assert int(second["RateLimit-Remaining"]) in (3598, 3599)  # one request refills within a second
    assert before <= int(first["RateLimit-Reset"]) <= time.time() + 3


def test_a_spent_limit_answers_429_until_it_refills(tmp_path: Path) -> None:
    with running("hcloud", tmp_path / "state", validate=True, rate_limit=3) as simulator:
        statuses = [api(simulator, "GET", "/v1/servers")[0] for _attempt in range(4)]
        assert statuses == [200, 200, 200, 429]
        status, headers, body = api(simulator, "GET", "/v1/servers")
        assert (status, body["error"]["code"]) == (429, "rate_limit_exceeded")
        assert headers["RateLimit-Remaining"] == "0"
        assert int(headers["RateLimit-Reset"]) >= time.time() + 3600 / 3 * 2  # 3 per hour: one every 20 minutes
        assert spec_problems(simulator.requests()) == []


def test_the_bucket_refills_one_request_per_second_at_the_default_limit() -> None:
    moment = [0.0]
    limit = RateLimit(3600, clock=lambda: moment[0], wall=lambda: 1000.0)
    limit.configure(3600, remaining=0)
    assert limit.take()[0] is False
    moment[0] = 0.5
    allowed, headers = limit.take()  # half a second later: still nothing
    assert allowed is False and headers["RateLimit-Reset"] == str(1000 + 3600)  # 3599.5 s to full, rounded up
    moment[0] = 2.6
    allowed, headers = limit.take()  # 2.6 s in: two requests back, one spent
    assert allowed is True and headers["RateLimit-Remaining"] == "1"


def test_the_client_waits_out_a_spent_limit(hcloud_sim, client) -> None:
    client._retry_interval_func = lambda retries: 0.15  # the library's own backoff starts at 1 s
    assert control(hcloud_sim, "POST", "rate-limit", {"limit": 36000, "remaining": 0})[0] == 200  # 10 a second
    status, _h, body = api(hcloud_sim, "GET", "/v1/servers")
    assert (status, body["error"]["code"]) == (429, "rate_limit_exceeded")
    time.sleep(0.05)
    assert client.servers.get_all() == []  # 429 again, then a retry after the refill
    assert [r["status"] for r in hcloud_sim.requests()] == [429, 429, 200]


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (423, None, "locked"),
        (409, None, "conflict"),
        (409, "uniqueness_error", "uniqueness_error"),
        (403, "resource_limit_exceeded", "resource_limit_exceeded"),
        (503, None, "unavailable"),
        (500, None, "server_error"),
        (502, None, "bad_gateway"),
        (504, None, "timeout"),
    ],
)
def test_status_faults_answer_in_the_error_envelope(hcloud_sim, status: int, body: str | None, code: str) -> None:
    hcloud_sim.set_fault(status, path="^/v1/servers$", method="POST", body=body)
    answer, headers, data = api(hcloud_sim, "POST", "/v1/servers", SERVER)
    assert (answer, data["error"]["code"]) == (status, code)
    assert data["error"]["message"]
    assert "RateLimit-Remaining" in headers
    if code == "resource_limit_exceeded":
        assert data["error"]["details"] == {"limits": [{"name": "project_limit"}]}
    assert api(hcloud_sim, "POST", "/v1/servers", SERVER)[0] == 201  # the fault was used up


def test_a_fault_body_may_be_a_whole_error_object(hcloud_sim) -> None:
    error = '{"code": "uniqueness_error", "message": "SSH key exists", "details": {"fields": [{"name": "public_key"}]}}'
    hcloud_sim.set_fault(409, path="^/v1/ssh_keys$", body=error)
    status, _h, data = api(hcloud_sim, "POST", "/v1/ssh_keys", {"name": "a", "public_key": "ssh-ed25519 AAAA"})
    assert status == 409
    assert data["error"] == {
        "code": "uniqueness_error",
        "message": "SSH key exists",
        "details": {"fields": [{"name": "public_key"}]},
    }


def test_the_client_sees_the_codes_of_injected_faults(hcloud_sim, client) -> None:
    hcloud_sim.set_fault(423, path="/actions/poweroff$")
    server = client.servers.create(
        name="a", server_type=hcloud.server_types.ServerType(name="cx22"), image=hcloud.images.Image(name="debian-12")
    ).server
    with pytest.raises(hcloud.APIException) as locked:
        server.power_off()
    assert locked.value.code == "locked"


def test_a_dropped_connection(hcloud_sim, client) -> None:
    hcloud_sim.set_fault(drop_connection=True, path="^/v1/servers$", method="GET")
    with pytest.raises(requests.ConnectionError):
        requests.get(hcloud_sim.url + "/v1/servers", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert client.servers.get_all() == []
    assert [r["status"] for r in hcloud_sim.requests()] == [None, 200]


def test_a_failed_action_ends_in_error_with_its_code(hcloud_sim, client) -> None:
    status, settings = control(
        hcloud_sim,
        "POST",
        "action-failures",
        {"command": "create_image", "code": "image_failed", "message": "disk read error"},
    )
    assert (status, settings["failures"][0]["command"]) == (201, "create_image")
    server = client.servers.create(
        name="a", server_type=hcloud.server_types.ServerType(name="cx22"), image=hcloud.images.Image(name="debian-12")
    ).server
    made = server.create_image(description="snap")
    with pytest.raises(hcloud.actions.ActionFailedException) as failed:
        made.action.wait_until_finished()
    assert failed.value.action.error == {"code": "image_failed", "message": "disk read error"}
    assert client.images.get_all(type="snapshot") == []  # no half-made snapshot left behind
    again = server.create_image(description="snap")  # the failure was used up
    again.action.wait_until_finished()
    assert client.images.get_by_id(again.image.id).status == "available"


def test_action_latency_progress_and_locking(hcloud_sim, client) -> None:
    control(hcloud_sim, "POST", "action-latency", {"ms": 400, "command": "start_server"})
    created = client.servers.create(
        name="a", server_type=hcloud.server_types.ServerType(name="cx22"), image=hcloud.images.Image(name="debian-12")
    )
    start = created.next_actions[0]
    assert start.status == "running" and start.progress < 20  # just started
    status, _h, body = api(hcloud_sim, "POST", f"/v1/servers/{created.server.id}/actions/poweroff")
    assert (status, body["error"]["code"]) == (423, "locked")  # an action is still running on it
    network = client.networks.create(name="n", ip_range="10.0.0.0/16")
    status, _h, body = api(
        hcloud_sim, "POST", f"/v1/servers/{created.server.id}/actions/attach_to_network", {"network": network.id}
    )
    assert (status, body["error"]["code"]) == (423, "locked")
    assert client.servers.get_by_id(created.server.id).private_net == []  # a refused action changes nothing
    time.sleep(0.2)
    start.reload()
    assert start.status == "running" and 20 <= start.progress <= 99
    began = time.monotonic()
    start.wait_until_finished(max_retries=200)
    assert 0.05 < time.monotonic() - began < 10.0  # it finishes on its own (the upper bound allows a loaded machine)
    assert client.servers.get_by_id(created.server.id).status == "running"


def test_action_latency_option_per_command(tmp_path: Path) -> None:
    with running("hcloud", tmp_path / "state", validate=True, action_latency_ms={"*": 300, "create_server": 0}) as sim:
        status, _h, body = api(sim, "POST", "/v1/servers", SERVER)
        assert status == 201
        create, start = body["action"]["id"], body["next_actions"][0]["id"]
        assert api(sim, "GET", f"/v1/actions/{create}")[2]["action"]["status"] == "success"
        assert api(sim, "GET", f"/v1/actions/{start}")[2]["action"]["status"] == "running"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # bounded: the timer finishes the action after 300 ms
            if sim.app.store.get("actions", start)["status"] == "success":
                break
            time.sleep(0.05)
        assert sim.app.store.get("actions", start)["status"] == "success"  # finished without being polled
        assert spec_problems(sim.requests()) == []
