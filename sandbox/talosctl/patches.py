"""Config patches as ``--config-patch`` takes them: strategic merge (YAML documents) or RFC 6902 (a list of ops).

Strategic merge, as Talos does it: a patch document replaces nothing wholesale; it is matched to the config
document with the same ``apiVersion/kind[/name]`` (a document without ``kind`` is the v1alpha1 one), mappings merge
key by key, lists append, except the lists Talos marks ``merge:"replace"`` (``cluster.network.podSubnets``,
``serviceSubnets``, ``cluster.apiServer.auditPolicy``, a NetworkRuleConfig's ``ingress`` and ``portSelector.ports``)
and ``cluster.apiServer.admissionControl``, merged by ``name``. ``$patch: delete`` removes a key or, at the top of a
patch document, the whole document. Unmatched documents are appended. RFC 6902 patches apply to the v1alpha1
document only and, as in talosctl, are refused for a multi-document config.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from . import validation, yamlio

REPLACE_PATHS = {
    ("v1alpha1", ("cluster", "network", "podSubnets")),
    ("v1alpha1", ("cluster", "network", "serviceSubnets")),
    ("v1alpha1", ("cluster", "apiServer", "auditPolicy")),
    ("NetworkRuleConfig", ("ingress",)),
    ("NetworkRuleConfig", ("portSelector", "ports")),
}
MERGE_BY_NAME = {("v1alpha1", ("cluster", "apiServer", "admissionControl"))}


class PatchError(ValueError):
    """A patch that cannot be read or applied (message worded like talosctl's)."""


def document_id(document: dict[str, Any]) -> str:
    if "kind" not in document:
        return "v1alpha1"
    identity = f"{document.get('apiVersion', '')}/{document['kind']}"
    return identity + (f"/{document['name']}" if "name" in document else "")


def _kind(document: dict[str, Any]) -> str:
    return str(document.get("kind", "v1alpha1"))


def load(spec: str) -> tuple[str, Any]:
    """One patch: ``("strategic", [documents])`` or ``("json6902", [operations])``; ``@file`` reads a file."""
    text = spec
    if spec.startswith("@"):
        try:
            text = Path(spec[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise PatchError(f"open {spec[1:]}: {(error.strerror or str(error)).lower()}") from None
    try:
        loaded = [document for document in yamlio.load_all(text) if document is not None]
    except yaml.YAMLError as error:
        raise PatchError(f"error parsing config JSON patch: {error}") from None
    if len(loaded) == 1 and isinstance(loaded[0], list):
        operations = loaded[0]
        for operation in operations:
            if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
                raise PatchError("error parsing config JSON patch: invalid JSON patch operation")
        return "json6902", operations
    documents = yamlio.load_documents(text, "config patch") if loaded else []
    problems = []
    for document in documents:
        if document.get("$patch") == "delete":
            continue
        problems.extend(validation.schema_problems(document, partial=True))
    if problems:
        raise PatchError("error parsing config JSON patch: " + validation.decode_error(problems))
    return "strategic", documents


def _merge(left: Any, right: Any, kind: str, path: tuple[str, ...]) -> Any:
    if isinstance(right, dict) and right.get("$patch") == "delete":
        return None
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, value in right.items():
            if isinstance(value, dict) and value.get("$patch") == "delete":
                merged.pop(key, None)
                continue
            if key in merged and (kind, (*path, key)) not in REPLACE_PATHS:
                merged[key] = _merge(merged[key], value, kind, (*path, key))
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(left, list) and isinstance(right, list):
        if (kind, path) in MERGE_BY_NAME:
            result = [copy.deepcopy(item) for item in left]
            for item in right:
                names = [existing.get("name") if isinstance(existing, dict) else None for existing in result]
                name = item.get("name") if isinstance(item, dict) else None
                if name is not None and name in names:
                    result[names.index(name)] = copy.deepcopy(item)
                else:
                    result.append(copy.deepcopy(item))
            return result
        return [*copy.deepcopy(left), *copy.deepcopy(right)]
    return copy.deepcopy(right)


def _strategic(documents: list[dict[str, Any]], patch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = [copy.deepcopy(document) for document in documents]
    for patch_document in patch:
        identity = document_id(patch_document)
        index = next((i for i, document in enumerate(result) if document_id(document) == identity), None)
        if patch_document.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(copy.deepcopy(patch_document))
        else:
            result[index] = _merge(result[index], patch_document, _kind(patch_document), ())
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'error applying JSON patch: invalid path "{path}"')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _container(root: Any, parts: list[str], op: str) -> tuple[Any, str]:
    target = root
    for part in parts[:-1]:
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            raise PatchError(
                f"error applying JSON patch: {op} operation does not apply: doc is missing path: "
                f'"/{"/".join(parts)}": missing value'
            )
    return target, parts[-1]


def _json6902(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    root = copy.deepcopy(document)
    for operation in operations:
        op, parts = operation["op"], _pointer(str(operation["path"]))
        if not parts:
            raise PatchError("error applying JSON patch: cannot patch the whole document")
        target, last = _container(root, parts, op)
        if op in ("add", "replace"):
            value = copy.deepcopy(operation.get("value"))
            if isinstance(target, list):
                index = len(target) if last == "-" else int(last)
                if op == "add":
                    target.insert(index, value)
                else:
                    target[index] = value
            elif op == "replace" and last not in target:
                raise PatchError(
                    f"error applying JSON patch: replace operation does not apply: doc is missing key: "
                    f"{operation['path']}: missing value"
                )
            else:
                target[last] = value
        elif op == "remove":
            try:
                del target[int(last) if isinstance(target, list) else last]
            except (KeyError, IndexError, ValueError):
                raise PatchError(
                    f"error applying JSON patch: remove operation does not apply: doc is missing "
                    f'path: "{operation["path"]}": missing value'
                ) from None
        elif op == "test":
            current = target[int(last)] if isinstance(target, list) else target.get(last)
            if json.dumps(current, sort_keys=True) != json.dumps(operation.get("value"), sort_keys=True):
                raise PatchError(f"error applying JSON patch: testing value {operation['path']} failed: test failed")
        else:
            raise PatchError(f"error applying JSON patch: unsupported operation {op!r} in the sandbox stand-in")
    return root


def apply(documents: list[dict[str, Any]], specs: list[str]) -> list[dict[str, Any]]:
    """``documents`` with every patch of ``specs`` applied in order."""
    for spec in specs:
        kind, content = load(spec)
        if kind == "strategic":
            documents = _strategic(documents, content)
            continue
        if len(documents) != 1 or "kind" in documents[0]:
            raise PatchError("JSON6902 patches are not supported for multi-document machine configuration")
        documents = [_json6902(documents[0], content)]
    return documents
