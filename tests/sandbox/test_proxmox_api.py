"""The Proxmox VE simulator's transport: HTTPS with its own CA, token auth, PVE's error shapes, cluster endpoints."""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from proxmox_testlib import PVEClient, traffic_problems

from sandbox.harness import RunningSimulator, running
from sandbox.simulators.proxmox import DEFAULT_TOKEN, ca_file

pytestmark = pytest.mark.slow


@pytest.fixture
def pve(tmp_path: Path) -> Iterator[RunningSimulator]:
    with running("proxmox", tmp_path / "state", validate=True, task_seconds=0.02, nodes=["pve1", "pve2"]) as simulator:
        yield simulator


def test_https_with_own_ca(pve: RunningSimulator) -> None:
    assert pve.url == f"https://127.0.0.1:{pve.port}"
    assert ca_file(pve.state_dir) == pve.state_dir / "proxmox" / "ca.pem"
    assert PVEClient(pve).ok("GET", "/version")["release"] == "9.1"
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(pve.url + "/api2/json/version", context=ssl.create_default_context(), timeout=10)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    other_ca = pve.state_dir / "other-ca.pem"
    other_ca.write_text(ssl.get_server_certificate(("127.0.0.1", pve.port)))  # the leaf is not a CA
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(pve.url + "/api2/json/version", context=ssl.create_default_context(cafile=str(other_ca)))


def test_certificate_and_ca_survive_a_restart(tmp_path: Path) -> None:
    with running("proxmox", tmp_path) as first:
        ca_before = ca_file(tmp_path).read_bytes()
        fingerprint = PVEClient(first).ok("GET", "/nodes")[0]["ssl_fingerprint"]
        first.reset()
        assert ca_file(tmp_path).read_bytes() == ca_before
    with running("proxmox", tmp_path) as second:
        assert ca_file(tmp_path).read_bytes() == ca_before
        assert PVEClient(second).ok("GET", "/nodes")[0]["ssl_fingerprint"] == fingerprint
    assert oct((tmp_path / "proxmox" / "server.key").stat().st_mode & 0o777) == "0o600"


def test_api_token_is_required(pve: RunningSimulator) -> None:
    missing = PVEClient(pve, token="").get("/version")
    assert (missing.status, missing.reason, missing.body) == (
        401,
        "No ticket",
        {"data": None, "message": "No ticket\n"},
    )
    wrong = PVEClient(pve, token="root@pam!talosforge=wrong").get("/version")
    assert (wrong.status, wrong.reason) == (401, "invalid token value!")
    other = PVEClient(pve, token="root@pam!talosforge=" + DEFAULT_TOKEN.split("=")[1] + "x").get("/nodes")
    assert other.status == 401
    sent = [record["request_headers"].get("Authorization") for record in pve.requests()]
    assert sent == [None, "REDACTED", "REDACTED"]
    assert (pve.state_dir / "proxmox" / "api-token").read_text().strip() == DEFAULT_TOKEN


def test_custom_token(tmp_path: Path) -> None:
    with running("proxmox", tmp_path, token="ops@pve!ci=s3cret") as pve:
        assert PVEClient(pve, token="ops@pve!ci=s3cret").get("/version").status == 200
        assert PVEClient(pve).get("/version").status == 401
    with pytest.raises(ValueError, match="USER@REALM!TOKENID=SECRET"):
        running("proxmox", tmp_path, token="nope").__enter__()


def test_parameter_errors_have_pve_shape(pve: RunningSimulator) -> None:
    client = PVEClient(pve)
    answer = client.post("/nodes/pve1/qemu", vmid=100, cpus=2, cores="many", scsihw="virtio")
    assert answer.status == 400
    assert answer.reason == "Parameter verification failed."
    assert answer.body["data"] is None
    assert answer.body["errors"] == {
        "cpus": "property is not defined in schema and the schema does not allow additional properties",
        "cores": "type check ('integer') failed - got 'many'",
        "scsihw": "value 'virtio' does not have a value in the enumeration 'lsi, lsi53c810, virtio-scsi-pci, "
        "virtio-scsi-single, megasas, pvscsi'",
    }
    path_error = client.get("/nodes/pve1/qemu/12/config")
    assert path_error.body["errors"] == {"vmid": "value must have a minimum value of 100"}
    as_json = client.request("POST", "/nodes/pve1/qemu", {"vmid": 100, "memory": {"current": 1}}, as_json=True)
    assert as_json.status == 400 and "memory" in as_json.body["errors"]
    assert client.get("/nodes/pve1/qemu", full=1).status == 200


def test_unknown_paths_nodes_and_objects(pve: RunningSimulator) -> None:
    client = PVEClient(pve)
    unknown = client.get("/nodes/pve1/frobnicate")
    assert (unknown.status, unknown.reason) == (501, "Method 'GET /api2/json/nodes/pve1/frobnicate' not implemented")
    not_modelled = client.get("/nodes/pve1/lxc")
    assert not_modelled.status == 501 and "not implemented by the simulator" in not_modelled.reason
    node = client.get("/nodes/pve9/qemu")
    assert node.status == 500 and node.reason.startswith("hostname lookup 'pve9' failed")
    vm = client.get("/nodes/pve1/qemu/4242/config")
    assert (vm.status, vm.body["message"]) == (
        500,
        "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist\n",
    )
    task = client.get("/nodes/pve1/tasks/UPID:pve1:00000001:00000002:00000003:qmstart:100:root@pam:/status")
    assert (task.status, task.reason) == (
        500,
        "unable to open file '/var/log/pve/tasks/3/UPID:pve1:00000001:00000002:00000003:qmstart:100:root@pam:' "
        "- No such file or directory",
    )
    assert client.get("/nodes/pve1/tasks/not-a-upid/log").reason == "unable to parse worker upid 'not-a-upid'"


