"""Storage in the Proxmox VE simulator: download-url from the Image Factory simulator, upload, content, capacity."""

from __future__ import annotations

import hashlib
import lzma
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from proxmox_testlib import PVEClient, factory_and_pve, image_url, register_schematic, traffic_problems
from sandbox_testlib import RAW_IMAGE_SIZE, call

from sandbox.harness import RunningSimulator
from sandbox.simulators.proxmox import controls

pytestmark = pytest.mark.slow


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RunningSimulator, RunningSimulator]]:
    with factory_and_pve(tmp_path / "state") as simulators:
        yield simulators


def _image(factory: RunningSimulator, name: str = "metal-amd64.qcow2") -> tuple[str, bytes]:
    schematic = register_schematic(factory, ["siderolabs/qemu-guest-agent"])
    url = image_url(factory, schematic, name)
    reply = call(factory.url, "GET", url[len(factory.url) :])
    assert reply.status == 200
    return url, reply.body


def test_download_url_with_checksum(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, body = _image(factory)
    upid = client.ok(
        "POST",
        "/nodes/pve1/storage/local/download-url",
        url=url,
        content="import",
        filename="talos-v1.13.9.qcow2",
        checksum=hashlib.sha512(body).hexdigest(),
        **{"checksum-algorithm": "sha512"},
    )
    assert upid.startswith("UPID:pve1:") and upid.endswith(":download:talos-v1.13.9.qcow2:root@pam!talosforge:")
    status = client.wait(upid)
    assert (status["status"], status["exitstatus"], status["type"]) == ("stopped", "OK", "download")
    assert client.log(upid)[-1] == "TASK OK"
    stored = pve.state_dir / "proxmox" / "storage" / "pve1" / "local" / "import" / "talos-v1.13.9.qcow2"
    assert stored.read_bytes() == body
    content = client.ok("GET", "/nodes/pve1/storage/local/content", content="import")
    assert content == [
        {
            "volid": "local:import/talos-v1.13.9.qcow2",
            "format": "qcow2",
            "size": len(body),
            "ctime": content[0]["ctime"],
        }
    ]
    assert client.ok("GET", "/nodes/pve1/storage/local/content", content="iso") == []
    volume = client.ok("GET", "/nodes/pve1/storage/local/content/local:import/talos-v1.13.9.qcow2")
    assert volume == {
        "format": "qcow2",
        "path": "/var/lib/vz/import/talos-v1.13.9.qcow2",
        "size": len(body),
        "used": len(body),
    }
    assert client.ok("GET", "/nodes/pve1/storage/local/status")["used"] == len(body)
    again = client.post(
        "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="talos-v1.13.9.qcow2"
    )
    assert (again.status, again.reason) == (500, "refusing to override existing file 'talos-v1.13.9.qcow2'")
    assert [record["path"] for record in factory.requests()].count(url[len(factory.url) :]) == 2  # ours + the sim's
    assert traffic_problems(pve) == []


def test_checksum_mismatch_fails_the_task(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, body = _image(factory)
    wrong = hashlib.sha256(body + b"x").hexdigest()
    upid = client.ok(
        "POST",
        "/nodes/pve1/storage/local/download-url",
        url=url,
        content="import",
        filename="talos.qcow2",
        checksum=wrong,
        **{"checksum-algorithm": "sha256"},
    )
    status = client.wait(upid)
    expected = f"checksum mismatch: got '{hashlib.sha256(body).hexdigest()}' != expect '{wrong}'"
    assert (status["status"], status["exitstatus"]) == ("stopped", expected)
    assert client.log(upid)[-1] == f"TASK ERROR: {expected}"
    assert client.ok("GET", "/nodes/pve1/storage/local/content") == []
    assert not list((pve.state_dir / "proxmox" / "storage" / "pve1" / "local" / "import").iterdir())


def test_decompression_and_iso_content(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, body = _image(factory, "nocloud-amd64.raw.xz")
    status = client.run(
        "POST",
        "/nodes/pve1/storage/local/download-url",
        url=url,
        content="iso",
        filename="talos-nocloud.img",
        compression="xz",
    )
    assert status["exitstatus"] == "OK"
    [item] = client.ok("GET", "/nodes/pve1/storage/local/content", content="iso")
    assert (item["volid"], item["format"], item["size"]) == ("local:iso/talos-nocloud.img", "raw", RAW_IMAGE_SIZE)
    stored = pve.state_dir / "proxmox" / "storage" / "pve1" / "local" / "template" / "iso" / "talos-nocloud.img"
    assert stored.read_bytes() == lzma.decompress(body)
    unknown = client.post(
        "/nodes/pve1/storage/local/download-url", url=url, content="iso", filename="a.iso", compression="rar"
    )
    assert unknown.status == 400 and "compression" in unknown.body["errors"]


@pytest.mark.parametrize(
    ("content", "filename"),
    [("import", "talos.iso"), ("import", "talos.raw.xz"), ("iso", "talos.qcow2"), ("iso", "talos")],
)
def test_filenames_the_content_type_does_not_allow(
    pair: tuple[RunningSimulator, RunningSimulator], content: str, filename: str
) -> None:
    factory, pve = pair
    answer = PVEClient(pve).post(
        "/nodes/pve1/storage/local/download-url", url=factory.url + "/x", content=content, filename=filename
    )
    assert (answer.status, answer.body["errors"]) == (400, {"filename": "wrong file extension"})


def test_content_type_the_storage_does_not_hold(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    answer = PVEClient(pve).post(
        "/nodes/pve1/storage/local-lvm/download-url", url=factory.url + "/x", content="import", filename="a.qcow2"
    )
    assert (answer.status, answer.reason) == (500, "storage 'local-lvm' is not configured for content-type 'import'")
    missing = PVEClient(pve).get("/nodes/pve1/storage/nfs/status")
    assert (missing.status, missing.reason) == (500, "storage 'nfs' does not exist")


def test_only_loopback_urls_are_downloaded(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    _factory, pve = pair
    status = PVEClient(pve).run(
        "POST",
        "/nodes/pve1/storage/local/download-url",
        url="https://factory.talos.dev/image/x/v1.13.9/metal-amd64.qcow2",
        content="import",
        filename="talos.qcow2",
    )
    assert status["exitstatus"].startswith("download failed: the simulator only downloads from loopback addresses")


def test_full_storage_fails_the_download(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, body = _image(factory)
    assert controls.set_storage_total(pve.app, "pve1", "local", full=True) == 0
    status = client.run("POST", "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="t.qcow2")
    assert status["exitstatus"].startswith("write error: No space left on device")
    storage = client.ok("GET", "/nodes/pve1/storage/local/status")
    assert (storage["total"], storage["avail"]) == (0, 0)
    controls.set_storage_total(pve.app, "pve1", "local", total=len(body))
    assert (
        client.run("POST", "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="t.qcow2")[
            "exitstatus"
        ]
        == "OK"
    )
    assert client.ok("GET", "/nodes/pve1/storage/local/status")["avail"] == 0


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="filename"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_upload_multipart(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    _url, data = _image(factory)
    digest = hashlib.sha256(data).hexdigest()
    body, kind = _multipart(
        {"content": "import", "checksum": digest, "checksum-algorithm": "sha256"}, "up load.qcow2", data
    )
    answer = client.request("POST", "/nodes/pve1/storage/local/upload", body=body, content_type=kind)
    assert answer.status == 200, answer.body
    assert client.wait(answer.data)["exitstatus"] == "OK"
    assert [item["volid"] for item in client.ok("GET", "/nodes/pve1/storage/local/content")] == [
        "local:import/up_load.qcow2"
    ]
    body, kind = _multipart(
        {"content": "import", "checksum": "0" * 64, "checksum-algorithm": "sha256"}, "b.qcow2", data
    )
    failed = client.wait(client.request("POST", "/nodes/pve1/storage/local/upload", body=body, content_type=kind).data)
    assert failed["exitstatus"].startswith("checksum mismatch: got ")
    body, kind = _multipart({"content": "rootfs"}, "c.qcow2", data)
    refused = client.request("POST", "/nodes/pve1/storage/local/upload", body=body, content_type=kind)
    assert refused.status == 400 and set(refused.body["errors"]) == {"content"}


def test_delete_content(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, _body = _image(factory)
    client.run("POST", "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="t.qcow2")
    upid = client.ok("DELETE", "/nodes/pve1/storage/local/content/import/t.qcow2")
    assert ":imgdel:local\\x3aimport/t.qcow2:root@pam!talosforge:" in upid  # PVE escapes ':' in task IDs
    status = client.wait(upid)
    assert (status["type"], status["id"], status["exitstatus"]) == ("imgdel", "local\\x3aimport/t.qcow2", "OK")
    assert client.ok("GET", "/nodes/pve1/storage/local/content") == []
    gone = client.delete("/nodes/pve1/storage/local/content/local:import/t.qcow2")
    assert (gone.status, gone.reason) == (500, "volume 'local:import/t.qcow2' does not exist")
    assert traffic_problems(pve) == []


def test_a_download_under_way_holds_its_name(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, _body = _image(factory)
    pve.app.tasks.set_latency(0.3, "download")
    first = client.ok("POST", "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="t.qcow2")
    second = client.post("/nodes/pve1/storage/local/download-url", url=url, content="import", filename="t.qcow2")
    assert (second.status, second.reason) == (500, "refusing to override existing file 't.qcow2'")
    assert client.wait(first)["exitstatus"] == "OK"
    pve.app.tasks.fail_next("download", "download failed: simulated")
    failed = client.run("POST", "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="u.qcow2")
    assert failed["exitstatus"] == "download failed: simulated"
    retried = client.run(
        "POST", "/nodes/pve1/storage/local/download-url", url=url, content="import", filename="u.qcow2"
    )
    assert retried["exitstatus"] == "OK"


def test_redirects_leave_loopback_only_never(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    factory, pve = pair
    client = PVEClient(pve)
    url, body = _image(factory)
    factory.set_fault(302, path="^/moved$", headers={"Location": url})
    moved = client.run(
        "POST",
        "/nodes/pve1/storage/local/download-url",
        url=factory.url + "/moved",
        content="import",
        filename="moved.qcow2",
    )
    assert moved["exitstatus"] == "OK"
    assert client.ok("GET", "/nodes/pve1/storage/local/status")["used"] == len(body)
    factory.set_fault(302, path="^/away$", headers={"Location": "https://factory.talos.dev/image/x"})
    away = client.run(
        "POST",
        "/nodes/pve1/storage/local/download-url",
        url=factory.url + "/away",
        content="import",
        filename="away.qcow2",
    )
    assert away["exitstatus"].startswith("download failed: the simulator only downloads from loopback addresses")


def test_a_qcow2_header_gives_the_imported_disk_its_size(pair: tuple[RunningSimulator, RunningSimulator]) -> None:
    _factory, pve = pair
    client = PVEClient(pve)
    header = b"QFI\xfb" + (3).to_bytes(4, "big") + bytes(12) + (16).to_bytes(4, "big") + (2 << 30).to_bytes(8, "big")
    body, kind = _multipart({"content": "import"}, "real.qcow2", header + bytes(72))
    assert (
        client.wait(client.request("POST", "/nodes/pve1/storage/local/upload", body=body, content_type=kind).data)[
            "exitstatus"
        ]
        == "OK"
    )
    assert client.ok("GET", "/nodes/pve1/storage/local/content")[0]["size"] == 104  # the file
    client.run("POST", "/nodes/pve1/qemu", vmid=100, scsi0="local-lvm:0,import-from=local:import/real.qcow2")
    assert client.ok("GET", "/nodes/pve1/qemu/100/config")["scsi0"] == "local-lvm:vm-100-disk-0,size=2G"  # the disk
