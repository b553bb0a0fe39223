# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_kubeconfig module: fetch the admin kubeconfig from a control plane and keep the file (0600) up to date.

The decisions (merge, expiry, renewal) are in ``kubeconfig``.
"""

from __future__ import annotations

import os
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._talos.kubeconfig import (
    KubeconfigError,
    assess,
    certificate_expiry,
    dump,
    identity,
    load,
    merge,
    write_private,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    NodesFailed,
    TalosInputError,
    direct,
    node_failure,
    require_control_plane,
    validate_nodes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)


def fetch(talosctl: Talosctl, planes: list[Node]) -> tuple[Node, str]:
    """The kubeconfig text from the first control plane that answers."""
    failures: list[dict[str, Any]] = []
    for node in planes:
        try:
            return node, talosctl.run(["kubeconfig", "-", "--merge=false"], direct(node)).stdout
        except TalosctlError as exc:
            failures.append(node_failure(node["name"], exc))
    message = "no control plane gave a kubeconfig: " + "; ".join(f["msg"] for f in failures)
    raise NodesFailed(message, {}, failures)


def _summary(names: dict[str, Any], expires: str | None) -> str:
    return (
        f"context: {names['context']}\ncluster: {names['cluster']}\nserver: {names['server']}\n"
        f"user: {names['user']}\nclient certificate expires: {expires or 'unknown'}\n"
    )


def keep_kubeconfig(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: write the fetched kubeconfig (or merge it in) when it is new, changed or due for renewal."""
    if params["renew_before_days"] < 0:
        raise TalosInputError(f"renew_before_days must be 0 or more, got {params['renew_before_days']}")
    planes = require_control_plane(validate_nodes(params["nodes"]))
    path = params["path"]
    existing: dict[str, Any] | None = None
    try:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as stream:
                existing = load(stream.read(), path)
        node, text = fetch(talosctl, planes)
        fetched = load(text, f"the kubeconfig from node {node['name']}")
        names = identity(fetched)
        write, reason, expiry = assess(existing, fetched, params["merge"], params["renew_before_days"])
        if params["force"] and not write:
            write, reason = True, "force is true"
        result: dict[str, Any] = {
            "changed": write,
            "path": path,
            "node": node["name"],
            "renewed": write,
            "reason": reason,
            **{key: names[key] for key in ("context", "cluster", "server")},
        }
        after = certificate_expiry(fetched, names["user"]) if write else expiry
        if after is not None:
            result["expires"] = after.isoformat()
        if write:
            before_expiry = expiry.isoformat() if expiry else None
            result["diff"] = {
                "before": _summary(names, before_expiry) if existing else "",
                "after": _summary(names, result.get("expires")),
                "before_header": path,
                "after_header": path,
            }
            if not check_mode:
                write_private(path, dump(merge(existing or {}, fetched) if params["merge"] else fetched))
        elif (os.stat(path).st_mode & 0o777) != 0o600:
            result.update(changed=True, reason="file mode set to 0600")
            if not check_mode:
                os.chmod(path, 0o600)
    except (KubeconfigError, OSError) as exc:
        message = str(exc)
        raise KubeconfigError(message if path in message else f"{path}: {message}") from exc
    except ImportError as exc:  # PyYAML and cryptography come with ansible-core; a broken install lacks them
        raise TalosInputError(f"the Python library {exc.name} is required on the host that runs this module") from exc
    return result
