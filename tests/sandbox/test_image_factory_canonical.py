"""The simulator's own schematic canonicaliser against the published ID pairs and go-yaml's own output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from sandbox_testlib import CONTRACTS

from sandbox.simulators.image_factory import schematic

KNOWN = yaml.safe_load((CONTRACTS / "known-schematics.yaml").read_text(encoding="utf-8"))["known"]
GOYAML_CASES = json.loads((Path(__file__).parent / "goyaml_cases.json").read_text(encoding="utf-8"))["cases"]
EMPTY_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"


@pytest.mark.parametrize("pair", KNOWN, ids=[pair["id"][:12] for pair in KNOWN])
def test_published_pairs_reproduce(pair: dict) -> None:
    schematic_id, canonical = schematic.normalize(pair["canonical"])
    assert canonical == pair["canonical"]
    assert schematic_id == pair["id"] == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize("name", sorted(GOYAML_CASES))
def test_matches_goyaml_output(name: str) -> None:
    case = GOYAML_CASES[name]
    assert schematic.normalize(case["body"]) == (case["id"], case["canonical"])


def test_meta_network_config_is_a_literal_block() -> None:
    case = GOYAML_CASES["meta_network_yaml"]
    canonical = schematic.normalize(case["body"])[1]
    assert canonical.startswith(
        "customization:\n    meta:\n        - key: 10\n          value: |\n            addresses:\n"
    )
    assert (
        yaml.safe_load(canonical)["customization"]["meta"][0]["value"]
        == yaml.safe_load(case["body"])["customization"]["meta"][0]["value"]
    )


@pytest.mark.parametrize(
    "body",
    ["{}", "customization: {}", "customization: {extraKernelArgs: []}", "---\n", "customization:\n", "# comment\n{}"],
)
def test_empty_schematic_forms(body: str) -> None:
    assert schematic.normalize(body) == (EMPTY_ID, "customization: {}\n")


def test_hex_and_decimal_meta_keys_agree() -> None:
    assert schematic.normalize("customization: {meta: [{key: 0xa, value: foo}]}") == schematic.normalize(
        '{"customization": {"meta": [{"key": 10, "value": "foo"}]}}'
    )


def test_json_with_empty_sub_record() -> None:
    body = '{"customization": {"extraKernelArgs": ["noapic", "nolapic"], "systemExtensions": {}}}'
    assert schematic.normalize(body)[0] == "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c"


def test_list_order_is_kept() -> None:
    assert GOYAML_CASES["order_a"]["id"].startswith("dc7b152c")
    assert GOYAML_CASES["order_b"]["id"].startswith("6ebbfe35")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("foo: 1", "field foo not found in type schematic.Schematic"),
        ("customization: {foo: 1}", "field foo not found in type schematic.Customization"),
        ("overlay: {foo: 1}", "field foo not found in type schematic.Overlay"),
        ("customization: {meta: [{key: 10, value: x, extra: 1}]}", "field extra not found in type schematic.MetaValue"),
        ("customization: {systemExtensions: {official: [a]}}", "field official not found"),
        ("customization: {secureboot: {enroll: force}}", "field enroll not found"),
        ("customization: {diskImage: {size: 1}}", "field size not found"),
        ("customization: {meta: [{key: '10', value: x}]}", "cannot construct !!str `10` into uint8"),
        ("customization: {meta: [{key: 256, value: x}]}", "cannot construct !!int `256` into uint8"),
        ("customization: {meta: [{key: -1, value: x}]}", "cannot construct !!int `-1` into uint8"),
        ("customization: {meta: [{key: 10.5, value: x}]}", "cannot construct !!float `10.5` into uint8"),
        ("customization: {bootloader: lilo}", "lilo does not belong to BootloaderKind values"),
        ("customization: {bootloader: auto}", "auto does not belong to BootloaderKind values"),
        ("customization: {secureboot: {includeWellKnownCertificates: 1}}", "cannot construct !!int `1` into bool"),
        ("customization: {diskImage: {sectorSize: -512}}", "cannot construct !!int `-512` into uint"),
        ("customization: {extraKernelArgs: quiet}", "cannot construct !!str `quiet` into []string"),
        ("customization: {extraKernelArgs: [{a: b}]}", "cannot construct !!map into string"),
        ("customization: {extraKernelArgs: [2024-01-02]}", "cannot construct !!timestamp `2024-01-02` into string"),
        ("customization: []", "cannot construct !!seq into schematic.Customization"),
        ("overlay: {options: [a]}", "cannot construct !!seq into map[string]interface {}"),
        ("customization: {}\ncustomization: {}\n", 'mapping key "customization" already defined at line 1'),
        ("", "EOF"),
        ("customization: [unclosed", "yaml: line 1"),
    ],
)
def test_strict_parse_rejects(body: str, message: str) -> None:
    with pytest.raises(schematic.SchematicError) as raised:
        schematic.normalize(body)
    assert message in str(raised.value)


def test_owner_is_kept_in_the_record() -> None:
    record = schematic.parse("owner: alice")
    assert record["owner"] == "alice"
    assert schematic.canonical(record) == "owner: alice\ncustomization: {}\n"
