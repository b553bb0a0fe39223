"""The Hetzner Cloud simulator against its contract: strict requests, spec-conformant responses, auth, errors."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hcloud_testlib import CONTRACT_DIR, api, control, spec_problems

from sandbox.harness import running
from sandbox.simulators.hcloud.contract import Contract, shared_contract
from sandbox.simulators.hcloud.state import parse_selector, selector_matches

SERVER_BODY = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


def test_the_vendored_spec_is_the_official_openapi_31_document() -> None:
    contract = Contract(CONTRACT_DIR / "cloud.spec.json")
    assert contract.spec["openapi"].startswith("3.1")
    assert contract.spec["servers"] == [{"url": "https://api.hetzner.cloud/v1"}]
    assert (CONTRACT_DIR / "cloud.spec.json").read_bytes().isascii()
    templates = {operation.template for operation in contract.operations}
    assert {"/servers", "/servers/{id}/actions/create_image", "/networks/{id}/actions/add_subnet"} <= templates


def test_an_unknown_field_is_refused_with_invalid_input_naming_it(hcloud_sim) -> None:
    status, _headers, body = api(hcloud_sim, "POST", "/v1/servers", {**SERVER_BODY, "colour": "blue"})
    assert status == 422
    assert body["error"]["code"] == "invalid_input"
    assert body["error"]["details"]["fields"] == [{"name": "colour", "messages": ["unknown field"]}]
    assert "colour" in body["error"]["message"]


def test_wrong_types_are_refused_for_every_field_at_fault(hcloud_sim) -> None:
    wrong = {**SERVER_BODY, "labels": ["not", "a", "map"], "public_net": {"enable_ipv4": "yes"}, "networks": ["x"]}
    status, _headers, body = api(hcloud_sim, "POST", "/v1/servers", wrong)
    assert status == 422
    names = {field["name"] for field in body["error"]["details"]["fields"]}
    assert names == {"labels", "public_net.enable_ipv4", "networks.0"}
    assert api(hcloud_sim, "GET", "/v1/servers")[2]["servers"] == []  # nothing was created


def test_nested_unknown_fields_and_bad_query_values_are_refused(hcloud_sim) -> None:
    lb = {
        "name": "api",
        "load_balancer_type": "lb11",
        "location": "fsn1",
        "targets": [{"type": "ip", "ip": {"ip": "1"}, "x": 1}],
    }
    status, _h, body = api(hcloud_sim, "POST", "/v1/load_balancers", lb)
    assert (status, body["error"]["details"]["fields"][0]["name"]) == (422, "targets.0.x")
    status, _h, body = api(hcloud_sim, "GET", "/v1/servers?page=first")
    assert (status, body["error"]["details"]["fields"][0]["name"]) == (422, "page")
    status, _h, body = api(hcloud_sim, "GET", "/v1/servers?sort=colour")
    assert (status, body["error"]["details"]["fields"][0]["name"]) == (422, "sort")


def test_integer_ids_and_null_optionals_are_accepted_as_the_real_api_does(hcloud_sim) -> None:
    status, _h, body = api(
        hcloud_sim,
        "POST",
        "/v1/servers",
        {**SERVER_BODY, "image": 114690387, "server_type": 104, "placement_group": None, "user_data": None},
    )
    assert status == 201, body
    assert body["server"]["image"]["name"] == "debian-12"


def test_invalid_json_is_a_json_error(hcloud_sim) -> None:
    status, _h, body = api(hcloud_sim, "POST", "/v1/ssh_keys", "{not json")
    assert (status, body["error"]["code"]) == (400, "json_error")


def test_a_response_drifting_from_the_spec_fails_validation() -> None:
    contract = shared_contract()
    operation, _params, _other = contract.match("GET", "/servers/{id}".replace("{id}", "1"))
    assert operation is not None
    good = {"ssh_key": {"id": 1, "name": "k", "fingerprint": "f", "public_key": "p", "labels": {}, "created": "now"}}
    ssh_operation = contract.match("GET", "/ssh_keys/1")[0]
    assert contract.check_response(ssh_operation, 200, good) == []
    drifted = copy.deepcopy(good)
    del drifted["ssh_key"]["fingerprint"]
    drifted["ssh_key"]["id"] = "1"
    problems = contract.check_response(ssh_operation, 200, drifted)
    assert any("fingerprint" in problem for problem in problems)
    assert any("ssh_key/id" in problem for problem in problems)
    assert contract.check_response(ssh_operation, 418, {}) != []  # an undocumented status
    error = {"error": {"code": "not_found", "message": "gone", "details": None}}
    assert contract.check_response(ssh_operation, 404, error) == []  # matched by the spec's 4xx entry


def test_a_drifting_simulator_answers_500_and_records_the_drift(tmp_path: Path, monkeypatch) -> None:
    with running("hcloud", tmp_path / "state", validate=True) as simulator:
        original = simulator.app.show_server

        def broken(server):
            shown = original(server)
            shown.pop("rescue_enabled")
            return shown

        monkeypatch.setattr(simulator.app, "show_server", broken)
        status, _h, body = api(simulator, "POST", "/v1/servers", SERVER_BODY)
        assert status == 500
        assert "rescue_enabled" in body["error"]["message"]
        assert simulator.app.drift and simulator.app.drift[0]["operation"] == "POST /servers"
        assert spec_problems(simulator.requests()) == []  # the 500 it sent conforms; the drift is recorded


def test_the_log_checker_catches_a_drifted_record() -> None:
    record = {
        "method": "GET",
        "path": "/v1/ssh_keys/5",
        "query": {},
        "status": 200,
        "request_body": "",
        "response_body": '{"ssh_key": {"id": 5}}',
        "response_bytes": 21,
    }
    assert any("required" in problem for problem in spec_problems([record]))


def test_a_missing_or_wrong_token_is_unauthorized(tmp_path: Path) -> None:
    with running("hcloud", tmp_path / "state", validate=True, token="right") as simulator:
        assert api(simulator, "GET", "/v1/servers", token="")[0] == 401
        status, _h, body = api(simulator, "GET", "/v1/servers", token="wrong")
        assert (status, body["error"]["code"]) == (401, "unauthorized")
        assert api(simulator, "GET", "/v1/servers", token="right")[0] == 200
        assert simulator.requests()[0]["request_headers"].get("Authorization") in (None, "REDACTED")
        assert simulator.requests()[1]["request_headers"]["Authorization"] == "REDACTED"


def test_unknown_endpoints_and_methods_answer_in_the_error_envelope(hcloud_sim) -> None:
    status, _h, body = api(hcloud_sim, "GET", "/v1/nothing")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, _h, body = api(hcloud_sim, "PATCH", "/v1/servers")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")
    status, _h, body = api(hcloud_sim, "GET", "/v1/servers/424242")
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_pagination_meta_and_pages(hcloud_sim) -> None:
    for index in range(7):
        assert api(hcloud_sim, "POST", "/v1/ssh_keys", {"name": f"k{index}", "public_key": _key(index)})[0] == 201
    status, _h, body = api(hcloud_sim, "GET", "/v1/ssh_keys?per_page=3&page=2")
    assert status == 200
    assert [key["name"] for key in body["ssh_keys"]] == ["k3", "k4", "k5"]
    assert body["meta"]["pagination"] == {
        "page": 2,
        "per_page": 3,
        "previous_page": 1,
        "next_page": 3,
        "last_page": 3,
        "total_entries": 7,
    }
    assert api(hcloud_sim, "GET", "/v1/ssh_keys?per_page=51")[0] == 422
    names = [key["name"] for key in api(hcloud_sim, "GET", "/v1/ssh_keys?sort=name:desc&per_page=2")[2]["ssh_keys"]]
    assert names == ["k6", "k5"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("env=prod", ["a"]),
        ("env==prod,tier", ["a"]),
        ("env!=prod", ["b", "c"]),
        ("!env", ["c"]),
        ("env in (prod,dev)", ["a", "b"]),
        ("env notin (prod)", ["b", "c"]),
        ("tier", ["a", "b"]),
    ],
)
def test_label_selectors(selector: str, expected: list[str]) -> None:
    labels = {"a": {"env": "prod", "tier": "cp"}, "b": {"env": "dev", "tier": ""}, "c": {}}
    requirements = parse_selector(selector)
    assert [name for name, found in labels.items() if selector_matches(found, requirements)] == expected


def test_a_malformed_label_selector_is_invalid_input(hcloud_sim) -> None:
    status, _h, body = api(hcloud_sim, "GET", "/v1/servers?label_selector=a%3D%3D%3Db")
    assert (status, body["error"]["details"]["fields"][0]["name"]) == (422, "label_selector")


def test_control_plane_reports_settings(hcloud_sim) -> None:
    assert control(hcloud_sim, "GET", "rate-limit") == (200, {"limit": 3600, "remaining": 3600})
    assert control(hcloud_sim, "POST", "action-latency", {"ms": 250, "command": "create_server"})[0] == 200
    assert control(hcloud_sim, "GET", "actions")[1]["latency_ms"] == {"*": 0.0, "create_server": 250.0}
    assert control(hcloud_sim, "POST", "action-latency", {"seconds": 1})[0] == 400


def _key(index: int) -> str:
    import base64

    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([index]) * 32
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + f" test{index}"
