"""Where the Git servers keep things: everything under ``<state>/git/``.

```
<state>/git/
  access.json               repositories, their deploy keys (public halves) and token digests (root only, 0600)
  repositories/NAME.git     the bare repositories (owned by the git account)
  gate                      the check every fetch and push goes through (generated, see gate.py)
  home/                     HOME of the git side (empty; keeps git away from the caller's own configuration)
  servers.json              pids and ports of sshd, nginx and fcgiwrap
  ssh/                      sshd_config, ssh_host_ed25519_key(.pub), authorized_keys (generated), sshd.log
  https/                    nginx.conf, ca.pem, ca.key, server.pem, server.key, tokens (generated), run/fcgiwrap.sock,
                            error.log, access.log, fcgiwrap.log, tmp/
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = "git"


@dataclass(frozen=True)
class Layout:
    root: Path  # the sandbox state folder

    @property
    def base(self) -> Path:
        return self.root / FOLDER

    @property
    def access(self) -> Path:
        return self.base / "access.json"

    @property
    def repositories(self) -> Path:
        return self.base / "repositories"

    def repository(self, name: str) -> Path:
        return self.repositories / f"{name}.git"

    @property
    def gate(self) -> Path:
        return self.base / "gate"

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def servers(self) -> Path:
        return self.base / "servers.json"

    @property
    def ssh(self) -> Path:
        return self.base / "ssh"

    @property
    def authorized_keys(self) -> Path:
        return self.ssh / "authorized_keys"

    @property
    def host_key(self) -> Path:
        return self.ssh / "ssh_host_ed25519_key"

    @property
    def https(self) -> Path:
        return self.base / "https"

    @property
    def tokens(self) -> Path:
        return self.https / "tokens"

    @property
    def ca(self) -> Path:
        return self.https / "ca.pem"

    @property
    def run(self) -> Path:
        """Owned by the git account: fcgiwrap (running as it) makes its socket here."""
        return self.https / "run"

    @property
    def socket(self) -> Path:
        return self.run / "fcgiwrap.sock"
