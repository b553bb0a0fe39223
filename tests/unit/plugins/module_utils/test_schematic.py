# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Schematic normalisation, canonical YAML and IDs (plugins/module_utils/_image_factory/schematic.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import (
    EMPTY_SCHEMATIC_ID,
    SchematicError,
    canonical_yaml,
    canonicalize,
    id_of_canonical,
    normalize_schematic,
    request_body,
    schematic_id,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.yaml_scalars import (
    go_float,
    natural_less,
    reads_as_non_string,
    string_style,
)

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "image-factory" / "known-schematics.yaml"
KNOWN = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["known"]
MAP = {"d308": "d308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f"}


# ---------------------------------------------------------------------------------------------------------------
# The published pairs (tests/contracts/image-factory/known-schematics.yaml)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", KNOWN, ids=[pair["id"][:12] for pair in KNOWN])
def test_known_pair_reproduces(pair):
    schematic = yaml.safe_load(pair["canonical"])
    assert canonical_yaml(schematic) == pair["canonical"]
    assert schematic_id(schematic) == pair["id"]
    assert id_of_canonical(pair["canonical"]) == pair["id"]


def test_known_pairs_are_all_verified_and_cover_the_readme_examples():
    ids = {pair["id"] for pair in KNOWN}
    assert all(pair["verified"] for pair in KNOWN)
    assert {EMPTY_SCHEMATIC_ID, MAP["d308"]} <= ids
    assert len(KNOWN) >= 13


# ---------------------------------------------------------------------------------------------------------------
# User-style inputs that must give the published IDs
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schematic",
    [
        None,
        {},
        {"customization": {}},
        {"customization": None},
        {"customization": {"extraKernelArgs": []}},
        {"customization": {"extraKernelArgs": None, "meta": [], "systemExtensions": {}}},
        {"customization": {"systemExtensions": {"officialExtensions": []}}, "overlay": {}},
        {"overlay": {"image": "", "name": None, "options": {}}},
        {"customization": {"bootloader": "auto", "secureboot": {"includeWellKnownCertificates": False}}},
        {"customization": {"diskImage": {"sectorSize": 0}, "embeddedMachineConfiguration": ""}},
    ],
)
def test_empty_forms_give_the_default_id(schematic):
    assert canonicalize(schematic) == (EMPTY_SCHEMATIC_ID, "customization: {}\n")


@pytest.mark.parametrize("key", [10, "10", "0xa", "0xA", "0x0a", "0o12", "012", " 10 ", "1_0"])
def test_meta_key_notations(key):
    schematic = {"customization": {"meta": [{"value": "foo", "key": key}]}}
    assert schematic_id(schematic) == MAP["d308"]


def test_key_order_does_not_matter():
    written = {
        "customization": {
            "systemExtensions": {"officialExtensions": ["siderolabs/gvisor", "siderolabs/intel-ucode"]},
            "extraKernelArgs": ["net.ifnames=0"],
        }
    }
    assert schematic_id(written) == "b8e8fbbe1b520989e6c52c8dc8303070cb42095997e76e812fa8892393e1d176"
    overlay = {"customization": {}, "overlay": {"name": "rpi_generic", "image": "siderolabs/sbc-raspberrypi"}}
    assert schematic_id(overlay) == "ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9"


def test_json_input_with_empty_system_extensions():
    # The upstream test: JSON with an extra empty systemExtensions gives the same ID.
    schematic = json.loads('{"customization": {"extraKernelArgs": ["noapic", "nolapic"], "systemExtensions": {}}}')
    assert schematic_id(schematic) == "9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c"


def test_list_order_is_kept():
    first = {
        "customization": {
            "systemExtensions": {"officialExtensions": ["siderolabs/iscsi-tools", "siderolabs/qemu-guest-agent"]}
        }
    }
    second = {
        "customization": {
            "systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"]}
        }
    }
    assert schematic_id(first).startswith("dc7b152c")
    assert schematic_id(second).startswith("6ebbfe35")


