"""The rescue system end to end (a real sshd on loopback, its disk a file) and Talos nodes from snapshots."""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from hcloud_testlib import TOKEN, boot, control, spec_problems
from sandbox_testlib import ASSET_SIZE, QEMU_SCHEMATIC, RAW_IMAGE_SIZE, call

from sandbox.harness import running
from sandbox.simulators.talos.state import Store

hcloud = pytest.importorskip("hcloud")
from hcloud.images import Image
from hcloud.networks import NetworkSubnet

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.path.exists("/usr/sbin/sshd") and shutil.which("ssh") and shutil.which("ssh-keygen")),
        reason="needs openssh-server and openssh-client (apt: openssh-server)",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the rescue sshd listens on port 22 of a loopback address: root"),
]


@pytest.fixture
def sandbox(tmp_path: Path):
    """Image Factory and Hetzner Cloud simulators sharing one state folder, plus an SSH key pair."""
    state = tmp_path / "state"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")], check=True, timeout=30)
    with running("image-factory", state, raw_image_size=RAW_IMAGE_SIZE, asset_size=ASSET_SIZE) as factory:
        with running("hcloud", state, validate=True) as cloud:
            try:
                client = hcloud.Client(token=TOKEN, api_endpoint=cloud.url + "/v1", poll_interval=0.02, timeout=10)
                yield factory, cloud, client, tmp_path / "id"
            finally:
                cloud.app.machines.stop_all()
            assert cloud.app.drift == []
            assert spec_problems(cloud.requests()) == []


def ssh(key: Path, address: str, command: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    options = [
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=5",
    ]
    return subprocess.run(
        ["ssh", "-i", str(key), *options, f"root@{address}", command],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def listening(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=1):
            return True
    except OSError:
        return False


def test_rescue_write_snapshot_and_boot_talos(sandbox) -> None:
    factory, cloud, client, key = sandbox
    schematic = call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC).json()["id"]
    download = call(factory.url, "GET", f"/image/{schematic}/v1.13.9/hcloud-amd64.raw.xz")
    assert download.status == 200
    raw = lzma.decompress(download.body)

    ssh_key = client.ssh_keys.create(name="upload", public_key=(key.parent / "id.pub").read_text())
    helper = boot(client, "talos-upload", Image(name="debian-12"), location="fsn1", ssh_keys=[ssh_key])
    address = helper.public_net.ipv4.ip
    assert not listening(address)  # booted from its disk: no rescue system yet
    rescue = helper.enable_rescue(type="linux64", ssh_keys=[ssh_key.id])
    assert rescue.root_password
    rescue.action.wait_until_finished()
    helper.reset().wait_until_finished()
    assert client.servers.get_by_id(helper.id).rescue_enabled is True

    greeting = ssh(key, address, "")
    assert greeting.returncode == 0 and b"rescue system" in greeting.stdout
    written = ssh(key, address, "xz -d | dd of=/dev/sda bs=1M 2>/dev/null && sync", download.body)
    assert written.returncode == 0, written.stderr
    first_sector = ssh(key, address, "dd if=/dev/sda bs=512 count=1 2>/dev/null")
    assert first_sector.stdout == raw[:512]
    if shutil.which("wget"):  # what hcloud-upload-image runs: the rescue system downloads the image itself
        url = f"{factory.url}/image/{schematic}/v1.13.9/hcloud-amd64.raw.xz"
        fetched = ssh(key, address, f"wget -q -O - '{url}' | xz -cd | dd of=/dev/sda bs=4M 2>/dev/null && sync")
        assert fetched.returncode == 0, fetched.stderr
        assert ssh(key, address, "sha256sum /dev/sda").stdout.split()[0].decode() == hashlib.sha256(raw).hexdigest()
    other_key = key.parent / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True, timeout=30)
    assert ssh(other_key, address, "true").returncode == 255  # only the keys given to enable_rescue get in

    made = helper.create_image(
        description="talos v1.13.9",
        type="snapshot",
        labels={"talos-version": "v1.13.9", "talos-schematic": schematic[:63]},
    )
    made.action.wait_until_finished()
    status, inspected = control(cloud, "GET", f"images/{made.image.id}")
    assert status == 200
    assert inspected["sha256"] == hashlib.sha256(raw).hexdigest()
    assert inspected["bytes"] == len(raw)
    snapshot = client.images.get_by_id(made.image.id)
    assert snapshot.image_size == pytest.approx(len(raw) / 1e9) and snapshot.disk_size == 40

    helper.disable_rescue().wait_until_finished()
    assert not listening(address)  # disabling rescue stops its sshd
    helper.delete().wait_until_finished()
    assert Store(cloud.state_dir).nodes() == []  # the helper never booted Talos

    network = client.networks.create(
        name="talos",
        ip_range="10.0.0.0/16",
        subnets=[NetworkSubnet(type="cloud", ip_range="10.0.1.0/24", network_zone="eu-central")],
    )
    node = boot(client, "cp-1", snapshot, location="fsn1", networks=[network])
    private = boot(
        client,
        "cp-2",
        snapshot,
        location="fsn1",
        networks=[network],
        public_net=hcloud.servers.ServerCreatePublicNetwork(enable_ipv4=False, enable_ipv6=False),
    )
    found = {item.address: item for item in Store(cloud.state_dir).nodes()}
    assert set(found) == {node.public_net.ipv4.ip, private.private_net[0].ip}
    talos = found[node.public_net.ipv4.ip]
    assert (talos.stage, talos.platform, talos.talos_version, talos.schematic) == (
        "maintenance",
        "hcloud",
        "v1.13.9",
        schematic,
    )
    assert found["10.0.1.2"].schematic == schematic

    node.delete().wait_until_finished()
    private.delete().wait_until_finished()
    assert Store(cloud.state_dir).nodes() == []


def test_deleting_a_server_in_rescue_stops_its_sshd(sandbox) -> None:
    _factory, _cloud, client, key = sandbox
    ssh_key = client.ssh_keys.create(name="k", public_key=(key.parent / "id.pub").read_text())
    server = boot(client, "rescue-me", Image(name="ubuntu-24.04"), location="fsn1")
    server.enable_rescue(ssh_keys=[ssh_key.id]).action.wait_until_finished()
    server.power_off().wait_until_finished()
    server.power_on().wait_until_finished()
    address = server.public_net.ipv4.ip
    assert ssh(key, address, "echo ok").stdout == b"ok\n"
    server.delete().wait_until_finished()
    assert not listening(address)
