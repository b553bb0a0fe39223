"""Boot assets: which paths the factory accepts, and deterministic synthetic content for them.

Content depends only on (schematic, version, path) and the size options. ``.xz`` assets are real xz streams
(``.raw.xz`` holds a synthetic raw disk image), ``.gz``/``.tar.gz`` are real gzip/tar; the other formats
(``.iso``, ``.qcow2``, ``.raw.zst``, ``.efi``, ``.tar``, kernels) are synthetic bytes that only look the part.
Everything is generated once and cached under ``<state>/image-factory/assets/``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ...httpbase import HTTPError

ARCHES = ("amd64", "arm64")
PLATFORMS = frozenset(
    "metal aws gcp equinixMetal azure digital-ocean nocloud openstack vmware akamai cloudstack hcloud oracle upcloud "
    "vultr exoscale opennebula scaleway alibabacloud".split()
)
OUT_FORMATS = (".tar.gz", ".gz", ".xz", ".zst")
DISK_FORMATS = ("raw", "qcow2", "vhd", "ova")
_CONTENT_TYPES = {
    ".efi": "application/efi",
    ".iso": "application/x-iso9660-image",
    ".xz": "application/x-xz",
    ".gz": "application/gzip",
    ".qcow2": "application/x-qemu-disk",
}
_DEFAULT_CMDLINE = (
    "console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 "
    "printk.devkmsg=on selinux=1 module.sig_enforce=1"
)


@dataclass(frozen=True)
class Asset:
    path: str
    kind: str  # kernel, cmdline, initramfs, iso, uki, installer, disk
    arch: str
    platform: str = "metal"
    secureboot: bool = False
    disk_format: str = ""
    out_format: str = ""


def _arch(text: str) -> str:
    if text in ARCHES:
        return text
    if text in ("x86_64", "i386"):  # iPXE names, accepted by the factory
        return "amd64"
    raise HTTPError(400, f'invalid architecture: "{text}"')


def _platform_arch(text: str) -> tuple[str, str, bool]:
    secureboot = text.endswith("-secureboot")
    text = text.removesuffix("-secureboot")
    platform, separator, rest = text.partition("-")
    if not separator:
        raise HTTPError(400, f'invalid platform-arch: "{text}"')
    if platform == "digital" and rest.startswith("ocean-"):
        platform, rest = "digital-ocean", rest.removeprefix("ocean-")
    if platform not in PLATFORMS:
        raise HTTPError(400, f'invalid platform: "{platform}"')
    return platform, _arch(rest), secureboot


def parse_asset_path(path: str) -> Asset:
    """The asset a path names, following the factory's rules; HTTPError 400 for anything else."""
    if path.startswith("kernel-"):
        return Asset(path, "kernel", _arch(path.removeprefix("kernel-")))
    if path.startswith("cmdline-"):
        platform, arch, secureboot = _platform_arch(path.removeprefix("cmdline-"))
        return Asset(path, "cmdline", arch, platform, secureboot)
    if path.startswith("initramfs-") and path.endswith(".xz"):
        return Asset(path, "initramfs", _arch(path.removeprefix("initramfs-").removesuffix(".xz")), out_format=".xz")
    if path.endswith(".iso"):
        platform, arch, secureboot = _platform_arch(path.removesuffix(".iso"))
        return Asset(path, "iso", arch, platform, secureboot)
    if path.endswith("-uki.efi"):
        platform, arch, secureboot = _platform_arch(path.removesuffix("-uki.efi"))
        return Asset(path, "uki", arch, platform, secureboot)
    if path.startswith("installer-") and path.endswith(".tar"):
        rest = path.removeprefix("installer-").removesuffix(".tar")
        secureboot = rest.endswith("-secureboot")
        return Asset(path, "installer", _arch(rest.removesuffix("-secureboot")), secureboot=secureboot)
    if "-installer-" in path and path.endswith(".tar"):
        platform, _unused, rest = path.partition("-installer-")
        platform, arch, secureboot = _platform_arch(platform + "-" + rest.removesuffix(".tar"))
        return Asset(path, "installer", arch, platform, secureboot)
    rest = path
    out_format = next((suffix for suffix in OUT_FORMATS if rest.endswith(suffix)), "")
    rest = rest.removesuffix(out_format) if out_format else rest
    disk_format = next((name for name in DISK_FORMATS if rest.endswith("." + name)), "")
    if not disk_format:
        raise HTTPError(400, f'invalid profile path: "{rest}"')
    platform, arch, secureboot = _platform_arch(rest.removesuffix("." + disk_format))
    return Asset(path, "disk", arch, platform, secureboot, disk_format, out_format)


