# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Patches as the cluster definition gives them, applied the way Talos applies them.

A patch is a mapping or YAML text (strategic merge, see ``merge``, with ``$patch: delete``, see ``deletes``) or a
list of JSON patch operations (RFC 6902, see ``json_patch``), which apply to the v1alpha1 document. A multi-document
patch merges each document into the document of the same apiVersion, kind and name, or appends it when there is
none; a document without apiVersion/kind is the v1alpha1 machine config. Pure.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.deletes import (
    apply_delete,
    split_deletes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    V1ALPHA1,
    TalosConfigError,
    describe,
    doc_id,
    load_documents,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.json_patch import (
    JSON_OPS,
    apply_json_patch,
    json_pointer,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.merge import merge_documents_value


@dataclass
class Patch:
    """One patch, parsed: strategic merge documents, or JSON patch operations."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    operations: list[dict[str, Any]] | None = None
    source: str = "patch"


def _check_operations(operations: list[Any], source: str) -> list[dict[str, Any]]:
    for number, operation in enumerate(operations):
        where = f"{source}, operation {number}"
        if not isinstance(operation, dict) or operation.get("op") not in JSON_OPS:
            raise TalosConfigError(f"{where}: a JSON patch operation needs op, one of {', '.join(sorted(JSON_OPS))}")
        try:
            json_pointer(operation.get("path"))
            if operation["op"] in ("move", "copy"):
                json_pointer(operation.get("from"))
        except TalosConfigError as exc:
            raise TalosConfigError(f"{where}: {exc}") from exc
        if operation["op"] in ("add", "replace", "test") and "value" not in operation:
            raise TalosConfigError(f"{where}: {operation['op']} needs a value")
    return operations


def parse_patch(patch: Any, source: str = "patch", secret: bool = False) -> Patch:
    """A patch as the cluster definition allows it: a mapping, a list of JSON patch operations, or YAML text.

    With ``secret``, a YAML error names the line and column only, never the text around it."""
    if isinstance(patch, str):
        try:
            docs = load_documents(patch, source)
        except TalosConfigError as exc:
            if not secret:
                raise
            mark = getattr(exc.__cause__, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise TalosConfigError(f"{source} is not valid YAML{where}") from None
        if len(docs) == 1 and isinstance(docs[0], list):
            patch = docs[0]
        elif all(isinstance(doc, dict) for doc in docs):
            return Patch(documents=docs, source=source)
        else:
            raise TalosConfigError(f"{source}: every document of a patch must be a mapping")
    if isinstance(patch, dict):
        return Patch(documents=[patch] if patch else [], source=source)
    if isinstance(patch, list):
        return Patch(operations=_check_operations(patch, source), source=source)
    raise TalosConfigError(f"{source}: a patch is a mapping, a list of JSON patch operations or YAML text")


def apply_patch(docs: list[dict[str, Any]], patch: Patch) -> list[dict[str, Any]]:
    """``docs`` (not modified) with ``patch`` applied; raises TalosConfigError naming the patch and the field."""
    try:
        if patch.operations is not None:
            index = next((i for i, doc in enumerate(docs) if doc_id(doc)[1] == V1ALPHA1), None)
            if index is None:
                raise TalosConfigError("a JSON patch needs the v1alpha1 document, and there is none")
            return [*docs[:index], apply_json_patch(docs[index], patch.operations), *docs[index + 1 :]]
        result = list(docs)
        for doc in patch.documents:
            rest, selectors = split_deletes(doc)
            for selector in selectors:
                result = apply_delete(result, selector)
            if rest is not None:
                result = _merge_document(result, rest)
        return result
    except TalosConfigError as exc:
        raise TalosConfigError(f"{patch.source}: {exc}") from exc


def _merge_document(docs: list[dict[str, Any]], doc: dict[str, Any]) -> list[dict[str, Any]]:
    key = doc_id(doc)
    if key[1] != V1ALPHA1 and (not key[0] or not key[1]):
        raise TalosConfigError("a document with kind needs apiVersion too, and the reverse")
    for index, have in enumerate(docs):
        if doc_id(have) == key:
            try:
                merged = merge_documents_value(have, doc, (), key[1])
            except TalosConfigError as exc:
                raise TalosConfigError(f"{describe(key)}: {exc}") from exc
            return [*docs[:index], merged, *docs[index + 1 :]]
    return [*docs, copy.deepcopy(doc)]


def apply_patches(docs: list[dict[str, Any]], patches: Iterable[Patch]) -> list[dict[str, Any]]:
    for patch in patches:
        docs = apply_patch(docs, patch)
    return docs
