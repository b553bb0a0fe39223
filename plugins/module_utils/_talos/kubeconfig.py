# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Kubeconfig decisions for talos_kubeconfig: merge by name, read the client certificate's expiry, decide renewal.

PyYAML and cryptography are dependencies of ansible-core; they are imported lazily so that the module can report
a clear error if one is missing.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosconfig import pem_expiry

SECTIONS = ("clusters", "users", "contexts")


class KubeconfigError(InputError):
    """A kubeconfig that cannot be read or used."""


def load(text: str, source: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"{source} is not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KubeconfigError(f"{source} is not a kubeconfig (a mapping with clusters, users and contexts)")
    for section in SECTIONS:
        entries = data.get(section) or []
        if not isinstance(entries, list) or not all(isinstance(item, dict) and "name" in item for item in entries):
            raise KubeconfigError(f"{source}: {section} must be a list of mappings with a name")
    return data


def dump(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def _entry(data: dict[str, Any], section: str, name: str | None) -> dict[str, Any] | None:
    return next((item for item in data.get(section) or [] if item.get("name") == name), None)


def identity(fetched: dict[str, Any]) -> dict[str, Any]:
    """The context, cluster and user names of a kubeconfig as talosctl produces it (one of each)."""
    context_name = fetched.get("current-context") or ((fetched.get("contexts") or [{}])[0]).get("name")
    context = _entry(fetched, "contexts", context_name)
    if context is None:
        raise KubeconfigError("talosctl kubeconfig returned no context")
    spec = context.get("context") or {}
    cluster = _entry(fetched, "clusters", spec.get("cluster"))
    user = _entry(fetched, "users", spec.get("user"))
    if cluster is None or user is None:
        raise KubeconfigError(f"talosctl kubeconfig returned context {context_name} without its cluster or user")
    return {
        "context": context_name,
        "cluster": cluster["name"],
        "user": user["name"],
        "server": (cluster.get("cluster") or {}).get("server"),
    }


def merge(existing: dict[str, Any], fetched: dict[str, Any]) -> dict[str, Any]:
    """``existing`` with the clusters, users and contexts of ``fetched`` replaced (by name) or added.

    The current context becomes the fetched one, as with ``talosctl kubeconfig --merge``.
    """
    merged = copy.deepcopy(existing) if existing else {}
    merged.setdefault("apiVersion", fetched.get("apiVersion", "v1"))
    merged.setdefault("kind", fetched.get("kind", "Config"))
    for section in SECTIONS:
        entries = list(merged.get(section) or [])
        for item in fetched.get(section) or []:
            index = next((i for i, old in enumerate(entries) if old.get("name") == item["name"]), None)
            if index is None:
                entries.append(copy.deepcopy(item))
            else:
                entries[index] = copy.deepcopy(item)
        merged[section] = entries
    merged["current-context"] = identity(fetched)["context"]
    return merged


def certificate_expiry(kubeconfig: dict[str, Any], user_name: str) -> datetime | None:
    """When the client certificate of ``user_name`` expires (UTC); None when there is no inline certificate."""
    user = _entry(kubeconfig, "users", user_name)
    data = ((user or {}).get("user") or {}).get("client-certificate-data")
    if not data:
        return None
    expiry = pem_expiry(data)
    if expiry is None:
        raise KubeconfigError(f"user {user_name}: client-certificate-data is not a PEM certificate")
    return expiry


def assess(
    existing: dict[str, Any] | None,
    fetched: dict[str, Any],
    merge_into: bool,
    renew_before_days: int,
    now: datetime | None = None,
) -> tuple[bool, str, datetime | None]:
    """Whether the file must be (re)written, why, and when its current client certificate expires.

    The file is kept when it already holds the cluster (same server and CA), its user with a client certificate
    valid for more than ``renew_before_days`` days, and the context tying them; without ``merge_into`` it must hold
    nothing else.
    """
    now = now or datetime.now(UTC)
    if not existing:
        return True, "the kubeconfig does not exist yet", None
    names = identity(fetched)
    cluster = _entry(existing, "clusters", names["cluster"])
    if cluster is None:
        return True, f"cluster {names['cluster']} is missing", None
    if cluster.get("cluster") != (_entry(fetched, "clusters", names["cluster"]) or {}).get("cluster"):
        return True, f"cluster {names['cluster']} has a different server or certificate authority", None
    context = _entry(existing, "contexts", names["context"])
    if context is None or context.get("context") != (_entry(fetched, "contexts", names["context"]) or {}).get(
        "context"
    ):
        return True, f"context {names['context']} is missing or points elsewhere", None
    if _entry(existing, "users", names["user"]) is None:
        return True, f"user {names['user']} is missing", None
    expiry = certificate_expiry(existing, names["user"])
    if expiry is None:
        return True, f"user {names['user']} has no client certificate", None
    if expiry - now <= timedelta(days=renew_before_days):
        return True, f"the client certificate expires on {expiry.isoformat()}, within {renew_before_days} days", expiry
    if not merge_into:
        extra = [
            f"{section} {item.get('name')}"
            for section in SECTIONS
            for item in existing.get(section) or []
            if item.get("name") not in (names["cluster"], names["user"], names["context"])
        ]
        if extra:
            return True, f"the file holds other entries ({', '.join(extra)}) and merge is false", expiry
        if existing.get("current-context") != names["context"]:
            return True, f"the current context is not {names['context']}", expiry
    return False, f"up to date; the client certificate expires on {expiry.isoformat()}", expiry


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600, atomically (a temporary file in the same folder, then rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    scratch.sweep(folder)  # a killed run's half-written kubeconfig (it holds the admin client key)
    handle, temporary = scratch.scratch_file(folder, "kubeconfig")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
