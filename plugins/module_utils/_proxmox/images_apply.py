# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.proxmox_talos_image does, without Ansible: images into PVE storage through the API.

Per Proxmox node (one for a shared storage): check the storage holds the content type, list its volumes once;
every missing copy is then fetched by PVE itself (``download-url``) or uploaded from the control node, all in
parallel, and their tasks are waited on together. PVE verifies each copy against a checksum: the one given, the
Image Factory's published ``.sha256``, or the SHA-256 of a local download into ``cache_dir``.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import PartialFailure, item_failure
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.download import (
    DownloadError,
    download_image,
    parse_checksum,
    published_checksum,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.client import (
    ProxmoxClient,
    ProxmoxError,
    quote,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.images_plan import (
    ImagePlanError,
    ImageSpec,
    Target,
    default_filename,
    images_from_params,
    multipart,
    plan_targets,
    stream_file,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.lost_writes import volume_downloaded
from ansible_collections.talosforge.cluster.plugins.module_utils._proxmox.tasks import wait_tasks

ERRORS = (ProxmoxError, DownloadError, HttpError, OSError, ImagePlanError)


def storage_status(client: ProxmoxClient, node: str, storage: str, content: str) -> Mapping[str, Any]:
    """The storage's status on a node; raises when it is missing there or does not hold ``content``."""
    items = client.get(f"/nodes/{quote(node)}/storage", storage=storage) or []
    found = next((item for item in items if isinstance(item, Mapping) and item.get("storage") == storage), None)
    if found is None:
        raise ProxmoxError(
            f"storage {storage!r} is not available on Proxmox node {node!r}; name a storage that exists there "
            "(pvesm status lists them)"
        )
    kinds = {kind.strip() for kind in str(found.get("content") or "").split(",")}
    if content not in kinds:
        raise ProxmoxError(
            f"storage {storage!r} on {node!r} does not hold content {content!r} (it holds {', '.join(sorted(kinds))}); "
            f"allow it with: pvesm set {storage} --content {','.join(sorted(kinds | {content}))}"
        )
    return found


def factory_http(params: Mapping[str, Any], url: str) -> HttpClient:
    parts = urllib.parse.urlsplit(url)
    return HttpClient(
        f"{parts.scheme}://{parts.netloc}",
        validate_certs=params.get("factory_validate_certs", True) is not False,
        ca_path=params.get("factory_ca_path"),
    )


def resolve_checksum(params: Mapping[str, Any], image: ImageSpec) -> tuple[tuple[str, str] | None, str, str | None]:
    """(checksum, source, local file): given, the factory's published one, or computed from a cached download."""
    if image.checksum:
        return parse_checksum(image.checksum), "user", None
    http = factory_http(params, image.url)
    published = published_checksum(http, image.url)
    if published and params.get("method") != "upload":
        return published, "factory", None
    if params.get("cache_dir"):
        local = download_image(http, image.url, params["cache_dir"], default_filename(image.url, ""), None)
        return published or ("sha256", local.download_sha256), "factory" if published else "computed", local.path
    return None, "none", None


def _put(client: ProxmoxClient, params: Mapping[str, Any], target: Target, local: str | None) -> Any:
    node, storage, content = quote(target.pve_node), quote(params["storage"]), params["content"]
    fields: dict[str, Any] = {"content": content, "filename": target.image.filename}
    if target.checksum:
        fields["checksum"], fields["checksum-algorithm"] = target.checksum[1], target.checksum[0]
    if params.get("method") == "upload":
        if not local:
            raise ImagePlanError("method upload needs cache_dir (the image is downloaded there, then uploaded)")
        size = os.path.getsize(local)
        upload_fields = {k: str(v) for k, v in fields.items() if k != "filename"}
        kind, head, tail, length = multipart(upload_fields, "filename", target.image.filename, size)
        body = stream_file(head, local, tail)
        return client.upload(f"/nodes/{node}/storage/{storage}/upload", kind, body, length)
    fields["url"] = target.image.url
    fields["verify-certificates"] = params.get("factory_validate_certs", True) is not False
    settled = volume_downloaded(client, target.pve_node, params["storage"], target.volid, target.image.filename)
    return client.post(f"/nodes/{node}/storage/{storage}/download-url", settled=settled, **fields)


def _copy_name(target: Target) -> str:
    """How a failed copy is named: ``<pve node>:<volid>``, as RV(removed) names volumes."""
    return f"{target.pve_node}:{target.volid}"


def run_present(params: Mapping[str, Any], check_mode: bool, client: ProxmoxClient, sleep: Callable) -> dict[str, Any]:
    """Store every missing copy; raises ImagePlanError, ProxmoxError, or PartialFailure naming the failed copies."""
    images = images_from_params(dict(params))
    storage, content, workers = params["storage"], params["content"], params.get("parallel") or 4
    nodes = list(dict.fromkeys(node for image in images for node in image.pve_nodes))
    statuses = in_parallel(
        nodes, workers, None, lambda _c, n: storage_status(client, n, storage, content), (ProxmoxError,)
    )
    for _status, error in statuses:
        if error is not None:
            raise error
    shared = bool(nodes) and all(bool(status.get("shared")) for status, _error in statuses)
    listed = nodes[:1] if shared else nodes
    listings = in_parallel(
        listed,
        workers,
        None,
        lambda _c, n: client.get(f"/nodes/{quote(n)}/storage/{quote(storage)}/content", content=content),
        (ProxmoxError,),
    )
    existing: dict[str, set[str]] = {}
    for node, (items, error) in zip(listed, listings, strict=True):
        if error is not None:
            raise error
        existing[node] = {str(item.get("volid")) for item in items or [] if isinstance(item, Mapping)}
    targets = plan_targets(images, storage, content, shared, existing)
    missing = [t for t in targets if not t.present]
    failures: dict[int, dict[str, Any]] = {}  # by id() of the Target
    if missing and not check_mode:
        sums = in_parallel(missing, workers, None, lambda _c, t: resolve_checksum(params, t.image), ERRORS)
        issued = []
        calls = []
        for target, (found, error) in zip(missing, sums, strict=True):
            if error is not None:
                failures[id(target)] = {**item_failure(_copy_name(target), error), "msg": f"checksum: {error}"}
                continue
            target.checksum, target.checksum_source, local = found
            calls.append((target, local))
        answers = in_parallel(calls, workers, None, lambda _c, item: _put(client, params, *item), ERRORS)
        for (target, _local), (upid, error) in zip(calls, answers, strict=True):
            if error is not None:
                failures[id(target)] = item_failure(_copy_name(target), error)
            else:
                issued.append((target, upid))
        outcomes = wait_tasks(
            client, [str(u) for _t, u in issued if u], float(params.get("task_timeout") or 1800),
            float(params.get("poll_interval") or 1.0), workers, sleep,
        )  # fmt: skip
        for target, upid in issued:
            outcome = outcomes.get(str(upid)) if upid else None
            if outcome is not None and not outcome.ok:
                failures[id(target)] = item_failure(_copy_name(target), outcome.error())
    results = []
    for image in images:
        mine = [t for t in targets if t.image is image]
        results.append(
            {
                "url": image.url,
                "filename": image.filename,
                "volid": mine[0].volid if mine else None,
                "changed": any(not t.present for t in mine),
                "stored_on": [t.pve_node for t in mine],
                "copied_to": [t.pve_node for t in mine if not t.present],
                "checksum_source": next((t.checksum_source for t in mine if not t.present), "existing"),
            }
        )
    result: dict[str, Any] = {"changed": bool(missing), "images": results, "shared": shared}
    if failures:
        entries = [
            {**failures[id(t)], "url": t.image.url, "pve_node": t.pve_node} for t in missing if id(t) in failures
        ]
        raise PartialFailure.of("image copies", len(missing), entries, result)
    return result


def run_absent(params: Mapping[str, Any], check_mode: bool, client: ProxmoxClient, sleep: Callable) -> dict[str, Any]:
    """Remove the images whose file name starts with ``name_prefix`` (and those of ``images``) from every node."""
    prefix = params.get("name_prefix") or ""
    if len(prefix) < 4:
        raise ImagePlanError("state=absent needs a name_prefix naming the cluster, such as talosforge-homelab-")
    wanted = {image.filename for image in images_from_params({**params, "state": "absent"})}
    storage, content = params["storage"], params["content"]
    doomed: list[tuple[str, str]] = []
    shared_seen = False
    for node in params.get("pve_nodes") or []:
        status = storage_status(client, node, storage, content)
        if status.get("shared") and shared_seen:
            continue
        shared_seen = shared_seen or bool(status.get("shared"))
        for item in client.get(f"/nodes/{quote(node)}/storage/{quote(storage)}/content", content=content) or []:
            name = str(item.get("volid", "")).split("/", 1)[-1]
            if name.startswith(prefix) or name in wanted:
                doomed.append((node, str(item["volid"])))
    removed: list[str] = []
    if not check_mode and doomed:
        path = "/nodes/{}/storage/{}/content/{}"
        answers = in_parallel(
            doomed, 4, None, lambda _c, d: client.delete(path.format(quote(d[0]), quote(storage), quote(d[1]))), ERRORS
        )
        upids = [str(upid) for upid, error in answers if error is None and upid]
        outcomes = wait_tasks(client, upids, float(params.get("task_timeout") or 600), sleep=sleep)
        errors = [str(e) for _u, e in answers if e] + [o.message() for o in outcomes.values() if not o.ok]
        if errors:
            raise ProxmoxError("; ".join(errors))
    removed = [f"{node}:{volid}" for node, volid in doomed]
    return {"changed": bool(doomed), "removed": removed, "images": []}
