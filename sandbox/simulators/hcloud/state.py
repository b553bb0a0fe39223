"""The simulator's stored resources: IDs, labels and label selectors, pagination, and persistence to one JSON file.

Every resource is kept as the API object it is answered as (plus private keys starting with ``_``, never sent).
IDs are integers increasing from a random-looking base per kind, like the real API's.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import APIError

KINDS = (
    "servers",
    "actions",
    "images",
    "networks",
    "firewalls",
    "placement_groups",
    "load_balancers",
    "floating_ips",
    "primary_ips",
    "ssh_keys",
    "volumes",
)
_BASES = {
    "servers": 52_000_000,
    "actions": 1_400_000_000,
    "images": 230_000_000,
    "ssh_keys": 24_000_000,
    "volumes": 100_000_000,
}
_LABEL_KEY = re.compile(
    r"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]"
    r"(?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")


def now() -> str:
    """An RFC 3339 timestamp as the API writes them (``2026-11-21T15:04:05Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reverse_dns(ip: str) -> str:
    """The default PTR the API gives an address: ``static.<reversed IPv4>.clients.your-server.de``."""
    bare = ip.split("/")[0]
    return f"static.{'.'.join(reversed(bare.split('.')))}.clients.your-server.de" if "." in bare else bare


def public(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without the simulator's private keys (those starting with ``_``)."""
    return {key: value for key, value in resource.items() if not key.startswith("_")}


def check_labels(labels: dict[str, str], field: str = "labels") -> None:
    for key, value in labels.items():
        if not _LABEL_KEY.match(key) or len(key) > 316 or key.startswith("hetzner.cloud/"):
            raise APIError.invalid_input(field, f"label key '{key}' is invalid")
        if not _LABEL_VALUE.match(value):
            raise APIError.invalid_input(field, f"label value '{value}' of key '{key}' is invalid")


_KEY = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_VALUE = r"[A-Za-z0-9._-]*"
_REQUIREMENT = re.compile(
    rf"^\s*(?:(?P<absent>!)\s*(?P<akey>{_KEY})"
    rf"|(?P<key>{_KEY})\s*(?:(?P<op>==|!=|=)\s*(?P<value>{_VALUE})"
    rf"|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?)\s*$"
)


def parse_selector(selector: str) -> list[tuple[str, str, list[str]]]:
    """``k==v,!k2,k3 in (a,b)`` -> [(key, op, values)]; invalid_input for anything else."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    requirements = []
    for part in parts:
        found = _REQUIREMENT.match(part)
        if not found or not part.strip():
            raise APIError.invalid_input("label_selector", f"invalid label selector requirement '{part.strip()}'")
        if found.group("absent"):
            requirements.append((found.group("akey"), "absent", []))
        elif found.group("op"):
            op = "!=" if found.group("op") == "!=" else "=="
            requirements.append((found.group("key"), op, [found.group("value")]))
        elif found.group("setop"):
            values = [value.strip() for value in found.group("values").split(",")]
            requirements.append((found.group("key"), found.group("setop"), values))
        else:
            requirements.append((found.group("key"), "present", []))
    return requirements


def selector_matches(labels: dict[str, str], requirements: list[tuple[str, str, list[str]]]) -> bool:
    for key, op, values in requirements:
        present = key in labels
        if op == "present" and not present:
            return False
        if op == "absent" and present:
            return False
        if op in ("==", "in") and (not present or labels[key] not in values):
            return False
        if op in ("!=", "notin") and present and labels[key] in values:
            return False
    return True


def paginate(items: list[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
    if page < 1:
        raise APIError.invalid_input("page", "must be 1 or more")
    if not 1 <= per_page <= 50:
        raise APIError.invalid_input("per_page", "must be between 1 and 50")
    total = len(items)
    last = max(1, -(-total // per_page))
    chosen = items[(page - 1) * per_page : page * per_page]
    pagination = {
        "page": page,
        "per_page": per_page,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < last else None,
        "last_page": last,
        "total_entries": total,
    }
    return chosen, pagination


class Store:
    """All resources, guarded by one re-entrant lock, saved to ``<data_dir>/state.json`` after each change."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "state.json"
        self.lock = threading.RLock()
        self.kinds: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.next_ids: dict[str, int] = {}
        self.load()

    def load(self) -> None:
        with self.lock:
            self.kinds = {kind: {} for kind in KINDS}
            self.next_ids = {}
            try:
                saved = json.loads(self.path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                return
            for kind in KINDS:
                self.kinds[kind] = {int(key): value for key, value in saved.get("kinds", {}).get(kind, {}).items()}
            self.next_ids = {kind: int(value) for kind, value in saved.get("next_ids", {}).items()}

    def save(self) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"kinds": self.kinds, "next_ids": self.next_ids}), encoding="utf-8")
            os.replace(temporary, self.path)

    def new_id(self, kind: str) -> int:
        with self.lock:
            if kind not in self.next_ids:
                base = _BASES.get(kind, 1_000_000 * (KINDS.index(kind) + 3))
                self.next_ids[kind] = base + random.randint(1000, 999_999)
            ident = self.next_ids[kind]
            self.next_ids[kind] += random.randint(1, 7)
            return ident

    def add(self, kind: str, resource: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.kinds[kind][resource["id"]] = resource
        return resource

    def get(self, kind: str, ident: int | str) -> dict[str, Any] | None:
        with self.lock:
            try:
                return self.kinds[kind].get(int(ident))
            except (TypeError, ValueError):
                return None

    def find(self, kind: str, id_or_name: int | str) -> dict[str, Any] | None:
        """By ID, or else by name (what request fields documented as "ID or name" take)."""
        with self.lock:
            found = self.get(kind, id_or_name) if str(id_or_name).isdigit() else None
            if found is None:
                found = next((item for item in self.kinds[kind].values() if item.get("name") == id_or_name), None)
            return found

    def need(self, kind: str, ident: int | str, what: str) -> dict[str, Any]:
        found = self.get(kind, ident)
        if found is None:
            raise APIError(404, "not_found", f"{what} with ID '{ident}' not found")
        return found

    def remove(self, kind: str, ident: int) -> None:
        with self.lock:
            self.kinds[kind].pop(int(ident), None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return sorted(self.kinds[kind].values(), key=lambda item: item["id"])

    def clear(self) -> None:
        with self.lock:
            self.kinds = {kind: {} for kind in KINDS}
            self.next_ids = {}
            self.path.unlink(missing_ok=True)
