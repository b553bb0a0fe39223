"""Server actions (power, rescue, snapshots, protection, networks, placement groups) and the action endpoints."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .state import check_labels, now

_KIND_OF_PATH = {
    "servers": "server",
    "networks": "network",
    "firewalls": "firewall",
    "load_balancers": "load_balancer",
    "floating_ips": "floating_ip",
    "images": "image",
    "primary_ips": "primary_ip",
    "volumes": "volume",
}


def _each_kind(template: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``operation("GET", ...)`` for each resource path that has actions, ``{kind}`` in ``template`` replaced."""

    def mark(handler: Callable[..., Any]) -> Callable[..., Any]:
        for path in _KIND_OF_PATH:
            operation("GET", template.replace("{kind}", path))(handler)
        return handler

    return mark


def _kind(call: Call) -> str:
    return _KIND_OF_PATH[call.request.path.split("/")[2]]


def _about(action: dict[str, Any], kind: str, resource_id: int | None = None) -> bool:
    """True when ``action`` concerns a resource of ``kind`` (and of ``resource_id``, when given)."""
    return any(res["type"] == kind and resource_id in (None, res["id"]) for res in action["resources"])


def _with_status(call: Call, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The actions whose status the ``status`` query parameter names (all of them without one)."""
    wanted = call.get("status")
    return [item for item in items if item["status"] in wanted] if wanted else items


class ServerActionsMixin(HcloudCore):
    def _server_action(self, call: Call, command: str, change: Any = None, done: Any = None) -> Any:
        with self.store.lock:
            server = self.store.need("servers", call.id(), "Server")
            if self.actions.running_on("server", server["id"]):  # refused before anything changes, as the API does
                raise APIError.of("locked", f"server {server['id']} is locked: an action is already running on it")
            if change is not None:
                change(server)
            action = self.actions.create(
                command, [("server", server["id"])], (lambda ok: done(server, ok)) if done else None
            )
            self.store.save()
        return 201, {"action": self.actions.show(action)}

    @operation("POST", "/servers/{id}/actions/poweron")
    def poweron(self, call: Call) -> Any:
        def change(server: dict[str, Any]) -> None:
            if server["status"] == "off":
                server["status"] = "starting"

        return self._server_action(call, "start_server", change, self._powered)

    def _off(self, server: dict[str, Any], ok: bool) -> None:
        if ok:
            server["status"] = "off"
            self.machines.halt(server)

    @operation("POST", "/servers/{id}/actions/poweroff")
    def poweroff(self, call: Call) -> Any:
        return self._server_action(call, "stop_server", None, self._off)

    @operation("POST", "/servers/{id}/actions/shutdown")
    def shutdown(self, call: Call) -> Any:
        return self._server_action(call, "shutdown_server", lambda s: s.update(status="stopping"), self._off)

    def _restart(self, server: dict[str, Any], ok: bool) -> None:
        if ok:
            self.machines.halt(server)
            self._powered(server, ok)

    @operation("POST", "/servers/{id}/actions/reset")
    def reset_server(self, call: Call) -> Any:
        return self._server_action(call, "reset_server", None, self._restart)

    @operation("POST", "/servers/{id}/actions/reboot")
    def reboot_server(self, call: Call) -> Any:
        return self._server_action(call, "reboot_server", None, self._restart)

    @operation("POST", "/servers/{id}/actions/enable_rescue")
    def enable_rescue(self, call: Call) -> Any:
        keys = [
            self.store.need("ssh_keys", ident, "SSH Key")["public_key"] for ident in call.body.get("ssh_keys") or []
        ]
        password = secrets.token_urlsafe(18)

        def change(server: dict[str, Any]) -> None:
            server["rescue_enabled"] = True
            server["_rescue_keys"] = keys

        status, data = self._server_action(call, "enable_rescue", change)
        return status, {"root_password": password, **data}

    @operation("POST", "/servers/{id}/actions/disable_rescue")
    def disable_rescue(self, call: Call) -> Any:
        def change(server: dict[str, Any]) -> None:
            server["rescue_enabled"] = False
            server.pop("_rescue_keys", None)
            self.machines.stop_rescue(server["id"])

        return self._server_action(call, "disable_rescue", change)

    @operation("POST", "/servers/{id}/actions/rebuild")
    def rebuild(self, call: Call) -> Any:
        with self.store.lock:
            server = self.store.need("servers", call.id(), "Server")
            if server["protection"]["rebuild"]:
                raise APIError.of("protected", f"server {server['id']} is protected against rebuilds")
            image = self.resolve_image(call.body.get("image", ""), catalog.server_type(server["_type"])["architecture"])

        def change(target: dict[str, Any]) -> None:
            self.machines.destroy(target)  # the old disk and whatever ran from it
            target.update(_image=image["id"], status="rebuilding")
            self.machines.make_disk(target["id"], image)

        status, data = self._server_action(call, "rebuild_server", change, self._restart)
        return status, {**data, "root_password": None if server.get("_ssh_keys") else secrets.token_urlsafe(18)}

    @operation("POST", "/servers/{id}/actions/change_protection")
    def change_server_protection(self, call: Call) -> Any:
        def change(server: dict[str, Any]) -> None:
            for key in ("delete", "rebuild"):
                if key in call.body:
                    server["protection"][key] = call.body[key]

        return self._server_action(call, "change_protection", change)

    @operation("POST", "/servers/{id}/actions/attach_to_network")
    def attach_to_network(self, call: Call) -> Any:
        network = self.store.need("networks", call.body.get("network"), "Network")
        return self._server_action(
            call,
            "attach_to_network",
            lambda s: self.join_network(s, network, call.body.get("ip"), call.body.get("alias_ips")),
        )

    @operation("POST", "/servers/{id}/actions/detach_from_network")
    def detach_from_network(self, call: Call) -> Any:
        network = self.store.need("networks", call.body.get("network"), "Network")

        def change(server: dict[str, Any]) -> None:
            if not any(item["network"] == network["id"] for item in server["private_net"]):
                raise APIError.of("service_error", f"server {server['id']} is not attached to network {network['id']}")
            server["private_net"] = [item for item in server["private_net"] if item["network"] != network["id"]]
            network["servers"].remove(server["id"])

        return self._server_action(call, "detach_from_network", change)

    @operation("POST", "/servers/{id}/actions/add_to_placement_group")
    def add_to_placement_group(self, call: Call) -> Any:
        group = self.store.need("placement_groups", call.body.get("placement_group"), "Placement Group")

        def change(server: dict[str, Any]) -> None:
            if server["status"] != "off":
                raise APIError.of("server_not_stopped", "the server must be powered off to join a placement group")
            if server.get("_placement_group"):
                raise APIError.of("already_in_placement_group", f"server {server['id']} is in a placement group")
            server["_placement_group"] = group["id"]
            group["servers"].append(server["id"])

        return self._server_action(call, "add_to_placement_group", change)

    @operation("POST", "/servers/{id}/actions/remove_from_placement_group")
    def remove_from_placement_group(self, call: Call) -> Any:
        def change(server: dict[str, Any]) -> None:
            group = self.store.get("placement_groups", server.get("_placement_group") or 0)
            if group and server["id"] in group["servers"]:
                group["servers"].remove(server["id"])
            server["_placement_group"] = None

        return self._server_action(call, "remove_from_placement_group", change)

    @operation("POST", "/servers/{id}/actions/create_image")
    def create_image(self, call: Call) -> Any:
        body = call.body
        check_labels(body.get("labels") or {})
        with self.store.lock:
            server = self.store.need("servers", call.id(), "Server")
            server_type = catalog.server_type(server["_type"])
            image = {
                "id": self.store.new_id("images"),
                "type": body.get("type", "snapshot"),
                "status": "creating",
                "name": None,
                "description": body.get("description") or f"{server['name']}-{now()}",
                "image_size": None,
                "disk_size": server_type["disk"],
                "created": now(),
                "created_from": {"id": server["id"], "name": server["name"]},
                "bound_to": server["id"] if body.get("type") == "backup" else None,
                "os_flavor": "unknown",
                "os_version": None,
                "rapid_deploy": False,
                "protection": {"delete": False},
                "deprecated": None,
                "deleted": None,
                "labels": dict(body.get("labels") or {}),
                "architecture": server_type["architecture"],
            }

            def done(ok: bool) -> None:
                if not ok:
                    self.store.remove("images", image["id"])
                    return
                size, digest = self.machines.snapshot(server["id"], image["id"])
                image.update(status="available", image_size=size / 1e9, _bytes=size, _sha256=digest)

            self.store.add("images", image)
            action = self.actions.create("create_image", [("server", server["id"]), ("image", image["id"])], done)
            self.store.save()
        return 201, {"image": self.show_image(image), "action": self.actions.show(action)}

    # --- actions --------------------------------------------------------------------------------------------------
    @operation("GET", "/actions")
    def list_actions(self, call: Call) -> Any:
        wanted = set(call.get("id") or [])
        items = [item for item in self.store.all("actions") if not wanted or item["id"] in wanted]
        return self.listing(call, "actions", _with_status(call, items), self.actions.show)

    @operation("GET", "/actions/{id}")
    def get_action(self, call: Call) -> Any:
        return 200, {"action": self.actions.show(self.store.need("actions", call.id(), "Action"))}

    @_each_kind("/{kind}/actions")
    def list_kind_actions(self, call: Call) -> Any:
        kind, wanted = _kind(call), set(call.get("id") or [])
        items = [
            item for item in self.store.all("actions") if _about(item, kind) and (not wanted or item["id"] in wanted)
        ]
        return self.listing(call, "actions", _with_status(call, items), self.actions.show)

    @_each_kind("/{kind}/actions/{id}")
    def get_kind_action(self, call: Call) -> Any:
        action = self.store.need("actions", call.id(), "Action")
        if not _about(action, _kind(call)):
            raise APIError.of("not_found", f"Action with ID '{call.id()}' not found")
        return 200, {"action": self.actions.show(action)}

    @_each_kind("/{kind}/{id}/actions")
    def list_resource_actions(self, call: Call) -> Any:
        kind = _kind(call)
        items = [item for item in self.store.all("actions") if _about(item, kind, call.id())]
        return self.listing(call, "actions", _with_status(call, items), self.actions.show)

    @_each_kind("/{kind}/{id}/actions/{action_id}")
    def get_resource_action(self, call: Call) -> Any:
        action = self.store.need("actions", call.id("action_id"), "Action")
        if not _about(action, _kind(call), call.id()):
            raise APIError.of("not_found", f"Action with ID '{call.id('action_id')}' not found")
        return 200, {"action": self.actions.show(action)}
