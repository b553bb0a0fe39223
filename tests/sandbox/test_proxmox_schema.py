"""The PVE schema loader and validator of the Proxmox simulator, against tests/contracts/proxmox-ve/pve-apidata.json."""

from __future__ import annotations

import json

import pytest
from proxmox_testlib import CONTRACT

from sandbox.simulators.proxmox import schema as pve_schema
from sandbox.simulators.proxmox import validate


@pytest.fixture(scope="module")
def schema() -> pve_schema.Schema:
    return pve_schema.load(str(CONTRACT))


def test_the_vendored_contract_is_the_one_loaded(schema: pve_schema.Schema) -> None:
    assert pve_schema.SCHEMA_FILE == CONTRACT
    tree = json.loads(CONTRACT.read_text(encoding="utf-8"))
    stack, every_path = list(tree), set()
    while stack:
        node = stack.pop()
        every_path.add(node["path"])
        stack.extend(node.get("children") or [])
    assert len(every_path) == 432  # as the contracts index says
    assert set(schema.paths()) <= every_path and len(schema.paths()) == 428  # 4 paths are only folders
    assert len(schema.methods) > 600


@pytest.mark.parametrize(
    ("concrete", "verb", "template", "params"),
    [
        ("/version", "GET", "/version", {}),
        ("/nodes/pve1/qemu", "POST", "/nodes/{node}/qemu", {"node": "pve1"}),
        (
            "/nodes/pve1/qemu/100/status/start",
            "POST",
            "/nodes/{node}/qemu/{vmid}/status/start",
            {"node": "pve1", "vmid": "100"},
        ),
        (
            "/nodes/pve2/storage/local/download-url",
            "POST",
            "/nodes/{node}/storage/{storage}/download-url",
            {"node": "pve2", "storage": "local"},
        ),
        (
            "/nodes/pve1/tasks/UPID:pve1:0001:02:03:qmstart:100:root@pam:/status",
            "GET",
            "/nodes/{node}/tasks/{upid}/status",
            {"node": "pve1", "upid": "UPID:pve1:0001:02:03:qmstart:100:root@pam:"},
        ),
    ],
)
def test_concrete_paths_find_their_documented_method(
    schema: pve_schema.Schema, concrete: str, verb: str, template: str, params: dict
) -> None:
    found = schema.find(concrete, verb)
    assert found, concrete
    assert (found.method.path, found.path_params) == (template, params)


def test_unknown_paths_and_methods(schema: pve_schema.Schema) -> None:
    assert schema.find("/nodes/pve1/qemu/100/frobnicate", "GET") is None
    assert schema.find("/version", "DELETE") is False


def test_known_parameters_are_typed(schema: pve_schema.Schema) -> None:
    create = schema.method("/nodes/{node}/qemu", "POST")
    given = {
        "node": "pve1",
        "vmid": "100",
        "cores": "2",
        "memory": "4096",
        "onboot": "yes",
        "scsi0": "local-lvm:0,import-from=local:import/talos.qcow2,discard=on,iothread=1",
        "net0": "virtio,bridge=vmbr0,tag=20",
        "ipconfig0": "ip=10.5.0.11/24,gw=10.5.0.1",
        "ide2": "local-lvm:cloudinit",
        "agent": "enabled=1",
        "serial0": "socket",
        "scsihw": "virtio-scsi-single",
        "tags": "talosforge;cluster-sandbox",
        "boot": "order=scsi0;net0",
        "name": "cp-1",
    }
    values, errors = validate.check_parameters(create.parameters, given)
    assert errors == {}
    assert values["vmid"] == 100 and values["cores"] == 2 and values["onboot"] is True
    assert values["memory"] == "4096"


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("cpus", "2", "property is not defined in schema and the schema does not allow additional properties"),
        ("cores", "two", "type check ('integer') failed - got 'two'"),
        ("cores", "0", "value must have a minimum value of 1"),
        ("vmid", "99", "value must have a minimum value of 100"),
        (
            "scsihw",
            "virtio",
            "value 'virtio' does not have a value in the enumeration 'lsi, lsi53c810, virtio-scsi-pci, "
            "virtio-scsi-single, megasas, pvscsi'",
        ),
        ("onboot", "maybe", "type check ('boolean') failed - got 'maybe'"),
        ("name", "cp_1", "invalid format - value does not look like a valid DNS name"),
        (
            "net0",
            "virtio,bridge=vmbr0,tag=5000",
            "invalid format - format error\ntag: value must have a minimum value of 1".replace(
                "minimum value of 1", "maximum value of 4094"
            ),
        ),
        ("net0", "virtio,colour=blue", "invalid format - invalid key in comma-separated list property: colour"),
        (
            "scsi0",
            "local-lvm:0,discard=maybe",
            "invalid format - format error\ndiscard: value 'maybe' does not have a "
            "value in the enumeration 'ignore, on'",
        ),
        ("ipconfig0", "ip=10.5.0.300/24", "invalid format - value does not look like a valid IPv4 CIDR network"),
        ("serial0", "tty", "value does not match the regex pattern: tty"),
        (
            "scsi31",
            "local-lvm:4",
            "property is not defined in schema and the schema does not allow additional properties",
        ),
    ],
)
def test_wrong_parameters_are_refused_with_pve_messages(
    schema: pve_schema.Schema, param: str, value: str, message: str
) -> None:
    create = schema.method("/nodes/{node}/qemu", "POST")
    _values, errors = validate.check_parameters(create.parameters, {"node": "pve1", "vmid": "100", param: value})
    assert errors == {param: message}