def test_hetzner_schematic_from_the_talos_docs():
    schematic = {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}}
    assert schematic_id(schematic) == "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"


# ---------------------------------------------------------------------------------------------------------------
# Vectors checked against go-yaml itself: each expected text is what go.yaml.in/yaml/v4 (v4.0.0-rc.6) wrote
# with yaml.Marshal for the factory's Schematic record after decoding request_body(input) with known fields on.
# ---------------------------------------------------------------------------------------------------------------

INPUTS = {
    "quoted_scalars": {"customization": {"extraKernelArgs": [
        "true", "10", "0x1F", "1e5", "null", "~", "-0", ".inf", "2001-12-14", "on", "off", "y", "<<", "1:20", "{}",
        "[x]", "- a", "a: b", "#x", "x #y", "x:", "'q'", '"dq"', " lead", "trail ", "tab\tx", "08", "+1", "1_000",
    ]}},
    "plain_kernel_args": {"customization": {"extraKernelArgs": [
        "console=ttyS0,115200n8", "talos.platform=metal", "a:b", "x#y", "-a", "?a", "1.2.3", "v1.13.9",
        "net.ifnames=0", "ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off",
    ]}},
    "literal_blocks": {"customization": {
        "embeddedMachineConfiguration": "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: node-1\n---\n"
        "apiVersion: v1alpha1\nkind: KmsgLogConfig\nname: remote\nurl: tcp://10.0.0.50:5044/\n",
        "meta": [
            {
                "key": 10,
                "value": "addresses:\n  - address: 10.0.1.3/24\n    linkName: eth0\nroutes:\n  - gateway: 10.0.1.1\n",
            },
            {"key": 12, "value": "no trailing newline\nsecond"},
            {"key": 13, "value": "kept\n\n"},
            {"key": 14, "value": "  indented first\nline"},
            {"key": 15, "value": "\nleading break"},
            {"key": 11, "value": "trailing space \nx"},
        ],
    }},
    "specials": {"customization": {"extraKernelArgs": [
        "\ufeffbom", "emoji\U0001f600", "ctl\x01", "del\x7f", "nel\x85x", "é日本", "\xa0nbsp", "back\\slash", "cr\rx",
    ]}},
    "everything": {
        "owner": "me@example.org",
        "overlay": {
            "name": "rpi_generic",
            "image": "siderolabs/sbc-raspberrypi",
            "options": {"configTxt": "gpu_mem=128\ndtoverlay=vc4-kms-v3d\n", "b10": 1, "b9": 2.5,
                        "a": [1, "two", None, True, {"x": []}], "y": {}, "1": "one"},
        },
        "customization": {
            "diskImage": {"sectorSize": 4096},
            "secureboot": {"includeWellKnownCertificates": True, "enrollKeys": "off"},
            "bootloader": "GRUB",
            "systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"]},
            "meta": [{"key": "0xa", "value": "{}"}],
            "extraKernelArgs": ["-console", "vga=791"],
        },
    },
    "options_natural_order": {"overlay": {"image": "i", "name": "n", "options": {
        "a10": 1, "a9": 1, "a01": 1, "a1": 1, "A": 1, "b": 1, "_": 1, "10": 1, "9": 1, "é": 1, "x2y": 1, "x10y": 1,
    }}},
    "options_numbers": {"overlay": {"image": "i", "name": "n", "options": {
        "f1": 1.0, "f2": 1e6, "f3": 123456.0, "f4": 1e-5, "f5": 0.0001, "f6": -0.0, "f7": float("inf"),
        "f8": float("nan"), "f9": 1e21, "f10": 0.1, "i1": 2**63, "i2": -(2**63), "i3": 2**64 - 1,
    }}},
    "options_nesting": {"overlay": {"image": "i", "name": "n", "options": {
        "l": [[1, [2, [3]]], {"k": {"m": ["x", {"n": "multi\nline"}]}}, "a\nb\n"],
        "m": {"deep": {"deeper": {"deepest": "v"}}},
    }}},
}  # fmt: skip

