# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gitops_repository's credentials against real git over HTTP: git's own http-backend behind a loopback server
that checks the token (a stand-in for the sandbox's nginx; the SSH deploy key is covered by the module test over
the sandbox's sshd)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.git import GitError
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.repository_apply import run
from gitops_testlib import GitHttpServer, Origin, subprocess_runner

TOKEN = "tok-4f0c7e1b9d2a3c5e"
FILES = {"clusters/prod/sync.yaml": "kind: Kustomization\n"}


def basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


def recording(seen: list[list[str]]):  # type: ignore[no-untyped-def]
    def run_git(argv: list[str], stdin: bytes | None, env: Mapping[str, str]) -> tuple[int, str, str]:
        seen.append(list(argv))
        return subprocess_runner(argv, stdin, env)

    return run_git


def test_a_token_goes_in_a_header_never_in_argv_or_config(tmp_path: Path) -> None:
    origin = Origin(tmp_path)
    seen: list[list[str]] = []
    with GitHttpServer(tmp_path, basic("deploy", TOKEN)) as server:
        params = {"url": server.url("origin.git"), "branch": "main", "work_dir": str(tmp_path / "work"),
                  "files": FILES, "managed_paths": ["clusters/prod"], "token": TOKEN, "username": "deploy"}  # fmt: skip
        result = run(params, False, False, recording(seen))
        again = run(params, False, False, subprocess_runner)
    assert result["changed"] and origin.files() == FILES and not again["changed"]
    assert set(server.headers) == {basic("deploy", TOKEN)}
    assert not any(TOKEN in word or base64.b64encode(f"deploy:{TOKEN}".encode()).decode() in word
                   for argv in seen for word in argv)  # fmt: skip
    for path in (tmp_path / "work").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_a_wrong_token_fails_naming_the_repository_not_the_token(tmp_path: Path) -> None:
    Origin(tmp_path)
    with GitHttpServer(tmp_path, basic("deploy", TOKEN)) as server:
        url = server.url("origin.git")
        with pytest.raises(GitError) as failed:
            run({"url": url, "branch": "main", "work_dir": str(tmp_path / "work"), "files": FILES,
                 "token": "wrong-token-123", "username": "deploy"}, False, False, subprocess_runner)  # fmt: skip
    message = str(failed.value)
    assert failed.value.code == "auth_refused" and url in message and "wrong deploy key or token" in message
    assert "wrong-token-123" not in message + str(failed.value.failure())


def test_no_token_fails_without_a_prompt(tmp_path: Path) -> None:
    Origin(tmp_path)
    with GitHttpServer(tmp_path, basic("deploy", TOKEN)) as server:
        with pytest.raises(GitError) as failed:
            run({"url": server.url("origin.git"), "branch": "main", "work_dir": str(tmp_path / "work"),
                 "files": FILES}, False, False, subprocess_runner)  # fmt: skip
    assert failed.value.code == "auth_refused"
