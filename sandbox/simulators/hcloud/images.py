"""Images: the system images of the catalogue and the snapshots servers make (list, get, update, delete, protect)."""

from __future__ import annotations

from typing import Any

from ...httpbase import operation
from . import catalog
from .app import Call, HcloudCore
from .errors import APIError
from .state import public


class ImagesMixin(HcloudCore):
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
