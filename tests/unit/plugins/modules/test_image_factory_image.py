# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.image_factory_image, driven through main() against the Image Factory simulator."""

from __future__ import annotations

import hashlib
import lzma
import os
import time

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.image_factory import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import ImageFactoryClient
from ansible_collections.talosforge.cluster.plugins.modules import image_factory_image as module
from factory_testlib import logged, most_at_once
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

EMPTY = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
RAW_SIZE = 1 << 20


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


def test_names_only_without_network(capsys):
    result = run_module(
        module,
        {"schematic_id": EMPTY, "talos_version": "1.13.9", "platform": "hcloud", "url": "http://127.0.0.1:9"},
        capsys,
    )
    result.pop("invocation", None)  # ansible-core 2.19 adds it, 2.21 does not
    assert result == {
        "changed": False,
        "url": f"http://127.0.0.1:9/image/{EMPTY}/v1.13.9/hcloud-amd64.raw.xz",
        "installer_image": f"127.0.0.1:9/hcloud-installer/{EMPTY}:v1.13.9",
        "filename": "376567988ad3-v1.13.9-hcloud-amd64.raw.xz",
    }


def test_defaults_and_secureboot(capsys):
    result = run_module(
        module, {"schematic_id": EMPTY, "talos_version": "v1.13.9", "format": "iso", "secureboot": True}, capsys
    )
    assert result["url"] == f"https://factory.talos.dev/image/{EMPTY}/v1.13.9/metal-amd64-secureboot.iso"
    assert result["installer_image"] == f"factory.talos.dev/metal-installer-secureboot/{EMPTY}:v1.13.9"
    other = run_module(
        module,
        {
            "schematic_id": EMPTY,
            "talos_version": "v1.13.9",
            "arch": "arm64",
            "installer_registry": "registry.local:5000",
        },
        capsys,
    )
    assert other["url"].endswith("/metal-arm64.raw.xz")
    assert other["installer_image"] == f"registry.local:5000/metal-installer/{EMPTY}:v1.13.9"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"schematic_id": "abc"}, "schematic_id 'abc' is not a schematic ID"),
        ({"talos_version": "latest"}, "talos_version 'latest' is not a Talos version"),
        ({"platform": "Metal"}, "platform 'Metal' is not a Talos platform name"),
        (
            {"dest_dir": "/tmp/x", "checksum": "md5:abc", "url": "http://127.0.0.1:9"},
            "checksum 'md5:abc' is not understood",
        ),
        ({"dest_dir": "/tmp/x", "format": "raw.zst", "decompress": True}, "only .xz and .gz images are unpacked"),
    ],
)
def test_bad_parameters(args, message, capsys):
    result = run_module(
        module, {"schematic_id": EMPTY, "talos_version": "v1.13.9", "_ansible_check_mode": True, **args}, capsys
    )
    assert result["failed"] is True and message in result["msg"]


@pytest.fixture
def factory(tmp_path):
    with harness.running("image-factory", tmp_path / "sim", raw_image_size=RAW_SIZE) as sim:
        ImageFactoryClient(HttpClient(sim.url)).register_schematic({})
        logged(sim, 1)
        yield sim


