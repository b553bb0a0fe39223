"""The helm role for real: ansible-playbook downloads a helm release archive in get.helm.sh's layout (made here from
the sandbox-built helm) from a loopback HTTP server, verifies it, unpacks the binary and sets talosforge_helm_binary.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.gotools import binary

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
VERSION = "v4.2.4"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def downloads(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """http://127.0.0.1:<port>/helm-v4.2.4-linux-amd64.tar.gz and its .sha256sum, and the server's request log."""
    served = tmp_path / "served"
    served.mkdir()
    archive = served / f"helm-{VERSION}-linux-amd64.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(str(binary("helm")), arcname="linux-amd64/helm")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (served / f"{archive.name}.sha256sum").write_text(f"{digest}  {archive.name}\n", encoding="utf-8")
    log = tmp_path / "requests.log"

    class Logged(QuietHandler):
        def do_GET(self) -> None:
            with log.open("a", encoding="utf-8") as out:
                out.write(self.path + "\n")
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Logged, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def play(tmp_path: Path, url: str, *options: str, checksum: str = "") -> subprocess.CompletedProcess:
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    variables = {
        "helm_version": VERSION,
        "helm_url": f"{url}/helm-{VERSION}-linux-amd64.tar.gz",
        "helm_install_dir": str(tmp_path / "helm" / VERSION),
        "helm_checksum": checksum,
    }
    tasks = [{"ansible.builtin.include_role": {"name": "talosforge.cluster.helm"}},
             {"ansible.builtin.command": {"argv": ["{{ talosforge_helm_binary }}", "version", "--short"]},
              "register": "out", "changed_when": False},
             {"ansible.builtin.debug": {"msg": "HELM={{ talosforge_helm_binary }} {{ out.stdout }}"}}]  # fmt: skip
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "vars": variables, "tasks": tasks}]))
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]))  # fmt: skip
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
    return subprocess.run([*command, *options], capture_output=True, text=True, env=env, timeout=300, check=False)


def test_helm_is_downloaded_verified_unpacked_once_and_reused(tmp_path: Path, downloads: tuple[str, Path]) -> None:
    url, log = downloads
    first = play(tmp_path, url)
    assert first.returncode == 0, first.stdout + first.stderr
    installed = tmp_path / "helm" / VERSION / "linux-amd64" / "helm"
    assert f"HELM={installed} {VERSION}" in first.stdout
    assert "changed=3" in first.stdout  # folder, archive, binary
    assert sorted(set(log.read_text().split())) == [f"/helm-{VERSION}-linux-amd64.tar.gz",
                                                    f"/helm-{VERSION}-linux-amd64.tar.gz.sha256sum"]  # fmt: skip

    log.write_text("")
    again = play(tmp_path, url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "changed=0" in again.stdout and f"HELM={installed} {VERSION}" in again.stdout
    assert log.read_text() == ""  # the unpacked helm reports the version: nothing is fetched, not even the checksum

    check = play(tmp_path, url, "--check")
    assert check.returncode == 0 and "changed=0" in check.stdout, check.stdout + check.stderr


def test_in_check_mode_too_helm_is_installed(tmp_path: Path, downloads: tuple[str, Path]) -> None:
    url, _log = downloads
    result = play(tmp_path, url, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "helm" / VERSION / "linux-amd64" / "helm").exists()


def test_an_archive_with_another_checksum_is_refused(tmp_path: Path, downloads: tuple[str, Path]) -> None:
    url, _log = downloads
    result = play(tmp_path, url, checksum="sha256:" + "0" * 64)
    assert result.returncode != 0
    assert "checksum" in result.stdout.lower()
    assert not (tmp_path / "helm" / VERSION / "linux-amd64" / "helm").exists()
