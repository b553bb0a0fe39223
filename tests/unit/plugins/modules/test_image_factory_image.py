# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.image_factory_image, driven through main() against the Image Factory simulator."""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import time

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.talosforge.cluster.plugins.doc_fragments.image_factory import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory import ImageFactoryClient
from ansible_collections.talosforge.cluster.plugins.modules import image_factory_image as module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")

EMPTY = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
RAW_SIZE = 1 << 20


def run(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def logged(sim, at_least: int, timeout: float = 3.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        records = sim.requests()
        if len(records) >= at_least or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def test_argument_spec_matches_documentation():
    docs = yaml.safe_load(module.DOCUMENTATION)["options"]
    docs.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    spec = module.argument_spec()
    assert set(docs) == set(spec)
    for name, option in spec.items():
        assert docs[name].get("type", "str") == option.get("type", "str"), name
        assert docs[name].get("default") == option.get("default"), name
        assert bool(docs[name].get("required")) == bool(option.get("required")), name
        assert docs[name].get("choices") == option.get("choices"), name
    yaml.safe_load(module.EXAMPLES)
    yaml.safe_load(module.RETURN)


def test_names_only_without_network(capsys):
    result = run(
        {"schematic_id": EMPTY, "talos_version": "1.13.9", "platform": "hcloud", "url": "http://127.0.0.1:9"}, capsys
    )
    result.pop("invocation", None)  # ansible-core 2.19 adds it, 2.21 does not
    assert result == {
        "changed": False,
        "url": f"http://127.0.0.1:9/image/{EMPTY}/v1.13.9/hcloud-amd64.raw.xz",
        "installer_image": f"127.0.0.1:9/hcloud-installer/{EMPTY}:v1.13.9",
        "filename": "376567988ad3-v1.13.9-hcloud-amd64.raw.xz",
    }


def test_defaults_and_secureboot(capsys):
    result = run({"schematic_id": EMPTY, "talos_version": "v1.13.9", "format": "iso", "secureboot": True}, capsys)
    assert result["url"] == f"https://factory.talos.dev/image/{EMPTY}/v1.13.9/metal-amd64-secureboot.iso"
    assert result["installer_image"] == f"factory.talos.dev/metal-installer-secureboot/{EMPTY}:v1.13.9"
    other = run(
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
    result = run({"schematic_id": EMPTY, "talos_version": "v1.13.9", "_ansible_check_mode": True, **args}, capsys)
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
    planned = run({**args, "_ansible_check_mode": True}, capsys)
    assert planned["changed"] is True and planned["downloaded"] is True and planned["sha256"] == ""
    time.sleep(0.05)
    assert len(factory.requests()) == 1 and not cache.exists()

    first = run(args, capsys)
    path = cache / "376567988ad3-v1.13.9-metal-amd64.raw.xz"
    assert first["changed"] is True and first["path"] == first["download_path"] == str(path)
    assert first["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first["checksum_verified"] is False and first["checksum_source"] == "none"
    count = len(logged(factory, 3))

    second = run(args, capsys)
    assert second["changed"] is False and second["downloaded"] is False and second["sha256"] == first["sha256"]
    planned = run({**args, "_ansible_check_mode": True}, capsys)
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
    result = run(args, capsys)
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
    result = run(args, capsys)
    assert result["failed"] is True and "does not match its user checksum" in result["msg"]


def test_unregistered_schematic_fails_with_the_factory_message(factory, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    other = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
    args = {"url": factory.url, "schematic_id": other, "talos_version": "v1.13.9", "dest_dir": str(tmp_path / "c")}
    result = run(args, capsys)
    assert result["failed"] is True and "HTTP 404" in result["msg"] and "not found" in result["msg"]