def test_required_and_dependent_parameters(schema: pve_schema.Schema) -> None:
    download = schema.method("/nodes/{node}/storage/{storage}/download-url", "POST")
    _values, errors = validate.check_parameters(download.parameters, {"node": "pve1", "storage": "local"})
    assert set(errors) == {"content", "filename", "url"}
    assert errors["url"] == "property is missing and it is not optional"
    _values, errors = validate.check_parameters(
        download.parameters,
        {
            "node": "pve1",
            "storage": "local",
            "content": "import",
            "filename": "a.qcow2",
            "url": "http://x/a",
            "checksum": "ab",
        },
    )
    assert list(errors) == ["checksum-algorithm"]
    _values, errors = validate.check_parameters(
        download.parameters,
        {"node": "pve1", "storage": "bad id!", "content": "images", "filename": "a.qcow2", "url": "ftp://x/a"},
    )
    assert errors == {
        "storage": "invalid format - storage ID 'bad id!' contains illegal characters",
        "content": "value 'images' does not have a value in the enumeration 'iso, vztmpl, import'",
        "url": "value does not match the regex pattern: ftp://x/a",
    }


def test_responses_are_checked_against_returns(schema: pve_schema.Schema) -> None:
    status = schema.method("/nodes/{node}/tasks/{upid}/status", "GET")
    good = {
        "upid": "UPID:pve1:1:2:3:qmstart:100:root@pam:",
        "node": "pve1",
        "pid": 1,
        "pstart": 2,
        "starttime": 3,
        "type": "qmstart",
        "id": "100",
        "user": "root@pam",
        "status": "stopped",
        "exitstatus": "OK",
    }
    assert validate.check_returns(status.returns, good) == []
    assert validate.check_returns(status.returns, {**good, "status": "done"}) == [
        "data.status: 'done' is not one of ['running', 'stopped']"
    ]
    assert validate.check_returns(status.returns, {**good, "pid": "1"}) == ["data.pid: expected integer, got str '1'"]
    missing = dict(good)
    del missing["upid"]
    assert validate.check_returns(status.returns, missing) == ["data.upid: missing (documented as not optional)"]
    assert validate.check_returns(status.returns, {**good, "extra": 1}) == ["data.extra: not documented"]
    listing = schema.method("/nodes/{node}/qemu", "GET")
    assert validate.check_returns(listing.returns, [{"vmid": 100, "status": "running"}]) == []
    assert validate.check_returns(listing.returns, [{"vmid": 100, "status": "paused"}]) == [
        "data[0].status: 'paused' is not one of ['stopped', 'running']"
    ]
    assert validate.check_returns(listing.returns, {"vmid": 100}) == ["data: expected array, got dict {'vmid': 100}"]
    version = schema.method("/version", "GET")
    assert validate.check_returns(version.returns, {"version": "9", "release": "9.1", "repoid": "xyz"}) == [
        "data.repoid: 'xyz' does not match [0-9a-fA-F]{8,64}"
    ]


def test_booleans_in_responses_may_be_perl_style(schema: pve_schema.Schema) -> None:
    storages = schema.method("/nodes/{node}/storage", "GET")
    item = {"storage": "local", "type": "dir", "content": "iso", "active": 1, "enabled": True}
    assert validate.check_returns(storages.returns, [item]) == []
    assert validate.check_returns(storages.returns, [{**item, "active": 2}]) == [
        "data[0].active: expected boolean, got int 2"
    ]
