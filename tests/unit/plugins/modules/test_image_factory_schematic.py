# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.image_factory_schematic, driven through main() against the Image Factory simulator."""

from __future__ import annotations

import json
import time

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.image_factory import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory import schematic_apply
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import ImageFactoryClient
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import canonicalize
from ansible_collections.talosforge.cluster.plugins.modules import image_factory_schematic as module
from factory_testlib import logged, most_at_once
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

QEMU_SCHEMATIC = {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}}
QEMU_ID = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
QEMU_CANONICAL = (
    "customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n"
)


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


@pytest.fixture
def factory(tmp_path):
    with harness.running("image-factory", tmp_path / "sim") as sim:
        yield sim


def test_check_mode_makes_no_request(factory, capsys):
    result = run_module(module, {"url": factory.url, "schematic": QEMU_SCHEMATIC, "_ansible_check_mode": True}, capsys)
    assert result["changed"] is False
    assert result["id"] == QEMU_ID and result["schematic"] == QEMU_CANONICAL
    assert result["url"] == f"{factory.url}/schematics/{QEMU_ID}"
    time.sleep(0.05)
    assert factory.requests() == []


def test_registers_once_then_reports_no_change(factory, capsys):
    args = {"url": factory.url, "schematic": QEMU_SCHEMATIC, "_ansible_diff": True}
    first = run_module(module, args, capsys)
    assert first["changed"] is True and first["id"] == QEMU_ID
    assert first["diff"]["before"] == "" and first["diff"]["after"] == QEMU_CANONICAL
    assert [(r["method"], r["path"], r["status"]) for r in logged(factory, 2)] == [
        ("GET", f"/schematics/{QEMU_ID}", 404),
        ("POST", "/schematics", 201),
    ]
    assert json.loads(factory.requests()[1]["request_body"]) == QEMU_SCHEMATIC
    second = run_module(module, args, capsys)
    assert second["changed"] is False and "diff" not in second
    assert [(r["method"], r["status"]) for r in logged(factory, 3)[2:]] == [("GET", 200)]


def test_user_style_schematic_gets_the_factory_id(factory, capsys):
    schematic = {"customization": {"meta": [{"key": "0xa", "value": "foo"}], "extraKernelArgs": []}}
    result = run_module(module, {"url": factory.url, "schematic": schematic}, capsys)
    assert result["id"] == "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f"
    stored = logged(factory, 2)[-1]
    assert stored["status"] == 201 and json.loads(stored["response_body"])["id"] == result["id"]


def test_default_is_the_empty_schematic(factory, capsys):
    result = run_module(module, {"url": factory.url}, capsys)
    assert result["id"] == "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
    assert result["schematic"] == "customization: {}\n"


def test_url_from_the_environment(factory, capsys, monkeypatch):
    monkeypatch.setenv("TALOSFORGE_IMAGE_FACTORY_URL", factory.url)
    result = run_module(module, {"schematic": QEMU_SCHEMATIC}, capsys)
    assert result["changed"] is True and result["url"].startswith(factory.url)


def test_invalid_schematic_fails_before_any_request(factory, capsys):
    result = run_module(
        module, {"url": factory.url, "schematic": {"customization": {"meta": [{"key": 300}], "kernelArgs": []}}}, capsys
    )
    assert result["failed"] is True
    errors = [
        "customization.kernelArgs: unknown field (did you mean 'extraKernelArgs'?); allowed fields: "
        "embeddedMachineConfiguration, extraKernelArgs, meta, systemExtensions, bootloader, secureboot, diskImage",
        "customization.meta[0].key: 300 is out of range; it must be between 0 and 255",
        "customization.meta[0].value: is required: the META value as a string",
    ]
    assert result["msg"] == "invalid Image Factory schematic: " + "; ".join(errors)
    assert result["msg"].startswith("invalid Image Factory schematic: customization.kernelArgs: unknown field")
    assert factory.requests() == []


