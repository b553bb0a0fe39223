"""The repository the sandbox inventory's GitOps stage pushes to, set up as an operator sets theirs up before the
first run: a repository, a token the control node pushes with over HTTPS, and a read-only SSH deploy key for Flux
whose private half is kept vault-encrypted where the inventory's ``gitops_deploy_key_file`` points (the stage
itself generates such a key when none is there, and prints its public half to register: that path is what an
operator without a key takes, and the molecule scenario tests it apart).

``python -m sandbox start`` calls ``prepare`` once the Git servers run; it keeps what is already there.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from pathlib import Path

from .layout import Layout
from .store import GitStore

REPOSITORY = "sandbox"  # the sandbox inventory's cluster name, its repository's name
PUSH_TOKEN = "sandbox.push-token"
DEPLOY_KEY = "sandbox-deploy-key.vault"
VAULT_PASSWORD = "vault-password"  # written by python -m sandbox start (the Talos stage's vault password)


def paths(root: Path) -> tuple[Path, Path]:
    """The push token's file and the vault-encrypted deploy key's file."""
    base = Layout(Path(root).resolve()).base
    return base / PUSH_TOKEN, base / DEPLOY_KEY


def _write_private(path: Path, data: bytes) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)


def _vault_encrypt(root: Path, text: str) -> bytes:
    from ansible.parsing.vault import VaultLib, VaultSecret  # the sandbox runs in the collection's virtualenv

    password = (Path(root) / VAULT_PASSWORD).read_bytes().strip()
    return VaultLib([("default", VaultSecret(password))]).encrypt(text)


def prepare(root: Path) -> str:
    """Create the repository, its push token and Flux's deploy key, unless the repository is there already."""
    store = GitStore(root)
    token_file, key_file = paths(root)
    if (
        any(repository.name == REPOSITORY for repository in store.list())
        and token_file.is_file()
        and key_file.is_file()
    ):
        return f"git: repository {REPOSITORY} ready (push token {token_file}, deploy key {key_file})"
    store.create(REPOSITORY)
    token = store.add_token(REPOSITORY, title="ansible", token=f"tfgit_{secrets.token_urlsafe(24)}")
    with tempfile.TemporaryDirectory(prefix="flux-key-") as scratch:
        key = Path(scratch) / "key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"flux@{REPOSITORY}", "-f", str(key)],
            check=True,
            capture_output=True,
            timeout=30,
        )
        store.add_deploy_key(REPOSITORY, key.with_suffix(".pub").read_text(), read_only=True, title="flux")
        _write_private(key_file, _vault_encrypt(root, key.read_text()))
    _write_private(token_file, token.encode())
    return f"git: repository {REPOSITORY} created, with a push token ({token_file}) and a deploy key ({key_file})"
