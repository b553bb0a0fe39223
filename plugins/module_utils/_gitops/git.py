# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The git command line over a bare clone in the work folder: fetch, read trees, write a commit, push with a lease.

Pure (no Ansible import): a module hands in ``module_runner(module)``, tests a subprocess runner. No command line
holds a secret: the SSH key is a file named in ``GIT_SSH_COMMAND``, an HTTPS token goes in an
``Authorization`` header given through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``, so it is
never written to ``.git/config`` nor seen in a process list. The user's and the system's git configuration are not
read (``GIT_CONFIG_GLOBAL=/dev/null``, ``GIT_CONFIG_NOSYSTEM``): no credential helper, no ``insteadOf`` rewrites,
and git never prompts.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError, InputError

# runner(argv, stdin, env) -> (exit code, stdout, stderr); output decoded as UTF-8 with surrogateescape
Runner = Callable[[list[str], "bytes | None", Mapping[str, str]], "tuple[int, str, str]"]
REMOTE_REF = "refs/remotes/origin/{branch}"
PENDING_REF = "refs/talosforge/pending/{branch}"
AUTH_WORDS = ("permission denied", "authentication failed", "could not read username", "error: 403", "error: 401",
              "invalid username or password", "access denied", "host key verification failed", "read only",
              "read-only", "not authorized", "does not have write access", "no access", "push refused")  # fmt: skip
MISSING_WORDS = ("repository not found", "does not appear to be a git repository", "not found")
UNREACHABLE_WORDS = ("could not resolve", "connection refused", "timed out", "no route to host",
                     "failed to connect", "could not connect", "connection reset")  # fmt: skip
HINTS = {
    "auth_refused": "the server refused the credentials: wrong deploy key or token, a key without write access, "
    "or a changed host key",
    "not_found": "no such repository",
    "unreachable": "the server could not be reached",
}


def module_runner(module: Any) -> Runner:
    """A runner over ``module.run_command``."""

    def run(argv: list[str], stdin: bytes | None, env: Mapping[str, str]) -> tuple[int, str, str]:
        return module.run_command(argv, data=stdin, binary_data=True, environ_update=dict(env), check_rc=False)

    return run


class GitError(ApiError):
    """A git command failed. ``code``: ``auth_refused`` (wrong deploy key or token, or an unknown host key),
    ``not_found`` (no such repository), ``unreachable``, ``remote_moved`` (someone pushed since the fetch) or
    ``git``; ``details``: the repository, git's exit code and its stderr."""

    def __init__(self, message: str, url: str, argv: list[str] | None = None, rc: int | None = None,
                 stderr: str = "", code: str = "git"):  # fmt: skip
        super().__init__(message, code=code, details={"repository": url, "rc": rc, "stderr": stderr or None},
                         request=shlex.join(["git", *(argv or [])[1:]]))  # fmt: skip


def shown_url(url: str) -> str:
    """The URL without any password (a user name stays: ``ssh://git@host/repo``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else "")))


def check_url(url: str) -> str:
    """``ssh://``, ``https://``, ``http://`` or ``file://`` URLs (and scp-like ``git@host:path``), no password."""
    parts = urlsplit(url)
    scp_like = parts.scheme == "" and re.match(r"^[\w.-]+@[\w.-]+:[^/-]", url) is not None
    if url.startswith("-") or (parts.scheme not in ("ssh", "https", "http", "file") and not scp_like):
        raise InputError(f"repository URL {shown_url(url)!r}: use an ssh://, https:// or file:// URL")
    if parts.password is not None:
        raise InputError(f"repository URL {shown_url(url)!r} holds a password: give it in the token option instead")
    return url


def check_branch(branch: str) -> str:
    """A plain branch name (letters, digits, ``._/-``; no ``..``, no leading ``-`` or ``/``)."""
    if (not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", branch) or branch.startswith(("-", "."))
            or ".." in branch or branch.endswith((".lock", "."))):  # fmt: skip
        raise InputError(f"branch {branch!r}: give a plain branch name such as main or clusters/prod")
    return branch


def classify(stderr: str) -> str:
    words = stderr.lower()
    if any(word in words for word in AUTH_WORDS):
        return "auth_refused"
    if any(word in words for word in UNREACHABLE_WORDS):
        return "unreachable"
    if any(word in words for word in MISSING_WORDS):
        return "not_found"
    return "git"


