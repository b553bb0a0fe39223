# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gitops_repository's work over the sandbox's real Git servers (sshd with deploy keys, nginx + git http-backend
with tokens over TLS), started on free ports of 127.0.0.1 for this file.

A deploy key pushes, a re-run fetches and changes nothing; a key the server does not know, a read-only key and a
wrong token fail naming the repository, without the secret. The state folder is made under /tmp with mode 0755,
since the sandbox's git account must enter it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.git import GitError
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.repository_apply import run

from sandbox.git import GitServers, missing_programs, running

pytestmark = pytest.mark.slow

MISSING = missing_programs()
if MISSING:
    pytest.skip(
        f"the sandbox Git servers need {', '.join(MISSING)} (Debian packages openssh-server, nginx, fcgiwrap, git; "
        "scripts/test installs them as root)",
        allow_module_level=True,
    )

FILES = {
    "clusters/lab/infrastructure.yaml": "kind: Kustomization\nmetadata:\n  name: infra-controllers\n",
    "infrastructure/controllers/cilium.yaml": "kind: HelmRelease\nmetadata:\n  name: cilium\n",
}


def runner(argv: list[str], stdin: bytes | None, env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(argv, input=stdin, capture_output=True, check=False, timeout=60, env={"PATH": "/usr/bin:/bin",
                          "HOME": tempfile.gettempdir(), **env})  # fmt: skip
    return done.returncode, done.stdout.decode("utf-8", "surrogateescape"), done.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="tf-gitops-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(folder: Path) -> Iterator[GitServers]:
    with running(folder / "state") as started:
        yield started


def key(folder: Path, name: str) -> Path:
    path = folder / "keys" / name
    path.parent.mkdir(exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True, timeout=30)
    return path


def params(url: str, work: Path, **extra: object) -> dict[str, object]:
    return {"url": url, "branch": "main", "work_dir": str(work), "files": dict(FILES),
            "managed_paths": ["clusters/lab", "infrastructure"], **extra}  # fmt: skip


def test_a_deploy_key_pushes_and_a_rerun_changes_nothing(servers: GitServers, folder: Path) -> None:
    store = servers.store
    store.create("ssh-tree")
    writer = key(folder, "writer")
    store.add_deploy_key("ssh-tree", writer.with_suffix(".pub").read_text(), read_only=False, title="writer")
    url = servers.ssh_url("ssh-tree")
    wanted = params(url, folder / "work-ssh", ssh_key_file=str(writer), known_hosts=servers.known_hosts())
    first = run(wanted, False, False, runner)
    assert first["changed"] and store.refs("ssh-tree") == {"refs/heads/main": first["commit"]}
    assert (
        store.read_file("ssh-tree", "main", "infrastructure/controllers/cilium.yaml")
        == FILES["infrastructure/controllers/cilium.yaml"]
    )
    started = time.monotonic()
    again = run(wanted, False, False, runner)
    elapsed = time.monotonic() - started
    assert not again["changed"] and again["commands"] == ["fetch", "for-each-ref", "ls-tree"] and elapsed < 5
    print(f"no-op run over SSH: {elapsed:.3f} s, git {' '.join(again['commands'])}")

    first_use = params(url, folder / "work-ssh-tofu", ssh_key_file=str(writer))  # host key recorded on first use
    assert not run(first_use, False, False, runner)["changed"]
    host_key = servers.known_hosts().split()[2]
    assert host_key in (folder / "work-ssh-tofu" / "known_hosts").read_text()

    other_host_key = servers.known_hosts().replace(
        host_key, "AAAAC3NzaC1lZDI1NTE5AAAAIHvMmQ0ScA0u9/pXJx7NAPxMOD5u0hRO7ZVIp0C1l8Ea"
    )
    with pytest.raises(GitError) as changed:
        run({**wanted, "known_hosts": other_host_key}, False, False, runner)
    assert changed.value.code == "auth_refused" and "Host key verification failed" in str(changed.value)


def test_a_wrong_or_read_only_deploy_key_fails_naming_the_repository(servers: GitServers, folder: Path) -> None:
    store = servers.store
    store.create("guarded-tree")
    reader, stranger = key(folder, "reader"), key(folder, "stranger")
    store.add_deploy_key("guarded-tree", reader.with_suffix(".pub").read_text(), read_only=True, title="reader")
    url = servers.ssh_url("guarded-tree")
    with pytest.raises(GitError) as wrong:
        run(params(url, folder / "work-stranger", ssh_key_file=str(stranger), known_hosts=servers.known_hosts()),
            False, False, runner)  # fmt: skip
    assert wrong.value.code == "auth_refused" and url in str(wrong.value) and "deploy key" in str(wrong.value)
    with pytest.raises(GitError) as read_only:
        run(params(url, folder / "work-reader", ssh_key_file=str(reader), known_hosts=servers.known_hosts()),
            False, False, runner)  # fmt: skip
    assert read_only.value.code == "auth_refused" and url in str(read_only.value)
    assert store.refs("guarded-tree") == {}


def test_a_token_over_https_pushes_and_a_wrong_one_fails(
    servers: GitServers, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A GIT_SSL_CAINFO in the environment (some machines set one for the system's CAs) must not hide ca_file: the
    # module's git inherits the environment, as AnsibleModule.run_command gives it.
    monkeypatch.setenv("GIT_SSL_CAINFO", "/etc/ssl/certs/ca-certificates.crt")

    def inheriting(argv: list[str], stdin: bytes | None, env: dict[str, str]) -> tuple[int, str, str]:
        return runner(argv, stdin, {**os.environ, **env})

    store = servers.store
    store.create("https-tree")
    token = store.add_token("https-tree", title="pusher")
    url = servers.https_url("https-tree")
    wanted = params(url, folder / "work-https", token=token, username="x-access-token", ca_file=str(servers.ca_file))
    first = run(wanted, False, False, inheriting)
    assert first["changed"] and store.refs("https-tree") == {"refs/heads/main": first["commit"]}
    assert not run(wanted, False, False, inheriting)["changed"]
    with pytest.raises(GitError) as wrong:
        run({**wanted, "token": "tfgit_not-the-token", "work_dir": str(folder / "work-bad")}, False, False, runner)
    assert wrong.value.code == "auth_refused" and url in str(wrong.value)
    assert "tfgit_not-the-token" not in str(wrong.value) + str(wrong.value.failure())
