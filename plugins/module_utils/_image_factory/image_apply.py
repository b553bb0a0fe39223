# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.image_factory_image does, without Ansible: parameters in, result out.

One image, or a list of them: each is named (URL, installer image, file name) and, with ``dest_dir``, downloaded
into that cache (in parallel for a list, each distinct download once). Every entry is checked before anything is
downloaded; in a list, an image that fails is reported in ``failures`` (PartialFailure) while the others finish
(docs/failures.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import (
    InputError,
    PartialFailure,
    item_failure,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    DEFAULT_URL,
    ImageFactoryError,
    check_schematic_id,
    client_from_params,
    default_filename,
    image_url,
    installer_image,
    normalize_version,
    registry_from_url,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.download import (
    DownloadError,
    DownloadFailed,
    DownloadInputError,
    decompressed_name,
    download_image,
    parse_checksum,
    plan_download,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._parallel import in_parallel, worker_count

# Keys an entry of ``images`` may leave out to take the value of the top-level option of the same name.
INHERITED = ("talos_version", "platform", "arch", "format", "secureboot", "decompress")


@dataclass(frozen=True)
class Image:
    """One image: its names, and what the cache needs to download it."""

    url: str
    installer_image: str
    filename: str
    checksum: str | None
    decompress: bool

    def names(self) -> dict[str, Any]:
        return {"changed": False, "url": self.url, "installer_image": self.installer_image, "filename": self.filename}

    def files(self) -> set[str]:
        """File names this image writes in the cache (the sidecars and .part files follow from them)."""
        return {self.filename, decompressed_name(self.filename)} if self.decompress else {self.filename}


def describe(values: Mapping[str, Any], base: str, registry: str) -> Image:
    """The Image for schematic_id, talos_version, platform, arch, format, secureboot, filename, checksum, decompress."""
    schematic_id = check_schematic_id(values.get("schematic_id"))
    version = normalize_version(values.get("talos_version"))
    platform = values.get("platform") or "metal"
    arch = values.get("arch") or "amd64"
    fmt = values.get("format") or "raw.xz"
    secureboot = bool(values.get("secureboot"))
    return Image(
        url=image_url(base, schematic_id, version, platform, arch, fmt, secureboot),
        installer_image=installer_image(registry, platform, schematic_id, version, secureboot),
        filename=values.get("filename") or default_filename(schematic_id, version, platform, arch, fmt, secureboot),
        checksum=values.get("checksum"),
        decompress=bool(values.get("decompress")),
    )


def fetch(image: Image, dest_dir: str, check_mode: bool, http: HttpClient | None) -> dict[str, Any]:
    """Download (or in check mode plan) one image into ``dest_dir``; return its result.

    Raises DownloadError, or ImageFactoryError for a request the download itself does not report.
    """
    try:
        if check_mode or http is None:
            outcome = plan_download(image.url, dest_dir, image.filename, image.checksum, image.decompress)
        else:
            outcome = download_image(http, image.url, dest_dir, image.filename, image.checksum, image.decompress)
    except HttpError as exc:
        raise ImageFactoryError.from_http(exc) from exc
    except OSError as exc:
        raise DownloadFailed(
            f"cannot write the image cache: {exc}", code="cache_error", request=f"GET {image.url}"
        ) from exc
    return {**image.names(), **outcome.as_dict()}


def _base_and_registry(params: Mapping[str, Any]) -> tuple[str, str]:
    base = (params.get("url") or DEFAULT_URL).rstrip("/")
    return base, params.get("installer_registry") or registry_from_url(base)


def run_one(params: Mapping[str, Any], check_mode: bool, http: HttpClient | None = None) -> dict[str, Any]:
    """Name one image and download it when asked. Raises InputError, ImageFactoryError or DownloadError."""
    image = describe(params, *_base_and_registry(params))
    dest_dir = params.get("dest_dir")
    if not dest_dir:
        return image.names()
    if not check_mode:
        http = http or client_from_params(params).http
    return fetch(image, dest_dir, check_mode, http)


# --------------------------------------------------------------------------------------------------------------
# A list of images, downloaded in parallel
# --------------------------------------------------------------------------------------------------------------


def _entry_values(params: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(entry)
    for key in INHERITED:
        if values.get(key) is None:
            values[key] = params.get(key)
    return values


def _check_download(image: Image) -> None:
    """Raise for what download_image would refuse, so that a bad entry stops the task before any download."""
    if "/" in image.filename or image.filename in (".", ".."):
        raise DownloadInputError(f"filename {image.filename!r} must be a plain file name, without directories")
    if image.checksum:
        parse_checksum(image.checksum)
    image.files()  # raises when the format cannot be unpacked


def describe_all(params: Mapping[str, Any]) -> list[Image]:
    """An Image per entry of ``images``; raises one InputError naming every bad entry."""
    base, registry = _base_and_registry(params)
    images: list[Image] = []
    errors: list[str] = []
    for index, entry in enumerate(params["images"]):
        values = _entry_values(params, entry or {})
        try:
            if values.get("talos_version") is None:
                raise InputError("talos_version is not set; set it on the image or set the talos_version option")
            image = describe(values, base, registry)
            if params.get("dest_dir"):
                _check_download(image)
        except InputError as exc:
            errors.append(f"images[{index}]: {exc}")
            continue
        images.append(image)
    if errors:
        raise InputError("; ".join(errors))
    return images


def distinct_downloads(images: list[Image]) -> tuple[list[Image], list[int]]:
    """The distinct downloads in first-seen order, and for every image the position of its download among them.

    Raises InputError when two different images would write the same file.
    """
    position: dict[Image, int] = {}
    writer: dict[str, tuple[int, Image]] = {}
    errors: list[str] = []
    for index, image in enumerate(images):
        if image in position:
            continue
        for name in sorted(image.files()):
            other_index, other = writer.setdefault(name, (index, image))
            if other != image:
                errors.append(
                    f"images[{index}] and images[{other_index}] are different images but both write {name!r}; "
                    "give them different filename values"
                )
        position[image] = len(position)
    if errors:
        raise InputError("; ".join(errors))
    return list(position), [position[image] for image in images]


def _http_factory(
    params: Mapping[str, Any], check_mode: bool, given: Callable[[], HttpClient] | None
) -> Callable[[], HttpClient] | None:
    """What makes the HTTP client of each download thread; None in check mode, which sends nothing."""
    if check_mode:
        return None
    return given or (lambda: client_from_params(params).http)


def _collect(
    images: list[Image], positions: list[int], outcomes: list[tuple[Any, Exception | None]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One result per image, in input order, and one failure per failed download (named by its first image)."""
    failures: dict[int, dict[str, Any]] = {}
    results = []
    for index, (image, at) in enumerate(zip(images, positions, strict=True)):
        outcome, error = outcomes[at]
        if error is None:
            results.append(dict(outcome))
            continue
        failures.setdefault(at, {**item_failure(f"images[{index}]", error), "index": index, "url": image.url})
        results.append({**image.names(), "failed": True, "msg": failures[at]["msg"]})
    return results, list(failures.values())


def run_many(
    params: Mapping[str, Any], check_mode: bool, make_http: Callable[[], HttpClient] | None = None
) -> dict[str, Any]:
    """Name every image of ``images``; with ``dest_dir`` download the distinct ones in parallel.

    Raises InputError (before any download) or PartialFailure when some downloads fail.
    """
    workers = worker_count(params.get("parallel", 4), InputError)
    images = describe_all(params)
    dest_dir = params.get("dest_dir")
    if not dest_dir:
        return {"changed": False, "images": [image.names() for image in images]}
    downloads, positions = distinct_downloads(images)
    outcomes = in_parallel(
        downloads,
        workers,
        _http_factory(params, check_mode, make_http),
        lambda http, image: fetch(image, dest_dir, check_mode, http),
        (DownloadError, ImageFactoryError),
        "image",
    )
    results, failures = _collect(images, positions, outcomes)
    changed = any(outcome is not None and outcome["changed"] for outcome, _error in outcomes)
    result: dict[str, Any] = {"changed": changed, "images": results}
    if failures:
        raise PartialFailure.of("distinct images", len(downloads), failures, result)
    return result


def run(params: Mapping[str, Any], check_mode: bool, http: HttpClient | None = None) -> dict[str, Any]:
    """Build names, download when asked; return the result.

    Raises InputError, ImageFactoryError, DownloadError, or PartialFailure for a list with failed images.
    """
    if params.get("images") is not None:
        return run_many(params, check_mode, (lambda: http) if http else None)
    return run_one(params, check_mode, http)
