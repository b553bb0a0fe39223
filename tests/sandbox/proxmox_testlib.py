"""Helpers for the Proxmox VE simulator tests: an HTTPS client with the simulator's CA, task waits, schematics."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox_testlib import ASSET_SIZE, RAW_IMAGE_SIZE, REPO_ROOT, call

from sandbox.harness import RunningSimulator, running
from sandbox.simulators.proxmox import DEFAULT_TOKEN, ca_file, validate
from sandbox.simulators.proxmox import schema as pve_schema

CONTRACT = REPO_ROOT / "tests" / "contracts" / "proxmox-ve" / "pve-apidata.json"
TASK_WAIT_S = 20.0
# 400 answers PVE gives for parameters that are well-formed but refused by the operation itself
SEMANTIC_REFUSALS = (
    "already exists",
    "wrong file extension",
    "conflicts with delete",
    "unknown compression",
    "no file uploaded",
    "unknown option",
)
NODE_ADDRESS = "10.5.0.11"
META_NETWORK = (
    "addresses:\n"
    "  - address: 10.5.0.11/24\n    linkName: eth0\n    family: inet4\n    scope: global\n"
    "    flags: permanent\n    layer: platform\n"
    "links:\n  - name: eth0\n    up: true\n    layer: platform\n"
    "routes:\n  - family: inet4\n    gateway: 10.5.0.1\n    outLinkName: eth0\n    table: main\n"
    "    scope: global\n    type: unicast\n    protocol: static\n    layer: platform\n"
)


@dataclass
class Answer:
    status: int
    reason: str
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")


class PVEClient:
    """Plain urllib against the simulator, verifying TLS with its CA, authenticated with an API token."""

    def __init__(self, simulator: RunningSimulator, token: str = DEFAULT_TOKEN, cafile: Path | None = None) -> None:
        assert simulator.url.startswith("https://127.0.0.1:"), "tests talk to loopback only"
        self.base = simulator.url + "/api2/json"
        self.token = token
        self.context = ssl.create_default_context(cafile=str(cafile or ca_file(simulator.state_dir)))

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        as_json: bool = False,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Answer:
        url = self.base + path
        headers = {"Authorization": f"PVEAPIToken={self.token}"} if self.token else {}
        if params and method in ("GET", "DELETE"):
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        elif params and as_json:
            body, content_type = json.dumps(params).encode(), "application/json"
        elif params:
            body, content_type = (
                urllib.parse.urlencode(params, doseq=True).encode(),
                "application/x-www-form-urlencoded",
            )
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:
                return Answer(answer.status, answer.reason, json.loads(answer.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.reason, json.loads(error.read() or b"{}"))

    def get(self, path: str, **params: Any) -> Answer:
        return self.request("GET", path, params or None)

    def post(self, path: str, **params: Any) -> Answer:
        return self.request("POST", path, params)

    def put(self, path: str, **params: Any) -> Answer:
        return self.request("PUT", path, params)

    def delete(self, path: str, **params: Any) -> Answer:
        return self.request("DELETE", path, params or None)

    def ok(self, method: str, path: str, **params: Any) -> Any:
        answer = self.request(method, path, params or None)
        assert answer.status == 200, (answer.status, answer.reason, answer.body)
        return answer.data

    def wait(self, upid: str, node: str = "pve1", timeout: float = TASK_WAIT_S) -> dict[str, Any]:
        """Poll a task until it stops (bounded in time); returns its final status."""
        assert upid.startswith("UPID:"), upid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.ok("GET", f"/nodes/{node}/tasks/{urllib.parse.quote(upid, safe='')}/status")
            if status["status"] == "stopped":
                return status
            time.sleep(0.02)
        raise AssertionError(f"task {upid} still running after {timeout} s")

    def run(self, method: str, path: str, node: str = "pve1", **params: Any) -> dict[str, Any]:
        """Start a task and wait for it."""
        return self.wait(self.ok(method, path, **params), node)

    def log(self, upid: str, node: str = "pve1") -> list[str]:
        return [line["t"] for line in self.ok("GET", f"/nodes/{node}/tasks/{urllib.parse.quote(upid, safe='')}/log")]


def register_schematic(factory: RunningSimulator, extensions: list[str], meta_network: str | None = None) -> str:
    """Register a schematic at the Image Factory simulator; returns its ID."""
    lines = ["customization:"]
    if meta_network is not None:
        lines += ["  meta:", "    - key: 0xa", "      value: |"]
        lines += ["        " + line for line in meta_network.splitlines()]
    if extensions:
        lines += ["  systemExtensions:", "    officialExtensions:"] + [f"      - {name}" for name in extensions]
    reply = call(factory.url, "POST", "/schematics", "\n".join(lines) + "\n")
    assert reply.status == 201, reply.text
    return str(reply.json()["id"])


def image_url(
    factory: RunningSimulator, schematic: str, name: str = "metal-amd64.qcow2", version: str = "v1.13.9"
) -> str:
    return f"{factory.url}/image/{schematic}/{version}/{name}"


@contextmanager
def factory_and_pve(state: Path, **options: Any) -> Iterator[tuple[RunningSimulator, RunningSimulator]]:
    """The Image Factory and Proxmox simulators sharing one state folder; validation on, short tasks."""
    settings = {"validate": True, "task_seconds": 0.02, **options}
    with running("image-factory", state, raw_image_size=RAW_IMAGE_SIZE, asset_size=ASSET_SIZE) as factory:
        with running("proxmox", state, **settings) as pve:
            try:
                yield factory, pve
            finally:
                pve.app.tasks.wait_all(timeout=TASK_WAIT_S)


def traffic_problems(pve: RunningSimulator) -> list[str]:
    """Every logged API request and answer checked again against the contract, independently of the simulator."""
    schema = pve_schema.load(str(CONTRACT))
    problems = []
    for record in pve.requests():
        found = schema.find(record["path"].removeprefix("/api2/json").rstrip("/") or "/", record["method"])
        if not found:
            problems.append(f"{record['method']} {record['path']}: not in the schema")
            continue
        given: dict[str, Any] = {key: values[-1] for key, values in record["query"].items()}
        kind = record["request_headers"].get("Content-Type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            given.update({key: values[-1] for key, values in urllib.parse.parse_qs(record["request_body"]).items()})
        elif kind.startswith("application/json"):
            given.update(json.loads(record["request_body"]))
        given.update(found.path_params)
        if not kind.startswith("multipart/") and record["status"] not in (401,):
            _values, errors = validate.check_parameters(found.method.parameters, given)
            if errors and record["status"] != 400:
                problems.append(f"{record['method']} {record['path']}: accepted with {errors}")
            refused = json.loads(record["response_body"] or "{}").get("errors") or {}
            semantic = all(any(word in message for word in SEMANTIC_REFUSALS) for message in refused.values())
            if not errors and record["status"] == 400 and not semantic:
                problems.append(f"{record['method']} {record['path']}: refused valid parameters {given}")
        if record["status"] == 200:
            data = json.loads(record["response_body"])["data"]
            problems += [f"{record['path']}: {item}" for item in validate.check_returns(found.method.returns, data)]
    return problems


def download_image(
    client: PVEClient,
    factory: RunningSimulator,
    extensions: list[str],
    meta: str | None,
    image: str = "metal-amd64.qcow2",
    filename: str = "talos.qcow2",
    node: str = "pve1",
) -> str:
    """Register a schematic and download its image into ``node``'s local storage; the schematic ID."""
    schematic = register_schematic(factory, extensions, meta)
    status = client.run(
        "POST",
        f"/nodes/{node}/storage/local/download-url",
        node=node,
        url=image_url(factory, schematic, image),
        content="import",
        filename=filename,
    )
    assert status["exitstatus"] == "OK", status
    return schematic


def vm_params(vmid: int = 101, **extra: Any) -> dict[str, Any]:
    """The parameters the collection creates a control-plane VM with (disk imported from ``talos.qcow2``)."""
    return {
        "vmid": vmid,
        "name": "cp-1",
        "cores": 2,
        "memory": 4096,
        "scsihw": "virtio-scsi-single",
        "scsi0": "local-lvm:0,import-from=local:import/talos.qcow2,discard=on,iothread=1",
        "net0": "virtio,bridge=vmbr0,tag=20",
        "agent": "enabled=1",
        "serial0": "socket",
        "boot": "order=scsi0",
        "ostype": "l26",
        "tags": "talosforge;cluster-sandbox",
        "description": "talosforge node cp-1",
        **extra,
    }
