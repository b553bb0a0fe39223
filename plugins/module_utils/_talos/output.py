# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosctl prints, read: output parsers, the kind of an error, dry-run diffs, health, secrets in config text.

Nothing here runs a command or imports Ansible, so every reading can be unit-tested on text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError

MASK = "********"
# The schematic with no customization: a factory image built from it is the stock Talos image.
DEFAULT_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"


class TalosOutputError(ApiError):
    """talosctl printed something these parsers do not understand (``code`` other; ``parsed`` adds the command)."""

    def __init__(self, message: str):
        super().__init__(message, code="other")


# --------------------------------------------------------------------------------------------------------------
# Output parsers
# --------------------------------------------------------------------------------------------------------------


def parse_json_stream(text: str) -> list[dict[str, Any]]:
    """The objects of ``talosctl get -o json``: one JSON document per resource, printed one after the other."""
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    position = 0
    text = text or ""
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return objects
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise TalosOutputError(f"cannot read talosctl JSON output: {exc}") from exc
        if isinstance(value, list):
            objects.extend(item for item in value if isinstance(item, dict))
        elif isinstance(value, dict):
            objects.append(value)


def parse_version(text: str) -> dict[str, Any]:
    """``talosctl version``: {"client": {...}, "servers": {node: {"tag": ..., "sha": ..., ...}}}.

    Keys are the labels talosctl prints, lowercased with spaces and slashes as underscores (``tag``, ``sha``,
    ``go_version``, ``os_arch``). A server block without a ``NODE:`` line is stored under the empty string.
    """
    client: dict[str, str] = {}
    servers: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "Client:":
            current = client
            continue
        if line == "Server:":
            current = None
            continue
        key, separator, value = line.partition(":")
        if not separator:
            if current is client and line.startswith("Talos "):  # --short prints "Talos v1.13.9"
                client["tag"] = line.split()[-1]
            continue
        name = re.sub(r"[\s/]+", "_", key.strip().lower())
        value = value.strip()
        if name == "node":
            current = servers.setdefault(value, {})
            continue
        if current is None:  # a server block with no NODE line (talking to a single endpoint)
            current = servers.setdefault("", {})
        current[name] = value
    return {"client": client, "servers": servers}