GO_YAML = {
    "quoted_scalars": (
        "df14696eb62a6e5800406406463b37eb1d4fe4cb1af5d76c4b23022b553326df",
        'customization:\n'
        '    extraKernelArgs:\n'
        '        - "true"\n'
        '        - "10"\n'
        '        - "0x1F"\n'
        '        - "1e5"\n'
        '        - "null"\n'
        '        - "~"\n'
        '        - "-0"\n'
        '        - ".inf"\n'
        '        - "2001-12-14"\n'
        "        - 'on'\n"
        "        - 'off'\n"
        "        - 'y'\n"
        "        - '<<'\n"
        "        - '1:20'\n"
        "        - '{}'\n"
        "        - '[x]'\n"
        "        - '- a'\n"
        "        - 'a: b'\n"
        "        - '#x'\n"
        "        - 'x #y'\n"
        "        - 'x:'\n"
        "        - '''q'''\n"
        '        - \'"dq"\'\n'
        "        - ' lead'\n"
        "        - 'trail '\n"
        '        - "tab\\tx"\n'
        '        - "08"\n'
        '        - "+1"\n'
        '        - "1_000"\n'
    ),
    "plain_kernel_args": (
        "9fc4d52f26f00d82853e8dbf64b2ab408034fe6f6a7380b78a7aab69f48c40da",
        'customization:\n'
        '    extraKernelArgs:\n'
        '        - console=ttyS0,115200n8\n'
        '        - talos.platform=metal\n'
        '        - a:b\n'
        '        - x#y\n'
        '        - -a\n'
        '        - ?a\n'
        '        - 1.2.3\n'
        '        - v1.13.9\n'
        '        - net.ifnames=0\n'
        '        - ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:off\n'
    ),
    "literal_blocks": (
        "bd47f011595e07e71812c674ade3f2bfb4fbcaf9724270c50f11a30912238992",
        'customization:\n'
        '    embeddedMachineConfiguration: |\n'
        '        apiVersion: v1alpha1\n'
        '        kind: HostnameConfig\n'
        '        hostname: node-1\n'
        '        ---\n'
        '        apiVersion: v1alpha1\n'
        '        kind: KmsgLogConfig\n'
        '        name: remote\n'
        '        url: tcp://10.0.0.50:5044/\n'
        '    meta:\n'
        '        - key: 10\n'
        '          value: |\n'
        '            addresses:\n'
        '              - address: 10.0.1.3/24\n'
        '                linkName: eth0\n'
        '            routes:\n'
        '              - gateway: 10.0.1.1\n'
        '        - key: 12\n'
        '          value: |-\n'
        '            no trailing newline\n'
        '            second\n'
        '        - key: 13\n'
        '          value: |+\n'
        '            kept\n'
        '\n'
        '        - key: 14\n'
        '          value: |4-\n'
        '              indented first\n'
        '            line\n'
        '        - key: 15\n'
        '          value: |-\n'
        '\n'
        '            leading break\n'
        '        - key: 11\n'
        '          value: "trailing space \\nx"\n'
    ),
    "specials": (
        "fbe16c3b6e0681ad457af2b58bdaaa7c48893351d9bd554641423a96e4890bf1",
        'customization:\n'
        '    extraKernelArgs:\n'
        '        - "\\uFEFF\\x62\\x6F\\x6D"\n'
        '        - "emoji\\U0001F600"\n'
        '        - "ctl\\x01"\n'
        '        - "del\\x7F"\n'
        '        - "nel\\Nx"\n'
        '        - é日本\n'
        '        - \xa0nbsp\n'
        '        - back\\slash\n'
        '        - "cr\\rx"\n'
    ),
    "everything": (
        "d4a2a10056ff996e2174b572a0b6990af90d27a8b6e8b4cf671a45682f7721dc",
        'owner: me@example.org\n'
        'overlay:\n'
        '    image: siderolabs/sbc-raspberrypi\n'
        '    name: rpi_generic\n'
        '    options:\n'
        '        "1": one\n'
        '        a:\n'
        '            - 1\n'
        '            - two\n'
        '            - null\n'
        '            - true\n'
        '            - x: []\n'
        '        b9: 2.5\n'
        '        b10: 1\n'
        '        configTxt: |\n'
        '            gpu_mem=128\n'
        '            dtoverlay=vc4-kms-v3d\n'
        "        'y': {}\n"
        'customization:\n'
        '    extraKernelArgs:\n'
        '        - -console\n'
        '        - vga=791\n'
        '    meta:\n'
        '        - key: 10\n'
        "          value: '{}'\n"
        '    systemExtensions:\n'
        '        officialExtensions:\n'
        '            - siderolabs/qemu-guest-agent\n'
        '            - siderolabs/iscsi-tools\n'
        '    bootloader: grub\n'
        '    secureboot:\n'
        "        enrollKeys: 'off'\n"
        '        includeWellKnownCertificates: true\n'
        '    diskImage:\n'
        '        sectorSize: 4096\n'
    ),
    "options_natural_order": (
        "7c43ec9f57efa4d876467569842741265fb17bb9ab3ee396021808b09529585a",
        'overlay:\n'
        '    image: i\n'
        "    name: 'n'\n"
        '    options:\n'
        '        _: 1\n'
        '        "9": 1\n'
        '        "10": 1\n'
        '        A: 1\n'
        '        a1: 1\n'
        '        a01: 1\n'
        '        a9: 1\n'
        '        a10: 1\n'
        '        b: 1\n'
        '        x2y: 1\n'
        '        x10y: 1\n'
        '        é: 1\n'
        'customization: {}\n'
    ),
    "options_numbers": (
        "8205c014ea024ddfae76605b4d02afec25b31ea8c19db82f4de16e77aecf4c8a",
        'overlay:\n'
        '    image: i\n'
        "    name: 'n'\n"
        '    options:\n'
        '        f1: 1\n'
        '        f2: 1e+06\n'
        '        f3: 123456\n'
        '        f4: 1e-05\n'
        '        f5: 0.0001\n'
        '        f6: -0\n'
        '        f7: .inf\n'
        '        f8: .nan\n'
        '        f9: 1e+21\n'
        '        f10: 0.1\n'
        '        i1: 9223372036854775808\n'
        '        i2: -9223372036854775808\n'
        '        i3: 18446744073709551615\n'
        'customization: {}\n'
    ),
    "options_nesting": (
        "0e5cb84f2ad7c6f86371d4c92382b2e1c250466a38728cf88cf3b382a5549bcf",
        'overlay:\n'
        '    image: i\n'
        "    name: 'n'\n"
        '    options:\n'
        '        l:\n'
        '            - - 1\n'
        '              - - 2\n'
        '                - - 3\n'
        '            - k:\n'
        '                m:\n'
        '                    - x\n'
        "                    - 'n': |-\n"
        '                        multi\n'
        '                        line\n'
        '            - |\n'
        '              a\n'
        '              b\n'
        '        m:\n'
        '            deep:\n'
        '                deeper:\n'
        '                    deepest: v\n'
        'customization: {}\n'
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(GO_YAML))
def test_matches_go_yaml(name):
    expected_id, expected_text = GO_YAML[name]
    assert hashlib.sha256(expected_text.encode()).hexdigest() == expected_id
    assert canonicalize(INPUTS[name]) == (expected_id, expected_text)


# ---------------------------------------------------------------------------------------------------------------
# Scalar rules
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("plain", "plain"),
        ("siderolabs/qemu-guest-agent", "plain"),
        ("true", "double"),
        ("NULL", "double"),
        ("0o17", "double"),
        ("0b101", "double"),
        ("-.5", "double"),
        ("1e400", "plain"),  # too large for a float64: go-yaml reads it as a string
        ("2000-02-29", "double"),
        ("2001-02-29", "plain"),  # not a date
        ("2001-12-14t21:59:43.10-05:00", "double"),
        ("2001-12-14  21:59:43", "double"),
        ("2001-12-14T25:00:00Z", "plain"),
        ("Yes", "single"),
        ("190:20:30", "single"),
        ("a\nb", "literal"),
        ("\n", "double"),
        (" \n ", "double"),
        ("x \ny", "double"),
        ("tab\there", "double"),
        ("'", "single"),
        ("", "double"),
    ],
)
def teststring_style(text, style):
    assert string_style(text) == style


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", True), ("~", True), ("TRUE", True), ("tRUE", False), (".5", True), (".5_5", True), ("._5", False),
     ("9223372036854775807", True), ("18446744073709551616", True), ("0x", False), ("+", False), ("<<", True),
     ("v1", False), ("1.2.3", False), ("1e-400", True), ("0x_1F", True), ("1:2", False)],
)  # fmt: skip
def testreads_as_non_string(text, expected):
    assert reads_as_non_string(text) is expected


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (0.5, "0.5"), (100000.0, "100000"), (1e6, "1e+06"), (1234567.0, "1.234567e+06"), (1e-5, "1e-05"),
     (0.0001, "0.0001"), (-2.5e-7, "-2.5e-07"), (1.5e300, "1.5e+300"), (-0.0, "-0"), (float("-inf"), "-.inf")],
)  # fmt: skip
def testgo_float(value, text):
    assert go_float(value) == text


