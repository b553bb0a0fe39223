"""Images, SSH keys, primary IPs and the read-only catalogue (locations, datacenters, server/LB types)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import random
import socket
from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .state import check_labels, now, public, reverse_dns


class ImagesMixin(HcloudCore):
    # --- shared helpers -------------------------------------------------------------------------------------------
    def update_named(self, kind: str, resource: dict[str, Any], body: dict[str, Any]) -> None:
        """PUT on a resource: name (unique per kind) and labels, plus any other documented scalar fields."""
        with self.store.lock:
            if "name" in body and body["name"] != resource.get("name"):
                if any(item.get("name") == body["name"] for item in self.store.all(kind)):
                    raise APIError.of("uniqueness_error", "name is already used", {"fields": [{"name": "name"}]})
            if "labels" in body:
                check_labels(body["labels"])
            for key, value in body.items():
                if key in resource and not isinstance(resource[key], (list, dict)) or key == "labels":
                    resource[key] = value
            self.store.save()

    def image_by_id(self, ident: int) -> dict[str, Any] | None:
        return self.store.get("images", ident) or next(
            (item for item in catalog.system_images(self.epoch) if item["id"] == ident), None
        )

    def show_image(self, image: dict[str, Any]) -> dict[str, Any]:
        return public(image)

    def all_images(self) -> list[dict[str, Any]]:
        return catalog.system_images(self.epoch) + self.store.all("images")

    def resolve_image(self, id_or_name: int | str, architecture: str) -> dict[str, Any]:
        for image in self.all_images():
            if str(image["id"]) == str(id_or_name) or (
                image["name"] == id_or_name and image["architecture"] == architecture
            ):
                if image["status"] != "available":
                    raise APIError.of("resource_unavailable", f"image {id_or_name} is not available yet")
                if image["architecture"] != architecture:
                    raise APIError.invalid_input(
                        "image", f"image {id_or_name} is for {image['architecture']}, not {architecture}"
                    )
                return image
        raise APIError.invalid_input("image", f"image {id_or_name} not found")

    def resolve_ssh_key(self, id_or_name: int | str) -> dict[str, Any]:
        key = self.store.find("ssh_keys", id_or_name)
        if key is None:
            raise APIError.invalid_input("ssh_keys", f"SSH key {id_or_name} not found")
        return key

    def primary_ip(self, server_id: int, kind: str, location: str, given: int | None = None) -> dict[str, Any]:
        with self.store.lock:
            if given is not None:
                found = self.store.need("primary_ips", given, "Primary IP")
                if found["assignee_id"] is not None:
                    raise APIError.of("primary_ip_assigned", f"primary IP {given} is already assigned")
                found.update(assignee_id=server_id, assignee_type="server")
                return found
            ip = self.next_public_address(kind)
            record = {
                "id": self.store.new_id("primary_ips"),
                "name": f"primary_ip-{server_id}-{kind}",
                "labels": {},
                "created": now(),
                "blocked": False,
                "location": catalog.location(location),
                "ip": ip,
                "dns_ptr": [{"ip": ip.split("/", maxsplit=1)[0], "dns_ptr": reverse_dns(ip)}],
                "protection": {"delete": False},
                "type": kind,
                "auto_delete": True,
                "assignee_type": "server",
                "assignee_id": server_id,
            }
            return self.store.add("primary_ips", record)

    def next_public_address(self, kind: str) -> str:
        """The next free public IPv4 (or IPv6 /64) of the pool, from a random start per state folder.

        The random start keeps parallel sandboxes (pytest-xdist, several checkouts) from handing out the same
        loopback address; an IPv4 where something already listens on the rescue port is skipped too.
        """
        with self.store.lock:
            taken = {item["ip"] for item in self.store.all("primary_ips") + self.store.all("floating_ips")}
            taken |= {(lb["public_net"]["ipv4"] or {}).get("ip") for lb in self.store.all("load_balancers")}
            pool = ipaddress.ip_network(self.ipv4_pool if kind == "ipv4" else self.ipv6_pool)
            # IPv4: every address of the pool; IPv6: its /64s (at most 2**32 of them are considered)
            size = pool.num_addresses if kind == "ipv4" else 1 << min(32, max(0, 64 - pool.prefixlen))
            cursor_key = f"_{kind}_cursor"
            cursor = self.store.next_ids.get(cursor_key, random.randrange(size))
            for _attempt in range(min(size, 4096)):  # bounded search
                cursor = (cursor + 1) % size
                if kind == "ipv4":
                    candidate = str(pool[cursor])
                    if candidate.endswith((".0", ".1", ".255")) or candidate in taken:
                        continue
                    if _in_use(candidate, self.machines.ssh_port):
                        continue
                else:
                    candidate = str(ipaddress.ip_network((int(pool.network_address) + (cursor << 64), 64)))
                    if candidate in taken:
                        continue
                self.store.next_ids[cursor_key] = cursor
                return candidate
        raise APIError.of("resource_unavailable", f"no free public {kind} address left in {pool}")

    # --- images ---------------------------------------------------------------------------------------------------
    @operation("GET", "/images")
    def list_images(self, call: Call) -> Any:
        items = self.all_images()
        for key in ("type", "status", "architecture"):
            if call.get(key):
                wanted = call.get(key)
                items = [item for item in items if item[key] in (wanted if isinstance(wanted, list) else [wanted])]
        if call.get("bound_to"):
            items = [item for item in items if str(item["bound_to"]) in [str(v) for v in call.get("bound_to")]]
        if not call.get("include_deprecated", False):
            items = [item for item in items if not item["deprecated"]]
        return self.listing(call, "images", items, self.show_image)

    @operation("GET", "/images/{id}")
    def get_image(self, call: Call) -> Any:
        image = self.image_by_id(call.id())
        if image is None:
            raise APIError.of("not_found", f"Image with ID '{call.id()}' not found")
        return 200, {"image": self.show_image(image)}

    @operation("PUT", "/images/{id}")
    def update_image(self, call: Call) -> Any:
        image = self.store.need("images", call.id(), "Image")
        self.update_named("images", image, call.body)
        return 200, {"image": self.show_image(image)}

    @operation("DELETE", "/images/{id}")
    def delete_image(self, call: Call) -> Any:
        image = self.store.need("images", call.id(), "Image")
        if image["protection"]["delete"]:
            raise APIError.of("protected", f"image {image['id']} is protected against deletion")
        self.store.remove("images", image["id"])
        self.machines.image_file(image["id"]).unlink(missing_ok=True)
        self.store.save()
        return 204, None

    @operation("POST", "/images/{id}/actions/change_protection")
    def change_image_protection(self, call: Call) -> Any:
        image = self.store.need("images", call.id(), "Image")
        if "delete" in call.body:
            image["protection"]["delete"] = call.body["delete"]
        action = self.actions.create("change_protection", [("image", image["id"])])
        self.store.save()
        return 201, {"action": self.actions.show(action)}

    # --- SSH keys -------------------------------------------------------------------------------------------------
    @operation("GET", "/ssh_keys")
    def list_ssh_keys(self, call: Call) -> Any:
        items = self.store.all("ssh_keys")
        if call.get("fingerprint"):
            items = [item for item in items if item["fingerprint"] == call.get("fingerprint")]
        return self.listing(call, "ssh_keys", items)

    @operation("POST", "/ssh_keys")
    def create_ssh_key(self, call: Call) -> Any:
        body = call.body
        if not body.get("name") or not body.get("public_key"):
            raise APIError.fields([(key, "is required") for key in ("name", "public_key") if not body.get(key)])
        fingerprint = _fingerprint(body["public_key"])
        check_labels(body.get("labels") or {})
        with self.store.lock:
            for item in self.store.all("ssh_keys"):
                if item["name"] == body["name"]:
                    raise APIError.of(
                        "uniqueness_error", "SSH key with the same name already exists", {"fields": [{"name": "name"}]}
                    )
                if item["fingerprint"] == fingerprint:
                    raise APIError.of(
                        "uniqueness_error",
                        "SSH key with the same fingerprint already exists",
                        {"fields": [{"name": "public_key"}]},
                    )
            key = {
                "id": self.store.new_id("ssh_keys"),
                "name": body["name"],
                "fingerprint": fingerprint,
                "public_key": body["public_key"].strip(),
                "labels": dict(body.get("labels") or {}),
                "created": now(),
            }
            self.store.add("ssh_keys", key)
            self.store.save()
        return 201, {"ssh_key": public(key)}

    @operation("GET", "/ssh_keys/{id}")
    def get_ssh_key(self, call: Call) -> Any:
        return 200, {"ssh_key": public(self.store.need("ssh_keys", call.id(), "SSH Key"))}

    @operation("PUT", "/ssh_keys/{id}")
    def update_ssh_key(self, call: Call) -> Any:
        key = self.store.need("ssh_keys", call.id(), "SSH Key")
        self.update_named("ssh_keys", key, call.body)
        return 200, {"ssh_key": public(key)}

    @operation("DELETE", "/ssh_keys/{id}")
    def delete_ssh_key(self, call: Call) -> Any:
        self.store.need("ssh_keys", call.id(), "SSH Key")
        self.store.remove("ssh_keys", call.id())
        self.store.save()
        return 204, None

    # --- primary IPs (read and delete; created with servers) ------------------------------------------------------
    @operation("GET", "/primary_ips")
    def list_primary_ips(self, call: Call) -> Any:
        items = self.store.all("primary_ips")
        if call.get("ip"):
            items = [item for item in items if item["ip"] == call.get("ip")]
        return self.listing(call, "primary_ips", items)

    @operation("GET", "/primary_ips/{id}")
    def get_primary_ip(self, call: Call) -> Any:
        return 200, {"primary_ip": public(self.store.need("primary_ips", call.id(), "Primary IP"))}

    @operation("DELETE", "/primary_ips/{id}")
    def delete_primary_ip(self, call: Call) -> Any:
        primary = self.store.need("primary_ips", call.id(), "Primary IP")
        if primary["assignee_id"] is not None:
            raise APIError.of("service_error", "primary IP is assigned to a server; unassign it first")
        self.store.remove("primary_ips", primary["id"])
        self.store.save()
        return 204, None

    # --- catalogue ------------------------------------------------------------------------------------------------
    @operation("GET", "/locations")
    def list_locations(self, call: Call) -> Any:
        return self.listing(call, "locations", catalog.locations())

    @operation("GET", "/locations/{id}")
    def get_location(self, call: Call) -> Any:
        return 200, {"location": _need(catalog.location(str(call.id())), "Location", call.id())}

    @operation("GET", "/datacenters")
    def list_datacenters(self, call: Call) -> Any:
        status, data = self.listing(call, "datacenters", catalog.datacenters())
        data["recommendation"] = catalog.datacenter("fsn1-dc14")["id"]  # type: ignore[index]
        return status, data

    @operation("GET", "/datacenters/{id}")
    def get_datacenter(self, call: Call) -> Any:
        return 200, {"datacenter": _need(catalog.datacenter(call.id()), "Datacenter", call.id())}

    @operation("GET", "/server_types")
    def list_server_types(self, call: Call) -> Any:
        return self.listing(call, "server_types", catalog.server_types())

    @operation("GET", "/server_types/{id}")
    def get_server_type(self, call: Call) -> Any:
        return 200, {"server_type": _need(catalog.server_type(call.id()), "Server Type", call.id())}

    @operation("GET", "/load_balancer_types")
    def list_load_balancer_types(self, call: Call) -> Any:
        return self.listing(call, "load_balancer_types", catalog.load_balancer_types())

    @operation("GET", "/load_balancer_types/{id}")
    def get_load_balancer_type(self, call: Call) -> Any:
        found = catalog.load_balancer_type(call.id())
        return 200, {"load_balancer_type": _need(found, "Load Balancer Type", call.id())}


def _need(found: dict[str, Any] | None, what: str, ident: Any) -> dict[str, Any]:
    if found is None:
        raise APIError(404, "not_found", f"{what} with ID '{ident}' not found")
    return found


def _fingerprint(public_key: str) -> str:
    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, ValueError):
        raise APIError.invalid_input("public_key", "invalid public key") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def _in_use(address: str, port: int) -> bool:
    """Something (another sandbox's rescue system) already listens there."""
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except OSError:
        return False
