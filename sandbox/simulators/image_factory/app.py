"""The Image Factory simulator's HTTP API (community edition by default), per tests/contracts/image-factory."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

from ...httpbase import TEXT_PLAIN, HTTPError, Request, Response, SimulatorApp, file_response, route
from . import schematic as schematics
from .assets import Asset, AssetStore, content_type, parse_asset_path
from .catalog import Catalog, Version, parse_version
from .talosctl_assets import NAMES as TALOSCTL_NAMES
from .talosctl_assets import launcher, write_checksums

_SCHEMATIC_ID = re.compile(r"[0-9a-f]{64}")
_CHECKSUMS = {".sha256": hashlib.sha256, ".sha512": hashlib.sha512}
# renamed or misspelled extension names the factory still accepts
_EXTENSION_ALIASES = {
    "siderolabs/v4l-uvc": "siderolabs/v4l-uvc-drivers",
    "siderolabs/usb-modem": "siderolabs/usb-modem-drivers",
    "siderolabs/gasket": "siderolabs/gasket-driver",
    "siderolabs/talos-vmtoolsd": "siderolabs/vmtoolsd-guest-agent",
    "siderolabs/xe-guest-utilities": "siderolabs/xen-guest-agent",
    "siderolabs/nvidia-container-toolkit": "siderolabs/nvidia-container-toolkit-lts",
    "siderolabs/nvidia-open-gpu-kernel-modules": "siderolabs/nvidia-open-gpu-kernel-modules-lts",
    "siderolabs/nonfree-kmod-nvidia": "siderolabs/nonfree-kmod-nvidia-lts",
    "siderolabs/nvidia-fabricmanager": "siderolabs/nvidia-fabricmanager-lts",
    "siderolabs/i915-ucode": "siderolabs/i915",
    "siderolabs/amdgpu-firmware": "siderolabs/amdgpu",
}


def go_json(data: Any) -> bytes:
    """JSON as Go's json.Encoder writes it: compact, HTML characters escaped, a trailing newline."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return (text + "\n").encode("utf-8")