def test_natural_key_order():
    keys = ["a10", "a2", "a1", "b", "A", "a01", "1", "10", "2", "_z", "x"]
    ordered = sorted(keys, key=lambda k: sum(natural_less(o, k) for o in keys))
    assert ordered == ["_z", "1", "2", "10", "A", "a1", "a01", "a2", "a10", "b", "x"]


# ---------------------------------------------------------------------------------------------------------------
# Normalised record and request body
# ---------------------------------------------------------------------------------------------------------------


def test_normalize_orders_fields_and_drops_empty_ones():
    record = normalize_schematic(
        {
            "customization": {"meta": [{"value": "x", "key": "0x0b"}], "extraKernelArgs": ["a"], "secureboot": {}},
            "overlay": {"options": {"b": 1, "a": 2}, "name": "n", "image": "i"},
        }
    )
    assert list(record) == ["overlay", "customization"]
    assert list(record["customization"]) == ["extraKernelArgs", "meta"]
    assert record["customization"]["meta"] == [{"key": 11, "value": "x"}]
    assert list(record["overlay"]["options"]) == ["a", "b"]


def test_request_body_is_json_that_carries_the_record():
    schematic = {"customization": {"meta": [{"key": 10, "value": "a: b\n"}], "extraKernelArgs": ["x\u0085\ufeffy"]}}
    body = request_body(schematic)
    assert json.loads(body) == normalize_schematic(schematic)
    assert "\\u0085" in body and "\\ufeff" in body  # characters a YAML reader refuses raw are escaped


