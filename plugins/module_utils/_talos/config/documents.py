# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Talos machine configuration as data: a multi-document YAML stream read the way Talos reads it, written back in
a stable form, and the documents in it named by (apiVersion, kind, name).

Pure (no Ansible import; PyYAML is imported guarded and callers check ``HAS_YAML``). How patches change the
documents is in ``patches``; the documents the collection adds from the cluster model are built in
``_talos/machine_documents``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core; modules report it missing
    yaml = None  # type: ignore[assignment]
    HAS_YAML = False
else:
    HAS_YAML = True

V1ALPHA1 = "v1alpha1"


class TalosConfigError(InputError):
    """A patch or document that cannot be applied or read; the message names the field path."""


# --------------------------------------------------------------------------------------------------------------
# YAML: multi-document load and a stable dump
# --------------------------------------------------------------------------------------------------------------


def load_documents(text: str, source: str = "config") -> list[Any]:
    """The documents of a YAML stream, empty ones dropped. Raises TalosConfigError on YAML errors.

    Scalars are read as Talos (go-yaml v3) reads them: only true/false are booleans (``auto: off`` stays the
    string "off"), dates stay strings, integers may be written 0x.., 0o.., 0b.. or with a leading 0 (octal).
    """
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise TalosConfigError(f"{source} is not valid YAML: {exc}") from exc


if HAS_YAML:

    class _Loader(yaml.SafeLoader):
        """SafeLoader with go-yaml v3's plain scalars instead of YAML 1.1's (yes/no/on/off, dates, 1:20)."""

    _Loader.yaml_implicit_resolvers = {
        first: [
            (tag, regexp) for tag, regexp in resolvers if tag.rsplit(":", 1)[-1] not in ("bool", "int", "timestamp")
        ]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0[0-7_]+|0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+)$"),
        list("-+0123456789"),
    )

    class _Dumper(yaml.SafeDumper):
        """Block style, lists indented under their key, no anchors, multi-line strings as literal blocks."""

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
            return super().increase_indent(flow, False)

        def ignore_aliases(self, data: Any) -> bool:
            return True

    def _represent_str(dumper: Any, data: str) -> Any:
        # PyYAML falls back to a quoted style by itself when a literal block cannot hold the text.
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)

    _Dumper.add_representer(str, _represent_str)


def dump_document(doc: Any) -> str:
    """One document as YAML, keys in their insertion order (the order talosctl wrote, then patch order)."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, indent=2, width=100000)


def dump_documents(docs: Iterable[Any]) -> str:
    """Documents joined with ``---``, the way talosctl writes a multi-document machine config."""
    return "---\n".join(dump_document(doc) for doc in docs)


# --------------------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------------------


def doc_id(doc: dict[str, Any]) -> tuple[str, str, str]:
    """(apiVersion, kind, name): the v1alpha1 machine config is ("", "v1alpha1", "")."""
    kind = doc.get("kind")
    api_version = doc.get("apiVersion")
    if kind is None and api_version is None:
        return ("", V1ALPHA1, "")
    name = doc.get("name")
    return (str(api_version or ""), str(kind or ""), name if isinstance(name, str) else "")


def describe(doc_key: tuple[str, str, str]) -> str:
    """A document's name for messages: ``v1alpha1``, ``HostnameConfig``, ``LinkConfig "ens18"``."""
    kind, name = doc_key[1], doc_key[2]
    return f'{kind} "{name}"' if name else kind


def find_document(docs: list[dict[str, Any]], kind: str, name: str = "") -> dict[str, Any] | None:
    for doc in docs:
        key = doc_id(doc)
        if key[1] == kind and key[2] == name:
            return doc
    return None


def v1alpha1_document(docs: list[dict[str, Any]]) -> dict[str, Any] | None:
    return find_document(docs, V1ALPHA1)


def path_text(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__
