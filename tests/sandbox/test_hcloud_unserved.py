"""An operation of the API that the simulator does not serve answers ``501 not_simulated`` naming it: no client can
take it for "not found" (404), a transient fault (503) or a refusal of its input (422)."""

from __future__ import annotations

import re

import pytest
from hcloud_testlib import api, make_client

from sandbox.simulators.hcloud.contract import shared_contract

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/v1/servers/{id}/actions/enable_backup", "POST /servers/{id}/actions/enable_backup"),
        ("POST", "/v1/servers/{id}/actions/request_console", "POST /servers/{id}/actions/request_console"),
        ("GET", "/v1/certificates", "GET /certificates"),
        ("GET", "/v1/servers/{id}/metrics?type=cpu&start=x&end=y", "GET /servers/{id}/metrics"),
    ],
)
def test_an_unserved_operation_is_not_simulated_not_not_found(hcloud_sim, method, path, operation) -> None:
    server = api(hcloud_sim, "POST", "/v1/servers", SERVER)[2]["server"]
    status, _h, body = api(hcloud_sim, method, path.replace("{id}", str(server["id"])), {})
    assert (status, body["error"]["code"]) == (501, "not_simulated")
    assert operation in body["error"]["message"]
    assert body["error"]["details"] == {"operation": operation}


def test_every_unserved_operation_of_the_spec_answers_not_simulated(hcloud_sim) -> None:
    app, unserved = hcloud_sim.app, []
    for operation in shared_contract().operations:
        if app.handler_for(operation.method, operation.template) is not None:
            continue
        path = re.sub(r"\{[^}]+\}", "1", operation.template)
        status, _h, body = api(hcloud_sim, operation.method, "/v1" + path, {} if operation.method != "GET" else None)
        assert (status, body["error"]["code"]) == (501, "not_simulated"), operation.template
        unserved.append(operation.template)
    assert len(unserved) > 30


SERVED_NOW = [  # issue 13: what a Talos-on-Hetzner user needs is served, no longer answered not_simulated
    ("POST", "/servers/{id}/actions/change_type"),
    ("POST", "/servers/{id}/actions/attach_iso"),
    ("POST", "/servers/{id}/actions/detach_iso"),
    ("POST", "/servers/{id}/actions/change_dns_ptr"),
    ("GET", "/isos"),
    ("GET", "/isos/{id}"),
    ("POST", "/primary_ips"),
    ("PUT", "/primary_ips/{id}"),
    ("POST", "/primary_ips/{id}/actions/assign"),
    ("POST", "/primary_ips/{id}/actions/unassign"),
    ("POST", "/primary_ips/{id}/actions/change_protection"),
    ("POST", "/primary_ips/{id}/actions/change_dns_ptr"),
    ("POST", "/floating_ips/{id}/actions/change_dns_ptr"),
    ("GET", "/volumes"),
    ("POST", "/volumes"),
    ("GET", "/volumes/{id}"),
    ("PUT", "/volumes/{id}"),
    ("DELETE", "/volumes/{id}"),
    ("POST", "/volumes/{id}/actions/attach"),
    ("POST", "/volumes/{id}/actions/detach"),
    ("POST", "/volumes/{id}/actions/resize"),
    ("POST", "/volumes/{id}/actions/change_protection"),
    ("GET", "/volumes/actions"),
    ("GET", "/volumes/{id}/actions"),
    ("POST", "/load_balancers/{id}/actions/change_type"),
    ("POST", "/load_balancers/{id}/actions/change_dns_ptr"),
    ("POST", "/load_balancers/{id}/actions/enable_public_interface"),
    ("POST", "/load_balancers/{id}/actions/disable_public_interface"),
]


@pytest.mark.parametrize(("method", "template"), SERVED_NOW)
def test_the_operations_a_talos_user_needs_are_served(hcloud_sim, method, template) -> None:
    assert hcloud_sim.app.handler_for(method, template) is not None


def test_the_official_client_sees_not_simulated(hcloud_sim) -> None:
    client = make_client(hcloud_sim)
    server = api(hcloud_sim, "POST", "/v1/servers", SERVER)[2]["server"]
    bound = client.servers.get_by_id(server["id"])
    with pytest.raises(Exception) as raised:
        bound.request_console()
    assert getattr(raised.value, "code", None) == "not_simulated"
