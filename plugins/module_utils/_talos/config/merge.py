# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Talos's strategic merge of one document into another (``talosctl machineconfig patch``, ``--config-patch``).

Maps are merged key by key, lists are appended, a scalar in the patch replaces the value unless it is the zero value
of its type (``""``, ``0``; ``false`` is always taken); ``null`` leaves the value. Exceptions, as in Talos v1.13:
``cluster.network.podSubnets``, ``cluster.network.serviceSubnets`` and ``cluster.apiServer.auditPolicy`` are
replaced; ``machine.network.interfaces`` are merged by ``interface`` or ``deviceSelector``, their ``vlans`` by
``vlanId``, ``cluster.apiServer.admissionControl`` by ``name``; ``extraArgs`` maps take each key of the patch whole.
Pure.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.config.documents import (
    V1ALPHA1,
    TalosConfigError,
    path_text,
    type_name,
)

# Paths are tuples of keys from the top of a document; "*" stands for any list item.
_REPLACE: dict[str, set[tuple[str, ...]]] = {
    V1ALPHA1: {
        ("cluster", "network", "podSubnets"),
        ("cluster", "network", "serviceSubnets"),
        ("cluster", "apiServer", "auditPolicy"),
    },
    "NetworkRuleConfig": {("ingress",), ("portSelector", "ports")},
}
# Lists merged item by item: the fields that identify an item (the first one the item sets is used).
_KEYED_LISTS: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    V1ALPHA1: {
        ("machine", "network", "interfaces"): ("interface", "deviceSelector"),
        ("machine", "network", "interfaces", "*", "vlans"): ("vlanId",),
        ("cluster", "apiServer", "admissionControl"): ("name",),
    },
    "ExtensionServiceConfig": {("configFiles",): ("mountPath",)},
}
# Lists whose items with the same key are replaced whole (not merged).
_KEYED_REPLACE: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    "ImageVerificationConfig": {("rules",): ("image",)}
}


def _generic(path: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple("*" if isinstance(part, int) else part for part in path)


def merge_documents_value(left: Any, right: Any, path: tuple[Any, ...] = (), kind: str = V1ALPHA1) -> Any:
    """``right`` merged into ``left`` (both left untouched) with Talos's rules; see the module docstring."""
    if right is None:
        return copy.deepcopy(left)
    if left is None:
        return copy.deepcopy(right)
    generic = _generic(path)
    if isinstance(left, dict) and isinstance(right, dict):
        if generic in _REPLACE.get(kind, ()):
            return copy.deepcopy(right)
        if path and path[-1] == "extraArgs" and kind == V1ALPHA1:
            return {**copy.deepcopy(left), **copy.deepcopy(right)}
        merged = copy.deepcopy(left)
        for key, value in right.items():
            merged[key] = merge_documents_value(merged.get(key), value, (*path, key), kind)
        return merged
    if isinstance(left, list) and isinstance(right, list):
        if generic in _REPLACE.get(kind, ()):
            return copy.deepcopy(right)
        keys = _KEYED_LISTS.get(kind, {}).get(generic)
        if keys:
            return _merge_keyed(left, right, keys, path, kind, replace=False)
        keys = _KEYED_REPLACE.get(kind, {}).get(generic)
        if keys:
            return _merge_keyed(left, right, keys, path, kind, replace=True)
        return copy.deepcopy(left) + copy.deepcopy(right)
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        raise TalosConfigError(
            f"{path_text(path)}: cannot merge {type_name(right)} into {type_name(left)}; "
            "write the patch with the same structure as the machine config (see the Talos configuration reference)"
        )
    if right == "" or (right == 0 and not isinstance(right, bool)):
        return left  # Talos skips zero values: use "$patch: delete" to clear a field
    return copy.deepcopy(right)


def _item_key(item: Any, keys: tuple[str, ...]) -> tuple[str, Any] | None:
    if isinstance(item, dict):
        for key in keys:
            if item.get(key) not in (None, ""):
                return key, item[key]
    return None


def _merge_keyed(
    left: list[Any], right: list[Any], keys: tuple[str, ...], path: tuple[Any, ...], kind: str, replace: bool
) -> list[Any]:
    merged = copy.deepcopy(left)
    for item in right:
        wanted = _item_key(item, keys)
        index = next(
            (i for i, have in enumerate(merged) if wanted is not None and _item_key(have, (wanted[0],)) == wanted),
            None,
        )
        if index is None:
            merged.append(copy.deepcopy(item))
        elif replace:
            merged[index] = copy.deepcopy(item)
        else:
            merged[index] = merge_documents_value(merged[index], item, (*path, index), kind)
    return merged
