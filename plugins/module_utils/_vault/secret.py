# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""What talosforge.cluster.vault_secret does: generate a secret once, keep it encrypted with ansible-vault in a
0600 file, and read it back on every later run.

Pure (no Ansible import): the action plugin hands in the vault codec (plugin_utils/_vault.py, the one talos_secrets
uses); the module alone has none (``NoVault``) and says so. The secret is returned (the action plugin marks the
result no_log) but never put in a message or a diff.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.files import (
    FILE_MODE,
    SecretsError,
    ensure_mode,
    is_vault,
    read_file,
    write_private,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.kinds import KINDS

MIN_LENGTH = 16
MAX_LENGTH = 4096


class NoVault:
    """The codec of the module alone: it can neither read nor write ansible-vault files."""

    name = "none"

    def can_encrypt(self) -> str | None:
        return (
            "vault_secret needs ansible-vault, which its action plugin adds on the controller: run "
            "talosforge.cluster.vault_secret as a task (not through a raw module call)"
        )

    def encrypt(self, data: bytes) -> bytes:
        raise SecretsError(self.can_encrypt() or "cannot encrypt")

    def decrypt(self, data: bytes, where: str) -> bytes:
        raise SecretsError(f"{where} is encrypted with ansible-vault; {self.can_encrypt()}")


def argument_spec() -> dict[str, Any]:
    return {
        "path": {"type": "path", "required": True},
        "kind": {"type": "str", "choices": list(KINDS), "default": "base64"},
        "length": {"type": "int", "default": 32},
        "vault_id": {"type": "str", "no_log": False},
        "vault_password_file": {"type": "path", "no_log": False},
    }


def _check(params: Mapping[str, Any], path: str) -> None:
    length = params.get("length")
    if KINDS[params["kind"]][2] and (not isinstance(length, int) or not MIN_LENGTH <= length <= MAX_LENGTH):
        raise SecretsError(
            f"length: {length!r} must be from {MIN_LENGTH} to {MAX_LENGTH} (bytes for base64 and hex, characters "
            f"for password); secret {path} was not touched"
        )
    if os.path.isdir(path):
        raise SecretsError(f"{path} is a directory: path names the secret's file, for example {path}/secret.vault")


def _can_encrypt(codec: Any, path: str) -> None:
    problem = codec.can_encrypt()
    if problem:
        raise SecretsError(f"cannot keep the secret {path} encrypted: {problem}")


def keep_secret(params: Mapping[str, Any], check_mode: bool, codec: Any = None) -> dict[str, Any]:
    """Read the secret at ``path``, or generate it when the file does not exist (in check mode: generate one that
    is not kept). Raises SecretsError. The result holds ``value`` (and ``public`` for key pairs)."""
    codec = codec or NoVault()
    path = os.path.abspath(os.path.expanduser(params["path"]))
    kind = params["kind"]
    generate, read, _sized = KINDS[kind]
    _check(params, path)
    result: dict[str, Any] = {"changed": False, "path": path, "kind": kind, "created": False, "encrypted": True}
    if not os.path.exists(path):
        _can_encrypt(codec, path)
        text = generate(int(params.get("length") or 32))
        value, public = read(text, "the generated secret")
        result.update(changed=True, created=True, value=value, public=public)
        result["diff"] = {"before": "", "after": f"{kind} secret (not shown)\n", "before_header": f"{path} (absent)"}
        result["diff"]["after_header"] = f"{path} (encrypted with ansible-vault)"
        if check_mode:
            result["msg"] = f"would generate the {kind} secret {path} (the value returned is not kept)"
            return result
        scratch.private_folder(os.path.dirname(path))
        write_private(path, codec.encrypt(text.encode("utf-8")))
        return result

    stored = read_file(path)
    encrypted = is_vault(stored)
    plain = codec.decrypt(stored, path) if encrypted else stored
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretsError(f"{path} does not hold a {kind} secret (it is not UTF-8 text); it was not changed") from None
    value, public = read(text, path)
    result.update(value=value, public=public)
    if not encrypted:
        _can_encrypt(codec, path)
        result.update(changed=True, msg=f"encrypted the existing secret {path} with ansible-vault")
        if not check_mode:
            write_private(path, codec.encrypt(plain))
        return result
    if check_mode:
        result["changed"] = os.stat(path).st_mode & 0o777 != FILE_MODE
    else:
        result["changed"] = ensure_mode(path)
    return result
