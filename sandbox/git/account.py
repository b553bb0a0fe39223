"""The system account the Git servers run their git side as.

As root, that is a dedicated account ``git`` (created once with ``useradd`` when missing: a system account with
``/bin/sh`` as shell, since sshd runs the forced command through it, and ``*`` as password, which sshd does not take
for a locked account); the SSH URL is then ``ssh://git@127.0.0.1:PORT/NAME.git`` as on a real forge. Run by
another user, the servers can only serve that user, so the account is the current user and nothing is created.
Everything the git side writes (repositories, pushes over either protocol) is done as this account, so pushes
over SSH and HTTPS meet the same file owner.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ACCOUNT_NAME = "git"


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int

    @property
    def switches(self) -> bool:
        """True when processes must change to this account (we are root and it is not root)."""
        return os.geteuid() == 0 and self.uid != 0

    def own(self, *targets: Path) -> None:
        """Give ``targets`` (recursively for folders) to the account; nothing to do when we are it."""
        if not self.switches:
            return
        for target in targets:
            os.chown(target, self.uid, self.gid, follow_symlinks=False)
            if target.is_dir() and not target.is_symlink():
                for folder, subfolders, files in os.walk(target):
                    for name in subfolders + files:
                        os.chown(os.path.join(folder, name), self.uid, self.gid, follow_symlinks=False)


def _useradd(name: str) -> None:
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    command = [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/", "--shell", "/bin/sh"]
    subprocess.run(
        [*command, "--password", "*", "--comment", "talosforge sandbox Git servers", name],
        check=True,
        timeout=30,
        capture_output=True,
    )


def _created(name: str, attempts: int = 5) -> pwd.struct_passwd:
    """The account's entry, made with useradd when missing; another process making it at the same moment (two
    test workers on a fresh machine) is fine: useradd then fails and the account is there."""
    failure = ""
    for _attempt in range(attempts):  # bounded
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        try:
            _useradd(name)
        except subprocess.CalledProcessError as error:
            failure = (error.stderr or b"").decode(errors="replace").strip() or str(error)
            time.sleep(0.2)
        except (OSError, subprocess.SubprocessError) as error:
            failure = str(error)
            break
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(
            f"creating the system account {name!r} for the sandbox Git servers failed: {failure}"
        ) from None


def ensure_account() -> Account:
    """The account (see the module docstring), created when we are root and it does not exist yet."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)
    entry = _created(ACCOUNT_NAME)
    if Path(entry.pw_shell).name in ("nologin", "false"):
        raise RuntimeError(
            f"the account {ACCOUNT_NAME!r} has {entry.pw_shell} as shell; sshd runs the Git servers' forced command "
            "through the account's shell, so it needs a real one (usermod --shell /bin/sh git)"
        )
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def check_reachable(account: Account, folder: Path) -> None:
    """Raise when the account cannot enter ``folder`` (a parent without search permission for it)."""
    if not account.switches:
        return
    for parent in [*reversed(folder.parents), folder]:
        if not parent.exists():
            break
        status = parent.stat()
        if status.st_uid == account.uid:
            continue
        bit = 0o010 if status.st_gid == account.gid else 0o001
        if not status.st_mode & bit:
            raise RuntimeError(
                f"the sandbox Git servers run git as the account {account.name!r}, which cannot enter {parent} "
                f"(mode {status.st_mode & 0o777:o}); use a state folder whose parents others may enter"
            )
