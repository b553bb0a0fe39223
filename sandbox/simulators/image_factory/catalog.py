"""What the simulated factory offers: Talos versions, official extensions and overlays (from data/*.json)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
MIN_VERSION = "v1.11.0"
_IDENTIFIER = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-({_IDENTIFIER}(?:\.{_IDENTIFIER})*))?(?:\+({_IDENTIFIER}(?:\.{_IDENTIFIER})*))?"
)


@dataclass(frozen=True)
class Version:
    """A semantic version as the factory parses it (the leading ``v`` optional)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}" + ("-" + ".".join(self.pre) if self.pre else "")

    @property
    def line(self) -> str:
        return f"v{self.major}.{self.minor}"

    def sort_key(self) -> tuple[Any, ...]:
        # a release sorts after its pre-releases; numeric identifiers before alphanumeric ones
        pre = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)


def parse_version(text: str) -> Version | None:
    """None when ``text`` is not semantic-version syntax (the factory then answers 500)."""
    match = _SEMVER.fullmatch(text[1:] if text.startswith("v") else text)
    if not match:
        return None
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    if any(part.isdigit() and len(part) > 1 and part.startswith("0") for part in pre):
        return None
    return Version(int(match.group(1)), int(match.group(2)), int(match.group(3)), pre)


def synthetic_digest(reference: str) -> str:
    """A stable, obviously synthetic digest for an image reference."""
    return "sha256:" + hashlib.sha256(f"talosforge-sandbox:{reference}".encode()).hexdigest()


def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


class Catalog:
    def __init__(self, published: list[str] | None = None, broken: list[str] | None = None) -> None:
        data = _load("versions.json")
        self.published = [v for v in (parse_version(text) for text in (published or data["published"])) if v]
        self.broken_versions = [
            v for v in (parse_version(text) for text in (broken if broken is not None else data["broken"])) if v
        ]

    @cached_property
    def _extensions(self) -> dict[str, Any]:
        return _load("extensions.json")["lines"]

    @cached_property
    def _overlays(self) -> dict[str, Any]:
        return _load("overlays.json")["lines"]

    @cached_property
    def available(self) -> list[Version]:
        """The factory's list: no broken versions, pre-releases (alpha/beta/rc.N) only of the newest minor line."""
        minimum = parse_version(MIN_VERSION)
        assert minimum is not None
        newest = max(self.published, key=Version.sort_key, default=None)
        chosen = []
        for version in self.published:
            if version.sort_key() < minimum.sort_key() or version in self.broken_versions:
                continue
            if version.pre:
                if newest is None or (version.major, version.minor) != (newest.major, newest.minor):
                    continue
                if (
                    len(version.pre) != 2
                    or version.pre[0] not in ("alpha", "beta", "rc")
                    or not version.pre[1].isdigit()
                ):
                    continue
            chosen.append(version)
        return sorted(set(chosen), key=Version.sort_key)

    def is_available(self, version: Version) -> bool:
        return version in self.available

    def extensions(self, version: Version) -> list[dict[str, str]]:
        line = self._extensions.get(version.line, {"extensions": []})
        result = []
        for item in line["extensions"]:
            reference = f"ghcr.io/{item['name']}:{item['tag'].replace('{talos}', version.tag)}"
            result.append(
                {
                    "name": item["name"],
                    "ref": reference,
                    "digest": synthetic_digest(reference),
                    "author": item["author"],
                    "description": item["description"],
                }
            )
        return result

    def overlays(self, version: Version) -> list[dict[str, str]]:
        line = self._overlays.get(version.line, {"overlays": []})
        result = []
        for item in line["overlays"]:
            image = item["ref"].split("/", 1)[1].rsplit(":", 1)[0]
            result.append(
                {"name": item["name"], "image": image, "ref": item["ref"], "digest": synthetic_digest(item["ref"])}
            )
        return result
