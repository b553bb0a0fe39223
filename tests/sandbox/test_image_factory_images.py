"""Boot image downloads: status codes, headers, real xz streams, ranges, HEAD, checksums."""

from __future__ import annotations

import hashlib
import lzma

import pytest
from sandbox_testlib import QEMU_SCHEMATIC, RAW_IMAGE_SIZE, call

from sandbox.harness import RunningSimulator, running

pytestmark = pytest.mark.slow


def test_raw_xz_is_a_real_xz_stream(factory: RunningSimulator, qemu_schematic: str) -> None:
    reply = call(factory.url, "GET", f"/image/{qemu_schematic}/v1.13.9/metal-amd64.raw.xz")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/x-xz"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="metal-amd64.raw.xz"'
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert reply.headers["Accept-Ranges"] == "bytes"
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    disk = decompressor.decompress(reply.body)
    assert decompressor.eof and decompressor.check in (lzma.CHECK_CRC64, lzma.CHECK_SHA256)
    assert len(disk) == RAW_IMAGE_SIZE and disk[510:512] == b"\x55\xaa"
    assert f"schematic: {qemu_schematic}".encode() in disk[:512]


def test_content_is_deterministic_and_cached(tmp_path) -> None:
    bodies = []
    for state in (tmp_path / "a", tmp_path / "a", tmp_path / "b"):
        with running("image-factory", state, raw_image_size=64 * 1024) as factory:
            schematic_id = call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC).json()["id"]
            bodies.append(call(factory.url, "GET", f"/image/{schematic_id}/v1.13.9/nocloud-amd64.raw.xz").body)
    assert bodies[0] == bodies[1] == bodies[2]
    assert list((tmp_path / "a" / "image-factory" / "assets").rglob("nocloud-amd64.raw.xz"))


def test_raw_image_size_option(tmp_path) -> None:
    with running("image-factory", tmp_path, raw_image_size=2 * 1024 * 1024) as factory:
        schematic_id = call(factory.url, "POST", "/schematics", "{}").json()["id"]
        body = call(factory.url, "GET", f"/image/{schematic_id}/v1.12.0/hcloud-amd64.raw.xz").body
    assert len(lzma.decompress(body)) == 2 * 1024 * 1024


def test_filename_override_and_head(factory: RunningSimulator, qemu_schematic: str) -> None:
    path = f"/image/{qemu_schematic}/v1.13.9/metal-amd64.iso"
    got = call(factory.url, "GET", path + "?filename=talos.iso")
    assert got.headers["Content-Disposition"] == 'attachment; filename="talos.iso"'
    assert got.headers["Content-Type"] == "application/x-iso9660-image"
    head = call(factory.url, "HEAD", path + "?filename=talos.iso")
    assert (head.status, head.body) == (200, b"")
    for name in ("Content-Type", "Content-Length", "Content-Disposition", "Accept-Ranges", "ETag"):
        assert head.headers[name] == got.headers[name]


def test_range_requests_resume_a_download(factory: RunningSimulator, qemu_schematic: str) -> None:
    path = f"/image/{qemu_schematic}/v1.13.9/metal-arm64.raw.xz"
    full = call(factory.url, "GET", path).body
    size = len(full)
    head = call(factory.url, "GET", path, headers={"Range": "bytes=0-99"})
    assert head.status == 206 and head.headers["Content-Range"] == f"bytes 0-99/{size}" and head.body == full[:100]
    tail = call(factory.url, "GET", path, headers={"Range": "bytes=100-"})
    assert tail.status == 206 and tail.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    assert head.body + tail.body == full
    assert int(tail.headers["Content-Length"]) == size - 100
    last = call(factory.url, "GET", path, headers={"Range": "bytes=-10"})
    assert last.status == 206 and last.body == full[-10:]
    past_end = call(factory.url, "GET", path, headers={"Range": f"bytes={size}-"})
    assert past_end.status == 416 and past_end.headers["Content-Range"] == f"bytes */{size}"
    stale = call(factory.url, "GET", path, headers={"Range": "bytes=100-", "If-Range": '"other"'})
    assert stale.status == 200 and stale.body == full


@pytest.mark.parametrize(
    "path",
    [
        "kernel-amd64",
        "cmdline-metal-amd64",
        "cmdline-metal-arm64-secureboot",
        "initramfs-arm64.xz",
        "metal-amd64.iso",
        "metal-amd64-secureboot.iso",
        "metal-amd64-secureboot-uki.efi",
        "installer-amd64.tar",
        "installer-arm64-secureboot.tar",
        "nocloud-installer-amd64.tar",
        "metal-amd64.raw.xz",
        "metal-amd64-secureboot.raw.xz",
        "nocloud-amd64.qcow2",
        "nocloud-amd64.raw.zst",
        "digital-ocean-amd64.raw.gz",
        "gcp-amd64.raw.tar.gz",
    ],
)
def test_supported_paths(factory: RunningSimulator, qemu_schematic: str, path: str) -> None:
    reply = call(factory.url, "HEAD", f"/image/{qemu_schematic}/v1.13.9/{path}")
    assert reply.status == 200, path
    assert int(reply.headers["Content-Length"]) > 0


