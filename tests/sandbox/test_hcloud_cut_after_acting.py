"""The cut-after-acting fault: the simulator carries the request out, then the answer is lost on the way."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from hcloud_testlib import TOKEN, api, control, spec_problems

from sandbox.faults import Fault, FaultSpecError
from sandbox.harness import RunningSimulator, running

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfM3bZ4n2R7pX0Yq0cG6m1q5Vh8y3b5a2rN0t9d8K7x cut"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningSimulator]:
    """The simulator, contract-checked; a cut answer (no body on purpose) is left out of the outside check."""
    with running("hcloud", tmp_path / "state", validate=True) as simulator:
        yield simulator
        assert simulator.app.drift == []
        kept = [record for record in simulator.requests() if record.get("fault") != "cut"]
        assert spec_problems(kept) == []


def post(simulator, path: str, body: dict) -> bytes:
    """One POST whose answer is read to the end: raises when the connection broke before it was complete."""
    where = urllib.parse.urlsplit(simulator.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        connection.request("POST", path, json.dumps(body), headers)
        return connection.getresponse().read()
    finally:
        connection.close()


def test_the_request_is_carried_out_and_its_answer_lost(sim) -> None:
    status, answer = control(
        sim, "POST", "faults", {"cut_after_acting": True, "method": "POST", "path": "^/v1/ssh_keys$"}
    )
    assert status == 201 and answer["faults"][0]["cut_after_acting"] is True
    with pytest.raises((http.client.HTTPException, OSError)):
        post(sim, "/v1/ssh_keys", {"name": "cut", "public_key": KEY})
    keys = api(sim, "GET", "/v1/ssh_keys")[2]["ssh_keys"]
    assert [key["name"] for key in keys] == ["cut"]  # made, although its answer never arrived
    assert json.loads(post(sim, "/v1/ssh_keys", {"name": "cut-2", "public_key": KEY + "2"}))  # count spent


def test_it_is_one_effect_among_the_others() -> None:
    with pytest.raises(FaultSpecError, match="exactly one"):
        Fault(status=500, cut_after_acting=True)
    with pytest.raises(FaultSpecError, match="exactly one"):
        Fault.from_json({"drop_connection": True, "cut_after_acting": True})
    assert Fault.from_json(Fault(cut_after_acting=True, method="post").to_json()).kind == "cut"
