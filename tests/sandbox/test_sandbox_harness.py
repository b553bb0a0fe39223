"""The harness: in-process simulators, fault injection, latency, the request log and the control plane."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
from sandbox_testlib import QEMU_SCHEMATIC, call

from sandbox import requestlog
from sandbox.harness import RunningSimulator, running

pytestmark = pytest.mark.slow


def test_running_binds_loopback_and_stops(tmp_path) -> None:
    with running("image-factory", tmp_path) as factory:
        assert factory.url == f"http://127.0.0.1:{factory.port}" and factory.port > 0
        assert call(factory.url, "GET", "/_sandbox/health").json()["name"] == "image-factory"
    with pytest.raises(OSError):
        call(factory.url, "GET", "/versions", timeout=2)
    factory.stop()  # idempotent


def test_unknown_simulator_and_option(tmp_path) -> None:
    with pytest.raises(KeyError, match="known: image-factory"):
        with running("nope", tmp_path):
            pass
    with pytest.raises(ValueError, match="unknown image-factory option"):
        with running("image-factory", tmp_path, colour="red"):
            pass


def test_status_fault_is_bounded_by_count(factory: RunningSimulator) -> None:
    factory.set_fault(503, count=2, path="^/schematics", headers={"Retry-After": "1"})
    statuses = [call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC) for _unused in range(3)]
    assert [reply.status for reply in statuses] == [503, 503, 201]
    assert statuses[0].headers["Retry-After"] == "1" and statuses[0].text == "service unavailable\n"
    assert call(factory.url, "GET", "/versions").status == 200  # path did not match
    assert [record.get("fault") for record in factory.requests()] == ["status", "status", None, None]


def test_fault_by_method_and_custom_body(factory: RunningSimulator) -> None:
    factory.set_fault(429, method="GET", body="slow down")
    assert call(factory.url, "POST", "/schematics", "{}").status == 201
    reply = call(factory.url, "GET", "/versions")
    assert (reply.status, reply.text) == (429, "slow down\n")


def test_dropped_connection(factory: RunningSimulator) -> None:
    factory.set_fault(drop_connection=True, count=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        call(factory.url, "GET", "/versions")
    assert call(factory.url, "GET", "/versions").status == 200
    first = factory.requests()[0]
    assert (first["status"], first["fault"], first["response_bytes"]) == (None, "drop", 0)


def test_truncated_download_then_resume(factory: RunningSimulator, qemu_schematic: str) -> None:
    path = f"/image/{qemu_schematic}/v1.13.9/metal-amd64.raw.xz"
    full = call(factory.url, "GET", path).body
    factory.set_fault(truncate_after=1000, path="^/image/")
    with pytest.raises(http.client.IncompleteRead) as cut:
        call(factory.url, "GET", path)
    assert cut.value.partial == full[:1000]
    rest = call(factory.url, "GET", path, headers={"Range": "bytes=1000-"})
    assert rest.status == 206 and cut.value.partial + rest.body == full
    statuses = [(record["status"], record.get("fault"), record["response_bytes"]) for record in factory.requests()[-3:]]
    assert statuses == [(200, None, len(full)), (200, "truncate", 1000), (206, None, len(full) - 1000)]


def test_latency(factory: RunningSimulator) -> None:
    factory.set_latency(200, path="^/versions")
    started = time.monotonic()
    call(factory.url, "GET", "/versions")
    assert time.monotonic() - started >= 0.2
    assert factory.requests()[-1]["duration_ms"] >= 200
    factory.set_latency(0)
    call(factory.url, "GET", "/versions")
    # measured where the latency is added (the client's wall time also counts a loaded machine's scheduling)
    assert factory.requests()[-1]["duration_ms"] < 200


def test_control_plane_over_http(factory: RunningSimulator) -> None:
    url = factory.url
    added = call(url, "POST", "/_sandbox/faults", json.dumps({"status": 500, "count": 1, "path": "^/versions"}))
    assert added.status == 201 and added.json()["faults"][0]["status"] == 500
    assert call(url, "GET", "/versions").status == 500
    call(url, "POST", "/_sandbox/faults", json.dumps([{"status": 502, "count": 5}]))
    assert call(url, "DELETE", "/_sandbox/faults").json() == {"faults": []}
    assert call(url, "GET", "/versions").status == 200
    assert call(url, "POST", "/_sandbox/latency", json.dumps({"ms": 50})).json()["latency"]["ms"] == 50
    assert call(url, "GET", "/_sandbox/faults").json()["latency"]["ms"] == 50
    for bad in (
        {"status": 700},
        {"count": 0, "status": 500},
        {"status": 500, "path": "("},
        {"status": 500, "colour": 1},
    ):
        reply = call(url, "POST", "/_sandbox/faults", json.dumps(bad))
        assert reply.status == 400 and "error" in reply.json()
    assert call(url, "POST", "/_sandbox/latency", json.dumps({"ms": -1})).status == 400
    assert call(url, "GET", "/_sandbox/nothing").status == 404
    assert [record["path"] for record in factory.requests()] == ["/versions", "/versions"]  # control calls not logged
    assert len(call(url, "GET", "/_sandbox/requests").json()) == 2


def test_request_log_records(factory: RunningSimulator) -> None:
    body = "customization:\n  extraKernelArgs: [" + ", ".join(["x" * 100] * 1000) + "]\n"
    call(
        factory.url,
        "POST",
        "/schematics?dry=1&dry=2",
        body,
        {"Authorization": "Bearer secret-token", "X-Request-ID": "r1"},
    )
    schematic_id = call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC).json()["id"]
    call(factory.url, "GET", f"/image/{schematic_id}/v1.13.9/metal-amd64.iso?token=hunter2")
    first, _unused, image = factory.requests()
    assert set(first) >= {
        "ts", "method", "path", "query", "request_headers", "request_body", "status",
        "response_headers", "response_body", "duration_ms",
    }  # fmt: skip
    assert (first["method"], first["path"], first["query"]) == ("POST", "/schematics", {"dry": ["1", "2"]})
    assert first["request_headers"]["Authorization"] == "REDACTED" and "secret-token" not in json.dumps(first)
    assert len(first["request_body"]) == requestlog.MAX_BODY_CHARS
    assert first["status"] == 201 and first["response_body"].startswith('{"id":"')
    assert len(first["response_body"]) == requestlog.MAX_BODY_CHARS  # long answers are cut as well
    assert first["response_headers"]["X-Request-ID"] == "r1" and first["request_id"] == "r1"
    assert image["query"] == {"token": ["REDACTED"]}
    assert image["response_body"] is None and image["response_bytes"] == int(
        image["response_headers"]["Content-Length"]
    )
    assert requestlog.read(factory.state_dir, "image-factory") == factory.requests()
    assert requestlog.count(factory.state_dir, "image-factory") == 3


def test_request_log_under_concurrency(factory: RunningSimulator) -> None:
    def hit() -> None:
        for _unused in range(5):
            assert call(factory.url, "GET", "/versions").status == 200

    threads = [threading.Thread(target=hit) for _unused in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    lines = (factory.state_dir / "logs" / "image-factory.jsonl").read_text().splitlines()
    assert len(lines) == 40 and all(json.loads(line)["status"] == 200 for line in lines)


def test_reset_clears_state_log_and_faults(factory: RunningSimulator, qemu_schematic: str) -> None:
    factory.set_fault(500, count=10, path="^/nothing")
    factory.set_latency(10)
    factory.reset()
    assert factory.requests() == []
    assert call(factory.url, "GET", f"/schematics/{qemu_schematic}").status == 404
    health = call(factory.url, "GET", "/_sandbox/health").json()
    assert health["faults"] == [] and health["latency"]["ms"] == 0


def test_reset_over_http_leaves_what_a_start_writes(factory: RunningSimulator) -> None:
    """A reset empties the simulator's stored data and writes again what a start writes (the talosctl checksums)."""
    checksums = factory.app.data_dir / "talosctl" / "sha256sum.txt"
    written = checksums.read_text()
    assert call(factory.url, "POST", "/_sandbox/reset", "{}").status in (200, 204)
    assert checksums.read_text() == written