def test_images_of_a_schematic_go_yaml_cannot_read_back(factory: RunningSimulator) -> None:
    # go-yaml writes "|4" for a value whose first line starts with a space; that YAML does not parse again
    body = '{"customization": {"meta": [{"key": 10, "value": "  indented: 1\\nnext: 2\\n"}]}}'
    schematic_id = call(factory.url, "POST", "/schematics", body).json()["id"]
    assert call(factory.url, "HEAD", f"/image/{schematic_id}/v1.13.9/metal-amd64.raw.xz").status == 200


def test_cmdline_carries_the_kernel_args(factory: RunningSimulator) -> None:
    schematic_id = call(factory.url, "POST", "/schematics", "customization: {extraKernelArgs: [net.ifnames=0]}").json()[
        "id"
    ]
    reply = call(factory.url, "GET", f"/image/{schematic_id}/v1.13.9/cmdline-nocloud-amd64")
    assert reply.text.startswith("talos.platform=nocloud ") and reply.text.endswith(" net.ifnames=0")


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("metal-x86.raw.xz", 400, 'invalid architecture: "x86"'),
        ("kernel-riscv64", 400, 'invalid architecture: "riscv64"'),
        ("metal.iso", 400, 'invalid platform-arch: "metal"'),
        ("metal-amd64.bin", 400, 'invalid profile path: "metal-amd64.bin"'),
        ("nowhere-amd64.iso", 400, 'invalid platform: "nowhere"'),
    ],
)
def test_invalid_paths_are_400(
    factory: RunningSimulator, qemu_schematic: str, path: str, status: int, message: str
) -> None:
    reply = call(factory.url, "GET", f"/image/{qemu_schematic}/v1.13.9/{path}")
    assert (reply.status, reply.text) == (status, message + "\n")


def test_unknown_schematic_or_version_is_404(factory: RunningSimulator, qemu_schematic: str) -> None:
    unknown = "f" * 64
    reply = call(factory.url, "GET", f"/image/{unknown}/v1.13.9/metal-amd64.iso")
    assert (reply.status, reply.text) == (404, f'schematic ID "{unknown}" not found\n')
    reply = call(factory.url, "GET", f"/image/{qemu_schematic}/v1.13.99/metal-amd64.iso")
    assert (reply.status, reply.text) == (404, "version 1.13.99 is not available\n")
    assert call(factory.url, "HEAD", f"/image/{qemu_schematic}/v1.13.99/metal-amd64.iso").status == 404


def test_unavailable_extension_is_400(factory: RunningSimulator) -> None:
    body = "customization: {systemExtensions: {officialExtensions: [siderolabs/no-such-thing]}}"
    schematic_id = call(factory.url, "POST", "/schematics", body).json()["id"]
    reply = call(factory.url, "GET", f"/image/{schematic_id}/v1.13.9/metal-amd64.iso")
    assert reply.status == 400 and "siderolabs/no-such-thing" in reply.text
    assert call(factory.url, "GET", f"/image/{schematic_id}/v1.13.9/kernel-amd64").status == 200


@pytest.mark.parametrize("suffix", [".sha256", ".sha512", ".sigstore.json"])
def test_checksums_need_enterprise(factory: RunningSimulator, qemu_schematic: str, suffix: str) -> None:
    reply = call(factory.url, "GET", f"/image/{qemu_schematic}/v1.13.9/metal-amd64.raw.xz{suffix}")
    assert reply.status == 402 and reply.text.endswith("\n")


@pytest.mark.parametrize(("suffix", "algorithm"), [(".sha256", hashlib.sha256), (".sha512", hashlib.sha512)])
def test_enterprise_checksums(enterprise_factory: RunningSimulator, suffix: str, algorithm) -> None:
    url = enterprise_factory.url
    schematic_id = call(url, "POST", "/schematics", QEMU_SCHEMATIC).json()["id"]
    image = call(url, "GET", f"/image/{schematic_id}/v1.13.9/metal-amd64.raw.xz").body
    reply = call(url, "GET", f"/image/{schematic_id}/v1.13.9/metal-amd64.raw.xz{suffix}?filename=talos.raw.xz")
    assert reply.status == 200 and reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.text == f"{algorithm(image).hexdigest()}  talos.raw.xz\n"
