"""Handlers: download-url (a real download from a loopback URL, verified, decompressed) and upload into a storage."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import ipaddress
import lzma
import os
import re
import shutil
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...httpbase import operation
from . import talos_boot
from .api import Call, PVEError
from .core import ProxmoxCore
from .handlers_storage import storage_of
from .model import Storage, Volume, now
from .tasks import Task, TaskError

# file names each content type takes (PVE refuses others)
CONTENT_NAMES = {
    "iso": re.compile(r".+\.(?:iso|img)", re.IGNORECASE),
    "import": re.compile(r".+\.(?:qcow2|raw|vmdk|ova)", re.IGNORECASE),
    "vztmpl": re.compile(r".+\.tar\.(?:gz|xz|zst|bz2)", re.IGNORECASE),
}
DECOMPRESSORS: dict[str, Callable[..., Any]] = {"gz": gzip.open, "xz": lzma.open, "bz2": bz2.open}
KNOWN_COMPRESSION = ("gz", "lzo", "zst", "bz2", "xz")
DOWNLOAD_TIMEOUT_S = 60
CHUNK = 1 << 20


class TransferHandlers(ProxmoxCore):
    """Files into a storage: downloaded from a URL, or uploaded."""

    @operation("POST", "/nodes/{node}/storage/{storage}/download-url")
    def download_url(self, call: Call) -> str:
        compression = call.get("compression")
        if compression is not None and compression not in KNOWN_COMPRESSION:
            raise PVEError(
                400, "Parameter verification failed.", {"compression": f"unknown compression '{compression}'"}
            )
        with self.cluster.lock:
            storage, content, filename, path = _target(self, call)
        url = call.get("url")

        def work(task: Task) -> None:
            task.log.append(f"downloading {url} to {path.name}")
            _check_loopback(url)
            temporary = path.with_name(f".{path.name}.download")
            path.parent.mkdir(parents=True, exist_ok=True)
            context = ssl.create_default_context()
            if not call.get("verify-certificates", True):
                context = ssl._create_unverified_context()
            opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _LoopbackRedirects())
            try:
                with opener.open(url, timeout=DOWNLOAD_TIMEOUT_S) as answer:
                    with temporary.open("wb") as handle:
                        shutil.copyfileobj(answer, handle, CHUNK)
            except TaskError:
                temporary.unlink(missing_ok=True)
                raise
            except (urllib.error.URLError, OSError) as error:
                temporary.unlink(missing_ok=True)
                raise TaskError(f"download failed: {error}") from None
            task.log.append(f"download of {temporary.stat().st_size} bytes finished")
            _verify(temporary, call.get("checksum-algorithm"), call.get("checksum"), task)
            if compression:
                temporary = _decompress(temporary, compression, task)
            _store(self, storage, content, filename, temporary, path, task)

        def release(task: Task, error: str) -> None:
            with self.cluster.lock:
                self.incoming.discard(path)

        return self.tasks.start(
            call.get("node"), "download", filename, call.user, _releasing(self, path, work), release
        ).upid

    @operation("POST", "/nodes/{node}/storage/{storage}/upload")
    def upload(self, call: Call) -> str:
        data = call.files.get("filename")
        if data is None:
            raise PVEError(
                400, "Parameter verification failed.", {"filename": "no file uploaded (multipart part 'filename')"}
            )
        with self.cluster.lock:
            storage, content, filename, path = _target(self, call)
        temporary = path.with_name(f".{path.name}.upload")
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)

        def work(task: Task) -> None:
            task.log.append(f"starting file import from: {temporary.name}")
            _verify(temporary, call.get("checksum-algorithm"), call.get("checksum"), task)
            _store(self, storage, content, filename, temporary, path, task)

        def cleanup(task: Task, error: str) -> None:
            temporary.unlink(missing_ok=True)
            with self.cluster.lock:
                self.incoming.discard(path)

        return self.tasks.start(call.get("node"), "imgcopy", "", call.user, _releasing(self, path, work), cleanup).upid


def _target(app: ProxmoxCore, call: Call) -> tuple[Storage, str, str, Path]:
    """(storage, content, normalized filename, final path) for download-url and upload; refuses bad names."""
    storage = storage_of(app, call)
    content = call.get("content")
    if content not in storage.content:
        raise PVEError(500, f"storage '{storage.name}' is not configured for content-type '{content}'")
    filename = re.sub(r"[^-a-zA-Z0-9_.]", "_", os.path.basename(str(call.get("filename"))))
    pattern = CONTENT_NAMES.get(content)
    if pattern is None or not pattern.fullmatch(filename):
        raise PVEError(400, "Parameter verification failed.", {"filename": "wrong file extension"})
    path = app.cluster.volume_file(call.get("node"), f"{storage.name}:{content}/{filename}")
    if path.exists() or f"{storage.name}:{content}/{filename}" in storage.volumes or path in app.incoming:
        raise PVEError(500, f"refusing to override existing file '{path.name}'")
    app.incoming.add(path)  # a download or upload of this name is under way
    return storage, content, filename, path


def _store(
    app: ProxmoxCore, storage: Storage, content: str, filename: str, temporary: Path, path: Path, task: Task
) -> None:
    """Move a finished file into the storage and record it; TaskError when the storage is full."""
    size = temporary.stat().st_size
    with app.cluster.lock:
        if size > storage.avail:
            temporary.unlink(missing_ok=True)
            raise TaskError(
                f"write error: No space left on device (storage '{storage.name}': {size} bytes needed, "
                f"{storage.avail} available)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, path)
        extension = filename.rsplit(".", 1)[-1].lower()
        volume_format = {"img": "raw", "ova": "ova"}.get(extension, extension)
        volid = f"{storage.name}:{content}/{filename}"
        facts = talos_boot.image_facts(path)
        storage.volumes[volid] = Volume(
            volid, content, volume_format, size, now(), None, facts, qcow2_virtual_size(path)
        )
        app.cluster.save()
    task.log.append(f"stored as {volid} ({size} bytes)")


def qcow2_virtual_size(path: Path) -> int | None:
    """The disk size in a qcow2 header (magic ``QFI\\xfb``, big-endian size at byte 24); None for anything else."""
    with path.open("rb") as handle:
        header = handle.read(32)
    if len(header) < 32 or header[:4] != b"QFI\xfb":
        return None
    return int.from_bytes(header[24:32], "big") or None


def _verify(temporary: Path, algorithm: str | None, expected: str | None, task: Task) -> None:
    if not algorithm or not expected:
        return
    digest = hashlib.new(algorithm)
    with temporary.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != expected.strip().lower():
        temporary.unlink(missing_ok=True)
        raise TaskError(f"checksum mismatch: got '{got}' != expect '{expected.strip().lower()}'")
    task.log.append(f"{algorithm} checksum verified: {got}")


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise TaskError(f"download failed: the simulator only downloads from loopback addresses, not '{host}'")


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to loopback addresses (tests never send traffic anywhere else)."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        _check_loopback(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _decompress(source: Path, algorithm: str, task: Task) -> Path:
    opener = DECOMPRESSORS.get(algorithm)
    if opener is None:
        source.unlink(missing_ok=True)
        raise TaskError(f"decompression with '{algorithm}' is not available in the simulator")
    target = source.with_name(source.name + ".plain")
    try:
        with opener(source, "rb") as packed, target.open("wb") as plain:
            shutil.copyfileobj(packed, plain, CHUNK)
    except (OSError, EOFError, lzma.LZMAError) as error:
        target.unlink(missing_ok=True)
        raise TaskError(f"decompression failed: {error}") from None
    finally:
        source.unlink(missing_ok=True)
    task.log.append(f"decompressed ({algorithm}) to {target.stat().st_size} bytes")
    return target


def _releasing(app: ProxmoxCore, path: Path, work: Callable[[Task], None]) -> Callable[[Task], None]:
    """``work`` that frees the file name for other downloads when it ends, however it ends."""

    def run(task: Task) -> None:
        try:
            work(task)
        finally:
            with app.cluster.lock:
                app.incoming.discard(path)

    return run
