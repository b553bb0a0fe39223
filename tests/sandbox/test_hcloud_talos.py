"""Servers whose disk holds an Image Factory Talos image boot into simulated Talos nodes (no SSH needed here:
the disk is written directly, where test_hcloud_rescue.py writes it through the rescue system)."""

from __future__ import annotations

import lzma
from pathlib import Path

from hcloud.images import Image
from hcloud.networks import NetworkSubnet
from hcloud.server_types import ServerType
from hcloud.servers import ServerCreatePublicNetwork
from hcloud_testlib import boot, checked_simulator, control, make_client
from sandbox_testlib import QEMU_SCHEMATIC, call

from sandbox.harness import RunningSimulator
from sandbox.simulators.hcloud.machine import talos_image_facts
from sandbox.simulators.talos.state import Store


def factory_disk(factory: RunningSimulator, arch: str = "amd64") -> tuple[str, bytes]:
    schematic = call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC).json()["id"]
    image = call(factory.url, "GET", f"/image/{schematic}/v1.13.9/hcloud-{arch}.raw.xz")
    assert image.status == 200
    return schematic, lzma.decompress(image.body)


def snapshot_of(client, simulator: RunningSimulator, disk: bytes, server_type: str = "cx22"):
    """A snapshot of a server whose disk was overwritten with ``disk`` (what the rescue system's dd does)."""
    created = client.servers.create(
        name="upload", server_type=ServerType(name=server_type), image=Image(name="debian-12")
    )
    created.action.wait_until_finished()
    _status, inspected = control(simulator, "GET", f"servers/{created.server.id}")
    Path(inspected["disk"]).write_bytes(disk)
    made = created.server.create_image(description="talos", labels={"os": "talos"})
    made.action.wait_until_finished()
    created.server.delete().wait_until_finished()
    return client.images.get_by_id(made.image.id)


def test_the_factory_label_is_recognised(factory: RunningSimulator, tmp_path: Path) -> None:
    schematic, disk = factory_disk(factory)
    (tmp_path / "disk").write_bytes(disk)
    facts = talos_image_facts(tmp_path / "disk")
    assert facts is not None
    assert (facts["version"], facts["schematic"], facts["platform"], facts["arch"]) == (
        "v1.13.9",
        schematic,
        "hcloud",
        "amd64",
    )
    (tmp_path / "other").write_bytes(b"\x00" * 4096)
    assert talos_image_facts(tmp_path / "other") is None
    assert talos_image_facts(tmp_path / "missing") is None


def test_talos_nodes_follow_the_servers(factory: RunningSimulator, tmp_path: Path) -> None:
    schematic, disk = factory_disk(factory)
    with checked_simulator(tmp_path) as simulator:  # the same state folder as the factory's
        client = make_client(simulator)
        snapshot = snapshot_of(client, simulator, disk)
        assert Store(simulator.state_dir).nodes() == []
        network = client.networks.create(
            name="cluster",
            ip_range="10.0.0.0/16",
            subnets=[NetworkSubnet(type="cloud", ip_range="10.0.1.0/24", network_zone="eu-central")],
        )
        public = boot(client, "cp-1", snapshot, networks=[network])
        private = boot(
            client,
            "cp-2",
            snapshot,
            networks=[network],
            public_net=ServerCreatePublicNetwork(enable_ipv4=False, enable_ipv6=False),
        )
        nodes = {node.address: node for node in Store(simulator.state_dir).nodes()}
        assert set(nodes) == {public.public_net.ipv4.ip, private.private_net[0].ip}
        node = nodes[public.public_net.ipv4.ip]
        assert (node.stage, node.platform, node.talos_version, node.schematic) == (
            "maintenance",
            "hcloud",
            "v1.13.9",
            schematic,
        )
        assert control(simulator, "GET", f"servers/{public.id}")[1]["talos_address"] == public.public_net.ipv4.ip

        public.power_off().wait_until_finished()
        public.power_on().wait_until_finished()
        assert Store(simulator.state_dir).node(public.public_net.ipv4.ip) is not None  # the same node, booted again

        private.rebuild(Image(name="debian-12")).action.wait_until_finished()
        assert Store(simulator.state_dir).node(private.private_net[0].ip) is None  # its disk is Debian now
        public.delete().wait_until_finished()
        assert Store(simulator.state_dir).nodes() == []


def test_an_image_for_the_other_architecture_does_not_boot(factory: RunningSimulator, tmp_path: Path) -> None:
    _schematic, disk = factory_disk(factory, "amd64")
    with checked_simulator(tmp_path) as simulator:
        client = make_client(simulator)
        snapshot = snapshot_of(client, simulator, disk, server_type="cax11")  # amd64 bytes on an arm server
        assert snapshot.architecture == "arm"
        server = boot(client, "arm-1", snapshot, server_type="cax11")
        assert server.status == "running"
        assert Store(simulator.state_dir).nodes() == []


def test_resetting_the_sandbox_removes_the_servers_talos_nodes(factory: RunningSimulator, tmp_path: Path) -> None:
    _schematic, disk = factory_disk(factory)
    with checked_simulator(tmp_path) as simulator:
        client = make_client(simulator)
        boot(client, "cp-1", snapshot_of(client, simulator, disk))
        assert len(Store(simulator.state_dir).nodes()) == 1
        assert call(simulator.url, "POST", "/_sandbox/reset", "{}").status == 200
        assert Store(simulator.state_dir).nodes() == []
        assert client.servers.get_all() == [] and client.images.get_all(type="snapshot") == []
