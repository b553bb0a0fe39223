# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.image_factory_info does, without Ansible: the versions, extensions and overlays a
factory offers, and (when asked) a check that a version and extensions are among them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    ImageFactoryClient,
    check_extensions,
    check_version,
    client_from_params,
    normalize_version,
)


def run(params: Mapping[str, Any], client: ImageFactoryClient | None = None) -> dict[str, Any]:
    """Query the factory; return the result. Raises InputError or ImageFactoryError."""
    version = params.get("talos_version")
    required = list(params.get("require_extensions") or [])
    if (params.get("require_version") or required) and not version:
        raise InputError("talos_version is required with require_version or require_extensions")
    client = client or client_from_params(params)
    versions = client.versions()
    result: dict[str, Any] = {"changed": False, "versions": versions}
    if not version:
        return result
    version = normalize_version(version)
    available = version in versions
    if params.get("require_version") or required:
        check_version(version, versions, client.url)
    extensions = client.extensions(version) if available else []
    overlays = client.overlays(version) if available else []
    names = sorted(str(item.get("name")) for item in extensions if item.get("name"))
    if required:
        check_extensions(required, names, version, client.url)
    result.update(
        version_available=available,
        extensions=extensions,
        extension_names=names,
        overlays=overlays,
    )
    return result