def test_download_then_no_change(factory, tmp_path, capsys):
    cache = tmp_path / "cache"
    args = {"url": factory.url, "schematic_id": EMPTY, "talos_version": "v1.13.9", "dest_dir": str(cache)}
    planned = run_module(module, {**args, "_ansible_check_mode": True}, capsys)
    assert planned["changed"] is True and planned["downloaded"] is True and planned["sha256"] == ""
    time.sleep(0.05)
    assert len(factory.requests()) == 1 and not cache.exists()

    first = run_module(module, args, capsys)
    path = cache / "376567988ad3-v1.13.9-metal-amd64.raw.xz"
    assert first["changed"] is True and first["path"] == first["download_path"] == str(path)
    assert first["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first["checksum_verified"] is False and first["checksum_source"] == "none"
    count = len(logged(factory, 3))

    second = run_module(module, args, capsys)
    assert second["changed"] is False and second["downloaded"] is False and second["sha256"] == first["sha256"]
    planned = run_module(module, {**args, "_ansible_check_mode": True}, capsys)
    assert planned["changed"] is False and planned["sha256"] == first["sha256"]
    time.sleep(0.05)
    assert len(factory.requests()) == count


def test_download_and_decompress_with_checksum(factory, tmp_path, capsys):
    served = HttpClient(factory.url).request("GET", f"/image/{EMPTY}/v1.13.9/nocloud-amd64.raw.xz").body
    args = {
        "url": factory.url,
        "schematic_id": EMPTY,
        "talos_version": "v1.13.9",
        "platform": "nocloud",
        "dest_dir": str(tmp_path / "cache"),
        "filename": "nocloud.raw.xz",
        "checksum": "sha256:" + hashlib.sha256(served).hexdigest(),
        "decompress": True,
    }
    result = run_module(module, args, capsys)
    raw = lzma.decompress(served)
    assert result["path"] == str(tmp_path / "cache" / "nocloud.raw") and result["size"] == len(raw) == RAW_SIZE
    assert result["sha256"] == hashlib.sha256(raw).hexdigest()
    assert result["checksum_verified"] is True and result["checksum_source"] == "user"
    assert result["decompressed"] is True and os.path.exists(result["download_path"])


def test_wrong_checksum_fails(factory, tmp_path, capsys):
    args = {
        "url": factory.url,
        "schematic_id": EMPTY,
        "talos_version": "v1.13.9",
        "dest_dir": str(tmp_path / "cache"),
        "checksum": "sha256:" + "1" * 64,
    }
    result = run_module(module, args, capsys)
    assert result["failed"] is True and "does not match its user checksum" in result["msg"]


def test_unregistered_schematic_fails_with_the_factory_message(factory, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    other = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
    args = {"url": factory.url, "schematic_id": other, "talos_version": "v1.13.9", "dest_dir": str(tmp_path / "c")}
    result = run_module(module, args, capsys)
    assert result["failed"] is True and "HTTP 404" in result["msg"] and "not found" in result["msg"]


# --------------------------------------------------------------------------------------------------------------
# A list of images
# --------------------------------------------------------------------------------------------------------------

QEMU = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"  # not registered in the simulator
THREE = [
    {"schematic_id": EMPTY, "platform": "metal"},
    {"schematic_id": EMPTY, "platform": "hcloud"},
    {"schematic_id": EMPTY, "platform": "nocloud", "arch": "arm64"},
]


def image_gets(records: list[dict]) -> list[dict]:
    return [r for r in records if r["method"] == "GET" and r["path"].startswith("/image/") and r["status"] == 200]


def test_list_names_only_without_network(capsys):
    images = [*THREE, {"schematic_id": EMPTY, "talos_version": "1.12.0", "format": "iso", "secureboot": True}]
    result = run_module(module, {"url": "http://127.0.0.1:9", "talos_version": "v1.13.9", "images": images}, capsys)
    assert result["changed"] is False
    assert [image["filename"] for image in result["images"]] == [
        "376567988ad3-v1.13.9-metal-amd64.raw.xz",
        "376567988ad3-v1.13.9-hcloud-amd64.raw.xz",
        "376567988ad3-v1.13.9-nocloud-arm64.raw.xz",
        "376567988ad3-v1.12.0-metal-amd64-secureboot.iso",
    ]
    assert result["images"][3] == {
        "changed": False,
        "url": f"http://127.0.0.1:9/image/{EMPTY}/v1.12.0/metal-amd64-secureboot.iso",
        "installer_image": f"127.0.0.1:9/metal-installer-secureboot/{EMPTY}:v1.12.0",
        "filename": "376567988ad3-v1.12.0-metal-amd64-secureboot.iso",
    }
    assert "url" not in result


def test_list_downloads_in_parallel_then_reports_no_change(factory, tmp_path, capsys):
    cache = tmp_path / "cache"
    images = [*THREE, dict(THREE[1])]  # the last one is the same download as the second
    args = {"url": factory.url, "talos_version": "v1.13.9", "dest_dir": str(cache), "images": images}
    planned = run_module(module, {**args, "_ansible_check_mode": True}, capsys)
    assert planned["changed"] is True and [image["downloaded"] for image in planned["images"]] == [True] * 4
    time.sleep(0.05)
    assert len(factory.requests()) == 1 and not cache.exists()

    http = HttpClient(factory.url)
    for image in planned["images"][:3]:  # let the simulator build the images now, so that only latency is timed
        http.request("HEAD", image["url"])
    before = len(logged(factory, 4))
    latency = 0.4
    factory.set_latency(latency * 1000, path="^/image/")
    started = time.monotonic()
    first = run_module(module, args, capsys)
    elapsed = time.monotonic() - started
    factory.set_latency(0)
    assert first["changed"] is True and len(first["images"]) == 4
    for image in first["images"]:
        assert image["changed"] is True and image["downloaded"] is True
        assert image["sha256"] == hashlib.sha256((cache / image["filename"]).read_bytes()).hexdigest()
    assert first["images"][3] == first["images"][1]
    records = logged(factory, before + 6)[before:]
    assert len(records) == 6 and len(image_gets(records)) == 3  # each download once; each .sha256 answers 402
    # Parallel: the simulator served several of the delayed requests at once. (How long the task took is the
    # benchmark's business: on a loaded machine a wall-clock bound fails without the module being any slower.)
    assert most_at_once(records) >= 2, f"the downloads did not overlap ({elapsed:.2f} s in all)"

    second = run_module(module, args, capsys)
    assert second["changed"] is False
    assert [image["downloaded"] for image in second["images"]] == [False] * 4
    assert [image["sha256"] for image in second["images"]] == [image["sha256"] for image in first["images"]]
    time.sleep(0.05)
    assert len(factory.requests()) == before + 6


def test_list_failure_names_the_image_and_keeps_the_others(factory, tmp_path, capsys):
    images = [THREE[0], {"schematic_id": QEMU, "platform": "hcloud"}, THREE[2]]
    args = {"url": factory.url, "talos_version": "v1.13.9", "dest_dir": str(tmp_path / "cache"), "images": images}
    result = run_module(module, args, capsys)
    url = f"{factory.url}/image/{QEMU}/v1.13.9/hcloud-amd64.raw.xz"
    assert result["failed"] is True
    assert result["msg"].startswith(f"1 of 3 distinct images failed (images[1]): images[1]: cannot download {url}")
    assert "HTTP 404" in result["msg"]
    assert [failure["index"] for failure in result["failures"]] == [0 + 1]
    assert [(failure["name"], failure["url"]) for failure in result["failures"]] == [("images[1]", url)]
    assert (
        result["failures"][0]["failure"]["status"] == 404
        and result["failures"][0]["failure"]["request"] == f"GET {url}"
    )
    assert result["images"][1]["failed"] is True and result["images"][1]["url"] == url
    for image in (result["images"][0], result["images"][2]):
        assert "failed" not in image and image["downloaded"] is True and os.path.isfile(image["path"])
    assert result["changed"] is True


def test_list_with_decompress_per_image(factory, tmp_path, capsys):
    images = [
        {"schematic_id": EMPTY, "decompress": True},
        {"schematic_id": EMPTY, "platform": "nocloud", "format": "qcow2"},
    ]
    args = {"url": factory.url, "talos_version": "v1.13.9", "dest_dir": str(tmp_path / "c"), "images": images}
    result = run_module(module, args, capsys)
    assert result["images"][0]["decompressed"] is True and result["images"][0]["path"].endswith("metal-amd64.raw")
    assert result["images"][0]["size"] == RAW_SIZE
    assert result["images"][1]["decompressed"] is False and result["images"][1]["path"].endswith(".qcow2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"images": [{"schematic_id": "abc"}, {"schematic_id": EMPTY, "talos_version": "latest"}]},
            "images[0]: schematic_id 'abc' is not a schematic ID; ",
        ),
        (
            {"images": [{"schematic_id": EMPTY, "talos_version": "latest"}]},
            "images[0]: talos_version 'latest' is not a Talos version",
        ),
        (
            {"talos_version": None, "images": [{"schematic_id": EMPTY}]},
            "images[0]: talos_version is not set; set it on the image or set the talos_version option",
        ),
        (
            {"dest_dir": "/tmp/x", "images": [{"schematic_id": EMPTY}, {"schematic_id": EMPTY, "checksum": "md5:1"}]},
            "images[1]: checksum 'md5:1' is not understood",
        ),
        (
            {"dest_dir": "/tmp/x", "images": [{"schematic_id": EMPTY}, {"schematic_id": EMPTY, "filename": "a/b"}]},
            "images[1]: filename 'a/b' must be a plain file name",
        ),
        (
            {
                "dest_dir": "/tmp/x",
                "images": [
                    {"schematic_id": EMPTY, "filename": "x.raw.xz"},
                    {"schematic_id": EMPTY, "platform": "hcloud", "filename": "x.raw.xz"},
                ],
            },
            "images[1] and images[0] are different images but both write 'x.raw.xz'",
        ),
        ({"schematic_id": EMPTY, "images": []}, "parameters are mutually exclusive: schematic_id|images"),
        ({"checksum": "sha256:" + "1" * 64, "images": []}, "parameters are mutually exclusive: checksum|images"),
        ({"talos_version": None}, "one of the following is required: schematic_id, images"),
        ({"schematic_id": EMPTY, "talos_version": None}, "missing parameter(s) required by 'schematic_id'"),
        ({"images": [{"platform": "hcloud"}]}, "missing required arguments: schematic_id found in images"),
        ({"images": [], "parallel": 0}, "parallel must be 1 or more, got 0"),
    ],
)
def test_list_bad_parameters(args, message, capsys):
    base = {"url": "http://127.0.0.1:9", "talos_version": "v1.13.9", "_ansible_check_mode": True}
    result = run_module(module, {**base, **args}, capsys)
    assert result["failed"] is True and message in result["msg"], result["msg"]


def test_list_check_mode_plans_each_image(factory, tmp_path, capsys):
    cache = tmp_path / "cache"
    args = {"url": factory.url, "talos_version": "v1.13.9", "dest_dir": str(cache), "images": THREE[:2]}
    run_module(module, {**args, "images": THREE[:1]}, capsys)
    planned = run_module(module, {**args, "_ansible_check_mode": True}, capsys)
    assert [image["downloaded"] for image in planned["images"]] == [False, True]
    assert [image["checksum_source"] for image in planned["images"]] == ["cache", "unknown"]
    assert planned["changed"] is True
