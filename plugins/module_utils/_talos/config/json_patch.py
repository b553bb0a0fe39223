# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""JSON patches (RFC 6902): a list of ``{op, path, value}`` operations applied to one document.

Talos applies them to the v1alpha1 document only (and refuses them once a config holds several documents, which
every v1.12+ config does; here they keep working). Pure.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import TalosConfigError

JSON_OPS = {"add", "remove", "replace", "move", "copy", "test"}


def json_pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise TalosConfigError(f"JSON patch path {path!r} is not a JSON pointer such as /machine/network/hostname")
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]] if path else []


def _container(root: Any, parts: list[str], path: str) -> Any:
    node = root
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise TalosConfigError(f"JSON patch path {path}: {part!r} not found")
    return node


def _get(root: Any, path: str) -> Any:
    return _container(root, json_pointer(path), path)


def _remove(root: Any, path: str) -> Any:
    parts = json_pointer(path)
    if not parts:
        raise TalosConfigError("JSON patch: cannot remove the whole document")
    parent = _container(root, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise TalosConfigError(f"JSON patch path {path}: {last!r} not found")


def _add(root: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = json_pointer(path)
    if not parts:
        return copy.deepcopy(value)
    parent = _container(root, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise TalosConfigError(f"JSON patch path {path}: {last!r} not found")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(copy.deepcopy(value))
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = copy.deepcopy(value)
            else:
                parent.insert(int(last), copy.deepcopy(value))
        else:
            raise TalosConfigError(f"JSON patch path {path}: index {last!r} is out of range")
    else:
        raise TalosConfigError(f"JSON patch path {path}: the parent is not a mapping or a list")
    return root


def apply_json_patch(doc: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 operations applied to a copy of ``doc``."""
    root: Any = copy.deepcopy(doc)
    for number, operation in enumerate(operations):
        op: Any = operation.get("op")
        path: Any = operation.get("path")
        try:
            if op == "add":
                root = _add(root, path, operation["value"])
            elif op == "replace":
                root = _add(root, path, operation["value"], replace=True)
            elif op == "remove":
                _remove(root, path)
            elif op == "move":
                root = _add(root, path, _remove(root, operation["from"]))
            elif op == "copy":
                root = _add(root, path, copy.deepcopy(_get(root, operation["from"])))
            elif op == "test":
                if _get(root, path) != operation["value"]:
                    raise TalosConfigError(f"JSON patch test failed at {path}")
        except TalosConfigError as exc:
            raise TalosConfigError(f"operation {number} ({op}): {exc}") from exc
    if not isinstance(root, dict):
        raise TalosConfigError("JSON patch: the result is not a mapping")
    return root
