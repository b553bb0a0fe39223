# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image Factory names, version and extension checks, and the client (plugins/module_utils/_image_factory/client.py)."""

from __future__ import annotations

import json

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import (
    ImageFactoryClient,
    ImageFactoryError,
    check_extensions,
    check_schematic_id,
    check_version,
    client_from_params,
    factory_argument_spec,
    image_filename,
    image_url,
    installer_image,
    near_versions,
    normalize_version,
    registry_from_url,
    unknown_extensions,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.schematic import (
    EMPTY_SCHEMATIC_ID,
    SchematicError,
    canonicalize,
)

QEMU = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
BASE = "https://factory.talos.dev"


# ---------------------------------------------------------------------------------------------------------------
# Names and URLs
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "arch", "fmt", "secureboot", "path"),
    [
        ("hcloud", "amd64", "raw.xz", False, "hcloud-amd64.raw.xz"),
        ("metal", "amd64", "qcow2", False, "metal-amd64.qcow2"),
        ("nocloud", "amd64", "raw.xz", False, "nocloud-amd64.raw.xz"),
        ("metal", "amd64", "iso", False, "metal-amd64.iso"),
        ("metal", "amd64", "iso", True, "metal-amd64-secureboot.iso"),
        ("metal", "arm64", "raw.xz", False, "metal-arm64.raw.xz"),
        ("metal", "amd64", "uki.efi", True, "metal-amd64-secureboot-uki.efi"),
        ("gcp", "amd64", "raw.tar.gz", False, "gcp-amd64.raw.tar.gz"),
        ("vmware", "amd64", "ova", False, "vmware-amd64.ova"),
    ],
)
def test_image_filename_and_url(platform, arch, fmt, secureboot, path):
    assert image_filename(platform, arch, fmt, secureboot) == path
    url = image_url(BASE + "/", QEMU, "v1.13.9", platform, arch, fmt, secureboot)
    assert url == f"{BASE}/image/{QEMU}/v1.13.9/{path}"


def test_image_url_adds_the_v():
    assert image_url(BASE, QEMU, "1.13.9", "hcloud", "amd64", "raw.xz").endswith("/v1.13.9/hcloud-amd64.raw.xz")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Metal", "amd64", "iso"), "not a Talos platform"),
        (("metal", "x86_64", "iso"), "arch 'x86_64' is not supported; use one of amd64, arm64"),
        (("metal", "amd64", ".iso"), "not an image format"),
        (("metal", "amd64", "raw/xz"), "not an image format"),
    ],
)
def test_image_filename_rejects_bad_parts(args, message):
    with pytest.raises(InputError, match=message):
        image_filename(*args)


def test_installer_image():
    assert (
        installer_image("factory.talos.dev", "metal", QEMU, "v1.13.9")
        == f"factory.talos.dev/metal-installer/{QEMU}:v1.13.9"
    )
    assert (
        installer_image("factory.talos.dev/", "nocloud", QEMU, "1.13.9", secureboot=True)
        == f"factory.talos.dev/nocloud-installer-secureboot/{QEMU}:v1.13.9"
    )
    assert installer_image("http://127.0.0.1:8080", "hcloud", QEMU, "v1.13.9").startswith(
        "127.0.0.1:8080/hcloud-installer/"
    )


@pytest.mark.parametrize(
    ("url", "registry"),
    [
        ("https://factory.talos.dev", "factory.talos.dev"),
        ("https://factory.example.org:8443/", "factory.example.org:8443"),
        ("http://user:secret@127.0.0.1:18701/prefix", "127.0.0.1:18701"),
        ("http://[::1]:18701", "[::1]:18701"),
    ],
)
def test_registry_from_url(url, registry):
    assert registry_from_url(url) == registry


@pytest.mark.parametrize("value", ["", "ce4c98", QEMU.upper(), QEMU + "0", None])
def test_check_schematic_id(value):
    with pytest.raises(InputError, match="64 lowercase hex"):
        check_schematic_id(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("v1.13.9", "v1.13.9"),
        ("1.13.9", "v1.13.9"),
        (" v1.14.0-rc.1 ", "v1.14.0-rc.1"),
        ("v1.11.0-alpha.2", "v1.11.0-alpha.2"),
    ],
)
def test_normalize_version(value, expected):
    assert normalize_version(value) == expected


