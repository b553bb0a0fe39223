# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Files that hold secrets on the controller: read, written atomically 0600, recognised as ansible-vault.

Shared by the Talos secrets bundle (_talos/secrets.py) and the generated secrets of talosforge.cluster.vault_secret
(_vault/secret.py); the vault codec itself (VaultLib) is the action plugins' (plugin_utils/_vault.py). Pure, no
Ansible import; nothing here returns or logs secret content.
"""

from __future__ import annotations

import os

from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError

VAULT_HEADER = b"$ANSIBLE_VAULT;"
FILE_MODE = 0o600


class SecretsError(InputError):
    """A secret file cannot be read, written, decrypted or encrypted, or is not what it should be; the message never
    holds secret content."""


def is_vault(data: bytes) -> bool:
    return data.lstrip().startswith(VAULT_HEADER)


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise SecretsError(f"cannot read {path}: {exc.strerror}") from exc


def write_private(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a 0600 file in the same folder, then renamed over it)."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = scratch.scratch_file(folder, "write", ".tmp")
    except OSError as exc:
        raise SecretsError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except OSError as exc:
        raise SecretsError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def ensure_mode(path: str) -> bool:
    """Make ``path`` 0600; True when its mode had to change."""
    if os.stat(path).st_mode & 0o777 == FILE_MODE:
        return False
    os.chmod(path, FILE_MODE)
    return True