def test_request_body_writes_yaml_names_for_special_floats():
    body = request_body({"overlay": {"image": "i", "name": "n", "options": {"a": float("inf"), "b": 1e6}}})
    assert body == '{"overlay": {"image": "i", "name": "n", "options": {"a": .inf, "b": 1e+06}}, "customization": {}}\n'


# ---------------------------------------------------------------------------------------------------------------
# Errors: strict like the factory's decoder, with field paths, all at once
# ---------------------------------------------------------------------------------------------------------------


def errors_of(schematic):
    with pytest.raises(SchematicError) as info:
        normalize_schematic(schematic)
    return info.value.errors


def test_unknown_fields_are_reported_with_path_and_suggestion():
    errors = errors_of({"customisation": {}, "overlay": {"imag": "x", "name": "n"}})
    assert errors[0].startswith("customisation: unknown field (did you mean 'customization'?)")
    assert any(e.startswith("overlay.imag: unknown field (did you mean 'image'?)") for e in errors)


def test_snake_case_field_gets_the_camel_case_suggestion():
    errors = errors_of({"customization": {"extra_kernel_args": ["a"]}})
    assert errors == [
        "customization.extra_kernel_args: unknown field (did you mean 'extraKernelArgs'?); allowed fields: "
        "embeddedMachineConfiguration, extraKernelArgs, meta, systemExtensions, bootloader, secureboot, diskImage"
    ]


