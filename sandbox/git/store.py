"""The repositories and who may reach them: bare repositories, deploy keys and tokens.

``access.json`` (0600, never read by the git side) records per repository its default branch, its deploy keys (the
public halves, each read-only or read-write, with a title) and its tokens (the SHA-256 of each, never the token,
with a title and read-only or read-write). After every change the two files the git side reads are written again
from it: ``ssh/authorized_keys`` (one line per key, its grants as the gate's arguments, ``restrict``) and
``https/tokens`` (``NAME DIGEST ro|rw TITLE`` lines). sshd and the gate read them at each connection, so a change
applies to the next fetch or push without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from . import gate
from .account import Account, ensure_account
from .layout import Layout

NAME_PATTERN = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*")
TITLE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
BRANCH_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
GIT_TIMEOUT_S = 30
LOCK_TIMEOUT_S = 30
Result = TypeVar("Result")


@dataclass(frozen=True)
class Repository:
    name: str
    default_branch: str
    path: Path
    deploy_keys: list[dict[str, Any]]
    tokens: list[dict[str, Any]]


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name) or name.endswith(".git") or "/." in f"/{name}" or ".git/" in name:
        raise ValueError(
            f"repository name {name!r}: use NAME or OWNER/NAME of letters, digits, '.', '_' and '-', "
            "not starting with '.' and without the .git suffix"
        )
    return name


def check_title(title: str) -> str:
    if not TITLE_PATTERN.fullmatch(title):
        raise ValueError(f"title {title!r}: use up to 64 letters, digits, '.', '_', '@' and '-'")
    return title


def parse_public_key(text: str) -> tuple[str, str]:
    """(type, base64 body) of an OpenSSH public key line; raises ValueError naming the problem, never the key."""
    words = text.strip().split()
    if len(words) < 2 or words[0] not in KEY_TYPES or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", words[1]):
        raise ValueError(f"not an OpenSSH public key line (expected one of {', '.join(KEY_TYPES)} then base64)")
    return words[0], words[1]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _exclusive(method: Callable[..., Result]) -> Callable[..., Result]:
    """Run a changing method under the store's lock (two processes adding keys at once both keep theirs)."""

    @functools.wraps(method)
    def locked(self: GitStore, *arguments: Any, **keywords: Any) -> Result:
        with self._lock():
            return method(self, *arguments, **keywords)

    return locked


