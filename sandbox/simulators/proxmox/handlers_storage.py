"""Handlers: storages and their content (list, status, get, delete); downloads and uploads are in handlers_transfer."""

from __future__ import annotations

import re
from typing import Any

from ...httpbase import operation
from .api import Call, PVEError
from .core import ProxmoxCore
from .model import CONTENT_DIRS, Storage, Volume
from .tasks import Task


def storage_of(app: ProxmoxCore, call: Call) -> Storage:
    node = app.cluster.nodes[call.get("node")]
    storage = node.storages.get(call.get("storage"))
    if storage is None:
        raise PVEError(500, f"storage '{call.get('storage')}' does not exist")
    return storage


def _storage_item(storage: Storage) -> dict[str, Any]:
    return {
        "storage": storage.name,
        "type": storage.type,
        "content": ",".join(storage.content),
        "active": 1,
        "enabled": 1,
        "shared": 0,
        "total": storage.total,
        "used": storage.used,
        "avail": storage.avail,
        "used_fraction": round(storage.used / storage.total, 6) if storage.total else 0.0,
    }


class StorageHandlers(ProxmoxCore):
    """Storages and the volumes on them."""

    @operation("GET", "/nodes/{node}/storage")
    def storage_list(self, call: Call) -> list[dict[str, Any]]:
        wanted = set(re.split(r"[,;\s]+", call.get("content") or "")) - {""}
        with self.cluster.lock:
            storages = list(self.cluster.nodes[call.get("node")].storages.values())
            return [
                _storage_item(storage)
                for storage in storages
                if (not wanted or wanted & set(storage.content)) and call.get("storage") in (None, storage.name)
            ]

    @operation("GET", "/nodes/{node}/storage/{storage}")
    def storage_index(self, call: Call) -> list[dict[str, str]]:
        storage_of(self, call)
        return [{"subdir": name} for name in ("content", "download-url", "status", "upload")]

    @operation("GET", "/nodes/{node}/storage/{storage}/status")
    def storage_status(self, call: Call) -> dict[str, Any]:
        with self.cluster.lock:
            item = _storage_item(storage_of(self, call))
        return {key: value for key, value in item.items() if key not in ("storage", "used_fraction")}

    @operation("GET", "/nodes/{node}/storage/{storage}/content")
    def content_list(self, call: Call) -> list[dict[str, Any]]:
        with self.cluster.lock:
            storage = storage_of(self, call)
            volumes = sorted(storage.volumes.values(), key=lambda volume: volume.volid)
            result = []
            for volume in volumes:
                if call.get("content") not in (None, volume.content) or call.get("vmid") not in (None, volume.vmid):
                    continue
                item = {"volid": volume.volid, "format": volume.format, "size": volume.size, "ctime": volume.ctime}
                if volume.vmid is not None:
                    item["vmid"] = volume.vmid
                result.append(item)
            return result

    @operation("GET", "/nodes/{node}/storage/{storage}/content/{volume}")
    def content_get(self, call: Call) -> dict[str, Any]:
        with self.cluster.lock:
            storage, volume = _volume(self, call)
            volname = volume.volid.split(":", 1)[1]
            if storage.type == "dir":
                content, _slash, filename = volname.partition("/")
                path = f"/var/lib/vz/{CONTENT_DIRS.get(content, content)}/{filename}"
            else:
                path = f"/dev/pve/{volname}"
            return {"format": volume.format, "path": path, "size": volume.size, "used": volume.size}

    @operation("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}")
    def content_delete(self, call: Call) -> str:
        with self.cluster.lock:
            storage, volume = _volume(self, call)
            if volume.vmid is not None and self.cluster.vm_anywhere(volume.vmid) is not None:
                raise PVEError(500, f"unable to delete '{volume.volid}' - volume is used by VM {volume.vmid}")

        def work(task: Task) -> None:
            with self.cluster.lock:
                storage.volumes.pop(volume.volid, None)
                self.cluster.volume_file(call.get("node"), volume.volid).unlink(missing_ok=True)
                self.cluster.save()
            task.log.append(f"Removed volume '{volume.volid}'")

        return self.tasks.start(call.get("node"), "imgdel", volume.volid, call.user, work).upid


def _volume(app: ProxmoxCore, call: Call) -> tuple[Storage, Volume]:
    name = call.get("volume")
    storage_name = call.get("storage")
    if ":" not in name:
        name = f"{storage_name}:{name}"
    elif storage_name and not name.startswith(f"{storage_name}:"):
        raise PVEError(500, f"volume '{name}' is not on storage '{storage_name}'")
    node = app.cluster.nodes[call.get("node")]
    storage = node.storages.get(name.split(":", 1)[0])
    volume = storage.volumes.get(name) if storage else None
    if storage is None or volume is None:
        raise PVEError(500, f"volume '{name}' does not exist")
    return storage, volume