def test_cluster_endpoints(pve: RunningSimulator) -> None:
    client = PVEClient(pve)
    assert client.ok("GET", "/version")["version"].startswith("9.")
    assert [node["node"] for node in client.ok("GET", "/nodes")] == ["pve1", "pve2"]
    status = client.ok("GET", "/nodes/pve2/status")
    assert status["memory"]["total"] > status["memory"]["used"] > 0
    assert client.ok("GET", "/cluster/nextid") == 100
    assert client.ok("GET", "/cluster/nextid", vmid=150) == 150
    resources = client.ok("GET", "/cluster/resources")
    assert {item["id"] for item in resources} >= {
        "node/pve1",
        "node/pve2",
        "storage/pve1/local",
        "storage/pve2/local-lvm",
    }
    assert client.ok("GET", "/cluster/resources", type="vm") == []
    assert {item["type"] for item in client.ok("GET", "/cluster/resources", type="storage")} == {"storage"}
    assert client.get("/cluster/resources", type="vms").status == 400
    assert traffic_problems(pve) == []


def test_generic_faults_answer_like_pve(pve: RunningSimulator) -> None:
    pve.set_fault(503, path="^/api2/json/version$", body="service unavailable - try again")
    answer = PVEClient(pve).get("/version")
    assert (answer.status, answer.reason) == (503, "service unavailable - try again")
    assert answer.body == {"data": None, "message": "service unavailable - try again\n"}
    assert PVEClient(pve).get("/version").status == 200


def test_control_plane_reports_its_settings(pve: RunningSimulator) -> None:
    context = ssl.create_default_context(cafile=str(ca_file(pve.state_dir)))
    with urllib.request.urlopen(pve.url + "/_sandbox/health", context=context, timeout=10) as answer:
        health = json.loads(answer.read())
    assert health["name"] == "proxmox" and health["nodes"] == ["pve1", "pve2"]
    assert health["ca_file"] == str(ca_file(pve.state_dir))
    assert health["task_latency"] == {"*": 0.02}


def test_a_drifting_answer_is_caught(pve: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pve.app, "version", lambda call: {"version": 9, "release": "9.1"})
    answer = PVEClient(pve).get("/version")
    assert answer.status == 500
    assert answer.reason.startswith("simulator response drifts from the PVE schema (/version): ")
    assert "data.version: expected string, got int 9" in answer.reason
    assert "data.repoid: missing (documented as not optional)" in answer.reason


def test_validation_can_be_turned_off(tmp_path: Path) -> None:
    with running("proxmox", tmp_path, validate=False) as pve:
        client = PVEClient(pve)
        assert client.get("/nodes", colour="blue").status == 200  # an undocumented parameter is ignored
        assert client.get("/cluster/resources", type="vms").status == 200


def test_dropped_connection_and_latency_over_tls(pve: RunningSimulator) -> None:
    client = PVEClient(pve)
    pve.set_fault(drop_connection=True, path="^/api2/json/nodes$")
    with pytest.raises((urllib.error.URLError, http.client.RemoteDisconnected, ConnectionError)):
        client.get("/nodes")
    assert client.get("/nodes").status == 200
    pve.set_latency(150, path="^/api2/json/version$")
    started = time.monotonic()
    assert client.get("/version").status == 200
    assert time.monotonic() - started >= 0.15
    assert [record.get("fault") for record in pve.requests()][-3:] == ["drop", None, None]


def test_proxmox_controls_over_https(pve: RunningSimulator) -> None:
    context = ssl.create_default_context(cafile=str(ca_file(pve.state_dir)))

    def control(method: str, action: str, body: object = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{pve.url}/_sandbox/proxmox/{action}", data=data, method=method)
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert control("POST", "task-latency", {"seconds": 1.5, "type": "qmstart"}) == (
        200,
        {"task_latency": {"*": 0.02, "qmstart": 1.5}},
    )
    assert control("GET", "task-latency")[1] == {"task_latency": {"*": 0.02, "qmstart": 1.5}}
    assert control("POST", "task-latency", {"seconds": 9999})[0] == 400
    assert control("POST", "task-failures", {"type": "download", "count": 2})[0] == 201
    assert pve.app.tasks.failures() == [{"type": "download", "message": "simulated task failure", "count": 2}]
    assert control("DELETE", "task-failures") == (200, {"task_failures": []})
    assert control("POST", "lock-timeouts", {"vmid": "*", "count": 1}) == (201, {"lock_timeouts": {"*": 1}})
    assert control("POST", "storage", {"node": "pve2", "storage": "local", "total": 4096}) == (200, {"total": 4096})
    assert control("POST", "storage", {"node": "pve7", "storage": "local", "full": True})[0] == 400
    assert control("POST", "storage", [1])[0] == 400
    assert control("GET", "tasks") == (200, [])
    assert control("GET", "nothing")[0] == 404
    assert PVEClient(pve).ok("GET", "/nodes/pve2/storage/local/status")["total"] == 4096