class SchematicStore:
    """Schematics by ID: the canonical YAML, plus what image building needs (kernel args, extensions) as JSON.

    The facts are kept apart because go-yaml's output cannot always be read back (a literal block whose first
    line starts with a space gets an indentation indicator that does not fit), so it is never parsed again.
    Files survive a restart of the simulator.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def put(self, schematic_id: str, canonical: str, record: dict[str, Any]) -> None:
        customization = record["customization"]
        facts = {
            "extraKernelArgs": customization["extraKernelArgs"],
            "officialExtensions": customization["systemExtensions"]["officialExtensions"],
        }
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            for suffix, text in ((".json", json.dumps(facts)), (".yaml", canonical)):
                target = self.root / f"{schematic_id}{suffix}"
                if not target.exists():
                    temporary = target.with_name(target.name + ".tmp")
                    temporary.write_text(text, encoding="utf-8")
                    temporary.replace(target)

    def get(self, schematic_id: str) -> str | None:
        if not _SCHEMATIC_ID.fullmatch(schematic_id):
            return None
        try:
            return (self.root / f"{schematic_id}.yaml").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def facts(self, schematic_id: str) -> dict[str, list[str]]:
        """{"extraKernelArgs": [...], "officialExtensions": [...]} of a stored schematic."""
        try:
            return dict(json.loads((self.root / f"{schematic_id}.json").read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError):
            return {"extraKernelArgs": [], "officialExtensions": []}


class ImageFactoryApp(SimulatorApp):
    name = "image-factory"
    server_header = "Image Factory simulator (talosforge sandbox)"
    redacted_query = frozenset({"token"})

    def __init__(self, state_dir: Any, options: dict[str, Any] | None = None) -> None:
        super().__init__(state_dir, options)
        self.enterprise = bool(self.options.get("enterprise", False))
        raw_size = _size_option(self.options, "raw_image_size", 4 << 20, minimum=1024)
        asset_size = _size_option(self.options, "asset_size", 256 << 10, minimum=1024)
        self.catalog = Catalog(self.options.get("versions"), self.options.get("broken_versions"))
        self.schematics = SchematicStore(self.data_dir / "schematics")
        self.assets = AssetStore(self.data_dir / "assets", raw_size, asset_size)
        write_checksums(self.data_dir / "talosctl")

    def reset_state(self) -> None:
        """Forget the schematics and built assets; the talosctl checksum file is there again, as after a start."""
        super().reset_state()
        write_checksums(self.data_dir / "talosctl")

    # --- schematics -------------------------------------------------------------------------------------------
    @route("POST", r"/schematics")
    def create_schematic(self, request: Request) -> Response:
        try:
            record = schematics.parse(request.body)
        except (schematics.SchematicError, UnicodeDecodeError) as error:
            raise HTTPError(400, str(error)) from None
        if record["owner"] and not self.enterprise:
            raise HTTPError(400, "owner field is only supported in Enterprise edition")
        canonical = schematics.canonical(record)
        schematic_id = schematics.schematic_id(canonical)
        self.schematics.put(schematic_id, canonical, record)
        return Response(
            201, go_json({"id": schematic_id, "schematic": canonical}), {"Content-Type": "application/json"}
        )

    @route("GET", r"/schematics/(?P<id>[^/]+)")
    def get_schematic(self, request: Request) -> Response:
        canonical = self.schematics.get(request.params["id"])
        if canonical is None:
            raise HTTPError(404, "schematic not found")
        return Response.text(200, canonical, "application/yaml")

    # --- catalog ----------------------------------------------------------------------------------------------
    @route("GET", r"/versions")
    def versions(self, request: Request) -> Response:
        chosen = self.catalog.broken_versions if request.query_value("broken") == "true" else self.catalog.available
        return _sniffed_json([version.tag for version in chosen])

    def _known_version(self, text: str) -> Version:
        version = parse_version(text)
        if version is None:
            raise HTTPError(500, "internal server error")  # the factory does not classify a malformed version
        if not self.catalog.is_available(version):
            raise HTTPError(404, f"version {version.tag[1:]} is not available")
        return version

    @route("GET", r"/version/(?P<version>[^/]+)/extensions/official")
    def official_extensions(self, request: Request) -> Response:
        return _sniffed_json(self.catalog.extensions(self._known_version(request.params["version"])))

    @route("GET", r"/version/(?P<version>[^/]+)/overlays/official")
    def official_overlays(self, request: Request) -> Response:
        return _sniffed_json(self.catalog.overlays(self._known_version(request.params["version"])))

    # --- images -----------------------------------------------------------------------------------------------
    @route(("GET", "HEAD"), r"/image/(?P<schematic>[^/]+)/(?P<version>[^/]+)/(?P<path>[^/]+)")
    def image(self, request: Request) -> Response:
        path = request.params["path"]
        if path.endswith(".sigstore.json"):
            raise HTTPError(402, "enterprise signing is not enabled: signature endpoint is not available")
        checksum = next((suffix for suffix in _CHECKSUMS if path.endswith(suffix)), None)
        if checksum:
            path = path.removesuffix(checksum)
            if not self.enterprise:
                raise HTTPError(402, "enterprise not enabled: checksum endpoint is not available")
        schematic_id = request.params["schematic"]
        canonical = self.schematics.get(schematic_id)
        if canonical is None:
            raise HTTPError(404, f'schematic ID "{schematic_id}" not found')
        version = parse_version(request.params["version"])
        if version is None:
            raise HTTPError(500, "internal server error")
        asset = parse_asset_path(path)
        version = self._known_version(version.tag)
        facts = self.schematics.facts(schematic_id)
        self._check_extensions(facts["officialExtensions"], version, asset)
        filename = request.query_value("filename") or path
        file, digest = self.assets.get(schematic_id, facts["extraKernelArgs"], version.tag, asset)
        if checksum:
            line = f"{_CHECKSUMS[checksum](file.read_bytes()).hexdigest()}  {filename}\n"
            disposition = f'attachment; filename="{filename}{checksum}"'
            return Response.text(200, line, TEXT_PLAIN, {"Content-Disposition": disposition})
        headers = {"Content-Type": content_type(path), "Content-Disposition": f'attachment; filename="{filename}"'}
        return file_response(request, file, headers, etag=digest)

    # --- talosctl downloads (Talos v1.11.0 and later) ---------------------------------------------------------
    @route("GET", r"/talosctl/(?P<version>[^/]+)")
    def talosctl_list(self, request: Request) -> Response:
        version = self._talosctl_version(request.params["version"])
        base = f"http://{request.headers.get('Host', '127.0.0.1')}/talosctl/{version}"
        return _sniffed_json([f"{base}/{name}" for name in TALOSCTL_NAMES])

    @route(("GET", "HEAD"), r"/talosctl/(?P<version>[^/]+)/(?P<path>[^/]+)")
    def talosctl_binary(self, request: Request) -> Response:
        self._talosctl_version(request.params["version"])
        path = request.params["path"]
        if path not in TALOSCTL_NAMES:
            raise HTTPError(404, f"talosctl binary {path!r} not found")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{path}"',
        }
        return Response(200, launcher(), headers)

    def _talosctl_version(self, tag: str) -> str:
        version = self._known_version(tag)
        if (version.major, version.minor) < (1, 11):
            raise HTTPError(404, f"talosctl is not available for Talos version {version.tag}")
        return version.tag

    def _check_extensions(self, wanted: list[str], version: Version, asset: Asset) -> None:
        if asset.kind in ("kernel", "cmdline") or not wanted:
            return
        offered = {item["name"] for item in self.catalog.extensions(version)}
        for name in wanted:
            if name not in offered and _EXTENSION_ALIASES.get(name) not in offered:
                raise HTTPError(400, f'official extension "{name}" is not available for Talos version {version.tag}')


def _sniffed_json(data: Any) -> Response:
    # these handlers set no Content-Type, so Go's server sniffs the JSON text as text/plain
    return Response(200, go_json(data), {"Content-Type": TEXT_PLAIN})


def _size_option(options: dict[str, Any], key: str, default: int, minimum: int) -> int:
    value = options.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 1 << 30:
        raise ValueError(f"option {key} must be a number of bytes from {minimum} to {1 << 30}, got {value!r}")
    return value
