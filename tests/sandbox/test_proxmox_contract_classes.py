"""Classes of PVE behaviour checked over everything the simulator serves, not one endpoint at a time.

- Every parameter that names options of the resource (``delete``, ``revert``: format ``pve-configid-list``)
  refuses a name the resource does not have, as PVE does (400, ``unknown option`` under the parameter's name).
- Every served path answers a method it does not document with PVE's 501 in its JSON envelope, never a plain
  text 405 of the web framework.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from proxmox_testlib import PVEClient

from sandbox.harness import RunningSimulator, running
from sandbox.simulators.proxmox import DEFAULT_TOKEN, ca_file
from sandbox.simulators.proxmox import schema as pve_schema
from sandbox.simulators.proxmox.app import ProxmoxApp

pytestmark = pytest.mark.slow

# every method the simulator's HTTP server reads; those a path does not document must be answered PVE's way
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# parameter formats whose items are option names of the resource the call changes
OPTION_NAME_LIST_FORMATS = ("pve-configid-list",)
# concrete values for the placeholders of the served paths
PLACEHOLDERS = {
    "node": "pve1",
    "vmid": "100",
    "storage": "local",
    "volume": "local:iso/none.iso",
    "upid": "UPID:pve1:00000001:00000002:00000003:qmstart:100:root@pam:",
}
UNKNOWN_OPTIONS = ("frobnicate", "net", "digest", "delete", "vmid")


@pytest.fixture
def pve(tmp_path: Path) -> Iterator[RunningSimulator]:
    with running("proxmox", tmp_path / "state", validate=True, task_seconds=0.02, nodes=["pve1"]) as simulator:
        client = PVEClient(simulator)
        client.wait(client.ok("POST", "/nodes/pve1/qemu", vmid=100, name="vm", memory=512))
        yield simulator


def served() -> list[tuple[str, str]]:
    """(HTTP method, path template) of every operation the simulator has a handler for."""
    return sorted(ProxmoxApp._operations)


def concrete(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda found: PLACEHOLDERS[found.group(1)], template)


def option_name_lists() -> list[tuple[str, str, str]]:
    schema = pve_schema.load()
    found = []
    for verb, template in served():
        method = schema.method(template, verb)
        assert method is not None, (verb, template)
        for name, spec in method.properties.items():
            if spec.get("format") in OPTION_NAME_LIST_FORMATS:
                found.append((verb, template, name))
    return found


def test_the_served_schema_has_option_name_lists() -> None:
    # the class below is not empty: the VM config calls take delete and revert
    assert {name for _verb, _template, name in option_name_lists()} >= {"delete", "revert"}


@pytest.mark.parametrize(("verb", "template", "parameter"), option_name_lists())
def test_option_name_lists_refuse_unknown_names(
    pve: RunningSimulator, verb: str, template: str, parameter: str
) -> None:
    client = PVEClient(pve)
    path = concrete(template)
    for unknown in UNKNOWN_OPTIONS:
        for value in (unknown, f"onboot,{unknown}", f"onboot; {unknown}"):
            answer = client.request(verb, path, {parameter: value})
            assert answer.status == 400, (verb, path, parameter, value, answer)
            assert answer.reason == "Parameter verification failed."
            message = answer.body["errors"][parameter]
            assert "unknown option" in message and unknown in message, message
    # names the resource has are accepted (the indexed ones too)
    known = client.request(verb, path, {parameter: "onboot,net0,description"})
    assert known.status == 200, (verb, path, parameter, known)
    if isinstance(known.data, str) and known.data.startswith("UPID:"):
        client.wait(known.data)


@pytest.mark.parametrize(("template"), sorted({template for _verb, template in served()}))
def test_every_served_path_answers_undocumented_methods_like_pve(pve: RunningSimulator, template: str) -> None:
    schema = pve_schema.load()
    documented = {verb for (path, verb) in schema.methods if path == template}
    path = "/api2/json" + concrete(template)
    context = ssl.create_default_context(cafile=str(ca_file(pve.state_dir)))
    for verb in HTTP_METHODS:
        if verb in documented:
            continue
        connection = http.client.HTTPSConnection("127.0.0.1", pve.port, context=context, timeout=30)
        try:
            connection.request(verb, path, headers={"Authorization": f"PVEAPIToken={DEFAULT_TOKEN}"})
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        assert answer.status == 501, (verb, path, answer.status, body)
        assert answer.getheader("Content-Type", "").startswith("application/json"), (verb, path)
        assert verb in answer.reason, (verb, path, answer.reason)
        if verb != "HEAD":
            envelope = json.loads(body)
            assert envelope["data"] is None and verb in envelope["message"], (verb, path, envelope)