class Git:
    """git over ``<work>/repo.git`` for one repository URL and branch."""

    def __init__(self, work: str, url: str, branch: str, runner: Runner, auth: Mapping[str, Any],
                 binary: str = "git", timeout: int = 60):  # fmt: skip
        self.work = work
        self.gitdir = os.path.join(work, "repo.git")
        self.url = check_url(url)
        self.shown = shown_url(url)
        self.branch = check_branch(branch)
        self.runner = runner
        self.binary = binary
        self.env = self._env(auth, timeout)
        self.commands: list[str] = []

    @property
    def remote_ref(self) -> str:
        return REMOTE_REF.format(branch=self.branch)

    @property
    def pending_ref(self) -> str:
        return PENDING_REF.format(branch=self.branch)

    def _env(self, auth: Mapping[str, Any], timeout: int) -> dict[str, str]:
        config: list[tuple[str, str]] = [("http.lowSpeedLimit", "1000"), ("http.lowSpeedTime", str(timeout))]
        env = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
               "GIT_ASKPASS": "", "SSH_ASKPASS": "", "LC_ALL": "C", "LANGUAGE": "", "GIT_DIR": self.gitdir}  # fmt: skip
        if auth.get("token"):
            user = auth.get("username") or "git"
            if auth.get("http_auth") == "bearer":
                header = f"Authorization: Bearer {auth['token']}"
            else:
                header = "Authorization: Basic " + base64.b64encode(f"{user}:{auth['token']}".encode()).decode()
            config += [("http.extraHeader", header), ("http.followRedirects", "false")]  # never to another host
        if auth.get("ca_file"):
            # GIT_SSL_CAINFO in the caller's environment would win over the configuration: set both.
            config.append(("http.sslCAInfo", auth["ca_file"]))
            env["GIT_SSL_CAINFO"] = auth["ca_file"]
        for index, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(len(config))
        ssh = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}"]
        if auth.get("key_file"):
            ssh += ["-i", auth["key_file"], "-o", "IdentitiesOnly=yes"]
        if auth.get("known_hosts_file"):
            checking = "yes" if auth.get("known_hosts_given") else "accept-new"
            ssh += ["-o", f"UserKnownHostsFile={auth['known_hosts_file']}", "-o", f"StrictHostKeyChecking={checking}"]
        env["GIT_SSH_COMMAND"] = shlex.join(ssh)
        return env

    def run(self, args: list[str], stdin: bytes | None = None, what: str = "", ok: tuple[int, ...] = (0,)) -> str:
        """Run ``git <args>``; stdout, or a GitError naming the repository (never a secret: none is in argv)."""
        argv = [self.binary, *args]
        self.commands.append(args[0])
        try:
            rc, out, err = self.runner(argv, stdin, self.env)
        except OSError as exc:
            raise GitError(f"cannot run git ({self.binary}): {exc}", self.shown, argv) from exc
        if rc not in ok:
            code = classify(err) if what else "git"
            said = f" ({HINTS[code]})" if code in HINTS else ""
            message = f"git {what or args[0]} failed for repository {self.shown}{said}: {err.strip()}"
            raise GitError(message, self.shown, argv, rc, err.strip(), code)
        return out

    def init(self) -> None:
        """The bare clone, made once (0700)."""
        if not os.path.isdir(os.path.join(self.gitdir, "objects")):
            os.makedirs(self.gitdir, mode=0o700, exist_ok=True)
            self.run(["init", "--quiet", "--bare", self.gitdir])

    def fetch(self) -> dict[str, str]:
        """Fetch the branch; the refs of ``refs()`` after it (no remote-tracking ref: the remote has no such branch)."""
        refspec = f"+refs/heads/{self.branch}:{self.remote_ref}"
        argv = [self.binary, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", self.url, refspec]
        self.commands.append("fetch")
        rc, _out, err = self.runner(argv, None, self.env)
        if rc != 0 and "couldn't find remote ref" in err.lower():
            self.run(["update-ref", "-d", self.remote_ref])
            return self.refs()
        if rc != 0:
            code = classify(err)
            hint = HINTS.get(code, "git failed")
            raise GitError(f"cannot fetch branch {self.branch} of repository {self.shown}: {hint}: {err.strip()}",
                           self.shown, argv, rc, err.strip(), code)  # fmt: skip
        return self.refs()

    def refs(self) -> dict[str, str]:
        """The remote-tracking and pending refs of the branch that exist: {name: revision}."""
        out = self.run(["for-each-ref", "--format=%(refname) %(objectname)", self.remote_ref, self.pending_ref])
        found = dict(line.split(" ", 1) for line in out.splitlines() if line)
        return {name: rev for name, rev in found.items() if name in (self.remote_ref, self.pending_ref)}

    def ls_tree(self, revision: str | None) -> str:
        return self.run(["ls-tree", "-r", "-z", "--full-tree", revision]) if revision else ""

    def parent(self, revision: str) -> str | None:
        out = self.run(["rev-list", "--parents", "-n", "1", revision]).split()
        return out[1] if len(out) > 1 else None

    def blobs(self, oids: list[str]) -> dict[str, str]:
        """The text of blobs by id (one ``cat-file --batch``)."""
        if not oids:
            return {}
        data = self.run(["cat-file", "--batch"], ("\n".join(oids) + "\n").encode()).encode("utf-8", "surrogateescape")
        texts: dict[str, str] = {}
        while data:
            header, data = data.split(b"\n", 1)
            oid, size = header.decode().split(" ")[0::2]
            texts[oid] = data[: int(size)].decode("utf-8", "replace")
            data = data[int(size) + 1 :]
        return texts

    def fast_import(self, stream: bytes) -> str:
        """Write a commit from a ``fast-import`` stream; the pending ref's new revision."""
        self.run(["fast-import", "--quiet", "--force", "--done"], stream, "commit")
        return self.refs()[self.pending_ref]

    def push(self, revision: str, expected: str | None) -> None:
        """Push ``revision`` to the branch only if the branch is still at ``expected`` (None: does not exist)."""
        lease = f"--force-with-lease=refs/heads/{self.branch}:{expected or ''}"
        self.run(["push", "--quiet", "--porcelain", lease, "--", self.url, f"{revision}:refs/heads/{self.branch}"],
                 what="push")  # fmt: skip

    def set_ref(self, ref: str, revision: str | None) -> None:
        self.run(["update-ref", "-d", ref] if revision is None else ["update-ref", ref, revision])
