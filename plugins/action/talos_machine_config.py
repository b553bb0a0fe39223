# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of talosforge.cluster.talos_machine_config: hands the module a readable secrets bundle.

First the bundle must belong to this cluster (its record names ``cluster.name``; a bundle without a record is
adopted). When ``secrets_file`` is encrypted with ansible-vault, it is decrypted on the controller (with
``vault_password_file`` when given, else with the playbook's vault passwords) into a 0600 file in a scratch folder
inside the cluster's private output folder (never the system temp folder: a killed run leaves it there, and the
next run sweeps it), the module runs with that file, and the scratch folder is removed afterwards. A plain bundle
is passed through unchanged. The module does everything else.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.talosforge.cluster.plugins.module_utils import _scratch as scratch
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.secrets import (
    SecretsError,
    claim_bundle,
    write_record,
)
from ansible_collections.talosforge.cluster.plugins.plugin_utils._vault import vault_codec

VAULT_HEADER = b"$ANSIBLE_VAULT;"


def is_vault_file(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(VAULT_HEADER) + 64).lstrip().startswith(VAULT_HEADER)
    except OSError:
        return False


def decrypted_copy(codec: Any, path: str, where: str) -> tuple[str, str]:
    """The bundle at ``path`` decrypted into a 0600 file in a new scratch folder inside ``where``: (folder, file).
    The caller removes the folder."""
    with open(path, "rb") as handle:
        plain = codec.decrypt(handle.read(), path)
    scratch.sweep(scratch.private_folder(where))
    folder = scratch.scratch_dir(where, "bundle")
    target = os.path.join(folder, os.path.basename(path))
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(plain)
    return folder, target


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        folder = adopted = None
        source = args.get("secrets_file")
        cluster = args.get("cluster")
        name = cluster.get("name") if isinstance(cluster, dict) else None
        try:
            if isinstance(source, str) and is_vault_file(os.path.expanduser(source)):
                path = os.path.abspath(os.path.expanduser(source))
                try:
                    if isinstance(name, str) and name:
                        adopted = claim_bundle(path, name, bool(self._task.check_mode))
                    codec = vault_codec(
                        self._loader, {key: args.get(key) for key in ("vault_password_file", "vault_id")}
                    )
                    where = os.path.expanduser(str(args.get("output_dir") or os.path.dirname(path)))
                    folder, args["secrets_file"] = decrypted_copy(codec, path, where)
                    if isinstance(name, str) and name:  # the copy carries the record: the module adopts nothing
                        write_record(args["secrets_file"], name)
                except SecretsError as exc:
                    result.update(failed=True, msg=to_text(exc))
                    return result
                except (AnsibleError, OSError) as exc:
                    result.update(failed=True, msg=f"cannot decrypt the secrets bundle {source}: {to_text(exc)}")
                    return result
            args.pop("vault_password_file", None)
            args.pop("vault_id", None)
            result.update(
                self._execute_module(
                    module_name="talosforge.cluster.talos_machine_config", module_args=args, task_vars=task_vars
                )
            )
            if adopted and not result.get("failed"):
                result["msg"] = adopted
        finally:
            if folder:
                scratch.remove(folder)
        return result
