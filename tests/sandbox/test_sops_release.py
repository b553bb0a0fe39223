"""The chart simulator's sops download, as sops's GitHub releases lay it out: the bytes are the sandbox-built sops,
the checksum file has its line in upstream's format, anything else is a 404 saying what is served."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sandbox_testlib import call

from sandbox.harness import RunningSimulator, running
from sandbox.simulators.charts.helm_release import host_platform
from sandbox.simulators.charts.sops_release import SopsDownloads, SopsUnavailable

BASE = "/sops/releases/download"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    with running("charts", tmp_path_factory.mktemp("charts")) as simulator:
        yield simulator


def reported(path: Path) -> str:
    """The version sops reports, as a release tag (v3.13.3); the flag keeps it from asking GitHub."""
    result = subprocess.run(
        [str(path), "--version", "--disable-version-check"], capture_output=True, text=True, check=True, timeout=60
    )
    return "v" + result.stdout.split()[1]


def test_the_binary_and_its_checksum_line_are_served(repo: RunningSimulator, built: Path, tmp_path: Path) -> None:
    version = reported(built)
    # the version sandbox/gotools/sops builds is the sops role's default, which the sandbox inventories install
    defaults = yaml.safe_load((REPO / "roles" / "sops" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert version == defaults["sops_version"] == "v3.13.3"
    name = f"sops-{version}.{host_platform().replace('-', '.')}"
    served = call(repo.url, "GET", f"{BASE}/{version}/{name}", timeout=60)
    assert served.status == 200 and served.body == built.read_bytes()
    assert served.headers["Content-Type"] == "application/octet-stream"
    checksums = call(repo.url, "GET", f"{BASE}/{version}/sops-{version}.checksums.txt")
    assert checksums.status == 200
    assert checksums.text == f"{hashlib.sha256(served.body).hexdigest()}  {name}\n"
    # what upstream tells users to run on the two files (sha256sum -c --ignore-missing) accepts them
    (tmp_path / name).write_bytes(served.body)
    (tmp_path / "checksums.txt").write_bytes(checksums.body)
    checked = subprocess.run(
        ["sha256sum", "-c", "--ignore-missing", "checksums.txt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0 and checked.stdout == f"{name}: OK\n", checked.stdout + checked.stderr
    head = call(repo.url, "HEAD", f"{BASE}/{version}/{name}")
    assert head.status == 200 and int(head.headers["Content-Length"]) == len(served.body) and head.body == b""


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/v3.13.3/sops-v3.13.3.linux.arm64",  # an architecture this sandbox did not build
        f"{BASE}/v3.13.2/sops-v3.13.2.linux.amd64",  # another version
        f"{BASE}/v3.13.2/sops-v3.13.2.checksums.txt",
        f"{BASE}/v3.13.2/sops-v3.13.3.linux.amd64",  # a file under another version's folder
        f"{BASE}/v3.13.3/sops-v3.13.3.checksums.pem",
        f"{BASE}/v3.13.3/helm",
    ],
)
def test_other_files_are_not_found(repo: RunningSimulator, built: Path, path: str) -> None:
    del built
    missing = call(repo.url, "GET", path)
    assert missing.status == 404 and "sops" in missing.text


def test_the_served_version_follows_the_binary(tmp_path: Path) -> None:
    """A sops reporting another version is served under that version, and the checksum is the new binary's."""
    fake = tmp_path / "sops"
    fake.write_text("#!/bin/sh\necho 'sops 3.99.1'\n")
    fake.chmod(0o755)
    downloads = SopsDownloads(fake)
    assert downloads.version() == "v3.99.1"
    name = f"sops-v3.99.1.{host_platform().replace('-', '.')}"
    assert downloads.lookup("v3.99.1", name) == (fake, None)
    digest = hashlib.sha256(fake.read_bytes()).hexdigest()
    assert downloads.lookup("v3.99.1", "sops-v3.99.1.checksums.txt") == (None, f"{digest}  {name}\n".encode())
    with pytest.raises(SopsUnavailable, match="serves only v3.99.1"):
        downloads.lookup("v3.13.3", "sops-v3.13.3.checksums.txt")
    fake.write_text("#!/bin/sh\necho 'sops 3.99.2'\n")  # rebuilt: another size, so looked at again
    assert downloads.version() == "v3.99.2"


def test_a_sops_that_cannot_tell_its_version_is_not_served(tmp_path: Path) -> None:
    broken = tmp_path / "sops"
    broken.write_text("#!/bin/sh\necho 'flag provided but not defined' >&2\nexit 2\n")
    broken.chmod(0o755)
    with pytest.raises(SopsUnavailable, match="--version failed: flag provided but not defined"):
        SopsDownloads(broken).version()
    with pytest.raises(SopsUnavailable):
        SopsDownloads(tmp_path / "absent").version()