def parse_etcd_members(text: str) -> list[dict[str, Any]]:
    """``talosctl etcd members``: one dict per row (node, id, hostname, peer_urls, client_urls, learner)."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return []
    header = [name.strip().lower().replace(" ", "_") for name in re.split(r"\s{2,}|\t", lines[0].strip())]
    if "id" not in header:
        raise TalosOutputError(f"cannot read talosctl etcd members output: unexpected header {lines[0].strip()!r}")
    members: list[dict[str, Any]] = []
    for line in lines[1:]:
        values = line.split()
        if len(values) != len(header):
            raise TalosOutputError(f"cannot read talosctl etcd members row {line.strip()!r}")
        row: dict[str, Any] = dict(zip(header, values, strict=True))
        for name in ("peer_urls", "client_urls"):
            if name in row:
                row[name] = [url for url in row[name].split(",") if url]
        if "learner" in row:
            row["learner"] = row["learner"].lower() == "true"
        members.append(row)
    return members


def _node_of(resource: Mapping[str, Any]) -> str:
    return str(resource.get("node") or "")


def parse_machine_status(text: str) -> dict[str, dict[str, Any]]:
    """``talosctl get machinestatus -o json``: {node: {"stage", "ready", "unmet_conditions"}}."""
    statuses: dict[str, dict[str, Any]] = {}
    for resource in parse_json_stream(text):
        spec = resource.get("spec") or {}
        status = spec.get("status") or {}
        unmet = status.get("unmetConditions") or []
        statuses[_node_of(resource)] = {
            "stage": str(spec.get("stage") or "unknown"),
            "ready": bool(status.get("ready")),
            "unmet_conditions": [
                f"{item.get('name')}: {item.get('reason')}" if isinstance(item, dict) else str(item) for item in unmet
            ],
        }
    return statuses


def parse_extensions(text: str) -> dict[str, dict[str, Any]]:
    """``talosctl get extensions -o json``: {node: {"schematic": id or None, "extensions": [{name, version}]}}.

    Images built by an Image Factory carry a pseudo-extension named ``schematic`` whose version is the schematic ID.
    """
    found: dict[str, dict[str, Any]] = {}
    for resource in parse_json_stream(text):
        entry = found.setdefault(_node_of(resource), {"schematic": None, "extensions": []})
        metadata = (resource.get("spec") or {}).get("metadata") or {}
        name, version = metadata.get("name"), metadata.get("version")
        if name == "schematic":
            entry["schematic"] = version or None
        elif name:
            entry["extensions"].append({"name": name, "version": version})
    return found


@dataclass(frozen=True)
class ImageRef:
    """An installer image reference, split into what matters for an upgrade."""

    image: str
    repository: str
    version: str | None
    schematic: str | None


_SCHEMATIC = re.compile(r"^[0-9a-f]{64}$")


def parse_installer_image(image: str) -> ImageRef:
    """``factory.talos.dev/metal-installer/<schematic>:v1.13.9`` -> version v1.13.9 and the schematic ID.

    An image that is not an Image Factory installer (``ghcr.io/siderolabs/installer:v1.13.9``) has no schematic.
    """
    text = (image or "").strip()
    if not text or any(char.isspace() for char in text):
        raise ValueError(f"not an installer image reference: {image!r}")
    name = text.split("@", 1)[0]
    head, slash, tail = name.rpartition("/")
    tail, colon, tag = tail.partition(":")
    repository = f"{head}{slash}{tail}"
    version = tag if re.fullmatch(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", tag) else None
    schematic = None
    for part in repository.split("/")[1:]:
        if _SCHEMATIC.match(part):
            schematic = part
    return ImageRef(image=text, repository=repository, version=version, schematic=schematic)


def same_schematic(first: str | None, second: str | None) -> bool:
    """Whether two schematics give the same image: no schematic and the default (empty) schematic are the same."""
    return (first or DEFAULT_SCHEMATIC) == (second or DEFAULT_SCHEMATIC)


def normalize_version(version: str | None) -> str | None:
    """``1.13.9`` and ``v1.13.9`` are the same Talos version; None stays None."""
    if not version:
        return None
    return "v" + version.strip().lstrip("v")


# --------------------------------------------------------------------------------------------------------------
# Errors and mode detection
# --------------------------------------------------------------------------------------------------------------

# What talosctl prints when the node answers only its maintenance (insecure) API, or refuses our client certificate.
_NEEDS_INSECURE = (
    "maintenance mode",
    "certificate required",
    "tls: bad certificate",
    "unknown certificate authority",
    "x509:",
    "authentication handshake failed",
    "not implemented in maintenance",
)
_UNREACHABLE = (
    "connection refused",
    "no route to host",
    "i/o timeout",
    "deadline exceeded",
    "connection error",
    "error reading from server",
    "connection reset",
    "network is unreachable",
    "host is down",
    "no such host",
    "error reading server preface",
)


def classify_error(text: str) -> str:
    """One word for a talosctl error: maintenance, unreachable, already_exists, not_found or other.

    ``maintenance`` means the mTLS API was refused in a way that a node in maintenance mode (or one that does not
    trust our talosconfig) refuses it: the caller then tries the insecure maintenance API.
    """
    lowered = (text or "").lower()
    if any(marker in lowered for marker in _NEEDS_INSECURE):
        return "maintenance"
    if "alreadyexists" in lowered or "already exists" in lowered or "already bootstrapped" in lowered:
        return "already_exists"
    if any(marker in lowered for marker in _UNREACHABLE):
        return "unreachable"
    if "notfound" in lowered or "not found" in lowered:
        return "not_found"
    return "other"


# --------------------------------------------------------------------------------------------------------------
# apply-config --dry-run, health, secrets in config text
# --------------------------------------------------------------------------------------------------------------


def parse_dry_run(text: str) -> tuple[bool, str]:
    """``talosctl apply-config --dry-run``: (whether the config would change, the diff talosctl printed).

    talosctl prints a summary, then ``Config diff:`` and either a unified diff or ``No changes.``.
    """
    output = text or ""
    marker = re.search(r"^\s*Config diff:\s*$", output, re.MULTILINE)
    diff = output[marker.end() :] if marker else output
    diff = diff.strip("\n")
    if re.search(r"^\s*No changes\.?\s*$", diff, re.MULTILINE) and not _diff_lines(diff):
        return False, ""
    if marker is None and not _diff_lines(diff):
        return False, ""
    return bool(_diff_lines(diff)), diff


def _diff_lines(diff: str) -> list[str]:
    return [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---")) and line.strip() not in ("+", "-", "")
    ]


def parse_dry_run_mode(text: str) -> str | None:
    """The sentence of the dry-run summary that says how the change would be applied (reboot or not)."""
    for line in (text or "").splitlines():
        if line.strip().startswith("Applied configuration"):
            return line.strip()
    return None


_CHECK = re.compile(r"^waiting for (?P<name>.+?): (?P<rest>.*)$")
_NODE_ERROR = re.compile(r"^\s*\*\s*(?P<node>[^:\s]+(?::\d+)?|\[[^\]]+\]):\s*(?P<message>.*)$")


def parse_health(text: str) -> dict[str, Any]:
    """``talosctl health`` output: the checks in order, and which one failed on which nodes.

    Returns {"checks": [{"name", "ok", "message"}], "failed_check": name or None, "failed_nodes": {node: message}}.
    """
    checks: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    failed_nodes: dict[str, str] = {}
    last: dict[str, Any] | None = None
    for raw in (text or "").splitlines():
        line = raw.rstrip()
        match = _CHECK.match(line.strip())
        if match:
            name, rest = match["name"], match["rest"].strip()
            check = by_name.get(name)
            if check is None:
                check = {"name": name, "ok": False, "message": ""}
                by_name[name] = check
                checks.append(check)
            check["ok"] = rest == "OK"
            check["message"] = "" if check["ok"] else rest
            last = check
            continue
        node = _NODE_ERROR.match(line)
        if node and last is not None and not last["ok"]:
            failed_nodes[node["node"].strip("[]")] = node["message"].strip()
            last["message"] = (last["message"] + "; " if last["message"] else "") + line.strip().lstrip("* ")
    failed = next((check["name"] for check in reversed(checks) if not check["ok"]), None)
    if failed is None:
        failed_nodes = {}
    return {"checks": checks, "failed_check": failed, "failed_nodes": failed_nodes}


_SECRET_KEY = re.compile(r"(?i)(secret|token|password|passphrase|key)$")
_YAML_PAIR = re.compile(r"^(?P<lead>[+\- ]?\s*(?:-\s+)?)(?P<key>[A-Za-z0-9_.\-]+):(?P<space>\s+)(?P<value>\S.*)$")


def mask_config(text: str) -> str:
    """Config YAML (or a diff of it) with the value of every secret-looking key replaced by ``********``.

    A key is secret when its name ends in key, token, secret, password or passphrase (``key``, ``token``,
    ``secretboxEncryptionSecret``, ``aescbcEncryptionSecret``, ``privateKey``, ...): the private keys of every
    CA, the bootstrap and machine tokens, the encryption secrets and WireGuard keys. Certificates are left as they
    are: they are public.
    """
    lines = []
    for line in (text or "").splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        match = _YAML_PAIR.match(body)
        if match and _SECRET_KEY.search(match["key"]) and match["value"].strip() not in ("''", '""', "null", "~"):
            body = f"{match['lead']}{match['key']}:{match['space']}{MASK}"
        lines.append(body + ending)
    return "".join(lines)


def go_duration(seconds: float) -> str:
    """Seconds as a Go duration string for talosctl flags (``300s``, ``0.5s``)."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{round(float(seconds), 3)}s"


_K8S_DETECTED = re.compile(r"detected the lowest Kubernetes version\s+v?(?P<version>\d+\.\d+\.\d+\S*)", re.IGNORECASE)
_K8S_FROM_TO = re.compile(r"upgrading from\s+v?(?P<version>\d+\.\d+\.\d+\S*)", re.IGNORECASE)


def parse_k8s_current(text: str) -> str | None:
    """The Kubernetes version ``talosctl upgrade-k8s`` detected on the cluster (``v1.35.0``), if it says so."""
    for pattern in (_K8S_DETECTED, _K8S_FROM_TO):
        match = pattern.search(text or "")
        if match:
            return normalize_version(match["version"])
    return None
