# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Download a boot image into a cache directory: resumable, verified, atomic, reusable.

Layout for ``<dir>/<name>``: the download goes to ``<name>.part`` (resumed with a Range request on the next try),
is verified, then renamed to ``<name>``; ``<name>.sha256`` (sha256sum format) records its digest. With
``decompress`` the ``.xz`` (or ``.gz``) file is also unpacked to the name without that suffix, with its own
sidecar. A later run finds the files, checks them against their sidecars, and does nothing.

Checksums: the caller's ``sha256:<hex>``/``sha512:<hex>``, else the factory's ``<url>.sha256`` when it answers
200. The community factory answers 402 there; the computed digest is then recorded and the result says that it
was not verified against a published checksum.

Errors: DownloadInputError (a checksum, file name or format that cannot be used; nothing is fetched) and
DownloadFailed (the download failed, or what arrived is not the image asked for), both DownloadError.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client as http_client
import os
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError, InputError, TalosforgeError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.unpack import unpack

CHUNK_SIZE = 1 << 20
MAX_RESUMES = 3
_HEX = {"sha256": 64, "sha512": 128}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_DECOMPRESSED_SUFFIXES = (".xz", ".gz")


class DownloadError(TalosforgeError):
    """The image could not be downloaded, verified or unpacked: one of the two kinds below, never raised itself."""


class DownloadInputError(DownloadError, InputError):
    """The checksum, file name or format asked for cannot be used; nothing was fetched."""


class DownloadFailed(DownloadError, ApiError):
    """The download failed (``failure`` of its request kept), or what arrived is not the image asked for
    (``code``: incomplete, checksum_mismatch, invalid_archive, unexpected_answer)."""


@dataclass
class DownloadResult:
    path: str  # the file to use: the unpacked one when decompress was asked
    sha256: str  # of path ("" in check mode when not known yet)
    changed: bool
    download_path: str
    download_sha256: str
    downloaded: bool  # bytes were fetched in this run
    decompressed: bool  # the file was unpacked in this run
    checksum_verified: bool  # the download matched a checksum given by the caller or published by the factory
    checksum_source: str  # "user", "factory", "none" (nothing published), "cache" (sidecar only), "unknown" (plan)
    resumed_from: int  # bytes already present in .part when the download started
    size: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_checksum(text: str) -> tuple[str, str]:
    """``sha256:<hex>``, ``sha512:<hex>`` or a bare hex digest -> (algorithm, lowercase hex)."""
    value = str(text).strip()
    algorithm, sep, digest = value.partition(":")
    if not sep:
        digest = value
        algorithm = {64: "sha256", 128: "sha512"}.get(len(value), "")
    algorithm = algorithm.lower()
    digest = digest.strip().lower()
    if algorithm not in _HEX or len(digest) != _HEX[algorithm] or not re.fullmatch(r"[0-9a-f]+", digest):
        raise DownloadInputError(
            f"checksum {text!r} is not understood; write sha256:<64 hex digits> or sha512:<128 hex digits>"
        )
    return algorithm, digest


def parse_checksum_file(text: str) -> str:
    """The digest from a ``<hex>  <filename>`` checksum file (first field of the first line)."""
    for line in text.splitlines():
        fields = line.strip().split()
        if fields:
            return fields[0].lstrip("\\").lower()
    return ""


def decompressed_name(name: str) -> str:
    for suffix in _DECOMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    raise DownloadInputError(
        f"cannot decompress {name!r}: only .xz and .gz images are unpacked here; set decompress: false "
        "or choose the raw.xz format"
    )


def sidecar_path(path: str) -> str:
    return path + ".sha256"


def read_sidecar(path: str) -> str:
    try:
        with open(sidecar_path(path), encoding="utf-8") as handle:
            return parse_checksum_file(handle.read())
    except OSError:
        return ""


def write_sidecar(path: str, digest: str) -> None:
    target = sidecar_path(path)
    temporary = target + ".tmp"
    with _create(temporary) as handle:
        handle.write(f"{digest}  {os.path.basename(path)}\n".encode())
    os.replace(temporary, target)


