"""Fixtures and helpers for the Hetzner Cloud simulator's tests.

Tests run the simulator through :func:`checked_simulator`: ``validate=True`` (each response is checked against
cloud.spec.json inside the simulator) and, on exit, the whole request log is checked once more from the outside:
every request the simulator accepted and every answer it gave must conform to the spec.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sandbox_testlib import REPO_ROOT, call

from sandbox.harness import RunningSimulator, running
from sandbox.simulators.hcloud.contract import shared_contract

hcloud = pytest.importorskip("hcloud")

TOKEN = "sandbox-token-not-a-secret"
CONTRACT_DIR = REPO_ROOT / "tests" / "contracts" / "hetzner-cloud"


def spec_problems(records: list[dict[str, Any]]) -> list[str]:
    """Every logged exchange checked against the spec: accepted requests' bodies, and every response body."""
    contract = shared_contract()
    problems = []
    for record in records:
        if record["status"] is None or not record["path"].startswith("/v1/"):
            continue
        operation, path_params, _other = contract.match(record["method"], record["path"][3:])
        if operation is None:
            continue
        where = f"{record['method']} {record['path']} -> {record['status']}"
        if record["status"] < 400 and record["request_body"]:
            body = json.loads(record["request_body"])
            problems += [
                f"{where}: request {p.name}: {p.message}" for p in contract.check_request_body(operation, body)
            ]
        if record["status"] < 400:
            _values, found = contract.check_parameters(operation, path_params, record["query"])
            problems += [f"{where}: parameter {p.name}: {p.message}" for p in found]
        if record.get("fault") in ("cut", "truncate"):
            continue  # the answer was cut on purpose: the client never got a whole body to check
        shown = record["response_body"]
        if shown and len(shown.encode("utf-8")) < record["response_bytes"]:
            continue  # cut at 64 KiB in the log; the simulator validated the whole answer itself (validate=True)
        body = json.loads(shown) if shown else None
        problems += [f"{where}: response {p}" for p in contract.check_response(operation, record["status"], body)]
    return problems


@contextmanager
def checked_simulator(tmp_path: Path, **options: Any) -> Iterator[RunningSimulator]:
    """The simulator on a free loopback port, response validation on; its whole traffic is checked on exit."""
    with running("hcloud", tmp_path / "state", validate=True, **options) as simulator:
        try:
            yield simulator
        finally:
            simulator.app.machines.stop_all()  # rescue sshds the test left running
        assert simulator.app.drift == []
        assert spec_problems(simulator.requests()) == []


def make_client(simulator: RunningSimulator) -> Any:
    """The official hcloud library pointed at the simulator, polling actions every 20 ms."""
    return hcloud.Client(token=TOKEN, api_endpoint=simulator.url + "/v1", poll_interval=0.02, timeout=10)


def boot(
    client: Any, name: str, image: Any, server_type: str = "cx22", location: str | None = None, **extra: Any
) -> Any:
    """Create a server through the hcloud library, wait for its create and start actions, and read it back."""
    if location:
        extra["location"] = hcloud.locations.Location(name=location)
    created = client.servers.create(
        name=name, server_type=hcloud.server_types.ServerType(name=server_type), image=image, **extra
    )
    created.action.wait_until_finished(max_retries=200)
    for action in created.next_actions:
        action.wait_until_finished(max_retries=200)
    return client.servers.get_by_id(created.server.id)


def api(simulator: RunningSimulator, method: str, path: str, body: Any = None, token: str = TOKEN) -> Any:
    """One raw API call: (status, headers, parsed JSON or None)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    payload = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    reply = call(simulator.url, method, path, payload, headers)
    return reply.status, reply.headers, (reply.json() if reply.body else None)


def control(simulator: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    reply = call(simulator.url, method, "/_sandbox/" + path, None if body is None else json.dumps(body))
    return reply.status, reply.json()


def succeeded(reply: tuple[int, Any, Any]) -> dict[str, Any]:
    """The body of an ``api`` reply that must have succeeded (200 or 201)."""
    status, _headers, body = reply
    assert status in (200, 201), body
    return body


def refused(reply: tuple[int, Any, Any]) -> tuple[int, str, list[str]]:
    """An ``api`` reply that must be an error: its status, code and the names of the fields it blames."""
    status, _headers, body = reply
    error = body["error"]
    return status, error["code"], [item["name"] for item in (error.get("details") or {}).get("fields") or []]


def read(simulator: RunningSimulator, kind: str, ident: int) -> dict[str, Any]:
    """``GET /v1/<kind>s/<id>``: the resource (``kind`` singular, such as server or volume)."""
    return succeeded(api(simulator, "GET", f"/v1/{kind}s/{ident}"))[kind]
