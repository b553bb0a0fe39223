# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""The sops command line, for age only, with nothing on disk but ciphertext.

The plaintext goes to sops on its standard input (``/dev/stdin``) and comes back on its standard output; the age
identity is in ``SOPS_AGE_KEY`` in the environment of the decrypting process only, never in an argument or a file.
sops is told to read no configuration (``--config /dev/null``: a ``.sops.yaml`` above the working folder cannot
change the recipients or the encrypted keys) and no key of the user (``HOME`` and ``XDG_CONFIG_HOME`` point at
``/dev/null``, so neither ``~/.config/sops/age/keys.txt`` nor ``~/.ssh/id_*`` is read); the module's process drops
every ``SOPS_*`` variable it inherited before the first sops runs (``module_runner``).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._errors import ApiError
from ansible_collections.talosforge.cluster.plugins.module_utils._sops.secret_files import scrub

# argv, standard input, environment additions -> (exit code, standard output, standard error)
Runner = Callable[[list[str], "bytes | None", Mapping[str, str]], "tuple[int, str, str]"]
NO_HOME = {"HOME": os.devnull, "XDG_CONFIG_HOME": os.devnull}
STDIN = "/dev/stdin"


def module_runner(module: Any) -> Runner:
    """A runner over ``module.run_command``; first removes the ``SOPS_*`` variables from the module's environment
    (they would add keys, recipients or a key service to what is asked; run_command passes a copy of it)."""
    for name in [name for name in os.environ if name.startswith("SOPS_")]:
        del os.environ[name]

    def run(argv: list[str], stdin: bytes | None, env: Mapping[str, str]) -> tuple[int, str, str]:
        return module.run_command(argv, data=stdin, binary_data=True, environ_update=dict(env), check_rc=False)

    return run


class SopsError(ApiError):
    """sops failed on one file. ``code``: ``sops_missing`` or ``sops``; ``details``: the file, sops' exit code and
    the first lines of its standard error, with every value of the Secret removed."""

    def __init__(self, message: str, path: str | None, argv: list[str], rc: int | None = None, stderr: str = "",
                 code: str = "sops"):  # fmt: skip
        super().__init__(message, code=code, details={"path": path, "rc": rc, "stderr": stderr or None},
                         request=shlex.join(["sops", *argv[1:]]))  # fmt: skip


def first_lines(stderr: str, secrets: Iterable[str], count: int = 3) -> str:
    """The first non-empty lines of sops' standard error, scrubbed of the Secret's values."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()][:count]
    return scrub(" ".join(lines), secrets)


class Sops:
    """Encrypt and decrypt YAML with ``binary`` for age recipients."""

    def __init__(self, binary: str, runner: Runner):
        self.binary = binary
        self.runner = runner

    def check(self) -> None:
        """sops exists and can be run (nothing is run: ``sops --version`` would ask GitHub for the latest)."""
        if not (os.path.isfile(self.binary) and os.access(self.binary, os.X_OK)):
            raise SopsError(f"sops_binary {self.binary}: no such program (the role sops installs it and sets "
                            "talosforge_sops_binary)", None, [self.binary], code="sops_missing")  # fmt: skip

    def encrypt(self, plaintext: str, recipients: list[str], regex: str, path: str, secrets: Iterable[str]) -> str:
        """The ciphertext of ``plaintext`` (YAML) for ``recipients``; the values under keys matching ``regex``."""
        argv = [self.binary, "--config", os.devnull, "--encrypt", "--age", ",".join(recipients),
                "--encrypted-regex", regex, "--input-type", "yaml", "--output-type", "yaml", STDIN]  # fmt: skip
        rc, out, err = self._run(argv, plaintext.encode("utf-8"), dict(NO_HOME), path)
        if rc != 0:
            detail = first_lines(err, secrets)
            raise SopsError(f"sops could not encrypt {path} (exit {rc}): {detail}", path, argv, rc, detail)
        return out

    def decrypt(self, ciphertext: bytes, identity: str, path: str) -> tuple[int, str, str]:
        """(exit code, plaintext, first lines of standard error) of decrypting ``ciphertext`` with ``identity``."""
        argv = [self.binary, "--config", os.devnull, "--decrypt", "--input-type", "yaml", "--output-type", "yaml",
                STDIN]  # fmt: skip
        rc, out, err = self._run(argv, ciphertext, {**NO_HOME, "SOPS_AGE_KEY": identity}, path)
        return rc, out if rc == 0 else "", first_lines(err, (identity,), 1)

    def _run(self, argv: list[str], stdin: bytes, env: dict[str, str], path: str) -> tuple[int, str, str]:
        try:
            return self.runner(argv, stdin, env)
        except OSError as exc:
            raise SopsError(f"sops could not be run for {path}: {exc.strerror}", path, argv) from None
