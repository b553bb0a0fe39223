# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Secrets in Talos documents, masked for diffs: keys, certificates, tokens, and what secret patches wrote.

A masked value is ``<secret:sha256:…>``, a hash prefix, so that a changed secret still shows as a change. Pure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    V1ALPHA1,
    TalosConfigError,
    doc_id,
    dump_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.json_patch import json_pointer
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.patches import parse_patch

_SECRET_FIELDS = frozenset(
    "key crt ca token secret secretboxEncryptionSecret aescbcEncryptionSecret bootstraptoken apiToken privateKey "
    "presharedKey password auth identityToken".split()
)
_SECRET_SUFFIX = re.compile(r"(key|token|secret|password)$", re.IGNORECASE)
_SECRET_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(KEY|TOKEN|SECRET|PASSWORD|PASS|AUTH)[A-Za-z0-9_]*)=(.*)$", re.I)
_PLAIN_MAPS = frozenset({"nodeLabels", "nodeAnnotations", "nodeTaints", "extraArgs", "labels", "annotations"})


def mask_value(value: Any) -> str:
    """``<secret:sha256:…>``: the first 12 hex digits of the SHA-256 of the value, so a change still shows."""
    text = value if isinstance(value, str) else repr(value)
    return f"<secret:sha256:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}>"


def _is_secret_field(name: Any) -> bool:
    return isinstance(name, str) and (name in _SECRET_FIELDS or bool(_SECRET_SUFFIX.search(name)))


@dataclass(frozen=True)
class SecretSpots:
    """Where secret patches wrote: their string values, and (kind, name, path) places ("*" for list items)."""

    values: frozenset[str] = frozenset()
    paths: frozenset[tuple[str, str, tuple[Any, ...]]] = frozenset()


def secret_spots(patches: Iterable[Any]) -> SecretSpots:
    """The places and values that ``patches`` (given as secret) write, for ``mask_secrets``. Unreadable patches
    are skipped (rendering reports them)."""
    values: set[str] = set()
    paths: set[tuple[str, str, tuple[Any, ...]]] = set()

    def walk(node: Any, kind: str, name: str, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not path and key in ("apiVersion", "kind", "name", "version"):
                    continue
                walk(value, kind, name, (*path, key))
        elif isinstance(node, list):
            for item in node:
                walk(item, kind, name, (*path, "*"))
        else:
            paths.add((kind, name, path))
            if isinstance(node, str) and node:
                values.add(node)

    for number, patch in enumerate(patches):
        try:
            parsed = parse_patch(patch, f"secret_patches[{number}]", secret=True)
        except TalosConfigError:
            continue
        for doc in parsed.documents:
            key = doc_id(doc)
            walk(doc, key[1], key[2], ())
        for operation in parsed.operations or []:
            pointer = tuple("*" if part.isdigit() or part == "-" else part for part in json_pointer(operation["path"]))
            paths.add((V1ALPHA1, "", pointer))
            walk(operation.get("value"), V1ALPHA1, "", pointer)
    return SecretSpots(frozenset(values), frozenset(paths))


def mask_secrets(doc: Any, spots: SecretSpots | None = None) -> Any:
    """A copy of ``doc`` (documents, talosconfig, secrets bundle) with certificates, keys, tokens and secrets
    replaced by ``mask_value``; so are ``NAME=value`` entries of ``environment`` lists whose name looks secret,
    and everything at a place or with a value of ``spots`` (what secret patches wrote, before and after)."""
    spots = spots or SecretSpots()
    key = doc_id(doc) if isinstance(doc, dict) else ("", "", "")
    return _mask(doc, "", spots, (key[1], key[2]), ())


def scrub(text: str, spots: SecretSpots) -> str:
    """``text`` with every secret value of 6 characters or more replaced by its mask (for error messages)."""
    for value in sorted((v for v in spots.values if len(v) >= 6), key=len, reverse=True):
        text = text.replace(value, mask_value(value))
    return text


def _mask_all(node: Any) -> Any:
    if isinstance(node, dict):
        return {name: _mask_all(value) for name, value in node.items()}
    if isinstance(node, list):
        return [_mask_all(item) for item in node]
    return node if node in (None, "") or isinstance(node, bool) else mask_value(node)


def _mask(node: Any, parent: str, spots: SecretSpots, where: tuple[str, str], path: tuple[Any, ...]) -> Any:
    if path and (*where, path) in spots.paths:
        return _mask_all(node)
    if isinstance(node, dict):
        masked = {}
        for name, value in node.items():
            if parent not in _PLAIN_MAPS and _is_secret_field(name) and not isinstance(value, (dict, list, bool)):
                masked[name] = mask_value(value) if value not in (None, "") else value
            else:
                masked[name] = _mask(value, name if isinstance(name, str) else "", spots, where, (*path, name))
        return masked
    if isinstance(node, list):
        if parent == "environment" and (*where, (*path, "*")) not in spots.paths:
            return [mask_value(item) if item in spots.values else _mask_env(item) for item in node]
        return [_mask(item, parent, spots, where, (*path, "*")) for item in node]
    if isinstance(node, str) and node in spots.values:
        return mask_value(node)
    return node


def _mask_env(item: Any) -> Any:
    match = _SECRET_ENV.match(item) if isinstance(item, str) else None
    return f"{match.group(1)}={mask_value(match.group(3))}" if match else item


def masked_text(docs: list[Any], spots: SecretSpots | None = None) -> str:
    """The YAML of ``docs`` with secrets masked, for a diff."""
    return dump_documents([mask_secrets(doc, spots) for doc in docs])
