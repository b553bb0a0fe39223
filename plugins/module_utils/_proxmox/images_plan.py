# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Pure decisions about Talos images in Proxmox storage: file names, volume ids, which node needs which copy.

A file name encodes everything that makes an image what it is, so that a file of that name in the storage is
the image and a re-run finds it without comparing bytes:
``<prefix><schematic id, 12 characters>-<talos version>-<platform>-<arch>.<format>``, for example
``talosforge-homelab-376567988ad3-v1.13.9-metal-amd64.qcow2``. The prefix names the cluster, so that destroy
removes exactly the cluster's images.
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

CONTENT_DIRS = {"import": "import", "iso": "iso"}
# File suffixes PVE accepts per content type (import: disk images and OVAs; iso: ISO images).
CONTENT_SUFFIXES = {"import": (".qcow2", ".raw", ".vmdk", ".ova", ".img"), "iso": (".iso", ".img")}
_FACTORY_PATH = re.compile(r".*/image/(?P<id>[0-9a-f]{64})/(?P<version>[^/]+)/(?P<file>[^/]+)")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ImagePlanError(InputError):
    """An image entry cannot be used as written."""


def default_filename(url: str, prefix: str) -> str:
    """``<prefix><id12>-<version>-<file>`` from an Image Factory URL; raises for another kind of URL."""
    match = _FACTORY_PATH.fullmatch(urllib.parse.urlsplit(url).path)
    if not match:
        raise ImagePlanError(
            f"cannot name the image of {url}: it is not an Image Factory URL (/image/<schematic id>/<version>/<file>); "
            "set filename"
        )
    return f"{prefix}{match.group('id')[:12]}-{match.group('version')}-{match.group('file')}"


def check_filename(name: str, content: str) -> str:
    if not _FILENAME.fullmatch(name or ""):
        raise ImagePlanError(f"filename {name!r} must be a plain file name (letters, digits, '.', '-', '_')")
    if not name.endswith(CONTENT_SUFFIXES[content]):
        raise ImagePlanError(
            f"filename {name!r} does not end in one of {', '.join(CONTENT_SUFFIXES[content])}, which PVE requires "
            f"for content {content}"
        )
    return name


def volume_id(storage: str, content: str, filename: str) -> str:
    """``local:import/<file>`` or ``local:iso/<file>``."""
    return f"{storage}:{CONTENT_DIRS[content]}/{filename}"


@dataclass
class ImageSpec:
    url: str
    filename: str
    checksum: str | None
    pve_nodes: list[str]
    index: int


@dataclass
class Target:
    """One copy to put into one node's storage (or the shared storage, through one node)."""

    image: ImageSpec
    pve_node: str
    volid: str
    present: bool
    checksum: tuple[str, str] | None = None
    checksum_source: str = "none"
    notes: list[str] = field(default_factory=list)


def copy_nodes(image: ImageSpec, shared: bool) -> list[str]:
    """The nodes through which the image is stored: one when the storage is shared, else every node."""
    return image.pve_nodes[:1] if shared else list(dict.fromkeys(image.pve_nodes))


def plan_targets(
    images: list[ImageSpec], storage: str, content: str, shared: bool, existing: dict[str, set[str]]
) -> list[Target]:
    """Every (image, node) copy, with whether the volume is there already (``existing``: node -> volume ids)."""
    targets: list[Target] = []
    for image in images:
        volid = volume_id(storage, content, image.filename)
        for node in copy_nodes(image, shared):
            targets.append(Target(image, node, volid, volid in existing.get(node, set())))
    return targets


def multipart(fields: dict[str, str], file_field: str, filename: str, size: int) -> tuple[str, bytes, bytes, int]:
    """(content type, head, tail, total length) of a multipart/form-data body whose file part is streamed."""
    boundary = f"talosforge-{uuid.uuid4().hex}"
    head = b""
    for name, value in fields.items():
        head += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", head, tail, len(head) + size + len(tail)


def stream_file(head: bytes, path: str, tail: bytes, chunk: int = 1 << 20) -> Iterator[bytes]:
    yield head
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            yield block
    yield tail


def images_from_params(params: dict[str, Any]) -> list[ImageSpec]:
    """An ImageSpec per entry of ``images``; raises ImagePlanError naming every bad entry."""
    specs: list[ImageSpec] = []
    errors: list[str] = []
    content = params.get("content") or "import"
    for index, entry in enumerate(params.get("images") or []):
        where = f"images[{index}]"
        try:
            url = entry.get("url") or ""
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ImagePlanError(f"url {url!r} is not an http(s) URL")
            name = entry.get("filename") or default_filename(url, params.get("name_prefix") or "")
            nodes = entry.get("pve_nodes") or params.get("pve_nodes") or []
            if not nodes and params.get("state", "present") == "present":
                raise ImagePlanError("no Proxmox node to store it on; set pve_nodes")
            specs.append(ImageSpec(url, check_filename(name, content), entry.get("checksum"), list(nodes), index))
        except ImagePlanError as exc:
            errors.append(f"{where}: {exc}")
    first: dict[str, ImageSpec] = {}
    for spec in specs:
        other = first.setdefault(spec.filename, spec)
        if other.url != spec.url:
            errors.append(
                f"images[{spec.index}] and images[{other.index}] are different images but both are named "
                f"{spec.filename!r}; give them different filenames"
            )
    if errors:
        raise ImagePlanError("; ".join(errors))
    return specs
