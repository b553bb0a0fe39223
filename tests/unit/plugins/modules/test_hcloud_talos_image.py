# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.hcloud_talos_image end to end: the Hetzner Cloud simulator's rescue system (a real sshd on
loopback) fetches the image from the Image Factory simulator and writes it to the server's disk file."""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.hcloud import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import HcloudClient
from ansible_collections.talosforge.cluster.plugins.modules import hcloud_talos_image as module
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pytestmark = pytest.mark.skipif(
    not (shutil.which("ssh") and shutil.which("ssh-keygen") and shutil.which("/usr/sbin/sshd")),
    reason="needs the OpenSSH client and server",
)

TOKEN = "image-token-never-shown-7"
SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
TEMPORARY = {
    "talosforge.io/managed-by": "talosforge.cluster",
    "talosforge.io/temporary": "image-build",
    "talosforge.io/cluster": "prod",
}


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


@pytest.fixture
def lab(tmp_path):
    with (
        harness.running("image-factory", tmp_path / "factory", raw_image_size=1 << 20) as factory,
        harness.running("hcloud", tmp_path / "hcloud", validate=True, action_latency_ms=100) as sim,
    ):
        request = urllib.request.Request(factory.url + "/schematics", data=b"customization: {}\n", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["id"] == SCHEMATIC
        sim.factory = factory
        sim.client = HcloudClient(TOKEN, sim.url + "/v1")
        sim.scratch = tmp_path / "out"
        yield sim
        assert sim.app.drift == []


def url(lab, arch, version="v1.13.9"):
    return f"{lab.factory.url}/image/{SCHEMATIC}/{version}/hcloud-{arch}.raw.xz"


def args(lab, arches=("amd64", "arm64"), **extra):
    images = [{"url": url(lab, arch), "schematic_id": SCHEMATIC, "arch": arch} for arch in arches]
    return {
        "api_token": TOKEN,
        "api_endpoint": lab.url + "/v1",
        "cluster": "prod",
        "talos_version": "v1.13.9",
        "images": images,
        "scratch_dir": str(lab.scratch),
        **extra,
    }


def writes(lab):
    time.sleep(0.05)
    return [r for r in lab.requests() if r["method"] in ("POST", "PUT", "DELETE") and r["path"].startswith("/v1/")]


def temporaries(lab):
    return lab.client.list("servers", {"label_selector": "talosforge.io/temporary"}) + lab.client.list(
        "ssh_keys", {"label_selector": "talosforge.io/temporary"}
    )


def inspect(lab, path):
    with urllib.request.urlopen(f"{lab.url}/_sandbox/{path}", timeout=10) as answer:
        return json.loads(answer.read())


def test_builds_each_arch_in_parallel_through_the_rescue_system_then_reuses(lab, capsys):
    result = run_module(module, args(lab), capsys)
    assert result["changed"] is True and [i["state"] for i in result["images"]] == ["built", "built"]
    for image, arch in zip(result["images"], ("amd64", "arm64"), strict=True):
        snapshot = lab.client.call("GET", f"/images/{image['image_id']}")["image"]
        assert snapshot["type"] == "snapshot" and snapshot["status"] == "available"
        assert (
            snapshot["labels"]["talosforge.io/arch"] == arch and snapshot["labels"]["talosforge.io/cluster"] == "prod"
        )
        assert snapshot["architecture"] == {"amd64": "x86", "arm64": "arm"}[arch]
        with urllib.request.urlopen(url(lab, arch), timeout=10) as answer:
            raw = lzma.decompress(answer.read())
        # The snapshot holds exactly what the rescue system wrote to /dev/sda: the factory's raw disk.
        assert inspect(lab, f"images/{image['image_id']}")["sha256"] == hashlib.sha256(raw).hexdigest()
    assert temporaries(lab) == []
    assert "root_password" not in json.dumps(result) and TOKEN not in json.dumps(result)
    before = len(writes(lab))
    again = run_module(module, args(lab), capsys)
    assert again["changed"] is False and [i["state"] for i in again["images"]] == ["reused", "reused"]
    assert [i["image_id"] for i in again["images"]] == [i["image_id"] for i in result["images"]]
    assert len(writes(lab)) == before and again["api_requests"] == 3


def test_check_mode_says_what_would_be_built_and_builds_nothing(lab, capsys):
    result = run_module(module, args(lab, _ansible_check_mode=True), capsys)
    assert result["changed"] is True and [i["state"] for i in result["images"]] == ["would_build"] * 2
    assert writes(lab) == []


def test_leftovers_of_a_stopped_run_are_cleaned_by_label(lab, capsys):
    client = lab.client
    key = client.call(
        "POST",
        "/ssh_keys",
        {
            "name": "talosforge-image-build-old",
            "labels": TEMPORARY,
            "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1b3Zq9fO4Gm2xw8h5y6Qk0r4Vn7c2aL8dT3sE1uP0R old",
        },
    )["ssh_key"]
    server = client.call(
        "POST",
        "/servers",
        {
            "name": "talosforge-image-build-old",
            "server_type": "cx22",
            "image": "debian-12",
            "location": "fsn1",
            "labels": TEMPORARY,
        },
    )
    client.wait_actions([server["action"]])
    bystander = client.call(
        "POST",
        "/servers",
        {
            "name": "keep-me",
            "server_type": "cx22",
            "image": "debian-12",
            "location": "fsn1",
            "labels": {"talosforge.io/temporary": "x"},
        },
    )
    result = run_module(module, args(lab, arches=("amd64",)), capsys)
    assert result["changed"] is True
    assert sorted((item["kind"], item["id"]) for item in result["leftovers"]) == sorted(
        [("servers", str(server["server"]["id"])), ("ssh_keys", str(key["id"]))]
    )
    assert [s["name"] for s in client.list("servers")] == [bystander["server"]["name"]]


def test_the_temporary_server_is_deleted_when_the_write_fails(lab, capsys):
    bad = args(lab, arches=("amd64",))
    bad["images"][0]["url"] = url(lab, "amd64", "v9.9.9")  # the factory answers 404: curl -f fails
    result = run_module(module, bad, capsys)
    assert result["failed"] is True and "writing" in result["msg"] and "/dev/sda" in result["msg"]
    assert result["images"][0]["state"] == "failed"
    assert temporaries(lab) == [] and lab.client.list("images", {"type": "snapshot"}) == []
    made = [r for r in writes(lab) if r["method"] == "POST" and r["path"] in ("/v1/servers", "/v1/ssh_keys")]
    deleted = [r for r in writes(lab) if r["method"] == "DELETE"]
    assert len(made) == 2 and len(deleted) == 2


def test_a_failed_snapshot_action_keeps_its_code_and_cleans_up(lab, capsys):
    from sandbox.simulators.hcloud.actions import ActionFailure

    lab.app.actions.add_failure(ActionFailure(command="create_image", code="image_error", message="disk unreadable"))
    result = run_module(module, args(lab, arches=("arm64",)), capsys)
    assert result["failed"] is True and result["failures"][0]["failure"]["code"] == "image_error"
    assert "disk unreadable" in result["msg"] and temporaries(lab) == []


def test_the_ssh_key_lives_only_in_the_scratch_folder_and_a_killed_builds_key_is_swept(lab, capsys, monkeypatch):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    left = lab.scratch / f"{scratch.PREFIX}{int(gone.stdout)}-image-build-x"
    left.mkdir(parents=True)
    (left / "id_ed25519").write_text("a private key a killed build left")
    os.utime(left, (time.time() - 86400, time.time() - 86400))
    monkeypatch.setattr(scratch, "STARTED", time.time())  # this test's run starts now, whenever pytest started
    made: list[str] = []
    original = tempfile.mkdtemp

    def recorded(*a, **kw):
        made.append(original(*a, **kw))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recorded)
    result = run_module(module, args(lab, arches=("amd64",)), capsys)
    assert result["changed"] is True and made, "the build made no scratch folder"
    assert all(os.path.dirname(path) == str(lab.scratch) for path in made), made
    assert not left.exists() and list(lab.scratch.iterdir()) == []  # swept; its own key removed after the build
