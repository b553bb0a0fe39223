"""The admin kubeconfig a control-plane node hands out, and merging it into an existing kubeconfig file."""

from __future__ import annotations

import datetime
import os
from typing import Any

from . import pki, yamlio
from .argv import parse_duration


def admin_kubeconfig(config_text: str) -> str:
    """A kubeconfig for ``admin@<cluster>``: server = the config's control-plane endpoint, a client certificate
    (O=system:masters, CN=admin) signed by the cluster CA, valid for ``cluster.adminKubeconfig.certLifetime``
    (one year by default)."""
    documents = yamlio.load_documents(config_text)
    cluster = next(document for document in documents if "kind" not in document).get("cluster") or {}
    name = str(cluster.get("clusterName") or "talos")
    ca = pki.CertAndKey(pki.unb64(cluster["ca"]["crt"]), pki.unb64(cluster["ca"]["key"]))
    lifetime = (cluster.get("adminKubeconfig") or {}).get("certLifetime")
    validity = datetime.timedelta(seconds=parse_duration(lifetime)) if lifetime else pki.ADMIN_VALIDITY
    client = pki.issue_client(ca, ["system:masters"], "admin", validity)
    user = f"admin@{name}"
    return yamlio.dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": cluster["controlPlane"]["endpoint"],
                        "certificate-authority-data": pki.b64(ca.crt),
                    },
                }
            ],
            "contexts": [{"name": user, "context": {"cluster": name, "namespace": "default", "user": user}}],
            "current-context": user,
            "users": [
                {
                    "name": user,
                    "user": {"client-certificate-data": pki.b64(client.crt), "client-key-data": pki.b64(client.key)},
                }
            ],
        }
    )


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
    existing["current-context"] = renames["contexts"].get(chosen, chosen)
    partial = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(yamlio.dump(existing))
    os.replace(partial, path)
    return messages
