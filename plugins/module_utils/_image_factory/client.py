# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Talking to a Talos Image Factory: schematics, versions, extensions, overlays; image and installer names.

The API is described in tests/contracts/image-factory/api.md. A name, version or extension that is not valid (or
not offered) raises InputError; a failed request or an answer that cannot be used raises ImageFactoryError.
Nothing here imports Ansible.
"""

from __future__ import annotations

import difflib
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError, InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import client_from_params as http_client
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import (
    canonicalize,
    id_of_canonical,
    request_body,
)

DEFAULT_URL = "https://factory.talos.dev"
DEFAULT_TIMEOUT = 30.0
URL_ENV_VAR = "TALOSFORGE_IMAGE_FACTORY_URL"
ARCHES = ("amd64", "arm64")

_SCHEMATIC_ID = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?")
_PLATFORM = re.compile(r"[a-z0-9][a-z0-9-]*")
_FORMAT = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*")


class ImageFactoryError(ApiError):
    """A request to the factory failed, or the factory answered something we cannot use."""

    @classmethod
    def from_http(cls, exc: HttpError) -> ImageFactoryError:
        """The one wording of a failed request to the factory, with the request's ``failure`` kept."""
        return cls(
            f"Image Factory request failed: {exc}",
            status=exc.status,
            code=exc.code,
            details=exc.details,
            request=exc.request,
        )


def factory_argument_spec(env_fallback: Callable[..., Any]) -> dict[str, Any]:
    """Argument spec of the options in the talosforge.cluster.image_factory doc fragment.

    The caller passes Ansible's ``env_fallback`` so that this file stays free of Ansible imports.
    """
    return {
        "url": {"type": "str", "default": DEFAULT_URL, "fallback": (env_fallback, [URL_ENV_VAR])},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
        "timeout": {"type": "float", "default": DEFAULT_TIMEOUT},
    }


# --------------------------------------------------------------------------------------------------------------
# Names and URLs
# --------------------------------------------------------------------------------------------------------------


def check_schematic_id(schematic_id: Any) -> str:
    if not isinstance(schematic_id, str) or not _SCHEMATIC_ID.fullmatch(schematic_id):
        raise InputError(
            f"schematic_id {schematic_id!r} is not a schematic ID; it must be 64 lowercase hex characters "
            "(the id returned by talosforge.cluster.image_factory_schematic)"
        )
    return schematic_id


def normalize_version(version: Any) -> str:
    """``1.13.9`` or ``v1.13.9`` -> ``v1.13.9``; raises for anything that is not a Talos version."""
    text = str(version).strip()
    if not _VERSION.fullmatch(text):
        raise InputError(
            f"talos_version {version!r} is not a Talos version; write it as vMAJOR.MINOR.PATCH, e.g. v1.13.9"
        )
    return text if text.startswith("v") else "v" + text


def image_filename(platform: str, arch: str, fmt: str, secureboot: bool = False) -> str:
    """Path of a boot asset under /image/<id>/<version>/, e.g. ``metal-amd64.raw.xz`` or ``metal-amd64-uki.efi``."""
    if not _PLATFORM.fullmatch(platform or ""):
        raise InputError(f"platform {platform!r} is not a Talos platform name such as metal, hcloud or nocloud")
    if arch not in ARCHES:
        raise InputError(f"arch {arch!r} is not supported; use one of {', '.join(ARCHES)}")
    if not _FORMAT.fullmatch(fmt or ""):
        raise InputError(f"format {fmt!r} is not an image format such as raw.xz, qcow2 or iso")
    stem = f"{platform}-{arch}" + ("-secureboot" if secureboot else "")
    if fmt == "uki.efi":
        return f"{stem}-uki.efi"
    return f"{stem}.{fmt}"


def default_filename(schematic_id: str, version: str, platform: str, arch: str, fmt: str, secureboot: bool) -> str:
    """The cache file name of an image: ``<id[:12]>-<version>-<served name>``, unique per schematic and version,
    with the served name's suffix kept at the end."""
    return f"{schematic_id[:12]}-{version}-{image_filename(platform, arch, fmt, secureboot)}"


