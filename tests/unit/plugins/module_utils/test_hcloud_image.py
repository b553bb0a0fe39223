# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of hcloud_talos_image: wanted images, snapshot labels and reuse, the build server type."""

from __future__ import annotations

import shlex

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_plan import (
    ImageSpecError,
    cheapest_server_type,
    find_snapshot,
    snapshot_selector,
    wanted_images,
    write_command,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.labels import matches

SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
URL = f"http://127.0.0.1:18701/image/{SCHEMATIC}/v1.13.9/hcloud-amd64.raw.xz"


def wanted(**extra):
    entry = {"url": URL, "schematic_id": SCHEMATIC, "arch": "amd64", **extra}
    return wanted_images({"talos_version": "1.13.9", "images": [entry, dict(entry)]})


def test_duplicates_are_built_once_and_the_version_gets_its_v():
    (one,) = wanted()
    assert one.talos_version == "v1.13.9" and one.location == "fsn1"


def test_bad_entries_are_all_named():
    with pytest.raises(ImageSpecError) as caught:
        wanted_images({"images": [{"url": "ftp://x", "schematic_id": "abc", "arch": "riscv", "talos_version": "x"}]})
    text = str(caught.value)
    for part in ("talos_version 'vx'", "schematic_id must be", "arch 'riscv'", "url 'ftp://x'"):
        assert part in text


def test_labels_keep_the_whole_schematic_id_in_two_values():
    (one,) = wanted()
    labels = one.labels("prod")
    assert labels["talosforge.io/schematic-head"] + labels["talosforge.io/schematic-tail"] == SCHEMATIC
    assert labels["talosforge.io/talos-version"] == "v1.13.9" and labels["talosforge.io/arch"] == "amd64"
    assert matches(labels, snapshot_selector("prod")) and not matches(labels, snapshot_selector("other"))
    assert "talosforge.io/cluster" not in one.labels(None)


def test_find_snapshot_reuses_the_newest_available_matching_one():
    (one,) = wanted()
    labels = one.labels(None)
    images = [
        {"id": 1, "status": "available", "created": "2026-01-01T00:00:00Z", "labels": labels, "architecture": "x86"},
        {"id": 2, "status": "available", "created": "2026-02-01T00:00:00Z", "labels": labels, "architecture": "x86"},
        {
            "id": 3,
            "status": "available",
            "created": "2026-03-01T00:00:00Z",
            "architecture": "x86",
            "labels": {**labels, "talosforge.io/talos-version": "v1.13.8"},
        },
        {"id": 4, "status": "available", "created": "2026-03-01T00:00:00Z", "labels": labels, "architecture": "arm"},
    ]
    assert find_snapshot(one, images, None)["id"] == 2
    assert find_snapshot(one, images[2:], None) is None
    assert find_snapshot(one, images, "prod") is None  # the cluster label is required when a cluster is named


def test_cheapest_server_type_of_the_arch_in_the_location():
    def offer(name, arch, price, location="fsn1", deprecation=None):
        return {
            "name": name,
            "architecture": arch,
            "deprecation": deprecation,
            "disk": 40,
            "prices": [{"location": location, "price_monthly": {"gross": price}}],
        }

    types = [
        offer("cx22", "x86", "4.5"),
        offer("cx11", "x86", "3.0", deprecation={"announced": "x"}),
        offer("cpx11", "x86", "4.9"),
        offer("cax11", "arm", "4.0"),
        offer("ccx13", "x86", "1.0", "ash"),
    ]
    assert cheapest_server_type(types, "amd64", "fsn1") == "cx22"
    assert cheapest_server_type(types, "arm64", "fsn1") == "cax11"
    with pytest.raises(ImageSpecError, match="no server type of architecture arm64 is offered in hel1"):
        cheapest_server_type(types, "arm64", "hel1")


def test_write_command_streams_the_image_to_the_disk_with_pipefail():
    argv = shlex.split(write_command("http://h/a b'c.raw.xz"))
    assert argv[:4] == ["bash", "-o", "pipefail", "-c"]
    inner = shlex.split(argv[4])
    assert inner[inner.index("--connect-timeout") + 2] == "http://h/a b'c.raw.xz"
    assert "xz" in inner and "of=/dev/sda" in inner
