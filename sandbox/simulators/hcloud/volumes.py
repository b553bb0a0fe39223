"""Volumes: create (in a location, or for a server and then attached to it), list, get, update, delete, and the
actions ``attach``, ``detach``, ``resize`` and ``change_protection`` (cloud.spec.json, tag volumes).

The rules of the spec: 10 GB to 10 TB (10240 GB); a volume and its server share a location; a volume only grows;
an attached or protected volume is not deleted; a deleted server leaves its volumes detached. A volume has no
bytes: ``format`` and ``automount`` are recorded (format) or accepted (automount), nothing is formatted or mounted.
Attach, detach and resize take effect when their action ends.
"""

from __future__ import annotations

from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .state import public

MIN_GB, MAX_GB = 10, 10240
FORMATS = ("ext4", "xfs")


class VolumesMixin(HcloudCore):
    def _volume(self, call: Call) -> dict[str, Any]:
        return self.store.need("volumes", call.id(), "Volume")

    def _volume_action(
        self, volume: dict[str, Any], command: str, server: dict[str, Any] | None, done: Any = None
    ) -> Any:
        if server is not None and self.actions.running_on("server", server["id"]):
            raise APIError.of("locked", f"server {server['id']} is locked: an action is already running on it")
        resources = [("volume", volume["id"])] + ([("server", server["id"])] if server is not None else [])
        action = self.actions.create(command, resources, done)
        self.store.save()
        return 201, {"action": self.actions.show(action)}

    def _attachable(self, volume: dict[str, Any], server: dict[str, Any], field: str) -> None:
        if volume["server"] is not None:
            raise APIError.of("service_error", f"volume {volume['id']} is already attached to {volume['server']}")
        if volume["location"]["name"] != server["_location"]:
            message = f"server {server['id']} is in {server['_location']}, the volume in {volume['location']['name']}"
            raise APIError.invalid_input(field, message)

    # --- for POST /servers (volumes attached at creation) -----------------------------------------------------
    def volumes_for_new_server(self, ids: list[int], location: str) -> list[dict[str, Any]]:
        found = [self.store.need("volumes", ident, "Volume") for ident in ids]
        for volume in found:
            if volume["server"] is not None:
                raise APIError.of("service_error", f"volume {volume['id']} is already attached")
            if volume["location"]["name"] != location:
                raise APIError.invalid_input("volumes", f"volume {volume['id']} is not in {location}")
        return found

    def attach_on_create(self, volume: dict[str, Any], server: dict[str, Any]) -> dict[str, Any]:
        """Attach ``volume`` to a server being made (its ``attach_volume`` next action); the action as shown."""
        volume["server"] = server["id"]
        action = self.actions.create("attach_volume", [("volume", volume["id"]), ("server", server["id"])], lock=False)
        return self.actions.show(action)

    # --- endpoints ----------------------------------------------------------------------------------------------
    @operation("GET", "/volumes")
    def list_volumes(self, call: Call) -> Any:
        items = self.store.all("volumes")
        if call.get("status"):
            items = [item for item in items if item["status"] in call.get("status")]
        return self.listing(call, "volumes", items)

    @operation("GET", "/volumes/{id}")
    def get_volume(self, call: Call) -> Any:
        return 200, {"volume": public(self._volume(call))}

    @operation("POST", "/volumes")
    def create_volume(self, call: Call) -> Any:
        body = call.body
        with self.store.lock:
            if not MIN_GB <= body["size"] <= MAX_GB:
                raise APIError.invalid_input("size", f"size must be {MIN_GB} to {MAX_GB} GB")
            if ("location" in body) == ("server" in body):
                raise APIError.invalid_input("location", "give either location or server")
            server = self.store.need("servers", body["server"], "Server") if "server" in body else None
            where = catalog.location(server["_location"] if server else body["location"])
            if where is None:
                raise APIError.invalid_input("location", f"location {body['location']} not found")
            if body.get("format") is not None and body["format"] not in FORMATS:
                raise APIError.invalid_input("format", f"format must be one of {', '.join(FORMATS)}")
            if "automount" in body and server is None:
                raise APIError.invalid_input("automount", "automount needs a server to attach to")
            volume = self.create_named(
                "volumes",
                body,
                {
                    "server": None,
                    "location": where,
                    "size": body["size"],
                    "linux_device": "",
                    "protection": {"delete": False},
                    "status": "creating",
                    "format": body.get("format"),
                },
            )
            volume["linux_device"] = f"/dev/disk/by-id/scsi-0HC_Volume_{volume['id']}"
            shown = public(volume)

            def created(ok: bool) -> None:
                if ok:
                    volume["status"] = "available"
                else:
                    self.store.remove("volumes", volume["id"])

            action = self.actions.create("create_volume", [("volume", volume["id"])], created)
            next_actions = []
            if server is not None:

                def attached(ok: bool) -> None:
                    if ok and self.store.get("servers", server["id"]) and self.store.get("volumes", volume["id"]):
                        volume["server"] = server["id"]

                resources = [("volume", volume["id"]), ("server", server["id"])]
                next_actions.append(self.actions.create("attach_volume", resources, attached, lock=False))
            self.store.save()
        return 201, {
            "volume": shown,
            "action": self.actions.show(action),
            "next_actions": [self.actions.show(item) for item in next_actions],
        }

    @operation("PUT", "/volumes/{id}")
    def update_volume(self, call: Call) -> Any:
        volume = self._volume(call)
        self.update_named("volumes", volume, call.body)
        return 200, {"volume": public(volume)}

    @operation("DELETE", "/volumes/{id}")
    def delete_volume(self, call: Call) -> Any:
        with self.store.lock:
            volume = self._volume(call)
            if volume["protection"]["delete"]:
                raise APIError.of("protected", f"volume {volume['id']} is protected against deletion")
            if volume["server"] is not None:
                raise APIError.of("service_error", f"volume {volume['id']} is attached to server {volume['server']}")
            self.store.remove("volumes", volume["id"])
            self.store.save()
        return 204, None

    @operation("POST", "/volumes/{id}/actions/attach")
    def attach_volume(self, call: Call) -> Any:
        with self.store.lock:
            volume = self._volume(call)
            server = self.store.need("servers", call.body["server"], "Server")
            self._attachable(volume, server, "server")

            def done(ok: bool) -> None:
                if ok and self.store.get("servers", server["id"]) is not None:
                    volume["server"] = server["id"]

            return self._volume_action(volume, "attach_volume", server, done)

    @operation("POST", "/volumes/{id}/actions/detach")
    def detach_volume(self, call: Call) -> Any:
        with self.store.lock:
            volume = self._volume(call)
            server = self.store.get("servers", volume["server"] or 0)
            if server is None:
                raise APIError.of("service_error", f"volume {volume['id']} is not attached")

            def done(ok: bool) -> None:
                if ok:
                    volume["server"] = None

            return self._volume_action(volume, "detach_volume", server, done)

    @operation("POST", "/volumes/{id}/actions/resize")
    def resize_volume(self, call: Call) -> Any:
        with self.store.lock:
            volume = self._volume(call)
            size = call.body["size"]
            if size <= volume["size"]:
                raise APIError.invalid_input("size", f"a volume only grows: {size} is not above {volume['size']} GB")
            if size > MAX_GB:
                raise APIError.invalid_input("size", f"size must be at most {MAX_GB} GB")

            def done(ok: bool) -> None:
                if ok:
                    volume["size"] = size

            return self._volume_action(volume, "resize_volume", None, done)

    @operation("POST", "/volumes/{id}/actions/change_protection")
    def change_volume_protection(self, call: Call) -> Any:
        with self.store.lock:
            volume = self._volume(call)
            if "delete" in call.body:
                volume["protection"]["delete"] = call.body["delete"]
            return self._volume_action(volume, "change_protection", None)
