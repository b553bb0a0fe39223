# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline extension list the cluster validator uses before any network access."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.extension_catalog import (
    OFFICIAL_EXTENSIONS_V1_13,
    catalog_covers,
    is_official,
)

REPO = Path(__file__).resolve().parents[4]
SIMULATOR_DATA = REPO / "sandbox" / "simulators" / "image_factory" / "data" / "extensions.json"


def test_names_are_namespaced_and_well_formed():
    assert len(OFFICIAL_EXTENSIONS_V1_13) >= 80
    for name in OFFICIAL_EXTENSIONS_V1_13:
        namespace, _unused, short = name.partition("/")
        assert namespace == "siderolabs" and short and short == short.lower() and " " not in short


@pytest.mark.parametrize(
    "name",
    [
        "siderolabs/qemu-guest-agent",
        "siderolabs/tailscale",
        "siderolabs/iscsi-tools",
        "siderolabs/nvidia-container-toolkit-lts",
    ],
)
def test_common_extensions_are_known(name):
    assert is_official(name, "v1.13.9")


def test_retired_names_only_count_before_v1_13():
    assert not is_official("siderolabs/i915-ucode", "v1.13.2")
    assert is_official("siderolabs/i915-ucode", "v1.8.4")


@pytest.mark.parametrize(
    ("version", "covered"),
    [
        ("v1.13.0", True),
        ("v1.13.9", True),
        ("v1.13.0-rc.0", True),
        ("v1.130.0", False),
        ("v1.12.6", False),
        (None, False),
    ],
)
def test_catalog_covers(version, covered):
    assert catalog_covers(version) is covered


def test_matches_the_sandbox_factory_v1_13_line():
    lines = json.loads(SIMULATOR_DATA.read_text(encoding="utf-8"))["lines"]
    names = {entry["name"] for entry in lines["v1.13"]["extensions"]}
    assert names == set(OFFICIAL_EXTENSIONS_V1_13)
