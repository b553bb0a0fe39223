"""Machine-config checks: each document against its ``$defs`` entry of config.schema.json, then Talos semantics.

The semantic checks are a subset of Talos' own (v1alpha1 validation), worded as Talos words them: required
sections, the CA keys each role may or must carry, the trustd token format, the control-plane endpoint, the DNS
domain, install instructions in metal mode, HostDNS in container mode, duplicate documents. Talos knows one field
the schema does not list, ``persist`` (it writes ``persist: true`` itself), so it is accepted here as well.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import SCHEMA_JSON
from .yamlio import LEGACY_BOOLS

MODES = ("metal", "cloud", "container")
# A Talos bootstrap/machine token: six, a dot, sixteen (lower-case letters and digits).
TOKEN_PATTERN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_JSON.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _kinds() -> dict[str, str]:
    """Document kind -> ``$defs`` name (the v1alpha1 document, which has no kind, is ``v1alpha1.Config``)."""
    result = {}
    for name, definition in schema()["$defs"].items():
        kind = definition.get("properties", {}).get("kind", {}).get("enum")
        if kind:
            result[kind[0]] = name
    return result


def definition_for(document: dict[str, Any]) -> str | None:
    if "kind" not in document and "apiVersion" not in document:
        return "v1alpha1.Config"
    return _kinds().get(str(document.get("kind")))


@functools.lru_cache(maxsize=64)
def _validator(definition: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": schema()["$defs"]})


def warm() -> None:
    """Build the validator of every document kind now (what the resident stand-in does once, before forking)."""
    for definition in ("v1alpha1.Config", *_kinds().values()):
        _validator(definition)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


# Schema results by document content. The real talosctl checks a config in microseconds; a Python process takes a
# tenth of a second to build the validator, and the collection checks each config up to three times (validate,
# apply --dry-run, apply). The cache keeps the stand-in's cost out of the collection's benchmarks; a document's
# problems depend only on its content and the (fixed) schema, so the answer is the same.
_MEMO: dict[str, list[str]] = {}
CACHE_DIR: list[Path] = []  # set by the CLI to <state>/talos/schema-cache


def _cache_key(document: dict[str, Any], partial: bool) -> str:
    text = json.dumps([document, partial, SCHEMA_JSON.stat().st_size], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_problems(document: dict[str, Any], partial: bool = False) -> list[str]:
    """Problems of one document against its schema definition (``partial``: a patch, required fields waived)."""
    key = _cache_key(document, partial)
    if key in _MEMO:
        return list(_MEMO[key])
    cached = CACHE_DIR[0] / f"{key}.json" if CACHE_DIR else None
    if cached is not None and cached.exists():
        try:
            _MEMO[key] = [str(item) for item in json.loads(cached.read_text(encoding="utf-8"))]
            return list(_MEMO[key])
        except (OSError, ValueError):
            pass
    _MEMO[key] = _schema_problems(document, partial)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(_MEMO[key]), encoding="utf-8")
            os.replace(temporary, cached)
        except OSError:
            pass
    return list(_MEMO[key])


def _schema_problems(document: dict[str, Any], partial: bool) -> list[str]:
    definition = definition_for(document)
    if definition is None:
        return [f'unknown document kind "{document.get("kind")}" (apiVersion "{document.get("apiVersion", "")}")']
    checked = {
        key: value for key, value in document.items() if not (definition == "v1alpha1.Config" and key == "persist")
    }
    problems = []
    for error in sorted(_validator(definition).iter_errors(checked), key=lambda e: list(map(str, e.absolute_path))):
        if partial and error.validator == "required":
            continue
        if error.validator == "type" and error.validator_value == "boolean" and error.instance in LEGACY_BOOLS:
            continue  # go-yaml still decodes yes/no/on/off into a bool field
        where = _path(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            names = ", ".join(extra)
            problems.append(
                f"unknown keys found during decoding: {names}"
                if where == "(document)"
                else f"unknown keys found during decoding: {where}: {names}"
            )
        else:
            problems.append(f"{where}: {error.message}")
    return problems


def decode_error(problems: list[str]) -> str:
    from .errors import multierror

    return multierror(problems).rstrip("\n") if len(problems) > 1 else problems[0]


def _endpoint_problem(endpoint: Any) -> str | None:
    if not endpoint:
        return "cluster controlplane endpoint is required"
    parts = urlsplit(str(endpoint))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f'invalid controlplane endpoint: parse "{endpoint}": invalid URI for request'
    return None


def _v1alpha1_problems(config: dict[str, Any], mode: str, installed: bool) -> list[str]:
    problems: list[str] = []
    machine, cluster = config.get("machine"), config.get("cluster")
    if config.get("persist") is False:
        problems.append(".persist should be enabled")
    if not isinstance(machine, dict):
        return [*problems, "machine instructions are required"]
    role = machine.get("type", "")
    install = machine.get("install")
    if mode == "metal" and not installed:
        if not isinstance(install, dict):
            problems.append(f'install instructions are required in "{mode}" mode')
        elif not install.get("disk") and not install.get("diskSelector"):
            problems.append("either install disk or diskSelector should be defined")
    host_dns = (machine.get("features") or {}).get("hostDNS") or {}
    if mode == "container" and not host_dns.get("enabled"):
        problems.append("feature HostDNS should be enabled in container mode (.machine.features.hostDNS.enabled)")
    ca = machine.get("ca") or {}
    if role == "controlplane":
        if not ca.get("crt"):
            problems.append("issuing CA is required (.machine.ca)")
        elif not ca.get("key"):
            problems.append("issuing CA key is required for controlplane nodes (.machine.ca.key)")
    elif role == "worker":
        if ca.get("key"):
            problems.append("issuing Talos API CA key is not allowed on non-controlplane nodes (.machine.ca)")
        if not ca.get("crt") and not machine.get("acceptedCAs"):
            problems.append(
                "trusted CA certificates are required on non-controlplane nodes (.machine.ca.crt, .machine.acceptedCAs)"
            )
        if isinstance(cluster, dict) and (cluster.get("ca") or {}).get("key"):
            problems.append("cluster CA key is not allowed on non-controlplane nodes (.cluster.ca)")
        if isinstance(cluster, dict) and cluster.get("etcd"):
            problems.append("etcd config is only allowed on control plane machines")
    elif role:
        problems.append(f'unknown machine type "{role}"')
    if machine.get("token") is not None and not TOKEN_PATTERN.match(str(machine.get("token"))):
        problems.append("trustd token is invalid")
    if not isinstance(cluster, dict):
        return [*problems, "cluster instructions are required"]
    endpoint_problem = _endpoint_problem((cluster.get("controlPlane") or {}).get("endpoint"))
    if endpoint_problem:
        problems.append(endpoint_problem)
    domain = (cluster.get("network") or {}).get("dnsDomain")
    if domain is not None and not all(_DNS_LABEL.match(label) for label in str(domain).rstrip(".").split(".")):
        problems.append(f'"{domain}" is not a valid DNS name')
    return problems


def _hostname_problems(document: dict[str, Any]) -> list[str]:
    if document.get("auto") and document.get("hostname"):
        return ["HostnameConfig: hostname and auto are mutually exclusive"]
    hostname = document.get("hostname")
    if hostname is not None and not all(_DNS_LABEL.match(part) for part in str(hostname).split(".")):
        return [f'HostnameConfig: invalid hostname "{hostname}"']
    if not document.get("auto") and not hostname:
        return ["HostnameConfig: either hostname or auto must be set"]
    return []


def problems(
    documents: list[dict[str, Any]], mode: str = "metal", installed: bool = False, require_v1alpha1: bool = True
) -> list[str]:
    """Every problem of a machine config: schema first (per document), then semantics."""
    found: list[str] = []
    seen: set[str] = set()
    from .patches import document_id

    for document in documents:
        found.extend(schema_problems(document))
        identity = document_id(document)
        if identity in seen:
            found.append(f"duplicate document: {identity}")
        seen.add(identity)
    if found:
        return found
    v1alpha1 = [document for document in documents if definition_for(document) == "v1alpha1.Config"]
    if not v1alpha1:
        return ["the machine configuration doesn't contain a v1alpha1 document"] if require_v1alpha1 else []
    found.extend(_v1alpha1_problems(v1alpha1[0], mode, installed))
    for document in documents:
        if document.get("kind") == "HostnameConfig":
            found.extend(_hostname_problems(document))
    return found
