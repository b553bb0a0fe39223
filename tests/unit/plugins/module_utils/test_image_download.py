# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image downloads into the cache (plugins/module_utils/_image_factory/download.py).

Most tests run against the sandbox's Image Factory simulator; a few misbehaviours the simulator does not offer
(ignoring Range, breaking off mid-body) use a small scripted server.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import socket
import stat
import threading
import time

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError, InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    ImageFactoryClient,
    image_url,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.download import (
    DownloadError,
    DownloadFailed,
    DownloadInputError,
    cached_digest,
    decompressed_name,
    download_image,
    ensure_cache_dir,
    parse_checksum,
    parse_checksum_file,
    plan_download,
    read_sidecar,
    write_sidecar,
)
from factory_testlib import logged
from loopback_testlib import LoopbackServer, QuietHandler

from sandbox import harness

VERSION = "v1.13.9"
SCHEMATIC = {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}}
RAW_SIZE = 1 << 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def no_sleep(_seconds: float) -> None:
    pass


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sha256:" + "A" * 64, ("sha256", "a" * 64)),
        (" sha512:" + "b" * 128, ("sha512", "b" * 128)),
        ("c" * 64, ("sha256", "c" * 64)),
        ("d" * 128, ("sha512", "d" * 128)),
    ],
)
def test_parse_checksum(text, expected):
    assert parse_checksum(text) == expected


@pytest.mark.parametrize("text", ["md5:" + "a" * 32, "sha256:abc", "sha256:" + "g" * 64, "", "a" * 63])
def test_parse_checksum_rejects(text):
    with pytest.raises(DownloadInputError, match="write sha256:<64 hex digits> or sha512:<128 hex digits>") as caught:
        parse_checksum(text)
    assert isinstance(caught.value, DownloadError) and isinstance(caught.value, InputError)


def test_parse_checksum_file():
    assert parse_checksum_file("\n" + "A" * 64 + "  metal-amd64.raw.xz\n") == "a" * 64
    assert parse_checksum_file("\\" + "b" * 64 + "  odd\\nname\n") == "b" * 64
    assert parse_checksum_file("") == ""


def test_decompressed_name():
    assert decompressed_name("metal-amd64.raw.xz") == "metal-amd64.raw"
    assert decompressed_name("gcp-amd64.raw.tar.gz") == "gcp-amd64.raw.tar"
    with pytest.raises(DownloadError, match="only .xz and .gz images are unpacked"):
        decompressed_name("metal-amd64.raw.zst")


def test_cache_dir_is_created_private(tmp_path):
    path = ensure_cache_dir(str(tmp_path / "a" / "images"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700


def test_sidecar_round_trip_and_cached_digest(tmp_path):
    image = tmp_path / "x.raw"
    image.write_bytes(b"talos")
    assert cached_digest(str(image)) == ""  # no sidecar: not trusted
    write_sidecar(str(image), sha256(b"talos"))
    assert (tmp_path / "x.raw.sha256").read_text() == f"{sha256(b'talos')}  x.raw\n"
    assert stat.S_IMODE(os.stat(tmp_path / "x.raw.sha256").st_mode) == 0o600
    assert read_sidecar(str(image)) == sha256(b"talos")
    assert cached_digest(str(image)) == sha256(b"talos")
    assert cached_digest(str(image), ("sha256", sha256(b"other"))) == ""
    assert cached_digest(str(image), ("sha512", hashlib.sha512(b"talos").hexdigest())) == sha256(b"talos")
    image.write_bytes(b"tampered")
    assert cached_digest(str(image)) == ""


# ---------------------------------------------------------------------------------------------------------------
# Against the Image Factory simulator
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def factory(tmp_path):
    with harness.running("image-factory", tmp_path / "sim", raw_image_size=RAW_SIZE) as sim:
        yield sim


@pytest.fixture
def enterprise(tmp_path):
    with harness.running("image-factory", tmp_path / "sim-ee", raw_image_size=RAW_SIZE, enterprise=True) as sim:
        yield sim


def prepare(sim, platform="metal", fmt="raw.xz"):
    """Register the schematic; return (http client, image URL, image bytes as served)."""
    http = HttpClient(sim.url, sleep=no_sleep, timeout=10)
    schematic_id = ImageFactoryClient(http).register_schematic(SCHEMATIC)[0]
    url = image_url(sim.url, schematic_id, VERSION, platform, "amd64", fmt)
    body = http.request("GET", url).body
    logged(sim, 2)
    return http, url, body


def image_requests(sim, url, at_least: int = 0):
    path = url.split("://", 1)[1].split("/", 1)[1]
    return [r for r in logged(sim, at_least) if r["path"] == "/" + path]


def test_download_from_the_community_factory(factory, tmp_path):
    http, url, body = prepare(factory)
    before = len(factory.requests())
    cache = tmp_path / "cache"
    result = download_image(http, url, str(cache))
    name = url.rsplit("/", 1)[1]
    assert result.changed and result.downloaded
    assert result.path == result.download_path == str(cache / name)
    assert (cache / name).read_bytes() == body
    assert result.sha256 == result.download_sha256 == sha256(body)
    assert (cache / f"{name}.sha256").read_text() == f"{sha256(body)}  {name}\n"
    assert not (cache / f"{name}.part").exists()
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache / name).st_mode) == 0o600
    # The community factory publishes no checksum: 402, recorded as not verified.
    assert (result.checksum_verified, result.checksum_source) == (False, "none")
    sent = logged(factory, before + 2)[before:]
    assert [(r["path"].rsplit("/", 1)[1], r["status"]) for r in sent] == [(f"{name}.sha256", 402), (name, 200)]