def hash_file(path: str, algorithms: tuple[str, ...] = ("sha256",)) -> dict[str, str]:
    hashers = {name: hashlib.new(name) for name in algorithms}
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b""):
            for hasher in hashers.values():
                hasher.update(block)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def cached_digest(path: str, expected: tuple[str, str] | None = None) -> str:
    """sha256 of ``path`` when it exists, matches its sidecar and (if given) the expected checksum; else ''."""
    recorded = read_sidecar(path)
    if not recorded or not os.path.isfile(path):
        return ""
    algorithms = ("sha256",) if expected is None or expected[0] == "sha256" else ("sha256", expected[0])
    digests = hash_file(path, algorithms)
    if digests["sha256"] != recorded:
        return ""
    if expected is not None and digests[expected[0]] != expected[1]:
        return ""
    return recorded


def ensure_cache_dir(path: str) -> str:
    """Create the cache directory (mode 0700) when missing; return its absolute path."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    return path


def default_name(url: str) -> str:
    name = os.path.basename(urllib.parse.urlsplit(url).path)
    if not name:
        raise DownloadInputError(f"cannot derive a file name from {url!r}; set filename")
    return name


def _size(path: str) -> int:
    return os.path.getsize(path) if os.path.isfile(path) else 0


def _create(path: str, append: bool = False) -> Any:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), "ab" if append else "wb")


@contextlib.contextmanager
def _locked(directory: str, name: str) -> Iterator[None]:
    """Serialise work on one cache entry across processes (parallel Ansible hosts on one controller)."""
    with _create(os.path.join(directory, f".{name}.lock"), append=True) as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------------------
# Planning (check mode: no network)
# --------------------------------------------------------------------------------------------------------------


def plan_download(
    url: str, dest_dir: str, filename: str | None = None, checksum: str | None = None, decompress: bool = False
) -> DownloadResult:
    """What download_image would do, judged from the cache alone: nothing is fetched or written."""
    expected = parse_checksum(checksum) if checksum else None
    name = filename or default_name(url)
    directory = os.path.abspath(os.path.expanduser(dest_dir))
    target = os.path.join(directory, name)
    final = os.path.join(directory, decompressed_name(name)) if decompress else target
    have_download = cached_digest(target, expected)
    downloaded = not have_download
    if decompress:
        have_final = cached_digest(final) if have_download else ""
    else:
        have_final = have_download
    if have_download:
        source = "user" if expected else "cache"
    else:
        source = "user" if expected else "unknown"
    return _result(
        (target, have_download, downloaded),
        (final, have_final, decompress and not have_final),
        verified=expected is not None and not downloaded,
        source=source,
        resumed_from=_size(target + ".part") if downloaded else 0,
    )


def _result(
    download: tuple[str, str, bool], final: tuple[str, str, bool], verified: bool, source: str, resumed_from: int
) -> DownloadResult:
    """The result from (path, sha256, fetched now) of the download and (path, sha256, unpacked now) of the file
    to use (the same file without decompress); the size is known when the file is."""
    download_path, download_sha256, downloaded = download
    path, sha256, unpacked = final
    return DownloadResult(
        path=path,
        sha256=sha256,
        changed=downloaded or unpacked,
        download_path=download_path,
        download_sha256=download_sha256,
        downloaded=downloaded,
        decompressed=unpacked,
        checksum_verified=verified,
        checksum_source=source,
        resumed_from=resumed_from,
        size=_size(path) if sha256 else 0,
    )


# --------------------------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------------------------


def published_checksum(http: HttpClient, url: str) -> tuple[str, str] | None:
    """The factory's ``<url>.sha256`` as ("sha256", hex); None when it publishes none (402, 404, other 4xx)."""
    try:
        answer = http.request("GET", url + ".sha256")
    except HttpError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            return None
        raise
    digest = parse_checksum_file(answer.text())
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise DownloadFailed(
            f"{url}.sha256 did not answer a sha256 checksum line (got {answer.text()[:100]!r})",
            code="unexpected_answer",
            request=f"GET {url}.sha256",
        )
    return "sha256", digest


def _range_start(headers: Any) -> tuple[int | None, int | None]:
    match = _CONTENT_RANGE.fullmatch((headers.get("Content-Range") or "").strip())
    if not match:
        return None, None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


class _Incomplete(Exception):
    pass


