"""sops's release downloads as its GitHub releases lay them out, served from the sandbox-built sops.

Each sops release carries one bare binary per platform, ``sops-<version>.<os>.<arch>``, and one checksum file for
all of them, ``sops-<version>.checksums.txt``, with a ``<sha256>  <file name>`` line per file; both are under
``/getsops/sops/releases/download/<version>/`` on github.com. Here they are under
``/sops/releases/download/<version>/``, for the machine's own platform only (linux.amd64 on the usual host); the
version is the one the built binary (.build/gotools/bin/sops) reports (``sops --version --disable-version-check``,
which asks nothing of GitHub), and the checksum file has the one line of that binary. The binary is served as it
is; its digest and version are worked out once per build (keyed by its size and modification time).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
from pathlib import Path

from ... import gotools
from .helm_release import host_platform

_FILE = re.compile(r"sops-(?P<version>v[^/]+?)\.(?:checksums\.txt|(?P<platform>[a-z0-9]+\.[a-z0-9]+))")
_REPORTED = re.compile(r"^sops (?P<version>[0-9][^\s]*)", re.MULTILINE)


class SopsUnavailable(Exception):
    """The sops binary is not built, or the wanted file is not one this sandbox has."""


class SopsDownloads:
    def __init__(self, binary: Path | None = None) -> None:
        self._binary = binary
        self._lock = threading.Lock()
        self._built: tuple[list[object], str, str] | None = None  # (key, version, digest)

    def binary(self) -> Path:
        if self._binary is not None:
            return self._binary
        try:
            return gotools.binary("sops")
        except Exception as error:  # MissingProgram: say how to build it
            raise SopsUnavailable(str(error)) from None

    def version(self) -> str:
        """What the built sops reports, with upstream's tag prefix: ``v3.13.3``."""
        return self._version_and_digest()[0]

    def file_name(self) -> str:
        return f"sops-{self.version()}.{host_platform().replace('-', '.')}"

    def lookup(self, version: str, file_name: str) -> tuple[Path | None, bytes | None]:
        """(binary path, None) for the binary; (None, text) for the checksum file; SopsUnavailable otherwise."""
        match = _FILE.fullmatch(file_name)
        if not match or match["version"] != version:
            raise SopsUnavailable(
                f"{version}/{file_name}: not a sops release file (sops-<version>.<os>.<arch> or "
                "sops-<version>.checksums.txt, under the same version)"
            )
        built, digest = self._version_and_digest()
        served = f"sops-{built}.{host_platform().replace('-', '.')}"
        if version != built or (match["platform"] is not None and file_name != served):
            raise SopsUnavailable(f"{version}/{file_name}: this sandbox serves only {built}/{served} and its checksums")
        if match["platform"] is None:
            return None, f"{digest}  {served}\n".encode()
        return self.binary(), None

    def _version_and_digest(self) -> tuple[str, str]:
        binary = self.binary()
        try:
            status = binary.stat()
        except OSError as error:
            raise SopsUnavailable(f"{binary}: {error.strerror}") from None
        key: list[object] = [str(binary), status.st_size, status.st_mtime_ns]
        with self._lock:
            if self._built is not None and self._built[0] == key:
                return self._built[1], self._built[2]
            version = _sops_version(binary)
            digest = hashlib.sha256()
            with binary.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            self._built = (key, version, digest.hexdigest())
            return version, digest.hexdigest()


def _sops_version(binary: Path) -> str:
    result = subprocess.run(
        [str(binary), "--version", "--disable-version-check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "SOPS_DISABLE_VERSION_CHECK": "true"},
    )
    reported = _REPORTED.search(result.stdout)
    if result.returncode != 0 or reported is None:
        raise SopsUnavailable(f"{binary} --version failed: {(result.stderr or result.stdout).strip()}")
    return "v" + reported["version"]