def test_second_run_is_a_no_op_without_requests(factory, tmp_path):
    http, url = prepare(factory)[:2]
    download_image(http, url, str(tmp_path))
    before = len(logged(factory, 4))
    again = download_image(http, url, str(tmp_path))
    assert not again.changed and not again.downloaded
    assert (again.checksum_verified, again.checksum_source) == (False, "cache")
    time.sleep(0.05)
    assert len(factory.requests()) == before


def test_enterprise_checksum_is_verified(enterprise, tmp_path):
    http, url, body = prepare(enterprise)
    result = download_image(http, url, str(tmp_path))
    assert (result.checksum_verified, result.checksum_source) == (True, "factory")
    assert result.sha256 == sha256(body)


def test_user_checksum(factory, tmp_path):
    http, url, body = prepare(factory)
    before = len(factory.requests())
    result = download_image(http, url, str(tmp_path), checksum=f"sha512:{hashlib.sha512(body).hexdigest()}")
    assert (result.checksum_verified, result.checksum_source) == (True, "user")
    assert not any(r["path"].endswith(".sha256") for r in logged(factory, before + 1)[before:])
    cached = download_image(http, url, str(tmp_path), checksum=f"sha256:{sha256(body)}")
    assert not cached.changed and cached.checksum_verified


def test_wrong_checksum_discards_the_download(factory, tmp_path):
    http, url = prepare(factory)[:2]
    cache = tmp_path / "cache"
    with pytest.raises(DownloadFailed, match="does not match its user checksum: expected sha256:0000") as caught:
        download_image(http, url, str(cache), checksum="sha256:" + "0" * 64)
    assert caught.value.failure() == {
        "status": None,
        "code": "checksum_mismatch",
        "details": None,
        "request": f"GET {url}",
    }
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == []


def test_cached_file_not_matching_the_given_checksum_is_downloaded_again(factory, tmp_path):
    http, url, body = prepare(factory)
    name = url.rsplit("/", 1)[1]
    (tmp_path / name).write_bytes(b"stale")
    write_sidecar(str(tmp_path / name), sha256(b"stale"))
    result = download_image(http, url, str(tmp_path), checksum=f"sha256:{sha256(body)}")
    assert result.downloaded and (tmp_path / name).read_bytes() == body


def test_resume_from_a_partial_download(factory, tmp_path):
    http, url, body = prepare(factory)
    name = url.rsplit("/", 1)[1]
    half = len(body) // 2
    (tmp_path / f"{name}.part").write_bytes(body[:half])
    result = download_image(http, url, str(tmp_path))
    assert result.resumed_from == half and result.downloaded
    assert (tmp_path / name).read_bytes() == body and result.sha256 == sha256(body)
    sent = image_requests(factory, url, 4)[-1]
    assert sent["request_headers"]["Range"] == f"bytes={half}-" and sent["status"] == 206


