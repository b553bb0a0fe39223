# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Talos machine configuration as data: multi-document YAML, patches merged the way Talos merges them, and
secrets masked for diffs.

Pure (no Ansible import; PyYAML is imported guarded and callers check ``HAS_YAML``). The documents the collection
adds from the cluster model are built in ``_talos_config_nodes``.

Patches follow Talos's documented semantics (``talosctl machineconfig patch``, ``--config-patch``):

* strategic merge: maps are merged key by key, lists are appended, a scalar in the patch replaces the value
  unless it is the zero value of its type (``""``, ``0``; ``false`` is always taken); ``null`` leaves the value.
  Exceptions, as in Talos v1.13: ``cluster.network.podSubnets``, ``cluster.network.serviceSubnets`` and
  ``cluster.apiServer.auditPolicy`` are replaced; ``machine.network.interfaces`` are merged by ``interface`` or
  ``deviceSelector``, their ``vlans`` by ``vlanId``, ``cluster.apiServer.admissionControl`` by ``name``;
  ``extraArgs`` maps take each key of the patch whole;
* ``$patch: delete`` in a mapping deletes that key (at the top of a document: the whole document); inside a list
  item it deletes the item whose first other field matches (``- interface: eth0`` + ``$patch: delete``);
  deleting something that does not exist is an error, as in Talos;
* multi-document patches: each document is merged into the document of the same apiVersion, kind and name, or
  appended when there is none; a document without apiVersion/kind is the v1alpha1 machine config;
* JSON patches (RFC 6902), a list of ``{op, path, value}``, apply to the v1alpha1 document. (Talos itself refuses
  JSON patches once a config holds several documents, which every v1.12+ config does; here they keep working.)
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core; modules report it missing
    yaml = None
    HAS_YAML = False
else:
    HAS_YAML = True

V1ALPHA1 = "v1alpha1"
DELETE_KEY = "$patch"


class TalosConfigError(Exception):
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
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]  # noqa: S506 - a SafeLoader
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


def _path_text(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


# --------------------------------------------------------------------------------------------------------------
# Strategic merge
# --------------------------------------------------------------------------------------------------------------

# Paths are tuples of keys from the top of a document; "*" stands for any list item.
_REPLACE = {
    V1ALPHA1: {
        ("cluster", "network", "podSubnets"),
        ("cluster", "network", "serviceSubnets"),
        ("cluster", "apiServer", "auditPolicy"),
    },
    "NetworkRuleConfig": {("ingress",), ("portSelector", "ports")},
}
# Lists merged item by item: the fields that identify an item (the first one the item sets is used).
_KEYED_LISTS = {
    V1ALPHA1: {
        ("machine", "network", "interfaces"): ("interface", "deviceSelector"),
        ("machine", "network", "interfaces", "*", "vlans"): ("vlanId",),
        ("cluster", "apiServer", "admissionControl"): ("name",),
    },
    "ExtensionServiceConfig": {("configFiles",): ("mountPath",)},
}
# Lists whose items with the same key are replaced whole (not merged).
_KEYED_REPLACE = {"ImageVerificationConfig": {("rules",): ("image",)}}


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
            f"{_path_text(path)}: cannot merge {_type_name(right)} into {_type_name(left)}; "
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


# --------------------------------------------------------------------------------------------------------------
# $patch: delete
# --------------------------------------------------------------------------------------------------------------


@dataclass
class DeleteSelector:
    """What one ``$patch: delete`` removes: a key at ``path``, a list item (``match``), or a whole document."""

    document: tuple[str, str, str]
    path: tuple[Any, ...]
    match: tuple[str, Any] | None = None

    def describe(self) -> str:
        where = _path_text(self.path)
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
                    raise TalosConfigError(
                        f"{_path_text(path)}: a list item with $patch: delete needs a field to match"
                    )
                out.append(DeleteSelector(key, path[:-1], others[0]))
            else:
                if any(isinstance(part, int) for part in path):
                    raise TalosConfigError(f"{_path_text(path)}: cannot delete an inner key of a list item")
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


# --------------------------------------------------------------------------------------------------------------
# JSON patches (RFC 6902) on the v1alpha1 document
# --------------------------------------------------------------------------------------------------------------

_JSON_OPS = {"add", "remove", "replace", "move", "copy", "test"}


def _pointer(path: Any) -> list[str]:
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
    return _container(root, _pointer(path), path)


def _remove(root: Any, path: str) -> Any:
    parts = _pointer(path)
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
    parts = _pointer(path)
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
        op, path = operation.get("op"), operation.get("path")
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


# --------------------------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Patch:
    """One patch, parsed: strategic merge documents, or JSON patch operations."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    operations: list[dict[str, Any]] | None = None
    source: str = "patch"


def _check_operations(operations: list[Any], source: str) -> list[dict[str, Any]]:
    for number, operation in enumerate(operations):
        where = f"{source}, operation {number}"
        if not isinstance(operation, dict) or operation.get("op") not in _JSON_OPS:
            raise TalosConfigError(f"{where}: a JSON patch operation needs op, one of {', '.join(sorted(_JSON_OPS))}")
        try:
            _pointer(operation.get("path"))
            if operation["op"] in ("move", "copy"):
                _pointer(operation.get("from"))
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


# --------------------------------------------------------------------------------------------------------------
# Secrets masked for diffs
# --------------------------------------------------------------------------------------------------------------

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
            pointer = tuple("*" if part.isdigit() or part == "-" else part for part in _pointer(operation["path"]))
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
