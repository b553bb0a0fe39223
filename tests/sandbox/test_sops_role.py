"""The sops role for real: ansible-playbook downloads the sandbox-built sops from the chart simulator (on a free
loopback port, in the layout of sops's GitHub releases), verifies it against the release's checksum file or a pinned
checksum, checks the version it reports and sets talosforge_sops_binary; refusals name what was wrong."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.harness import RunningSimulator, running

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
VERSION = "v3.13.3"
FILE = f"sops-{VERSION}.linux.amd64"
RELEASE = f"/sops/releases/download/{VERSION}"


@pytest.fixture
def charts(tmp_path: Path, built: Path) -> Iterator[RunningSimulator]:
    del built
    with running("charts", tmp_path / "state") as simulator:
        yield simulator


def fetched(simulator: RunningSimulator) -> list[str]:
    return [record["path"] for record in simulator.requests()]


def play(tmp_path: Path, url: str, *options: str, **overrides: Any) -> subprocess.CompletedProcess:
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    variables = {
        "sops_url": f"{url}{RELEASE}/{FILE}",
        "sops_checksum_url": f"{url}{RELEASE}/sops-{VERSION}.checksums.txt",
        "sops_install_dir": str(tmp_path / "sops" / VERSION),
        **overrides,
    }
    version = ["{{ talosforge_sops_binary }}", "--version", "--disable-version-check"]
    check = {"ansible.builtin.command": {"argv": version}, "register": "out", "changed_when": False,
             "check_mode": False}  # fmt: skip
    tasks = [{"ansible.builtin.include_role": {"name": "talosforge.cluster.sops"}},
             check,
             {"ansible.builtin.debug": {"msg": "SOPS={{ talosforge_sops_binary }} {{ out.stdout }}"}}]  # fmt: skip
    # two hosts: the role still works once, on the control node
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"hosts": "all", "gather_facts": False, "vars": variables, "tasks": tasks}]))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "SOPS_"))}
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]))  # fmt: skip
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "one,two,", "-c", "local", str(path)]
    return subprocess.run([*command, *options], capture_output=True, text=True, env=env, timeout=300, check=False)


def installed(tmp_path: Path) -> Path:
    return tmp_path / "sops" / VERSION / "linux-amd64" / "sops"


def test_sops_is_downloaded_verified_once_and_reused(tmp_path: Path, charts: RunningSimulator, built: Path) -> None:
    first = play(tmp_path, charts.url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"SOPS={installed(tmp_path)} sops 3.13.3" in first.stdout
    assert first.stdout.count("changed=2") == 1  # folder and binary, once for the two hosts
    assert installed(tmp_path).read_bytes() == built.read_bytes() and os.access(installed(tmp_path), os.X_OK)
    assert sorted(fetched(charts)) == [f"{RELEASE}/sops-{VERSION}.checksums.txt", f"{RELEASE}/{FILE}"]

    charts.reset()
    again = play(tmp_path, charts.url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed=1" not in again.stdout and "changed=2" not in again.stdout
    assert f"SOPS={installed(tmp_path)} sops 3.13.3" in again.stdout
    check = play(tmp_path, charts.url, "--check")
    assert check.returncode == 0 and "changed=1" not in check.stdout, check.stdout + check.stderr
    assert fetched(charts) == []  # the sops in place is used: not even the checksum file is fetched


def test_in_check_mode_too_sops_is_installed(tmp_path: Path, charts: RunningSimulator) -> None:
    result = play(tmp_path, charts.url, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SOPS={installed(tmp_path)} sops 3.13.3" in result.stdout


def test_a_pinned_checksum_wins_over_the_checksum_file(tmp_path: Path, charts: RunningSimulator, built: Path) -> None:
    pinned = "sha256:" + hashlib.sha256(built.read_bytes()).hexdigest()
    result = play(tmp_path, charts.url, sops_checksum=pinned)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fetched(charts) == [f"{RELEASE}/{FILE}"]


def test_a_wrong_pinned_checksum_is_refused_naming_the_file(tmp_path: Path, charts: RunningSimulator) -> None:
    result = play(tmp_path, charts.url, sops_checksum="sha256:" + "0" * 64)
    assert result.returncode != 0
    assert f"sops {VERSION} was not installed: {FILE} from {charts.url}{RELEASE}/{FILE}" in result.stdout
    assert "the pinned sops_checksum sha256:" + "0" * 64 in result.stdout and "did not match" in result.stdout
    assert not installed(tmp_path).exists()


def test_a_binary_the_checksum_file_disowns_is_refused(tmp_path: Path, charts: RunningSimulator) -> None:
    charts.set_fault(200, path=r".*\.checksums\.txt$", body=f"{'1' * 64}  {FILE}\n")
    result = play(tmp_path, charts.url)
    assert result.returncode != 0
    assert f"{FILE} from {charts.url}{RELEASE}/{FILE}, checked against {charts.url}{RELEASE}/sops-" in result.stdout
    assert f"did not match {'1' * 64}" in result.stdout
    assert not installed(tmp_path).exists()

    charts.set_fault(200, path=r".*\.checksums\.txt$", body=f"{'1' * 64}  sops-{VERSION}.darwin.arm64\n")
    missing = play(tmp_path, charts.url)
    assert missing.returncode != 0 and f"Unable to find a checksum for file '{FILE}'" in missing.stdout
    assert not installed(tmp_path).exists()


def test_an_architecture_the_mirror_lacks_is_refused(tmp_path: Path, charts: RunningSimulator) -> None:
    result = play(
        tmp_path,
        charts.url,
        sops_arch="arm64",
        sops_url=f"{charts.url}{RELEASE}/sops-{VERSION}.linux.arm64",
    )
    assert result.returncode != 0
    assert f"sops {VERSION} was not installed: sops-{VERSION}.linux.arm64" in result.stdout
    assert f"Unable to find a checksum for file 'sops-{VERSION}.linux.arm64'" in result.stdout
    pinned = play(
        tmp_path,
        charts.url,
        sops_arch="arm64",
        sops_url=f"{charts.url}{RELEASE}/sops-{VERSION}.linux.arm64",
        sops_checksum="sha256:" + "0" * 64,
    )
    assert pinned.returncode != 0 and "HTTP Error 404" in pinned.stdout, pinned.stdout
    assert not (tmp_path / "sops" / VERSION / "linux-arm64" / "sops").exists()


def test_a_sops_reporting_another_version_is_refused(tmp_path: Path, charts: RunningSimulator) -> None:
    impostor = installed(tmp_path)
    impostor.parent.mkdir(parents=True)
    impostor.write_text("#!/bin/sh\necho 'sops 3.12.1'\n")
    impostor.chmod(0o755)
    result = play(tmp_path, charts.url)
    assert result.returncode != 0
    assert f"{impostor} reports sops 3.12.1, not sops 3.13.3; remove it" in result.stdout
    assert fetched(charts) == []


def test_bad_settings_are_refused_before_anything_is_fetched(tmp_path: Path, charts: RunningSimulator) -> None:
    result = play(tmp_path, charts.url, sops_version="3.13.3", sops_checksum="md5:abc")
    assert result.returncode != 0
    assert "sops_version must look like v3.13.3 (got 3.13.3)" in result.stdout
    assert fetched(charts) == [] and not (tmp_path / "sops").exists()
