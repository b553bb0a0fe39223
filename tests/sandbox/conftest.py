"""Fixtures for the sandbox tests: in-process simulators on free loopback ports."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.gotools import binary

sys.path.insert(0, str(Path(__file__).resolve().parent))

from proxmox_testlib import factory_and_pve
from sandbox_testlib import ASSET_SIZE, QEMU_SCHEMATIC, RAW_IMAGE_SIZE, call

from sandbox.harness import RunningSimulator, running


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[RunningSimulator]:
    """A community-edition Image Factory simulator with small synthetic images."""
    with running(
        "image-factory", tmp_path / "state", raw_image_size=RAW_IMAGE_SIZE, asset_size=ASSET_SIZE
    ) as simulator:
        yield simulator


@pytest.fixture
def enterprise_factory(tmp_path: Path) -> Iterator[RunningSimulator]:
    with running(
        "image-factory", tmp_path / "enterprise", enterprise=True, raw_image_size=RAW_IMAGE_SIZE, asset_size=ASSET_SIZE
    ) as simulator:
        yield simulator


@pytest.fixture
def qemu_schematic(factory: RunningSimulator) -> str:
    """The ID of the qemu-guest-agent schematic, registered with ``factory``."""
    reply = call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC)
    assert reply.status == 201, reply.text
    return str(reply.json()["id"])


@pytest.fixture
def hcloud_sim(tmp_path: Path) -> Iterator[RunningSimulator]:
    """A Hetzner Cloud simulator that checks its requests and answers against the OpenAPI spec."""
    from hcloud_testlib import checked_simulator

    with checked_simulator(tmp_path) as simulator:
        yield simulator


@pytest.fixture
def client(hcloud_sim: RunningSimulator) -> Any:
    """The hcloud Python library's client, pointed at ``hcloud_sim``."""
    from hcloud_testlib import make_client

    return make_client(hcloud_sim)


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A sandbox cluster with its real etcd and kube-apiserver (three control planes, one worker), made through
    the talosctl stand-in as the collection makes one; shared by the session's tests, stopped at the end."""
    from kube_testlib import LiveCluster

    cluster = LiveCluster.create(tmp_path_factory.mktemp("kube"))
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def vm_pair(tmp_path: Path) -> Iterator[tuple[RunningSimulator, RunningSimulator]]:
    """An Image Factory simulator and a two-node Proxmox VE simulator in one state folder (the VM tests)."""
    with factory_and_pve(tmp_path / "state", nodes=["pve1", "pve2"], import_disk_size=1 << 30) as simulators:
        yield simulators


@pytest.fixture(scope="module")
def built() -> Path:
    """The sandbox-built sops (the third gotools tier), for the tests of its download and of the sops role."""
    try:
        return binary("sops")
    except Exception as error:  # not built: the third gotools tier
        pytest.skip(str(error))
