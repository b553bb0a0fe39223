# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Pure decisions of kube_objects: does the live object already hold what a manifest asks, and masked diffs.

``holds(desired, live)``: every field the manifest sets has the same value in the live object (what the API
server added, defaults and other managers' fields, does not count). Lists compare element by element and must
have the same length; quantities (``500m`` and ``0.5``, ``1Gi`` and ``1024Mi``) compare by value under the keys
where Kubernetes keeps them. A "no" is only a hint: the caller then asks the API server (a dry-run apply) whether
applying would change anything.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")
QUANTITY_KEYS = frozenset({"cpu", "memory", "storage", "ephemeral-storage"})
MASK = "********"
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def quantity(value: Any) -> Decimal | None:
    """The value of a Kubernetes quantity (``"500m"``, ``"1Gi"``, ``2``), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if not match:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2) or ""]
    except InvalidOperation:
        return None


def desired_fields(manifest: Mapping[str, Any], namespaced: bool) -> dict[str, Any]:
    """The part of a manifest the API server would apply: no server metadata, no status, Secret stringData as data.

    ``metadata.namespace`` is dropped for cluster-scoped kinds (the API server ignores it there).
    """
    desired = copy.deepcopy(dict(manifest))
    desired.pop("status", None)
    metadata = desired.setdefault("metadata", {})
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    if not namespaced:
        metadata.pop("namespace", None)
    if desired.get("kind") == "Secret" and desired.get("apiVersion") == "v1" and desired.get("stringData"):
        data = dict(desired.get("data") or {})
        for key, value in (desired.pop("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")
        desired["data"] = data
    return desired


def holds(desired: Any, live: Any, key: str = "") -> bool:
    """Whether ``live`` holds every field of ``desired`` with the same value (see the module docstring)."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return False
        for name, value in desired.items():
            if value is None:
                if live.get(name) is not None:
                    return False
            elif name not in live or not holds(value, live[name], str(name)):
                return False
        return True
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(holds(want, have, key) for want, have in zip(desired, live, strict=True))
    if isinstance(desired, bool) or isinstance(live, bool):
        return isinstance(desired, bool) and isinstance(live, bool) and desired == live
    if desired == live:
        return True
    if is_quantity_key(key):
        want, have = quantity(desired), quantity(live)
        return want is not None and want == have
    return False


def is_quantity_key(key: str) -> bool:
    """Keys whose values Kubernetes keeps as quantities (resources, quotas: ``cpu``, ``requests.memory``)."""
    leaf = key.rsplit(".", 1)[-1]
    return leaf in QUANTITY_KEYS or leaf.startswith("hugepages-")


def without_server_fields(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    """An object as compared and shown in diffs: no managedFields, resourceVersion, generation and the like."""
    if not obj:
        return {}
    clean = copy.deepcopy(dict(obj))
    metadata = clean.get("metadata") or {}
    for key in SERVER_METADATA:
        metadata.pop(key, None)
    return clean


def same_object(after: Mapping[str, Any] | None, live: Mapping[str, Any] | None) -> bool:
    """Whether a dry-run result equals the live object, server bookkeeping aside (nothing would change)."""
    if live is None or after is None:
        return False
    return without_server_fields(after) == without_server_fields(live)


def is_secret(obj: Mapping[str, Any] | None) -> bool:
    return bool(obj) and obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"  # type: ignore[union-attr]


def masked(obj: Mapping[str, Any] | None, before: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``obj`` with every Secret value replaced by a mask; a value that differs from ``before``'s says so.

    Also drops the ``kubectl.kubernetes.io/last-applied-configuration`` annotation of a Secret (it holds the data).
    """
    clean = without_server_fields(obj)
    if not is_secret(clean):
        return clean
    old = dict((before or {}).get("data") or {})
    for section in ("data", "stringData"):
        values = clean.get(section)
        if isinstance(values, dict):
            clean[section] = {
                key: MASK if before is None or old.get(key) == value else f"{MASK} (changed)"
                for key, value in values.items()
            }
    annotations = (clean.get("metadata") or {}).get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return clean


def secret_values(manifests: list[Any]) -> set[str]:
    """Every Secret value of the manifests as written and decoded, for Ansible's no_log masking."""
    found: set[str] = set()
    for manifest in manifests:
        if not isinstance(manifest, Mapping) or not is_secret(manifest):
            continue
        for value in (manifest.get("stringData") or {}).values():
            text = str(value)
            found.update({text, base64.b64encode(text.encode("utf-8")).decode("ascii")})
        for value in (manifest.get("data") or {}).values():
            text = str(value)
            found.add(text)
            try:
                found.add(base64.b64decode(text, validate=True).decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                pass
    return {value for value in found if len(value) >= 4}


def to_yaml(obj: Mapping[str, Any] | None) -> str:
    """YAML text for a diff (empty for an object that does not exist)."""
    if not obj:
        return ""
    import yaml

    return yaml.safe_dump(dict(obj), default_flow_style=False, sort_keys=True)


def mask_text(text: str, values: set[str]) -> str:
    """``text`` with every one of ``values`` (Secret values) replaced by the mask, longest first."""
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