def test_complete_part_file_is_used(factory, tmp_path):
    http, url, body = prepare(factory)
    name = url.rsplit("/", 1)[1]
    (tmp_path / f"{name}.part").write_bytes(body)
    result = download_image(http, url, str(tmp_path))
    assert result.resumed_from == len(body) and (tmp_path / name).read_bytes() == body
    assert image_requests(factory, url, 4)[-1]["status"] == 416


def test_part_longer_than_the_image_starts_over(factory, tmp_path):
    http, url, body = prepare(factory)
    name = url.rsplit("/", 1)[1]
    (tmp_path / f"{name}.part").write_bytes(body + b"junk")
    result = download_image(http, url, str(tmp_path))
    assert result.resumed_from == 0 and (tmp_path / name).read_bytes() == body
    assert [r["status"] for r in image_requests(factory, url, 5)[-2:]] == [416, 200]


def test_server_errors_are_retried(factory, tmp_path):
    http, url, body = prepare(factory)
    factory.set_fault(503, count=2, path="^/image/.*raw.xz$")
    result = download_image(http, url, str(tmp_path))
    assert (tmp_path / url.rsplit("/", 1)[1]).read_bytes() == body
    assert [r["status"] for r in image_requests(factory, url, 6)[-3:]] == [503, 503, 200]
    assert result.changed


def test_persistent_failure_keeps_the_part_for_next_run(factory, tmp_path):
    http, url, body = prepare(factory)
    name = url.rsplit("/", 1)[1]
    (tmp_path / f"{name}.part").write_bytes(body[:1000])
    factory.set_fault(500, count=20, path="^/image/.*raw.xz$")
    with pytest.raises(DownloadError, match="1000 bytes are kept in .*part; the next run resumes there") as caught:
        download_image(http, url, str(tmp_path))
    assert isinstance(caught.value, ApiError) and caught.value.status == 500 and caught.value.request == f"GET {url}"
    assert (tmp_path / f"{name}.part").stat().st_size == 1000
    factory.clear_faults()
    assert download_image(http, url, str(tmp_path)).resumed_from == 1000


def test_decompress(factory, tmp_path):
    http, url, body = prepare(factory)
    result = download_image(http, url, str(tmp_path), decompress=True)
    raw = lzma.decompress(body)
    name = url.rsplit("/", 1)[1][: -len(".xz")]
    assert result.decompressed and result.path == str(tmp_path / name)
    assert (tmp_path / name).read_bytes() == raw and result.size == len(raw) == RAW_SIZE
    assert result.sha256 == sha256(raw) and result.download_sha256 == sha256(body)
    assert read_sidecar(str(tmp_path / name)) == sha256(raw)
    again = download_image(http, url, str(tmp_path), decompress=True)
    assert not again.changed and not again.decompressed and again.sha256 == sha256(raw)
    # The unpacked file went missing: unpack again, without downloading.
    os.remove(tmp_path / name)
    before = len(logged(factory, 4))
    third = download_image(http, url, str(tmp_path), decompress=True)
    assert third.changed and third.decompressed and not third.downloaded
    time.sleep(0.05)
    assert len(factory.requests()) == before


def test_plan_download_makes_no_requests(factory, tmp_path):
    http, url = prepare(factory)[:2]
    before = len(factory.requests())
    plan = plan_download(url, str(tmp_path / "new"), decompress=True)
    assert plan.changed and plan.downloaded and plan.decompressed and plan.sha256 == ""
    assert plan.checksum_source == "unknown"
    assert not (tmp_path / "new").exists()
    download_image(http, url, str(tmp_path / "new"), decompress=True)
    after = len(logged(factory, before + 2))
    plan = plan_download(url, str(tmp_path / "new"), decompress=True)
    assert not plan.changed and not plan.downloaded and plan.sha256 and plan.size == RAW_SIZE
    time.sleep(0.05)
    assert len(factory.requests()) == after
    assert before < after


def test_parallel_downloads_of_one_image_share_the_work(factory, tmp_path):
    http, url, body = prepare(factory)
    before = len(image_requests(factory, url, 2))
    results = []

    def worker():
        results.append(download_image(HttpClient(factory.url, sleep=no_sleep), url, str(tmp_path)))

    threads = [threading.Thread(target=worker) for _number in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.downloaded for r in results) == [False, False, True]
    assert len(image_requests(factory, url, 4)) == before + 1
    assert all(r.sha256 == sha256(body) for r in results)


