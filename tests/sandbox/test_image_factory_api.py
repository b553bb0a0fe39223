"""The Image Factory simulator's schematic and catalog endpoints, per tests/contracts/image-factory/api.md."""

from __future__ import annotations

import re

import pytest
from sandbox_testlib import QEMU_CANONICAL, QEMU_SCHEMATIC, QEMU_SCHEMATIC_ID, call

from sandbox.harness import RunningSimulator, running

pytestmark = pytest.mark.slow

OFFICIAL_EXTENSIONS = [
    "siderolabs/qemu-guest-agent",
    "siderolabs/tailscale",
    "siderolabs/iscsi-tools",
    "siderolabs/util-linux-tools",
    "siderolabs/intel-ucode",
    "siderolabs/amd-ucode",
    "siderolabs/gvisor",
    "siderolabs/zfs",
    "siderolabs/drbd",
    "siderolabs/nvidia-open-gpu-kernel-modules-lts",
    "siderolabs/amdgpu",
    "siderolabs/vmtoolsd-guest-agent",
    "siderolabs/i915",
    "siderolabs/nfsd",
]


def test_create_schematic(factory: RunningSimulator) -> None:
    reply = call(factory.url, "POST", "/schematics", QEMU_SCHEMATIC, {"Content-Type": "application/yaml"})
    assert reply.status == 201
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {
        "id": QEMU_SCHEMATIC_ID,
        "schematic": QEMU_CANONICAL,
    }
    again = call(
        factory.url,
        "POST",
        "/schematics",
        '{"customization":{"systemExtensions":{"officialExtensions":["siderolabs/qemu-guest-agent"]}}}',
    )
    assert (again.status, again.json()["id"]) == (201, QEMU_SCHEMATIC_ID)


def test_get_schematic(factory: RunningSimulator, qemu_schematic: str) -> None:
    reply = call(factory.url, "GET", f"/schematics/{qemu_schematic}")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/yaml"
    assert reply.text.startswith("customization:\n    systemExtensions:")
    missing = call(factory.url, "GET", "/schematics/" + "0" * 64)
    assert (missing.status, missing.text) == (404, "schematic not found\n")
    assert call(factory.url, "GET", "/schematics/..%2F..%2Fsandbox.json").status == 404


def test_schematic_survives_restart(tmp_path) -> None:
    with running("image-factory", tmp_path) as first:
        schematic_id = call(first.url, "POST", "/schematics", QEMU_SCHEMATIC).json()["id"]
    with running("image-factory", tmp_path) as second:
        assert call(second.url, "GET", f"/schematics/{schematic_id}").status == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("customization: {foo: 1}", "field foo not found in type schematic.Customization"),
        ("customization: {meta: [{key: 300, value: x}]}", "into uint8"),
        ("customization: {bootloader: lilo}", "does not belong to BootloaderKind values"),
        ("customization: {secureboot: {enrollKeys: [force]}}", "cannot construct !!seq into string"),
        ("owner: alice", "owner field is only supported in Enterprise edition"),
        ("", "EOF"),
    ],
)
def test_invalid_schematic_is_400_plain_text(factory: RunningSimulator, body: str, fragment: str) -> None:
    reply = call(factory.url, "POST", "/schematics", body)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.text.endswith("\n") and fragment in reply.text


def test_owner_accepted_by_enterprise(enterprise_factory: RunningSimulator) -> None:
    reply = call(enterprise_factory.url, "POST", "/schematics", "owner: alice")
    assert reply.status == 201
    assert reply.json()["schematic"] == "owner: alice\ncustomization: {}\n"


def test_versions(factory: RunningSimulator) -> None:
    reply = call(factory.url, "GET", "/versions")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"  # as the real factory: the JSON is sniffed
    versions = reply.json()
    assert versions[0] == "v1.11.0" and "v1.13.9" in versions and "v1.13.99" not in versions
    assert {"v1.14.0-alpha.1", "v1.14.0-beta.0", "v1.14.0-rc.1"} <= set(versions)
    assert not [v for v in versions if "-" in v and not v.startswith("v1.14.")], "pre-releases only for the newest line"
    broken = call(factory.url, "GET", "/versions?broken=true").json()
    assert broken and not set(broken) & set(versions)
    assert call(factory.url, "GET", "/versions?broken=yes").json() == versions


def test_official_extensions(factory: RunningSimulator) -> None:
    reply = call(factory.url, "GET", "/version/v1.13.9/extensions/official")
    assert reply.status == 200
    extensions = reply.json()
    names = [item["name"] for item in extensions]
    assert set(OFFICIAL_EXTENSIONS) <= set(names) and len(names) >= 50
    assert all(set(item) == {"name", "ref", "digest", "author", "description"} for item in extensions)
    by_name = {item["name"]: item for item in extensions}
    assert re.fullmatch(r"ghcr\.io/siderolabs/tailscale:\d+\.\d+\.\d+", by_name["siderolabs/tailscale"]["ref"])
    assert by_name["siderolabs/drbd"]["ref"].endswith("-v1.13.9")  # kernel modules are built per Talos version
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", item["digest"]) for item in extensions)
    assert call(factory.url, "GET", "/version/1.13.9/extensions/official").json() == extensions


@pytest.mark.parametrize(("version", "status"), [("v1.13.99", 404), ("v1.12.7", 404), ("not-a-version", 500)])
def test_extensions_of_unknown_version(factory: RunningSimulator, version: str, status: int) -> None:
    reply = call(factory.url, "GET", f"/version/{version}/extensions/official")
    assert reply.status == status and reply.text.endswith("\n")


def test_official_overlays(factory: RunningSimulator) -> None:
    overlays = call(factory.url, "GET", "/version/v1.13.9/overlays/official").json()
    rpi = next(item for item in overlays if item["name"] == "rpi_generic")
    assert rpi["image"] == "siderolabs/sbc-raspberrypi"
    assert rpi["ref"].startswith("ghcr.io/siderolabs/sbc-raspberrypi:v")
    assert call(factory.url, "GET", "/version/v9.9.9/overlays/official").status == 404


def test_common_headers_and_request_id(factory: RunningSimulator) -> None:
    generated = call(factory.url, "GET", "/versions")
    assert generated.headers["Server"] and re.fullmatch(r"[0-9a-f-]{36}", generated.headers["X-Request-ID"])
    echoed = call(factory.url, "GET", "/nowhere", headers={"X-Request-ID": "trace-42"})
    assert (echoed.status, echoed.headers["X-Request-ID"], echoed.text) == (404, "trace-42", "404 page not found\n")
    wrong_method = call(factory.url, "DELETE", "/versions")
    assert wrong_method.status == 405 and wrong_method.headers["Allow"] == "GET"