def image_url(
    base: str, schematic_id: str, version: str, platform: str, arch: str, fmt: str, secureboot: bool = False
) -> str:
    """Download URL of a boot image, e.g. https://factory.talos.dev/image/<id>/v1.13.9/hcloud-amd64.raw.xz."""
    path = image_filename(platform, arch, fmt, secureboot)
    return f"{base.rstrip('/')}/image/{check_schematic_id(schematic_id)}/{normalize_version(version)}/{path}"


def registry_from_url(url: str) -> str:
    """The registry host[:port] of a factory URL (its OCI registry is served on the same host)."""
    parsed = urllib.parse.urlsplit(url)
    if not parsed.hostname:
        raise InputError(f"{url!r} is not a URL with a host name")
    host = parsed.hostname if ":" not in parsed.hostname else f"[{parsed.hostname}]"
    return f"{host}:{parsed.port}" if parsed.port else host


def installer_image(registry: str, platform: str, schematic_id: str, version: str, secureboot: bool = False) -> str:
    """Installer image reference, e.g. ``factory.talos.dev/metal-installer/<id>:v1.13.9``."""
    if not _PLATFORM.fullmatch(platform or ""):
        raise InputError(f"platform {platform!r} is not a Talos platform name such as metal, hcloud or nocloud")
    registry = registry.rstrip("/")
    if "://" in registry:
        registry = registry_from_url(registry)
    suffix = "-secureboot" if secureboot else ""
    return f"{registry}/{platform}-installer{suffix}/{check_schematic_id(schematic_id)}:{normalize_version(version)}"


# --------------------------------------------------------------------------------------------------------------
# Versions and extensions
# --------------------------------------------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, int, int, int, str]:
    match = _VERSION.fullmatch(version)
    if not match:
        return (-1, -1, -1, 0, version)
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def near_versions(version: str, available: list[str], count: int = 5) -> list[str]:
    """The offered versions closest to ``version`` (same minor line first), in ascending order."""
    wanted = _version_key(version)
    known = [v for v in available if _VERSION.fullmatch(v)]

    def distance(candidate: str) -> tuple[int, int, int, int]:
        key = _version_key(candidate)
        return (abs(key[0] - wanted[0]), abs(key[1] - wanted[1]), abs(key[2] - wanted[2]), key[3] == 0)

    return sorted(sorted(known, key=distance)[:count], key=_version_key)


def check_version(version: str, available: list[str], url: str = "") -> str:
    """Return the normalised version, or raise naming the nearest versions the factory does offer."""
    wanted = normalize_version(version)
    if wanted in available:
        return wanted
    where = f" at {url}" if url else ""
    near = near_versions(wanted, available)
    hint = f" Nearest offered versions: {', '.join(near)}." if near else " It offers no versions at all."
    raise InputError(
        f"Talos {wanted} is not offered by the Image Factory{where}.{hint} "
        "Fix: set talos_version to an offered version (GET /versions lists them)."
    )


def _suggest(name: str, names: list[str]) -> list[str]:
    """Offered names close to ``name``, compared without the ``siderolabs/`` namespace (shared by all)."""
    by_short: dict[str, list[str]] = {}
    for full in names:
        by_short.setdefault(full.rsplit("/", 1)[-1], []).append(full)
    wanted = name.rsplit("/", 1)[-1]
    if wanted in by_short:  # only the namespace is missing or wrong
        return by_short[wanted][:3]
    result: list[str] = []
    for short in difflib.get_close_matches(wanted, list(by_short), n=3, cutoff=0.7):
        result.extend(full for full in by_short[short] if full not in result)
    return result[:3]


def unknown_extensions(requested: list[str], available: list[str]) -> dict[str, list[str]]:
    """Names in ``requested`` that are not offered, each with its "did you mean" suggestions."""
    offered = set(available)
    return {name: _suggest(name, list(available)) for name in requested if name not in offered}


def check_extensions(requested: list[str], available: list[str], version: str = "", url: str = "") -> None:
    """Raise listing every requested extension the factory does not offer for the version."""
    unknown = unknown_extensions(requested, available)
    if not unknown:
        return
    parts = []
    for name, guesses in unknown.items():
        hint = f" (did you mean {' or '.join(guesses)}?)" if guesses else ""
        parts.append(f"{name}{hint}")
    where = f" for Talos {version}" if version else ""
    at = f" at {url}" if url else ""
    raise InputError(
        f"The Image Factory{at} does not offer these system extensions{where}: {'; '.join(parts)}. "
        "Fix: use the full names listed by GET /version/<version>/extensions/official, e.g. siderolabs/iscsi-tools."
    )


