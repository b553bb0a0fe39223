"""An operation of the API that the simulator does not serve answers ``501 not_simulated`` naming it: no client can
take it for "not found" (404), a transient fault (503) or a refusal of its input (422)."""

from __future__ import annotations

import re

import pytest
from hcloud.server_types import ServerType
from hcloud_testlib import api, make_client

from sandbox.simulators.hcloud.contract import shared_contract

SERVER = {"name": "cp-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1"}


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/v1/servers/{id}/actions/change_type", "POST /servers/{id}/actions/change_type"),
        ("POST", "/v1/servers/{id}/actions/attach_iso", "POST /servers/{id}/actions/attach_iso"),
        ("POST", "/v1/servers/{id}/actions/change_dns_ptr", "POST /servers/{id}/actions/change_dns_ptr"),
        ("POST", "/v1/primary_ips", "POST /primary_ips"),
        ("GET", "/v1/volumes", "GET /volumes"),
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
    assert len(unserved) > 50


def test_the_official_client_sees_not_simulated(hcloud_sim) -> None:
    client = make_client(hcloud_sim)
    server = api(hcloud_sim, "POST", "/v1/servers", SERVER)[2]["server"]
    bound = client.servers.get_by_id(server["id"])
    with pytest.raises(Exception) as raised:
        bound.change_type(ServerType(name="cx32"), upgrade_disk=False)
    assert getattr(raised.value, "code", None) == "not_simulated"
