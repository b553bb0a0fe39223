# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""hcloud_talos_image from start to end: reuse what exists, clean leftovers, build the rest in parallel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import (
    InputError,
    PartialFailure,
    item_failure,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient, HcloudError
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_build import (
    Builder,
    Runner,
    clean_leftovers,
    leftovers,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_plan import (
    Wanted,
    find_snapshot,
    snapshot_selector,
    wanted_images,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count


def _entry(wanted: Wanted, image: Mapping[str, Any] | None, state: str) -> dict[str, Any]:
    return {
        "talos_version": wanted.talos_version,
        "schematic_id": wanted.schematic_id,
        "arch": wanted.arch,
        "url": wanted.url,
        "location": wanted.location,
        "state": state,
        "image_id": str(image["id"]) if image else None,
        "description": image.get("description") if image else wanted.description(),
        "labels": dict(image.get("labels") or {}) if image else {},
    }


def _wait_until_available(
    client: HcloudClient, image: dict[str, Any], timeout: float, builder: Builder
) -> dict[str, Any]:
    """A snapshot still ``creating`` (an earlier run was stopped while it was being taken) is waited for."""
    for _round in range(max(1, int(timeout // 5))):
        if image.get("status") == "available":
            return image
        builder.sleep(5)
        image = client.call("GET", f"/images/{image['id']}")["image"]
    raise HcloudError(f"snapshot {image['id']} is still {image.get('status')} after {timeout:.0f} s", code="timeout")


def run(
    client: HcloudClient, runner: Runner, params: Mapping[str, Any], check_mode: bool, builder: Builder | None = None
) -> dict[str, Any]:
    wanted = wanted_images(params)
    cluster = params.get("cluster")
    builder = builder or Builder(client, runner, params)
    snapshots = client.list("images", {"type": "snapshot", "label_selector": snapshot_selector(cluster)})
    found = {w: find_snapshot(w, snapshots, cluster) for w in wanted}
    missing = [w for w in wanted if found[w] is None]
    old = leftovers(client, cluster)
    cleaned = [
        {"kind": kind, "id": str(item["id"]), "name": item.get("name")} for kind, items in old.items() for item in items
    ]
    result: dict[str, Any] = {"changed": bool(missing or cleaned), "leftovers": cleaned}
    if check_mode:
        result["images"] = [_entry(w, found[w], "reused" if found[w] else "would_build") for w in wanted]
        result["api_requests"] = client.requests
        return result
    if cleaned:
        clean_leftovers(client, old, builder.timeout)
    outcomes = in_parallel(
        missing,
        worker_count(params.get("parallel") or 4, InputError),
        None,
        lambda _client, w: builder.build(w),
        (HcloudError, OSError),
        "hcloud-image",
    )
    built = dict(zip(missing, outcomes, strict=True))
    images: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for w in wanted:
        snapshot = found[w]
        if snapshot is not None:
            images.append(_entry(w, _wait_until_available(client, snapshot, builder.timeout, builder), "reused"))
            continue
        image, error = built[w]
        if error is None:
            images.append(_entry(w, image, "built"))
            continue
        failures.append({**item_failure(w.key(), error), "image": w.key()})
        images.append({**_entry(w, None, "failed"), "msg": str(error)})
    result.update(images=images, api_requests=client.requests)
    if failures:
        raise PartialFailure.of("snapshot builds", len(missing), failures, result)
    return result