def _fetch_once(http: HttpClient, url: str, part: str, chunk_size: int) -> int | None:
    """One GET into ``part``, from its current size on. Return the offset written from, None to start over."""
    offset = _size(part)
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with http.stream(url, headers=headers, ok=(200, 206, 416)) as answer:
        total: int | None = None
        if answer.status == 206:
            begin, total = _range_start(answer.headers)
            if begin != offset:  # not the part we asked for: start over without Range
                os.remove(part)
                return None
        elif answer.status == 416:
            if (answer.headers.get("Content-Range") or "").strip() == f"bytes */{offset}":
                return offset  # an earlier run got every byte but stopped before renaming
            os.remove(part)  # the .part is longer than this file: start over
            return None
        else:  # 200: the server ignored Range and sends the whole file
            offset = 0
        length = answer.headers.get("Content-Length") or ""
        if total is None and length.isdigit():
            total = offset + int(length)
        with _create(part, append=offset > 0) as handle:
            for block in answer.chunks(chunk_size):
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
    size = _size(part)
    if total is not None and size != total:
        raise _Incomplete(f"the answer stopped at byte {size} of {total}")
    return offset


def _fetch(http: HttpClient, url: str, part: str, chunk_size: int, max_resumes: int) -> int:
    """Download ``url`` into ``part``, resuming after breaks; return how many bytes an earlier run left there."""
    reused = _size(part)
    problem = ""
    for _attempt in range(max_resumes + 1):
        try:
            written_from = _fetch_once(http, url, part, chunk_size)
        except HttpError as exc:
            raise DownloadFailed(
                f"cannot download {url}: {exc}. {_size(part)} bytes are kept in {part}; the next run resumes there",
                status=exc.status,
                code=exc.code,
                details=exc.details,
                request=exc.request,
            ) from exc
        except (OSError, http_client.HTTPException, _Incomplete) as exc:
            problem = str(exc) or type(exc).__name__
            continue
        if written_from is None:
            reused = 0
            continue
        return reused if written_from else 0
    raise DownloadFailed(
        f"the download of {url} did not complete after {max_resumes + 1} attempts ({problem or 'restarted'}); "
        f"{_size(part)} bytes are kept in {part} and the next run resumes from there",
        code="incomplete",
        request=f"GET {url}",
    )


def download_image(
    http: HttpClient,
    url: str,
    dest_dir: str,
    filename: str | None = None,
    checksum: str | None = None,
    decompress: bool = False,
    use_published_checksum: bool = True,
    chunk_size: int = CHUNK_SIZE,
    max_resumes: int = MAX_RESUMES,
) -> DownloadResult:
    """Make ``dest_dir/<name>`` a verified copy of ``url`` (and its unpacked form when ``decompress``)."""
    expected = parse_checksum(checksum) if checksum else None
    name = filename or default_name(url)
    if "/" in name or name in (".", ".."):
        raise DownloadInputError(f"filename {name!r} must be a plain file name, without directories")
    final_name = decompressed_name(name) if decompress else name
    directory = ensure_cache_dir(dest_dir)
    target = os.path.join(directory, name)
    final = os.path.join(directory, final_name)
    with _locked(directory, name):
        digest = cached_digest(target, expected)
        downloaded = not digest
        resumed_from = 0
        source = "user" if expected else "cache"
        verified = expected is not None
        if downloaded:
            if expected is None and use_published_checksum:
                expected = published_checksum(http, url)
                source = "factory" if expected else "none"
            part = target + ".part"
            resumed_from = _fetch(http, url, part, chunk_size, max_resumes)
            algorithms = ("sha256",) if expected is None or expected[0] == "sha256" else ("sha256", expected[0])
            digests = hash_file(part, algorithms)
            if expected is not None and digests[expected[0]] != expected[1]:
                os.remove(part)
                raise DownloadFailed(
                    f"{url} does not match its {source} checksum: expected {expected[0]}:{expected[1]}, got "
                    f"{expected[0]}:{digests[expected[0]]}. The download was discarded; check the checksum "
                    "(or the URL) and run again",
                    code="checksum_mismatch",
                    request=f"GET {url}",
                )
            verified = expected is not None
            os.replace(part, target)
            digest = digests["sha256"]
            write_sidecar(target, digest)
        final_digest = digest
        unpacked = False
        if decompress:
            final_digest = "" if downloaded else cached_digest(final)
            if not final_digest:
                try:
                    final_digest = unpack(target, final, chunk_size)
                except ValueError as exc:
                    raise DownloadFailed(str(exc), code="invalid_archive", request=f"GET {url}") from exc
                write_sidecar(final, final_digest)
                unpacked = True
        return _result((target, digest, downloaded), (final, final_digest, unpacked), verified, source, resumed_from)
