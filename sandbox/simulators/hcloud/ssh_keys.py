"""SSH keys: list, create (with the key's MD5 fingerprint), get, update, delete."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ...httpbase import operation
from .app import Call, HcloudCore
from .errors import APIError
from .state import check_labels, now, public


class SshKeysMixin(HcloudCore):
    def resolve_ssh_key(self, id_or_name: int | str) -> dict[str, Any]:
        key = self.store.find("ssh_keys", id_or_name)
        if key is None:
            raise APIError.invalid_input("ssh_keys", f"SSH key {id_or_name} not found")
        return key

    @operation("GET", "/ssh_keys")
    def list_ssh_keys(self, call: Call) -> Any:
        items = self.store.all("ssh_keys")
        if call.get("fingerprint"):
            items = [item for item in items if item["fingerprint"] == call.get("fingerprint")]
        return self.listing(call, "ssh_keys", items)

    @operation("POST", "/ssh_keys")
    def create_ssh_key(self, call: Call) -> Any:
        body = call.body
        missing = [key for key in ("name", "public_key") if key not in body]
        if missing:
            raise APIError.fields([(key, "is required") for key in missing])
        self.check_name("ssh_keys", body, required=True)
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


def _fingerprint(public_key: str) -> str:
    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (IndexError, ValueError):
        raise APIError.invalid_input("public_key", "invalid public key") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))
