"""What the simulator serves at /talosctl/{version}/{path}: a launcher for the sandbox's talosctl stand-in.

The real factory serves talosctl binaries for Talos v1.11.0 and later. Here every talosctl-<os>-<arch> path is a
small shell script that runs sandbox/bin/talosctl on the Python the simulator runs on, so that the collection's
talosctl role installs and verifies it exactly as it would a real binary. The script's sha256 is also written to
<state>/image-factory/talosctl/sha256sum.txt, in the format of the release's checksum file, for the role's check.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PLATFORMS = (
    "darwin-amd64",
    "darwin-arm64",
    "freebsd-amd64",
    "freebsd-arm64",
    "linux-amd64",
    "linux-arm64",
    "linux-armv7",
    "windows-amd64.exe",
    "windows-arm64.exe",
)
NAMES = tuple(f"talosctl-{platform}" for platform in PLATFORMS)


def launcher() -> bytes:
    """The bytes served for every talosctl path (the stand-in only runs where the sandbox runs)."""
    return (
        "#!/bin/sh\n"
        "# talosctl stand-in of the talosforge sandbox (not the real talosctl), served by the Image Factory simulator\n"
        f'TALOSFORGE_PYTHON="{sys.executable}" exec "{REPO / "sandbox" / "bin" / "talosctl"}" "$@"\n'
    ).encode()


def write_checksums(directory: Path) -> Path:
    """<directory>/sha256sum.txt listing every talosctl name with the launcher's sha256."""
    digest = hashlib.sha256(launcher()).hexdigest()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "sha256sum.txt"
    target.write_text("".join(f"{digest}  {name}\n" for name in NAMES), encoding="utf-8")
    return target
