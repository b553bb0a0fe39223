# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.proxmox_talos_image through main(), against the Image Factory and Proxmox VE simulators."""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Iterator

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.proxmox import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import client_from_params
from ansible_collections.talosforge.cluster.plugins.modules import proxmox_talos_image as module
from module_harness import check_documentation, run_module

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pve_sim = pytest.importorskip("sandbox.simulators.proxmox")
controls = pytest.importorskip("sandbox.simulators.proxmox.controls")

TOKEN_ID, TOKEN_SECRET = pve_sim.DEFAULT_TOKEN.split("=", 1)
SCHEMATIC = {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}}


class Lab:
    def __init__(self, factory, pve, schematic_id: str):
        self.factory, self.pve, self.schematic_id = factory, pve, schematic_id
        self.api = {
            "api_url": pve.url,
            "api_token_id": TOKEN_ID,
            "api_token_secret": TOKEN_SECRET,
            "ca_path": str(pve_sim.ca_file(pve.state_dir)),
            "poll_interval": 0.02,
        }

    def url(self, fmt: str = "qcow2", platform: str = "metal") -> str:
        return f"{self.factory.url}/image/{self.schematic_id}/v1.13.9/{platform}-amd64.{fmt}"

    def args(self, *urls: str, **extra) -> dict:
        images = [{"url": url} for url in urls]
        return {**self.api, "images": images, "pve_nodes": ["pve1"], "name_prefix": "talosforge-demo-", **extra}

    def volumes(self, node: str = "pve1", storage: str = "local") -> set[str]:
        return set(self.pve.app.cluster.nodes[node].storages[storage].volumes)

    def api_log(self) -> list[dict]:
        return [r for r in self.pve.requests() if r["path"].startswith("/api2/json")]


def start_lab(state, **factory_options) -> Iterator[Lab]:
    with harness.running("image-factory", state, raw_image_size=1 << 20, asset_size=1 << 16, **factory_options) as f:
        with harness.running("proxmox", state, task_seconds=0.05, nodes=["pve1", "pve2"]) as pve:
            schematic_id, _canonical = client_from_params({"url": f.url}).register_schematic(SCHEMATIC)
            yield Lab(f, pve, schematic_id)


@pytest.fixture
def lab(tmp_path) -> Iterator[Lab]:
    yield from start_lab(tmp_path / "community")


@pytest.fixture
def enterprise_lab(tmp_path) -> Iterator[Lab]:
    yield from start_lab(tmp_path / "enterprise", enterprise=True)


def sha256_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return hashlib.sha256(answer.read()).hexdigest()


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


def test_download_url_is_idempotent_by_name(lab, capsys):
    first = run_module(module, lab.args(lab.url(), pve_nodes=["pve1", "pve2"]), capsys)
    assert first["changed"] is True and not first.get("failed"), first
    [image] = first["images"]
    name = f"talosforge-demo-{lab.schematic_id[:12]}-v1.13.9-metal-amd64.qcow2"
    assert image["filename"] == name and image["volid"] == f"local:import/{name}"
    assert image["copied_to"] == ["pve1", "pve2"] and image["checksum_source"] == "none"
    assert f"local:import/{name}" in lab.volumes("pve1") and f"local:import/{name}" in lab.volumes("pve2")
    downloads = [r for r in lab.api_log() if r["path"].endswith("/download-url")]
    assert len(downloads) == 2 and all(r["status"] == 200 for r in downloads)
    before = len(lab.api_log())
    again = run_module(module, lab.args(lab.url(), pve_nodes=["pve1", "pve2"]), capsys)
    assert again["changed"] is False and again["images"][0]["copied_to"] == []
    assert [r["method"] for r in lab.api_log()[before:]] == ["GET"] * 4  # storage status + content, per node


def test_checksum_from_the_factory_or_computed_and_verified_by_pve(enterprise_lab, lab, tmp_path, capsys):
    published = run_module(module, enterprise_lab.args(enterprise_lab.url()), capsys)
    assert published["images"][0]["checksum_source"] == "factory", published
    [request] = [r for r in enterprise_lab.api_log() if r["path"].endswith("/download-url")]
    assert f"checksum={sha256_of(enterprise_lab.url())}" in request["request_body"]
    assert "checksum-algorithm=sha256" in request["request_body"]
    computed = run_module(module, lab.args(lab.url(), cache_dir=str(tmp_path / "cache")), capsys)
    assert computed["images"][0]["checksum_source"] == "computed", computed
    [request] = [r for r in lab.api_log() if r["path"].endswith("/download-url")]
    assert f"checksum={sha256_of(lab.url())}" in request["request_body"]


def test_a_wrong_checksum_fails_the_task_with_its_log(lab, capsys):
    args = lab.args()
    args["images"] = [{"url": lab.url(), "checksum": "sha256:" + "0" * 64}]
    result = run_module(module, args, capsys)
    assert result["failed"] is True
    [failure] = result["failures"]
    task_log = failure["failure"]["details"]["task_log"]
    assert failure["pve_node"] == "pve1" and task_log, failure
    assert "checksum" in " ".join(task_log).lower()
    assert not lab.volumes() & {result["images"][0]["volid"]}


def test_upload_from_the_cache(lab, tmp_path, capsys):
    result = run_module(module, lab.args(lab.url(), method="upload", cache_dir=str(tmp_path / "cache")), capsys)
    assert result["changed"] is True and not result.get("failed"), result
    assert result["images"][0]["checksum_source"] == "computed"
    assert result["images"][0]["volid"] in lab.volumes()
    assert [r["status"] for r in lab.api_log() if r["path"].endswith("/upload")] == [200]


def test_full_storage_is_reported(lab, capsys):
    controls.set_storage_total(lab.pve.app, "pve1", "local", full=True)
    result = run_module(module, lab.args(lab.url()), capsys)
    assert result["failed"] is True
    text = result["msg"] + " ".join(" ".join(f["failure"]["details"]["task_log"]) for f in result.get("failures", []))
    assert "space" in text.lower() or "full" in text.lower(), result


def test_a_storage_without_import_content_is_refused(lab, capsys):
    result = run_module(module, lab.args(lab.url(), storage="local-lvm"), capsys)
    assert result["failed"] is True and "does not hold content 'import'" in result["msg"]
    assert "pvesm set local-lvm --content" in result["msg"]


def test_check_mode_and_destroy_by_prefix(lab, capsys):
    planned = run_module(module, {**lab.args(lab.url()), "_ansible_check_mode": True}, capsys)
    assert planned["changed"] is True and not lab.volumes()
    run_module(module, lab.args(lab.url()), capsys)
    run_module(module, lab.args(lab.url(), name_prefix="talosforge-other-"), capsys)
    stored = {v for v in lab.volumes() if "talosforge-demo-" in v}
    assert len(stored) == 1
    absent = {**lab.api, "state": "absent", "name_prefix": "talosforge-demo-", "pve_nodes": ["pve1", "pve2"]}
    listed = run_module(module, {**absent, "_ansible_check_mode": True}, capsys)
    assert listed["changed"] is True and len(listed["removed"]) == len(stored)
    gone = run_module(module, absent, capsys)
    assert gone["changed"] is True and not {v for v in lab.volumes() if "talosforge-demo-" in v}
    assert {v for v in lab.volumes() if "talosforge-other-" in v}, "another cluster's image is kept"
    assert run_module(module, absent, capsys)["changed"] is False