def test_filename_must_be_plain(factory, tmp_path):
    http, url = prepare(factory)[:2]
    with pytest.raises(DownloadError, match="plain file name"):
        download_image(http, url, str(tmp_path), filename="../escape.raw.xz")


# ---------------------------------------------------------------------------------------------------------------
# Misbehaving servers
# ---------------------------------------------------------------------------------------------------------------


class FileServer(LoopbackServer):
    """Serves one file at /img.raw.xz and misbehaves on request: ``ignore_range`` and ``break_after``."""

    def __init__(self, data: bytes, ignore_range: bool = False, break_after: int | None = None):
        self.data = data
        self.ignore_range = ignore_range
        self.break_after = break_after
        self.requests: list[tuple[str | None, int]] = []
        owner = self

        class Handler(QuietHandler):
            def do_GET(self):
                requested = self.headers.get("Range")
                start = int(requested[6:-1]) if requested and not owner.ignore_range else 0
                payload = owner.data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(owner.data) - 1}/{len(owner.data)}")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                cut = owner.break_after is not None
                if cut:
                    payload, owner.break_after = payload[: owner.break_after], None
                # Recorded before the answer goes out, so that a client done reading finds its request here.
                owner.requests.append((requested, self.command == "GET" and len(payload)))
                self.wfile.write(payload)
                if cut:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True

        super().__init__(Handler)
        self.url += "/img.raw.xz"


def test_server_that_ignores_range_restarts_from_zero(tmp_path):
    data = os.urandom(50_000)
    with FileServer(data, ignore_range=True) as server:
        (tmp_path / "img.raw.xz.part").write_bytes(b"x" * 20_000)
        http = HttpClient(server.url.rsplit("/", 1)[0], sleep=no_sleep)
        result = download_image(http, server.url, str(tmp_path), use_published_checksum=False)
    assert result.resumed_from == 0
    assert (tmp_path / "img.raw.xz").read_bytes() == data and result.sha256 == sha256(data)


def test_answer_breaking_off_mid_body_is_resumed(tmp_path):
    data = os.urandom(300_000)
    with FileServer(data, break_after=100_000) as server:
        http = HttpClient(server.url.rsplit("/", 1)[0], sleep=no_sleep)
        result = download_image(http, server.url, str(tmp_path), use_published_checksum=False, chunk_size=8192)
        ranges = [request[0] for request in server.requests]
    assert (tmp_path / "img.raw.xz").read_bytes() == data
    assert ranges == [None, "bytes=100000-"]
    assert result.resumed_from == 0  # nothing came from an earlier run


def test_truncated_xz_is_rejected(tmp_path):
    packed = lzma.compress(os.urandom(100_000), format=lzma.FORMAT_XZ)
    with FileServer(packed[:-100]) as server:
        http = HttpClient(server.url.rsplit("/", 1)[0], sleep=no_sleep)
        with pytest.raises(DownloadError, match="truncated file|not a valid xz file"):
            download_image(http, server.url, str(tmp_path), use_published_checksum=False, decompress=True)
    assert not (tmp_path / "img.raw").exists() and not (tmp_path / "img.raw.part").exists()


def test_concatenated_xz_streams_and_padding(tmp_path):
    first, second = os.urandom(10_000), os.urandom(20_000)
    packed = lzma.compress(first) + b"\0" * 8 + lzma.compress(second)
    with FileServer(packed) as server:
        http = HttpClient(server.url.rsplit("/", 1)[0], sleep=no_sleep)
        result = download_image(http, server.url, str(tmp_path), use_published_checksum=False, decompress=True)
    assert (tmp_path / "img.raw").read_bytes() == first + second and result.sha256 == sha256(first + second)


def test_gzip_images_are_unpacked(tmp_path):
    data = os.urandom(30_000)
    with FileServer(gzip.compress(data)) as server:
        url = server.url[: -len(".xz")] + ".gz"
        http = HttpClient(server.url.rsplit("/", 1)[0], sleep=no_sleep)
        result = download_image(http, url, str(tmp_path), use_published_checksum=False, decompress=True)
    assert (tmp_path / "img.raw").read_bytes() == data and result.size == len(data)
