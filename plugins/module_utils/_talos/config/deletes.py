# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""``$patch: delete`` in a strategic merge patch, as Talos reads it.

In a mapping it deletes that key (at the top of a document: the whole document); inside a list item it deletes the
item whose first other field matches (``- interface: eth0`` + ``$patch: delete``). Deleting something that does not
exist is an error, as in Talos. Pure.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    V1ALPHA1,
    TalosConfigError,
    describe,
    doc_id,
    path_text,
)

DELETE_KEY = "$patch"


@dataclass
class DeleteSelector:
    """What one ``$patch: delete`` removes: a key at ``path``, a list item (``match``), or a whole document."""

    document: tuple[str, str, str]
    path: tuple[Any, ...]
    match: tuple[str, Any] | None = None

    def describe(self) -> str:
        where = path_text(self.path)
        if self.match:
            where += f" item {self.match[0]}={self.match[1]}"
        return f"{where} in {describe(self.document)}"


def split_deletes(doc: dict[str, Any]) -> tuple[dict[str, Any] | None, list[DeleteSelector]]:
    """The document without its ``$patch: delete`` entries (None when nothing else is left), and the deletes."""
    doc = copy.deepcopy(doc)
    key = doc_id(doc)
    selectors: list[DeleteSelector] = []
    if _strip(doc, (), False, key, selectors):
        return None, selectors
    rest = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "name", "version")}
    return (doc if rest or not selectors else None), selectors


def _strip(node: Any, path: tuple[Any, ...], in_list: bool, key: tuple, out: list[DeleteSelector]) -> bool:
    """Collect the deletes under ``node`` and remove them; True when ``node`` itself is to be removed."""
    if isinstance(node, dict):
        if node.get(DELETE_KEY) == "delete":
            if in_list:
                others = [(k, v) for k, v in node.items() if k != DELETE_KEY]
                if not others:
                    raise TalosConfigError(f"{path_text(path)}: a list item with $patch: delete needs a field to match")
                out.append(DeleteSelector(key, path[:-1], others[0]))
            else:
                if any(isinstance(part, int) for part in path):
                    raise TalosConfigError(f"{path_text(path)}: cannot delete an inner key of a list item")
                out.append(DeleteSelector(key, path))
            return True
        for name in list(node):
            if _strip(node[name], (*path, name), False, key, out):
                del node[name]
                if not node:
                    return True
        return False
    if isinstance(node, list):
        index = 0
        original = 0
        while index < len(node):
            if _strip(node[index], (*path, original), True, key, out):
                del node[index]
                if not node:
                    return True
            else:
                index += 1
            original += 1
    return False


def apply_delete(docs: list[dict[str, Any]], selector: DeleteSelector) -> list[dict[str, Any]]:
    """``docs`` with what ``selector`` names removed. A missing document is skipped; a missing path is an error."""
    target = next((i for i, doc in enumerate(docs) if doc_id(doc) == selector.document), None)
    if target is None:
        return docs
    if not selector.path and selector.match is None:
        if selector.document[1] == V1ALPHA1:
            raise TalosConfigError("$patch: delete cannot remove the whole v1alpha1 document")
        return docs[:target] + docs[target + 1 :]
    docs = list(docs)
    doc = copy.deepcopy(docs[target])
    parent: Any = doc
    for part in selector.path[:-1] if selector.match is None else selector.path:
        if isinstance(part, int):
            raise TalosConfigError(f"$patch: delete: {selector.describe()}: items of nested lists cannot be deleted")
        parent = parent.get(part) if isinstance(parent, dict) else None
        if parent is None:
            raise TalosConfigError(f"$patch: delete: {selector.describe()}: not found")
    if selector.match is None:
        last = selector.path[-1]
        if not isinstance(parent, dict) or last not in parent:
            raise TalosConfigError(f"$patch: delete: {selector.describe()}: not found")
        del parent[last]
    else:
        field_name, value = selector.match
        found = next(
            (
                i
                for i, item in enumerate(parent if isinstance(parent, list) else [])
                if isinstance(item, dict) and str(item.get(field_name)) == str(value)
            ),
            None,
        )
        if found is None:
            raise TalosConfigError(f"$patch: delete: {selector.describe()}: not found")
        del parent[found]
    docs[target] = doc
    return docs
