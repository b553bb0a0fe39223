"""Image Factory simulator: schematics (with the real ID algorithm), versions, extensions, overlays, boot images.

Built from tests/contracts/image-factory (api.md and README.md). It is a simulator: images are synthetic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .app import ImageFactoryApp

NAME = "image-factory"
DEFAULT_PORT = 18701
OPTIONS = {
    "enterprise": "bool, default false: accept `owner` and serve .sha256/.sha512 checksums instead of 402",
    "raw_image_size": "int bytes, default 4194304: size of the synthetic raw disk inside disk images (.raw.xz ...)",
    "asset_size": "int bytes, default 262144: size of other synthetic assets (iso, kernel, initramfs, ...)",
    "versions": "list of version tags, default data/versions.json 'published': the versions the factory knows",
    "broken_versions": "list of version tags, default data/versions.json 'broken': hidden from /versions",
}


def create_app(state_dir: Path, options: dict[str, Any]) -> ImageFactoryApp:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown image-factory option(s): {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    return ImageFactoryApp(state_dir, options)
