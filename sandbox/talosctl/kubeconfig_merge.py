"""``talosctl kubeconfig``'s merge of a node's admin kubeconfig into an existing kubeconfig file."""

from __future__ import annotations

import os
from typing import Any

from ..simulators.talos import yamlio


def _free_name(taken: set[str], name: str) -> str:
    for index in range(1, 10_000):
        candidate = f"{name}-{index}"
        if candidate not in taken:
            return candidate
    raise ValueError(f"no free name for {name!r}")


def merge_kubeconfig(path: str, data: str, force: bool, context_name: str | None) -> list[str]:
    """Merge ``data`` into the kubeconfig at ``path`` (rename on conflict, or overwrite with ``force``) and make
    its context current; returns the messages talosctl prints about renames."""
    with open(path, encoding="utf-8") as handle:
        existing_text = handle.read()
    existing: dict[str, Any] = yamlio.load_one(existing_text, "kubeconfig") if existing_text.strip() else {}
    incoming = yamlio.load_one(data, "kubeconfig")
    messages: list[str] = []
    renames: dict[str, dict[str, str]] = {"clusters": {}, "users": {}, "contexts": {}}
    labels = {"clusters": "cluster", "users": "auth info", "contexts": "context"}
    for section in ("clusters", "users", "contexts"):
        current = list(existing.get(section) or [])
        names = {str(item.get("name")) for item in current}
        for item in incoming.get(section) or []:
            name = str(item["name"])
            if section == "contexts" and context_name:
                name = context_name
            if name in names and not force:
                new_name = _free_name(names, name)
                messages.append(f'renamed {labels[section]} "{name}" -> "{new_name}"')
                renames[section][str(item["name"])] = name = new_name
            elif section == "contexts" and context_name:
                renames[section][str(item["name"])] = name
            current = [entry for entry in current if str(entry.get("name")) != name]
            entry = {**item, "name": name}
            if section == "contexts":
                context = dict(entry["context"])
                context["cluster"] = renames["clusters"].get(context["cluster"], context["cluster"])
                context["user"] = renames["users"].get(context["user"], context["user"])
                entry["context"] = context
            current.append(entry)
            names.add(name)
        existing[section] = current
    existing.setdefault("apiVersion", "v1")
    existing.setdefault("kind", "Config")
    chosen = incoming.get("current-context")
    existing["current-context"] = renames["contexts"].get(chosen, chosen) if isinstance(chosen, str) else chosen
    partial = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(yamlio.dump(existing))
    os.replace(partial, path)
    return messages
