# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The retry policy of the Hetzner Cloud client (_hcloud_api.retry_wait) and the client's refusals."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    HcloudClient,
    HcloudError,
    describe_failed,
    retry_wait,
)

NOW = 1_800_000_000.0


def test_429_waits_until_ratelimit_reset():
    assert retry_wait(429, "rate_limit_exceeded", {"RateLimit-Reset": str(int(NOW) + 7)}, 0, NOW) == 7.0
    assert retry_wait(429, "rate_limit_exceeded", {"RateLimit-Reset": str(int(NOW) - 5)}, 0, NOW) == 1.0
    assert retry_wait(429, None, {}, 2, NOW) == 2.0  # no header: the backoff


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "server_error"), (502, None), (503, "unavailable"), (423, "locked"), (409, "conflict"), (None, None)],
)
def test_what_a_later_attempt_can_fix_is_retried_with_growing_waits(status, code):
    waits = [retry_wait(status, code, {}, attempt, NOW) for attempt in range(7)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 16.0]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "uniqueness_error"),
        (403, "resource_limit_exceeded"),
        (422, "invalid_input"),
        (404, "not_found"),
        (401, "unauthorized"),
        (423, "protected"),
    ],
)
def test_final_answers_are_not_retried(status, code):
    assert retry_wait(status, code, {}, 0, NOW) is None


def test_client_needs_a_token_and_an_http_endpoint():
    with pytest.raises(HcloudError, match="HCLOUD_TOKEN"):
        HcloudClient("", "http://127.0.0.1:1/v1")
    with pytest.raises(HcloudError, match="api_endpoint"):
        HcloudClient("t", "ftp://example.org")


def test_unreachable_api_fails_after_bounded_attempts_without_the_token():
    waits = []
    client = HcloudClient("very-secret-token", "http://127.0.0.1:9/v1", max_attempts=3, sleep=waits.append)
    with pytest.raises(HcloudError) as caught:
        client.call("GET", "/servers")
    assert caught.value.code is None and "after 3 attempts" in str(caught.value)
    assert waits == [0.5, 1.0] and client.requests == 3
    assert "very-secret-token" not in str(caught.value) + repr(caught.value.failure())


def test_failed_actions_are_described_with_their_code():
    text = describe_failed(
        [
            {
                "id": 5,
                "command": "create_server",
                "resources": [{"id": 42, "type": "server"}],
                "error": {"code": "action_failed", "message": "no capacity"},
            }
        ]
    )
    assert text == "action 5 create_server on server 42 failed: action_failed: no capacity"


def test_lists_follow_pages_and_action_waits_batch_ids(tmp_path):
    harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
    with harness.running("hcloud", tmp_path / "sim", validate=True, action_latency_ms=300) as sim:
        client = HcloudClient("t", sim.url + "/v1")
        for index in range(55):
            client.call("POST", "/placement_groups", {"name": f"pg-{index}", "type": "spread", "labels": {"n": "1"}})
        before = client.requests
        groups = client.list("placement_groups", {"label_selector": "n=1"})
        assert len(groups) == 55 and len({g["id"] for g in groups}) == 55 and client.requests - before == 2
        actions = [
            client.call(
                "POST",
                "/servers",
                {
                    "name": f"s-{i}",
                    "server_type": "cx22",
                    "image": "debian-12",
                    "location": "fsn1",
                    "start_after_create": False,
                },
            )["action"]
            for i in range(30)
        ]
        done = client.wait_actions(actions, timeout=60)
        assert sorted(done) == sorted(a["id"] for a in actions)
        assert {a["status"] for a in done.values()} == {"success"}
        polls = [r for r in sim.requests() if r["path"] == "/v1/actions"]
        assert polls and max(len(r["query"]["id"]) for r in polls) == 25
        assert {int(i) for r in polls for i in r["query"]["id"]} == set(done)
        assert sim.app.drift == []