@pytest.mark.parametrize("value", ["", "latest", "v1.13", "1.13.9.1", "vv1.13.9"])
def test_normalize_version_rejects(value):
    with pytest.raises(InputError, match="not a Talos version"):
        normalize_version(value)


# ---------------------------------------------------------------------------------------------------------------
# Version and extension checks
# ---------------------------------------------------------------------------------------------------------------

VERSIONS = ["v1.11.5", "v1.12.0", "v1.12.6", "v1.13.0", "v1.13.7", "v1.13.8", "v1.13.9", "v1.14.0-beta.1", "v1.14.0"]


def test_check_version_accepts_offered():
    assert check_version("1.13.9", VERSIONS) == "v1.13.9"


def test_check_version_lists_near_versions():
    with pytest.raises(InputError) as info:
        check_version("v1.13.10", VERSIONS, "https://factory.example.org")
    message = str(info.value)
    assert message.startswith("Talos v1.13.10 is not offered by the Image Factory at https://factory.example.org.")
    assert "Nearest offered versions: v1.12.6, v1.13.0, v1.13.7, v1.13.8, v1.13.9." in message
    assert "Fix: set talos_version" in message


def test_near_versions_prefers_the_same_line():
    assert near_versions("v1.12.3", VERSIONS, count=3) == ["v1.11.5", "v1.12.0", "v1.12.6"]
    assert near_versions("v1.14.1", VERSIONS, count=2) == ["v1.14.0-beta.1", "v1.14.0"]


def test_check_version_with_nothing_offered():
    with pytest.raises(InputError, match="offers no versions at all"):
        check_version("v1.13.9", [])


OFFERED = ["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools", "siderolabs/util-linux-tools", "siderolabs/gvisor"]


def test_unknown_extensions_with_suggestions():
    unknown = unknown_extensions(
        ["siderolabs/iscsi-tools", "qemu-guest-agent", "siderolabs/iscsi-tool", "siderolabs/nonsense"], OFFERED
    )
    assert unknown == {
        "qemu-guest-agent": ["siderolabs/qemu-guest-agent"],
        "siderolabs/iscsi-tool": ["siderolabs/iscsi-tools"],
        "siderolabs/nonsense": [],
    }


def test_check_extensions_message():
    check_extensions(["siderolabs/gvisor"], OFFERED)
    with pytest.raises(InputError) as info:
        check_extensions(["siderolabs/gvisr", "siderolabs/nope"], OFFERED, "v1.13.9", "https://f.example.org")
    assert str(info.value) == (
        "The Image Factory at https://f.example.org does not offer these system extensions for Talos v1.13.9: "
        "siderolabs/gvisr (did you mean siderolabs/gvisor?); siderolabs/nope. Fix: use the full names listed by "
        "GET /version/<version>/extensions/official, e.g. siderolabs/iscsi-tools."
    )


# ---------------------------------------------------------------------------------------------------------------
# Argument spec and client construction
# ---------------------------------------------------------------------------------------------------------------


def test_factory_argument_spec_uses_the_given_fallback():
    marker = object()
    spec = factory_argument_spec(marker)
    assert spec["url"]["fallback"] == (marker, ["TALOSFORGE_IMAGE_FACTORY_URL"])
    assert spec["url"]["default"] == BASE
    assert set(spec) == {"url", "validate_certs", "ca_path", "timeout"}


def test_client_from_params():
    client = client_from_params({"url": "http://127.0.0.1:1/", "timeout": 3, "validate_certs": False, "ca_path": None})
    assert client.url == "http://127.0.0.1:1"
    assert client.http.timeout == 3.0
    with pytest.raises(InputError, match="url: 'nope' is not an http"):
        client_from_params({"url": "nope"})


# ---------------------------------------------------------------------------------------------------------------
# The client against a stub transport (the simulator tests are in test_image_factory_sim.py)
# ---------------------------------------------------------------------------------------------------------------


class Answer:
    def __init__(self, status, body):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()

    def text(self):
        return self.body.decode()

    def json(self):
        return json.loads(self.body)


class StubHttp(HttpClient):
    """Answers from a dict of (method, path) -> Answer, recording calls; no sockets."""

    def __init__(self, answers):
        super().__init__("https://factory.example.org")
        self.answers = answers
        self.calls = []

    def request(self, method, path, data=None, headers=None, ok=(200,), retry=True):
        self.calls.append((method, path, data, dict(headers or {})))
        answer = self.answers[(method, path)]
        if answer.status not in ok:
            raise HttpError(answer.status, answer.text(), self.url_for(path))
        return answer