def test_server_errors_are_retried(factory, capsys, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    factory.set_fault(503, count=2, path="^/schematics$")
    result = run_module(module, {"url": factory.url, "schematic": QEMU_SCHEMATIC}, capsys)
    assert result["changed"] is True
    assert [r["status"] for r in logged(factory, 4)] == [404, 503, 503, 201]


def test_unreachable_factory_fails_with_the_url(capsys, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    result = run_module(module, {"url": "http://127.0.0.1:9", "schematic": {}, "timeout": 2}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Image Factory request failed: cannot reach http://127.0.0.1:9/schematics/")
    assert result["failure"]["status"] is None and result["failure"]["request"].startswith(
        "GET http://127.0.0.1:9/schematics/"
    )


class WrongIdHttp(HttpClient):
    def __init__(self):
        super().__init__("https://factory.example.org")

    def request(self, method, path, data=None, headers=None, ok=(200,), retry=True):
        class Answer:
            status = 404 if method == "GET" else 201
            body = b'{"id": "%s", "schematic": "owner: me\\ncustomization: {}\\n"}' % (b"1" * 64)

            def text(self):
                return self.body.decode()

            def json(self):
                return json.loads(self.body)

        return Answer()


def test_a_different_id_from_the_factory_fails_loudly(capsys, monkeypatch):
    monkeypatch.setattr(schematic_apply, "client_from_params", lambda params: ImageFactoryClient(WrongIdHttp()))
    result = run_module(module, {"url": "https://factory.example.org", "schematic": {}}, capsys)
    assert result["failed"] is True
    assert "registered the schematic as '1111" in result["msg"]
    assert (
        "the ID computed locally is 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba" in result["msg"]
    )
    assert result["failure"]["code"] == "schematic_id_mismatch"


# --------------------------------------------------------------------------------------------------------------
# A list of schematics
# --------------------------------------------------------------------------------------------------------------

KERNEL_ARGS = {"customization": {"extraKernelArgs": ["net.ifnames=0"]}}
META_HEX = {"customization": {"meta": [{"key": "0xa", "value": "foo"}]}}
META_INT = {"customization": {"meta": [{"value": "foo", "key": 10}], "extraKernelArgs": []}}  # same as META_HEX
SIX = [
    QEMU_SCHEMATIC,
    META_HEX,
    {},
    KERNEL_ARGS,
    META_INT,
    {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/iscsi-tools"]}}},
]


def posts(records: list[dict]) -> list[dict]:
    return [r for r in records if r["method"] == "POST"]


def test_list_registers_each_distinct_schematic_once(factory, capsys):
    args = {"url": factory.url, "schematics": SIX, "parallel": 3, "_ansible_diff": True}
    first = run_module(module, args, capsys)
    assert first["changed"] is True
    ids = first["ids"]
    assert len(ids) == 6 and ids[4] == ids[1] and len(set(ids)) == 5
    assert ids[0] == QEMU_ID and ids[2] == "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
    assert [entry["id"] for entry in first["schematics"]] == [ids[0], ids[1], ids[2], ids[3], ids[5]]
    assert all(entry["changed"] is True for entry in first["schematics"])
    assert first["schematics"][0] == {
        "id": QEMU_ID,
        "schematic": QEMU_CANONICAL,
        "url": f"{factory.url}/schematics/{QEMU_ID}",
        "changed": True,
    }
    assert [diff["after"] for diff in first["diff"]] == [entry["schematic"] for entry in first["schematics"]]
    records = logged(factory, 10)
    assert len(records) == 10 and len(posts(records)) == 5
    assert sorted(json.loads(r["response_body"])["id"] for r in posts(records)) == sorted(set(ids))
    assert "id" not in first and "schematic" not in first

    second = run_module(module, args, capsys)
    assert second["changed"] is False and "diff" not in second
    assert second["ids"] == ids and [entry["changed"] for entry in second["schematics"]] == [False] * 5
    again = logged(factory, 15)[10:]
    assert [(r["method"], r["status"]) for r in again] == [("GET", 200)] * 5


def test_list_checks_in_parallel(factory, capsys):
    """With latency on every request, the five lookups are served at the same time, not one after another."""
    run_module(module, {"url": factory.url, "schematics": SIX}, capsys)
    before = len(logged(factory, 10))
    factory.set_latency(300)
    result = run_module(module, {"url": factory.url, "schematics": SIX}, capsys)
    factory.set_latency(0)
    assert result["changed"] is False
    records = logged(factory, before + 5)[before:]
    assert len(records) == 5 and all(record["method"] == "GET" for record in records)
    assert most_at_once(records) >= 2, "the five lookups did not overlap"


def test_list_check_mode_makes_no_request(factory, capsys):
    result = run_module(module, {"url": factory.url, "schematics": SIX, "_ansible_check_mode": True}, capsys)
    assert result["changed"] is False and len(result["ids"]) == 6 and len(result["schematics"]) == 5
    assert all(entry["changed"] is False for entry in result["schematics"])
    time.sleep(0.05)
    assert factory.requests() == []


def test_list_failure_names_the_schematic_and_keeps_the_others(factory, capsys, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    failing = canonicalize(KERNEL_ARGS)[0]
    factory.set_fault(500, count=50, path=f"^/schematics/{failing}$")
    result = run_module(module, {"url": factory.url, "schematics": SIX}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(
        "1 of 5 distinct schematics failed (schematics[3]): schematics[3]: Image Factory request failed: HTTP 500"
    )
    assert "HTTP 500" in result["msg"]
    assert result["failures"] == [
        {
            "name": "schematics[3]",
            "index": 3,
            "id": failing,
            "msg": result["failures"][0]["msg"],
            "failure": {
                "status": 500,
                "code": None,
                "details": result["failures"][0]["failure"]["details"],
                "request": f"GET {factory.url}/schematics/{failing}",
            },
        }
    ]
    assert result["failures"][0]["msg"].startswith("Image Factory request failed: HTTP 500")
    assert "diff" not in result
    by_id = {entry["id"]: entry for entry in result["schematics"]}
    assert by_id[failing]["failed"] is True and by_id[failing]["changed"] is False
    others = [entry for entry in result["schematics"] if entry["id"] != failing]
    assert len(others) == 4 and all(entry["changed"] is True and "failed" not in entry for entry in others)
    assert result["changed"] is True and len(result["ids"]) == 6
    factory.clear_faults()
    assert len(posts(logged(factory, 4 + 4 + 5))) == 4


def test_list_validates_every_entry_before_any_request(factory, capsys):
    schematics = [QEMU_SCHEMATIC, {"customization": {"kernelArgs": []}}, {"customization": {"meta": [{"key": 300}]}}]
    result = run_module(module, {"url": factory.url, "schematics": schematics}, capsys)
    assert result["failed"] is True
    head = "invalid Image Factory schematic: schematics[1].customization.kernelArgs: unknown field"
    assert result["msg"].startswith(head)
    assert result["msg"].endswith(
        "; schematics[2].customization.meta[0].key: 300 is out of range; it must be between 0 and 255"
        "; schematics[2].customization.meta[0].value: is required: the META value as a string"
    )
    assert result["msg"].count("; schematics[") == 2
    time.sleep(0.05)
    assert factory.requests() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"schematic": {}, "schematics": [{}]}, "parameters are mutually exclusive: schematic|schematics"),
        ({"schematics": [{}], "parallel": 0}, "parallel must be 1 or more, got 0"),
    ],
)
def test_list_bad_parameters(args, message, capsys):
    result = run_module(module, {"url": "http://127.0.0.1:9", **args}, capsys)
    assert result["failed"] is True and message in result["msg"]


def test_empty_list_registers_nothing(capsys):
    result = run_module(module, {"url": "http://127.0.0.1:9", "schematics": []}, capsys)
    assert result["changed"] is False and result["schematics"] == [] and result["ids"] == []
