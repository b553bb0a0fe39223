# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""A write whose answer was lost: was it carried out? Each function here builds the check one write needs.

When the connection breaks after a write was sent (or a proxy answers 502/503/504), PVE may or may not have done
it. ``ProxmoxClient.call`` then runs the write's check: a UPID (the task the write started, still running or
done) or True (done, nothing to wait for) means carried out, and the write is not sent again; None means not
done, and it is sent again. A write sent twice would fail (a second create: "already exists"; a second start:
"already running"; a second destroy: "does not exist"; a second download: "refusing to override") or do the work
twice (a reconfiguration, a resize); a stop or an agent ping does no harm when sent again (``SEND_AGAIN``).

The checks look at the effect (the VM with that id and name, its power state, the volume), never at task start
times alone: a task of the same kind started by an earlier run a second before would look the same.
Nothing here imports Ansible.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import ProxmoxClient, ProxmoxError

Settled = Callable[[], "str | bool | None"]


def SEND_AGAIN() -> None:
    return None


def _q(part: Any) -> str:
    return urllib.parse.quote(str(part), safe="")


def _task(client: ProxmoxClient, node: str, kind: str, ident: str, source: str) -> str | None:
    """The newest task of ``kind`` on ``ident`` (a VM id or a file name) among ``source`` (active or all) tasks."""
    query: dict[str, Any] = {"source": source, "typefilter": kind, "limit": 50}
    if ident.isdigit():
        query["vmid"] = int(ident)
    for task in client.get(f"/nodes/{_q(node)}/tasks", **query) or []:
        if isinstance(task, Mapping) and str(task.get("id")) == ident and task.get("upid"):
            return str(task["upid"])
    return None


def _vm_config(client: ProxmoxClient, node: str, vmid: int) -> Mapping[str, Any] | None:
    try:
        config = client.get(f"/nodes/{_q(node)}/qemu/{vmid}/config")
    except ProxmoxError as exc:
        if exc.status in (404, 500) and "does not exist" in str(exc):
            return None
        raise
    return config if isinstance(config, Mapping) else {}


def vm_created(client: ProxmoxClient, node: str, vmid: int, name: str) -> Settled:
    """A create: the VM exists with this id and name (an id taken by another VM is not ours: sent again, refused)."""

    def settled() -> str | bool | None:
        config = _vm_config(client, node, vmid)
        if config is None or config.get("name") != name:
            return None
        return _task(client, node, "qmcreate", str(vmid), "all") or True

    return settled


def vm_configured(client: ProxmoxClient, node: str, vmid: int, changes: Mapping[str, Any]) -> Settled:
    """A reconfiguration: the config (pending values included) holds every value sent, and lacks the deleted keys.
    A value PVE writes in another form reads as not done: sending the same values again is harmless."""

    def settled() -> str | bool | None:
        config = _vm_config(client, node, vmid) or {}
        deleted = [key for key in str(changes.get("delete") or "").split(",") if key]
        if any(key in config for key in deleted):
            return None
        if any(str(config.get(key)) != str(value) for key, value in changes.items() if key != "delete"):
            return _task(client, node, "qmconfig", str(vmid), "active")
        return True

    return settled


def disk_resized(client: ProxmoxClient, node: str, vmid: int, done: Callable[[Mapping[str, Any]], bool]) -> Settled:
    """A resize: ``done(config)`` says the disk has its new size, or the resize task still runs."""

    def settled() -> str | bool | None:
        if done(_vm_config(client, node, vmid) or {}):
            return True
        return _task(client, node, "resize", str(vmid), "active")

    return settled


def vm_started(client: ProxmoxClient, node: str, vmid: int) -> Settled:
    """A start: the VM runs, or its start task still runs."""

    def settled() -> str | bool | None:
        status = client.get(f"/nodes/{_q(node)}/qemu/{vmid}/status/current") or {}
        if status.get("status") == "running":
            return True
        return _task(client, node, "qmstart", str(vmid), "active")

    return settled


def vm_destroyed(client: ProxmoxClient, node: str, vmid: int) -> Settled:
    """A destroy: the VM is gone, or its destroy task still runs."""

    def settled() -> str | bool | None:
        if _vm_config(client, node, vmid) is None:
            return True
        return _task(client, node, "qmdestroy", str(vmid), "active")

    return settled


def volume_downloaded(client: ProxmoxClient, node: str, storage: str, volid: str, filename: str) -> Settled:
    """A download: the volume is in the storage, or the download task of that file name still runs."""

    def settled() -> str | bool | None:
        content = client.get(f"/nodes/{_q(node)}/storage/{_q(storage)}/content") or []
        if any(isinstance(item, Mapping) and item.get("volid") == volid for item in content):
            return _task(client, node, "download", filename, "all") or True
        return _task(client, node, "download", filename, "active")

    return settled