def test_ensure_schematic_registers_when_missing():
    schematic = {"customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}}
    schematic_id, canonical = canonicalize(schematic)
    http = StubHttp(
        {
            ("GET", f"/schematics/{schematic_id}"): Answer(404, b"404 page not found\n"),
            ("POST", "/schematics"): Answer(201, {"id": schematic_id, "schematic": canonical}),
        }
    )
    assert ImageFactoryClient(http).ensure_schematic(schematic) == (QEMU, canonical, True)
    method, path, data, headers = http.calls[1]
    assert (method, path, headers["Content-Type"]) == ("POST", "/schematics", "application/yaml")
    assert json.loads(data) == {
        "customization": {"systemExtensions": {"officialExtensions": ["siderolabs/qemu-guest-agent"]}}
    }


def test_ensure_schematic_is_a_no_op_when_known():
    http = StubHttp({("GET", f"/schematics/{EMPTY_SCHEMATIC_ID}"): Answer(200, b"customization: {}\n")})
    assert ImageFactoryClient(http).ensure_schematic({}) == (EMPTY_SCHEMATIC_ID, "customization: {}\n", False)
    assert len(http.calls) == 1


def test_register_fails_loudly_on_a_different_id():
    other = "0" * 64
    http = StubHttp(
        {("POST", "/schematics"): Answer(201, {"id": other, "schematic": "owner: me\ncustomization: {}\n"})}
    )
    with pytest.raises(ImageFactoryError) as info:
        ImageFactoryClient(http).register_schematic({})
    message = str(info.value)
    assert f"registered the schematic as '{other}'" in message
    assert f"the ID computed locally is {EMPTY_SCHEMATIC_ID}" in message
    assert "owner: me" in message and "The local canonical form was:\ncustomization: {}" in message
    assert info.value.code == "schematic_id_mismatch" and info.value.request.startswith("POST https://")


def test_register_validates_before_any_request():
    http = StubHttp({})
    with pytest.raises(SchematicError):
        ImageFactoryClient(http).register_schematic({"customization": {"kernelArgs": ["x"]}})
    assert http.calls == []


def test_register_passes_the_factory_error_on():
    http = StubHttp({("POST", "/schematics"): Answer(400, b"yaml: unmarshal errors\n")})
    with pytest.raises(ImageFactoryError, match="^Image Factory request failed: HTTP 400") as info:
        ImageFactoryClient(http).register_schematic({})
    assert info.value.failure() == {
        "status": 400,
        "code": None,
        "details": "yaml: unmarshal errors\n",
        "request": "https://factory.example.org/schematics",
    }


def test_lists():
    http = StubHttp(
        {
            ("GET", "/versions"): Answer(200, ["v1.13.8", "v1.13.9"]),
            ("GET", "/version/v1.13.9/extensions/official"): Answer(200, [{"name": "siderolabs/gvisor", "ref": "r"}]),
            ("GET", "/version/v1.13.9/overlays/official"): Answer(200, [{"name": "rpi_generic"}, "junk"]),
            ("GET", "/version/v1.13.8/overlays/official"): Answer(200, {"not": "a list"}),
        }
    )
    client = ImageFactoryClient(http)
    assert client.versions() == ["v1.13.8", "v1.13.9"]
    assert client.extensions("1.13.9") == [{"name": "siderolabs/gvisor", "ref": "r"}]
    assert client.overlays("v1.13.9") == [{"name": "rpi_generic"}]
    with pytest.raises(ImageFactoryError, match="answered dict, not a list"):
        client.overlays("v1.13.8")


def test_get_schematic():
    http = StubHttp(
        {
            ("GET", f"/schematics/{QEMU}"): Answer(200, b"customization: {}\n"),
            ("GET", f"/schematics/{EMPTY_SCHEMATIC_ID}"): Answer(404, b"not found\n"),
        }
    )
    client = ImageFactoryClient(http)
    assert client.get_schematic(QEMU) == "customization: {}\n"
    assert client.get_schematic(EMPTY_SCHEMATIC_ID) is None
    with pytest.raises(InputError):
        client.get_schematic("../versions")
