# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The talos_etcd_snapshot module: an etcd snapshot from the first control plane that gives one, written 0600."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.node_module import (
    Node,
    NodesFailed,
    direct,
    node_failure,
    require_control_plane,
    validate_nodes,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import (
    Talosctl,
    TalosctlError,
)


class SnapshotFileError(InputError):
    """The snapshot file cannot be read, written or given its mode (the message names it)."""


def describe(path: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return {"size": os.path.getsize(path), "sha256": digest.hexdigest()}


def take(talosctl: Talosctl, planes: list[Node], path: str) -> str:
    """Snapshot into a private temporary folder next to ``path``, then rename; return the node's name."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    scratch.sweep(folder)  # a killed run's partial snapshot
    workdir = scratch.scratch_dir(folder, "etcd-snapshot")
    try:
        partial = os.path.join(workdir, "snapshot.db")
        failures: list[dict[str, Any]] = []
        for node in planes:
            try:
                talosctl.run(["etcd", "snapshot", partial], direct(node))
            except TalosctlError as exc:
                failures.append(node_failure(node["name"], exc))
                continue
            if not os.path.isfile(partial) or os.path.getsize(partial) == 0:
                failures.append(
                    {"name": node["name"], "msg": f"node {node['name']}: talosctl etcd snapshot wrote no data"}
                )
                continue
            os.chmod(partial, 0o600)
            os.replace(partial, path)
            return node["name"]
        message = "no control plane gave an etcd snapshot: " + "; ".join(f["msg"] for f in failures)
        raise NodesFailed(message, {"path": path}, failures)
    finally:
        scratch.remove(workdir)


def take_snapshot(params: dict[str, Any], check_mode: bool, talosctl: Talosctl) -> dict[str, Any]:
    """The module: describe the existing file (unless ``force``), or take a new snapshot."""
    planes = require_control_plane(validate_nodes(params["nodes"]))
    path = params["path"]
    result: dict[str, Any] = {"changed": False, "path": path}
    try:
        if os.path.exists(path) and not params["force"]:
            result.update(describe(path))
            if (os.stat(path).st_mode & 0o777) != 0o600:
                result["changed"] = True
                if not check_mode:
                    os.chmod(path, 0o600)
            return result
        result["changed"] = True
        if check_mode:
            return result
        result["node"] = take(talosctl, planes, path)
        result.update(describe(path))
    except OSError as exc:
        raise SnapshotFileError(f"{path}: {exc.strerror or exc}") from exc
    return result
