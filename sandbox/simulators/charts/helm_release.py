"""Helm's release download, in get.helm.sh's layout, made from the sandbox-built helm (.build/gotools/bin/helm).

get.helm.sh serves ``helm-<version>-<os>-<arch>.tar.gz`` (a folder ``<os>-<arch>/`` holding ``helm``, ``LICENSE``
and ``README.md``) with ``.sha256sum`` (``<hex>  <file name>``) and ``.sha256`` (the hex alone) next to it. Here
the one platform served is the machine's own (linux-amd64 on the usual host), the version is the one the built
binary reports (``helm version``), and the archive holds the binary and a README saying where it comes from. The
archive is made once per binary (keyed by its size and modification time, fast compression: about a second for
helm's 64 MB) and kept in the data folder.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import re
import subprocess
import tarfile
import threading
from pathlib import Path

from ... import gotools

_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_NAME = re.compile(
    r"helm-(?P<version>v[^/]+?)-(?P<platform>[a-z0-9]+-[a-z0-9]+)\.tar\.gz(?P<suffix>\.sha256sum|\.sha256)?"
)
FIXED_MTIME = 1767225600


class HelmUnavailable(Exception):
    """The helm binary is not built, or the wanted file is not one this sandbox has."""


def host_platform() -> str:
    machine = platform.machine().lower()
    return f"{platform.system().lower()}-{_ARCHES.get(machine, machine)}"


class HelmDownloads:
    def __init__(self, root: Path, binary: Path | None = None) -> None:
        self.root = root
        self._binary = binary
        self._lock = threading.Lock()

    def binary(self) -> Path:
        if self._binary is not None:
            return self._binary
        try:
            return gotools.binary("helm")
        except Exception as error:  # MissingProgram: say how to build it
            raise HelmUnavailable(str(error)) from None

    def version(self) -> str:
        """What the built helm reports, e.g. ``v4.2.4``."""
        return self._built()[0]

    def file_name(self) -> str:
        return f"helm-{self.version()}-{host_platform()}.tar.gz"

    def lookup(self, file_name: str) -> tuple[Path | None, bytes | None]:
        """(archive path, None) for the archive; (None, text) for a checksum file; HelmUnavailable otherwise."""
        match = _NAME.fullmatch(file_name)
        if not match:
            raise HelmUnavailable(f"{file_name}: not a helm release file name (helm-<version>-<os>-<arch>.tar.gz)")
        version, archive, digest = self._built()
        wanted = f"helm-{match['version']}-{match['platform']}.tar.gz"
        if wanted != archive.name:
            raise HelmUnavailable(f"{wanted}: this sandbox serves only {archive.name} (its helm is {version})")
        if match["suffix"] == ".sha256sum":
            return None, f"{digest}  {archive.name}\n".encode()
        if match["suffix"] == ".sha256":
            return None, f"{digest}\n".encode()
        return archive, None

    def _built(self) -> tuple[str, Path, str]:
        binary = self.binary()
        status = binary.stat()
        key = [str(binary), status.st_size, status.st_mtime_ns]
        with self._lock:
            record_file = self.root / "built.json"
            try:
                record = json.loads(record_file.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                record = {}
            archive = self.root / str(record.get("file", "-"))
            if record.get("key") == key and archive.is_file():
                return record["version"], archive, record["digest"]
            version = _helm_version(binary)
            archive = self.root / f"helm-{version}-{host_platform()}.tar.gz"
            data = _archive(binary, version)
            self.root.mkdir(parents=True, exist_ok=True)
            temporary = archive.with_name(archive.name + ".tmp")
            temporary.write_bytes(data)
            temporary.replace(archive)
            digest = hashlib.sha256(data).hexdigest()
            record = {"key": key, "version": version, "file": archive.name, "digest": digest}
            record_file.write_text(json.dumps(record), encoding="utf-8")
            return version, archive, digest


def _helm_version(binary: Path) -> str:
    result = subprocess.run(
        [str(binary), "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=False, timeout=60
    )
    version = result.stdout.strip()
    if result.returncode != 0 or not version.startswith("v"):
        raise HelmUnavailable(f"{binary} version failed: {(result.stderr or result.stdout).strip()}")
    return version


def _archive(binary: Path, version: str) -> bytes:
    folder = host_platform()
    readme = (
        f"helm {version}, compiled from helm.sh/helm/v4 by the talosforge sandbox (sandbox/gotools) and served by its\n"
        "chart repository simulator in get.helm.sh's layout. Helm is Apache-2.0 licensed: https://helm.sh\n"
    ).encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=1) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, mode, source in ((f"{folder}/README.md", 0o644, None), (f"{folder}/helm", 0o755, binary)):
                info = tarfile.TarInfo(name)
                info.mode, info.mtime, info.uid, info.gid = mode, FIXED_MTIME, 0, 0
                if source is None:
                    info.size = len(readme)
                    archive.addfile(info, io.BytesIO(readme))
                else:
                    info.size = source.stat().st_size
                    with source.open("rb") as handle:
                        archive.addfile(info, handle)
    return buffer.getvalue()