class GitStore:
    """The sandbox's Git repositories in ``<state>/git`` (see layout.py); every method is quick and bounded."""

    def __init__(self, root: str | os.PathLike[str], account: Account | None = None) -> None:
        self.layout = Layout(Path(root).resolve())
        self._account = account

    @property
    def account(self) -> Account:
        if self._account is None:
            self._account = ensure_account()
        return self._account

    # --- files ----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.layout.base.mkdir(parents=True, exist_ok=True)
        with open(self.layout.base / ".lock", "a") as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:  # bounded: at most LOCK_TIMEOUT_S
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{self.layout.base}: another process holds the Git store's lock") from None
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.layout.access.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        data.setdefault("repositories", {})
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.prepare()
        _write_private(self.layout.access, json.dumps(data, indent=2, sort_keys=True) + "\n")
        self.publish(data)

    def prepare(self) -> None:
        """Create the folders and the gate, owned so that the git side can use them."""
        layout = self.layout
        for folder in (layout.base, layout.repositories, layout.home, layout.ssh, layout.https, layout.run):
            folder.mkdir(parents=True, exist_ok=True)
        os.chmod(layout.base, 0o755)
        (layout.base / ".lock").touch()
        gate.write(layout)
        self.account.own(layout.repositories, layout.home, layout.run)

    def publish(self, data: dict[str, Any] | None = None) -> None:
        """Write authorized_keys and the token digests the git side reads, from access.json."""
        data = data if data is not None else self._load()
        grants: dict[tuple[str, str], list[str]] = {}
        token_lines = []
        for name, record in sorted(data["repositories"].items()):
            for key in record["deploy_keys"]:
                mode = "ro" if key["read_only"] else "rw"
                grants.setdefault((key["type"], key["key"]), []).append(f"{name}:{mode}")
            for token in record["tokens"]:
                mode = "ro" if token["read_only"] else "rw"
                token_lines.append(f"{name} {token['sha256']} {mode} {token['title']}\n")
        key_lines = [
            f'restrict,command="{self.layout.gate} {" ".join(names)}" {kind} {body}\n'
            for (kind, body), names in sorted(grants.items())
        ]
        _write_private(self.layout.authorized_keys, "".join(key_lines), 0o644)
        _write_private(self.layout.tokens, "".join(token_lines), 0o600)
        self.account.own(self.layout.authorized_keys, self.layout.tokens)

    def _record(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        try:
            return dict(data["repositories"][check_name(name)])
        except KeyError:
            raise KeyError(f"no sandbox Git repository named {name!r}") from None

    def _git(self, *arguments: str, cwd: Path | None = None) -> str:
        command = ["git", "-c", "safe.directory=*", *arguments]
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.layout.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C",
        }
        kwargs: dict[str, Any] = {}
        if self.account.switches:
            kwargs = {"user": self.account.uid, "group": self.account.gid, "extra_groups": []}
        result = subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            **kwargs,
        )
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(arguments[:2])} failed: {result.stderr.strip()}")
        return result.stdout

    # --- repositories ---------------------------------------------------------------------------------------

    @_exclusive
    def create(self, name: str, default_branch: str = "main") -> Repository:
        """A bare repository whose HEAD is ``default_branch``; an existing one with that branch is left as is."""
        check_name(name)
        if not BRANCH_PATTERN.fullmatch(default_branch) or ".." in default_branch:
            raise ValueError(f"branch name {default_branch!r} is not a plain branch name")
        data = self._load()
        existing = data["repositories"].get(name)
        if existing is not None:
            if existing["default_branch"] != default_branch:
                raise ValueError(
                    f"the repository {name!r} exists with the default branch {existing['default_branch']!r}"
                )
            return self.get(name)
        self.prepare()
        path = self.layout.repository(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.account.own(path.parent)
        self._git("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path))
        self._git("config", "receive.denyDeletes", "false", cwd=path)
        data["repositories"][name] = {"default_branch": default_branch, "deploy_keys": [], "tokens": []}
        self._save(data)
        return self.get(name)

    @_exclusive
    def remove(self, name: str) -> bool:
        data = self._load()
        if check_name(name) not in data["repositories"]:
            return False
        del data["repositories"][name]
        shutil.rmtree(self.layout.repository(name), ignore_errors=True)
        self._save(data)
        return True

    def get(self, name: str) -> Repository:
        record = self._record(self._load(), name)
        return Repository(
            name,
            record["default_branch"],
            self.layout.repository(name),
            list(record["deploy_keys"]),
            [{k: v for k, v in t.items() if k != "sha256"} for t in record["tokens"]],
        )

    def list(self) -> list[Repository]:
        return [self.get(name) for name in sorted(self._load()["repositories"])]

    def refs(self, name: str) -> dict[str, str]:
        """Every ref of the repository and the commit it points at (``{}`` for an empty one)."""
        self._record(self._load(), name)
        output = self._git("for-each-ref", "--format=%(refname) %(objectname)", cwd=self.layout.repository(name))
        pairs = (line.split(" ", 1) for line in output.splitlines() if line)
        return dict(pairs)

    def read_file(self, name: str, ref: str, path: str) -> str:
        """A file's text at ``ref`` (a branch, tag or commit) in the repository."""
        self._record(self._load(), name)
        return self._git("show", f"{ref}:{path}", cwd=self.layout.repository(name))

    # --- deploy keys ----------------------------------------------------------------------------------------

    @_exclusive
    def add_deploy_key(self, name: str, public_key: str, read_only: bool = True, title: str | None = None) -> str:
        """Allow the key to fetch (and push unless ``read_only``) the repository; returns the key's title.

        The same key added again is updated (its access and title). Like GitHub, a deploy key belongs to one
        repository here too, unless added to others on purpose: the sandbox allows it, each grant separately.
        """
        kind, body = parse_public_key(public_key)
        data = self._load()
        record = self._record(data, name)
        chosen = check_title(title) if title else f"key-{hashlib.sha256(body.encode()).hexdigest()[:12]}"
        keys = [key for key in record["deploy_keys"] if key["key"] != body and key["title"] != chosen]
        keys.append({"title": chosen, "type": kind, "key": body, "read_only": bool(read_only)})
        record["deploy_keys"] = keys
        data["repositories"][name] = record
        self._save(data)
        return chosen

    @_exclusive
    def remove_deploy_key(self, name: str, title: str) -> bool:
        data = self._load()
        record = self._record(data, name)
        kept = [key for key in record["deploy_keys"] if key["title"] != title]
        found = len(kept) != len(record["deploy_keys"])
        record["deploy_keys"] = kept
        data["repositories"][name] = record
        self._save(data)
        return found

    # --- tokens ---------------------------------------------------------------------------------------------

    @_exclusive
    def add_token(self, name: str, read_only: bool = False, title: str | None = None, token: str | None = None) -> str:
        """A new token for the repository (fetch, and push unless ``read_only``); returned once, stored hashed."""
        data = self._load()
        record = self._record(data, name)
        chosen = check_title(title) if title else f"token-{len(record['tokens']) + 1}"
        value = token or f"tfgit_{secrets.token_urlsafe(24)}"
        if len(value) < 8 or any(character.isspace() for character in value):
            raise ValueError("a token needs at least 8 characters and no white space")
        tokens = [item for item in record["tokens"] if item["title"] != chosen]
        tokens.append({"title": chosen, "sha256": token_digest(value), "read_only": bool(read_only)})
        record["tokens"] = tokens
        data["repositories"][name] = record
        self._save(data)
        return value

    @_exclusive
    def remove_token(self, name: str, title: str) -> bool:
        data = self._load()
        record = self._record(data, name)
        kept = [item for item in record["tokens"] if item["title"] != title]
        found = len(kept) != len(record["tokens"])
        record["tokens"] = kept
        data["repositories"][name] = record
        self._save(data)
        return found

    def forget(self) -> bool:
        """Every repository, key and token goes (``python -m sandbox reset``); the servers' own files stay.
        False when there was no Git folder."""
        if not self.layout.base.exists():
            return False
        self._forget()
        return True

    @_exclusive
    def _forget(self) -> None:
        shutil.rmtree(self.layout.repositories, ignore_errors=True)
        self.layout.access.unlink(missing_ok=True)
        self.prepare()
        self.publish({"repositories": {}})
