# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.image_factory_info, driven through main() against the Image Factory simulator."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.doc_fragments.image_factory import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.modules import image_factory_info as module
from module_harness import check_documentation, run_module

from sandbox import harness


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    with harness.running("image-factory", tmp_path_factory.mktemp("sim")) as sim:
        yield sim


def test_versions_only(factory, capsys):
    result = run_module(module, {"url": factory.url}, capsys)
    assert result["changed"] is False
    assert "v1.13.9" in result["versions"] and "v1.11.0" in result["versions"]
    assert "extensions" not in result


def test_extensions_and_overlays_for_a_version(factory, capsys):
    result = run_module(module, {"url": factory.url, "talos_version": "1.13.9", "_ansible_check_mode": True}, capsys)
    assert result["version_available"] is True
    names = result["extension_names"]
    assert "siderolabs/qemu-guest-agent" in names and names == sorted(names)
    qemu = next(e for e in result["extensions"] if e["name"] == "siderolabs/qemu-guest-agent")
    assert qemu["ref"].startswith("ghcr.io/siderolabs/qemu-guest-agent:")
    assert any(o["name"] == "rpi_generic" for o in result["overlays"])


def test_required_extensions_pass(factory, capsys):
    result = run_module(
        module,
        {
            "url": factory.url,
            "talos_version": "v1.13.9",
            "require_version": True,
            "require_extensions": ["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"],
        },
        capsys,
    )
    assert "failed" not in result


def test_version_not_offered(factory, capsys):
    result = run_module(module, {"url": factory.url, "talos_version": "v1.13.99", "require_version": True}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith(f"Talos v1.13.99 is not offered by the Image Factory at {factory.url}.")
    assert "v1.13.9" in result["msg"]


def test_version_not_offered_without_requirement(factory, capsys):
    result = run_module(module, {"url": factory.url, "talos_version": "v1.2.3"}, capsys)
    assert result["version_available"] is False and result["extensions"] == [] and result["overlays"] == []


def test_unknown_extension_gets_a_suggestion(factory, capsys):
    result = run_module(
        module,
        {
            "url": factory.url,
            "talos_version": "v1.13.9",
            "require_extensions": ["qemu-guest-agent", "siderolabs/isci-tools"],
        },
        capsys,
    )
    assert result["failed"] is True
    assert "qemu-guest-agent (did you mean siderolabs/qemu-guest-agent?)" in result["msg"]
    assert "siderolabs/isci-tools (did you mean siderolabs/iscsi-tools" in result["msg"]


def test_requirements_need_a_version(factory, capsys):
    result = run_module(module, {"url": factory.url, "require_extensions": ["siderolabs/gvisor"]}, capsys)
    assert result["failed"] is True and "talos_version is required" in result["msg"]


def test_factory_error_keeps_the_status(factory, capsys):
    factory.set_fault(403, count=1, path="^/versions$", body="forbidden\n")
    result = run_module(module, {"url": factory.url}, capsys)
    assert result["failed"] is True and result["failure"]["status"] == 403
    assert result["msg"].startswith(f"Image Factory request failed: HTTP 403 from {factory.url}/versions")