def content_type(path: str) -> str:
    """The factory's Content-Type for a download name (by its last extension)."""
    extension = os.path.splitext(path)[1]
    return _CONTENT_TYPES.get(extension, "application/octet-stream")


class AssetStore:
    """Generates each asset once and keeps it (with its SHA-256) under ``root``."""

    def __init__(self, root: Path, raw_image_size: int, asset_size: int) -> None:
        self.root = root
        self.raw_image_size = raw_image_size
        self.asset_size = asset_size
        self._lock = threading.Lock()

    def get(self, schematic_id: str, kernel_args: list[str], version: str, asset: Asset) -> tuple[Path, str]:
        """(file, sha256 hex) of the asset, generating it on first use."""
        folder = self.root / schematic_id / version / f"{self.raw_image_size}-{self.asset_size}"
        target = folder / asset.path
        digest_file = target.with_name(target.name + ".sha256")
        with self._lock:
            if not target.exists() or not digest_file.exists():
                folder.mkdir(parents=True, exist_ok=True)
                data = self._build(schematic_id, kernel_args, version, asset)
                temporary = target.with_name(target.name + ".tmp")
                temporary.write_bytes(data)
                os.replace(temporary, target)
                digest_file.write_text(hashlib.sha256(data).hexdigest(), encoding="ascii")
        return target, digest_file.read_text(encoding="ascii").strip()

    def _label(self, schematic_id: str, version: str, asset: Asset) -> bytes:
        return (
            "TALOSFORGE SANDBOX SYNTHETIC ASSET - made by the Image Factory simulator, not a real Talos image\n"
            f"asset: {asset.path}\nschematic: {schematic_id}\nversion: {version}\n"
            f"platform: {asset.platform}\narch: {asset.arch}\nsecureboot: {str(asset.secureboot).lower()}\n"
        ).encode()

    def _noise(self, seed: bytes, size: int) -> bytes:
        return hashlib.shake_256(seed).digest(size) if size > 0 else b""

    def _build(self, schematic_id: str, kernel_args: list[str], version: str, asset: Asset) -> bytes:
        label = self._label(schematic_id, version, asset)
        seed = label
        if asset.kind == "cmdline":
            return " ".join([f"talos.platform={asset.platform}", _DEFAULT_CMDLINE, *kernel_args]).encode()
        if asset.kind == "disk":
            return self._package(self._raw_disk(label, seed), asset, seed)
        payload = label + self._noise(seed, self.asset_size - len(label))
        if asset.out_format == ".xz":
            return lzma.compress(payload, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
        return payload

    def _raw_disk(self, label: bytes, seed: bytes) -> bytes:
        size = self.raw_image_size
        disk = bytearray(size)
        head = label[:446]
        disk[: len(head)] = head
        if size >= 512:
            disk[510:512] = b"\x55\xaa"  # the boot signature of a disk's first sector
        offset = min(1 << 20, size // 2)
        noise = self._noise(seed + b"disk", min(64 * 1024, size - offset))
        disk[offset : offset + len(noise)] = noise
        return bytes(disk)

    def _package(self, raw: bytes, asset: Asset, seed: bytes) -> bytes:
        if asset.disk_format != "raw":
            raw = f"SYNTHETIC {asset.disk_format.upper()} IMAGE\n".encode() + raw  # not a real qcow2/vhd/ova
        if asset.out_format == ".xz":
            return lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
        if asset.out_format == ".gz":
            return gzip.compress(raw, mtime=0)
        if asset.out_format == ".tar.gz":
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
                member = tarfile.TarInfo("disk.raw")
                member.size, member.mtime, member.mode = len(raw), 0, 0o644
                archive.addfile(member, io.BytesIO(raw))
            return gzip.compress(buffer.getvalue(), mtime=0)
        if asset.out_format == ".zst":
            return b"SYNTHETIC ZSTD - not a real zstd stream\n" + self._noise(seed + b"zst", self.asset_size)
        return raw