def test_all_problems_are_reported_at_once():
    errors = errors_of(
        {
            "customization": {
                "meta": [{"key": 256, "value": "x"}, {"key": "ten", "value": 5}, {"value": "y"}, "bad"],
                "extraKernelArgs": "quiet",
                "systemExtensions": {"officialExtensions": ["siderolabs/gvisor", None, 3]},
                "bootloader": "lilo",
                "secureboot": {"enrollKeys": "always", "includeWellKnownCertificates": "yes"},
                "diskImage": {"sectorSize": -1},
            }
        }
    )
    assert errors == [
        "customization.extraKernelArgs: must be a list of strings, got a string",
        "customization.meta[0].key: 256 is out of range; it must be between 0 and 255",
        "customization.meta[1].key: 'ten' is not an integer; write it as decimal (10) or hex (0xa)",
        "customization.meta[1].value: must be a string, got an integer; quote the value in YAML",
        "customization.meta[2].key: is required: the META key, 0 to 255 (for example 0xa or 10)",
        "customization.meta[3]: must be a mapping with key and value, got a string",
        "customization.systemExtensions.officialExtensions[1]: must be a non-empty string",
        "customization.systemExtensions.officialExtensions[2]: must be a string, got an integer; "
        "quote the value in YAML",
        "customization.bootloader: 'lilo' is not one of auto, none, dual-boot, sd-boot, grub",
        "customization.secureboot.enrollKeys: 'always' is not one of off, manual, if-safe, force",
        "customization.secureboot.includeWellKnownCertificates: must be a boolean (true or false), got a string",
        "customization.diskImage.sectorSize: -1 is out of range; it must be between 0 and 4294967295",
    ]


@pytest.mark.parametrize(
    ("schematic", "message"),
    [
        ([], "schematic: must be a mapping, got a list"),
        ({"overlay": "rpi"}, "overlay: must be a mapping, got a string"),
        ({"overlay": {"options": {"a": 1}}}, "overlay.image: is required when an overlay is set"),
        ({"overlay": {"image": "i", "name": "n", "options": {1: "x"}}}, "overlay.options: key 1 must be a string"),
        ({"overlay": {"image": "i", "name": "n", "options": {"a\nb": 1}}}, "keys must be single-line"),
        ({"overlay": {"image": "i", "name": "n", "options": {"a": {1, 2}}}}, "overlay.options.a: unsupported value"),
        ({"overlay": {"image": "i", "name": "n", "options": {"a": 2**64}}}, "does not fit in 64 bits"),
        ({"customization": {"meta": [{"key": True, "value": "x"}]}}, "meta[0].key: must be an integer"),
        ({"customization": {"embeddedMachineConfiguration": {"a": 1}}}, "must be a string, got a mapping"),
        ({"customization": {"extraKernelArgs": ["a\u2028b"]}}, "line or paragraph separator"),
        ({"owner": "\ud800"}, "owner: contains an unpaired surrogate"),
    ],
)
def test_invalid_inputs(schematic, message):
    errors = errors_of(schematic)
    assert any(message in error for error in errors), errors


def test_error_message_lists_the_paths():
    with pytest.raises(SchematicError, match=r"invalid Image Factory schematic: customization\.meta\[0\]\.key"):
        normalize_schematic({"customization": {"meta": [{"key": 300, "value": "x"}]}})


def test_bootloader_and_booleans_accept_friendly_spellings():
    record = normalize_schematic(
        {"customization": {"bootloader": "SD-Boot", "secureboot": {"includeWellKnownCertificates": "True"}}}
    )
    assert record["customization"] == {"bootloader": "sd-boot", "secureboot": {"includeWellKnownCertificates": True}}
