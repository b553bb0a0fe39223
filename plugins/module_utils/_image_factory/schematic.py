# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Image Factory schematics: normalise what a user wrote, write the factory's canonical YAML, compute the ID.

The factory decodes a schematic strictly into a fixed record, writes it back out with go-yaml's default
marshaller (4-space indentation, declaration order, omitempty) and names it by the SHA-256 of those bytes.
This module reproduces those bytes without Go: the record is small and fixed, so a purpose-built emitter
(_image_factory/schematic_yaml.py) that follows go-yaml's observable output rules is enough; the strict
decoding is in _image_factory/schematic_record.py. See tests/contracts/image-factory/README.md.

Only the standard library is used here (no Ansible import), so the logic is unit-tested on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic_record import Normalizer
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic_yaml import emit_record, flow

EMPTY_SCHEMATIC_ID = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"


class SchematicError(InputError):
    """The schematic is invalid. ``errors`` lists every problem, each starting with its field path."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid Image Factory schematic: " + "; ".join(self.errors))


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------


def normalize_schematic(schematic: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a schematic as a user writes it and return the factory's record with empty fields dropped.

    Keys come back in declaration order, META keys as ints, ``customization`` always present, overlay options
    sorted the way the factory sorts map keys. Raises SchematicError listing every problem with its path.
    """
    errors: list[str] = []
    record = Normalizer(errors).top(schematic)
    if errors:
        raise SchematicError(errors)
    return record


def canonical_yaml(schematic: Mapping[str, Any] | None) -> str:
    """Return the canonical YAML text the factory hashes (always ends with one newline)."""
    return emit_record(normalize_schematic(schematic))


def schematic_id(schematic: Mapping[str, Any] | None) -> str:
    """Return the schematic ID: lowercase hex SHA-256 of the canonical YAML."""
    return canonicalize(schematic)[0]


def canonicalize(schematic: Mapping[str, Any] | None) -> tuple[str, str]:
    """Return ``(id, canonical_yaml)`` for a schematic as a user writes it."""
    text = canonical_yaml(schematic)
    return id_of_canonical(text), text


def id_of_canonical(canonical: str) -> str:
    """SHA-256 (hex) of canonical YAML text."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def request_body(schematic: Mapping[str, Any] | None) -> str:
    """Return the body to POST to /schematics: the normalised record in JSON (flow YAML) notation.

    JSON keeps every string exactly (no block-scalar indentation to re-read), so the factory decodes the very
    values that were hashed locally. Characters a YAML reader refuses raw are written as escapes.
    """
    return flow(normalize_schematic(schematic)) + "\n"
