"""Schematic parsing and canonical form, as the real Image Factory does it (the simulator's own implementation).

The factory decodes the POST body into a fixed Go record with go-yaml's known-fields check, then marshals the
record again; the ID is the SHA-256 of those bytes. This module describes that record and wires the go-yaml
look-alike decoder (:mod:`sandbox.goyaml.decode`) and writer (:mod:`sandbox.goyaml.emit`) together. It
deliberately imports nothing from the collection: two independent implementations, both checked against the
published pairs.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...goyaml.decode import DecodeError, Schema, decode
from ...goyaml.emit import Emitter
from ...goyaml.nodes import Mapping, Scalar, Sequence, represent

# pkg/schematic's record types: fields in declaration order as (yaml key, kind, omitempty)
SCHEMA = Schema(
    structs={
        "schematic.Schematic": [
            ("owner", "str", True),
            ("overlay", "schematic.Overlay", True),
            ("customization", "schematic.Customization", False),
        ],
        "schematic.Overlay": [("image", "str", False), ("name", "str", False), ("options", "stringmap", True)],
        "schematic.Customization": [
            ("embeddedMachineConfiguration", "str", True),
            ("extraKernelArgs", ("list", "str"), True),
            ("meta", ("list", "schematic.MetaValue"), True),
            ("systemExtensions", "schematic.SystemExtensions", True),
            ("bootloader", "bootloader", True),
            ("secureboot", "schematic.SecureBootCustomization", True),
            ("diskImage", "schematic.DiskImageCustomization", True),
        ],
        "schematic.MetaValue": [("key", "uint8", False), ("value", "str", False)],
        "schematic.SystemExtensions": [("officialExtensions", ("list", "str"), True)],
        "schematic.SecureBootCustomization": [
            ("enrollKeys", "str", True),
            ("includeWellKnownCertificates", "bool", True),
        ],
        "schematic.DiskImageCustomization": [("sectorSize", "uint", True)],
    },
    # Talos' BootloaderKind: "none" is the zero value (left out); "auto" is a word of the factory's web UI only
    enums={"bootloader": ("imageropts.BootloaderKind", ("none", "dual-boot", "sd-boot", "grub"))},
)


class SchematicError(ValueError):
    """The body is not a valid schematic; the message is what the factory would answer with status 400."""


def parse(body: str | bytes) -> dict[str, Any]:
    """Decode a POST /schematics body into the factory's record; raises SchematicError (the factory's 400)."""
    try:
        return decode(body, SCHEMA, "schematic.Schematic")
    except DecodeError as error:
        raise SchematicError(str(error)) from None


def _to_node(value: Any, kind: Any) -> Any:
    if kind in SCHEMA.structs:
        items = []
        for name, field_kind, omitempty in SCHEMA.structs[kind]:
            if omitempty and SCHEMA.is_zero(value[name], field_kind):
                continue
            items.append((Scalar(name), _to_node(value[name], field_kind)))
        return Mapping(items)
    if isinstance(kind, tuple):
        return Sequence([_to_node(item, kind[1]) for item in value])
    return represent(value)


def canonical(record: dict[str, Any]) -> str:
    """The factory's normalized YAML for a decoded schematic."""
    return Emitter().document(_to_node(record, "schematic.Schematic"))


def schematic_id(canonical_text: str) -> str:
    return hashlib.sha256(canonical_text.encode("utf-8")).hexdigest()


def normalize(body: str | bytes) -> tuple[str, str]:
    """(id, canonical YAML) for a request body; raises SchematicError when the factory would answer 400."""
    text = canonical(parse(body))
    return schematic_id(text), text