# --------------------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------------------


class ImageFactoryClient:
    """Image Factory API calls over an HttpClient."""

    def __init__(self, http: HttpClient):
        self.http = http

    @property
    def url(self) -> str:
        return self.http.base_url

    def _list(self, path: str) -> list[Any]:
        try:
            answer = self.http.get_json(path)
        except HttpError as exc:
            raise ImageFactoryError.from_http(exc) from exc
        if not isinstance(answer, list):
            url = self.http.url_for(path)
            raise ImageFactoryError(
                f"GET {url} answered {type(answer).__name__}, not a list",
                code="unexpected_answer",
                request=f"GET {url}",
            )
        return answer

    def versions(self) -> list[str]:
        """Talos versions the factory builds images for (GET /versions)."""
        return [str(v) for v in self._list("/versions")]

    def extensions(self, version: str) -> list[dict[str, Any]]:
        """Official system extensions for a version: dicts with name, ref, digest, author, description."""
        path = f"/version/{urllib.parse.quote(normalize_version(version))}/extensions/official"
        return [dict(item) for item in self._list(path) if isinstance(item, Mapping)]

    def overlays(self, version: str) -> list[dict[str, Any]]:
        """Official overlays for a version: dicts with name, image, ref, digest."""
        path = f"/version/{urllib.parse.quote(normalize_version(version))}/overlays/official"
        return [dict(item) for item in self._list(path) if isinstance(item, Mapping)]

    def get_schematic(self, schematic_id: str) -> str | None:
        """The stored canonical YAML of a schematic, or None when the factory does not know the ID."""
        try:
            answer = self.http.request("GET", f"/schematics/{check_schematic_id(schematic_id)}", ok=(200, 404))
        except HttpError as exc:
            raise ImageFactoryError.from_http(exc) from exc
        return answer.text() if answer.status == 200 else None

    def register_schematic(self, schematic: Mapping[str, Any] | None) -> tuple[str, str]:
        """POST the schematic; return (id, canonical YAML). Fails if the factory's ID differs from ours."""
        local_id, canonical = canonicalize(schematic)
        try:
            answer = self.http.post("/schematics", request_body(schematic), "application/yaml").json()
        except HttpError as exc:
            raise ImageFactoryError.from_http(exc) from exc
        remote_id = answer.get("id") if isinstance(answer, Mapping) else None
        if remote_id != local_id:
            remote_text = answer.get("schematic") if isinstance(answer, Mapping) else None
            detail = ""
            if isinstance(remote_text, str):
                detail = (
                    f" The factory's canonical form (sha256 {id_of_canonical(remote_text)}) was:\n{remote_text}"
                    f"\nThe local canonical form was:\n{canonical}"
                )
            raise ImageFactoryError(
                f"The Image Factory at {self.url} registered the schematic as {remote_id!r}, but the ID computed "
                f"locally is {local_id}. Images and installer references built from the local ID would not "
                "match this factory. Fix: check that the url points at a Talos Image Factory (an Enterprise "
                "factory with authentication adds an owner, which changes the ID) and report the difference "
                f"below to the talosforge.cluster maintainers.{detail}",
                code="schematic_id_mismatch",
                details=answer,
                request=f"POST {self.http.url_for('/schematics')}",
            )
        return local_id, canonical

    def ensure_schematic(self, schematic: Mapping[str, Any] | None) -> tuple[str, str, bool]:
        """Register the schematic unless the factory already has it; return (id, canonical, created)."""
        local_id, canonical = canonicalize(schematic)
        if self.get_schematic(local_id) is not None:
            return local_id, canonical, False
        self.register_schematic(schematic)
        return local_id, canonical, True


def client_from_params(params: Mapping[str, Any]) -> ImageFactoryClient:
    """An ImageFactoryClient from module parameters (url, timeout, validate_certs, ca_path)."""
    return ImageFactoryClient(http_client(params, DEFAULT_URL, default_timeout=DEFAULT_TIMEOUT))
