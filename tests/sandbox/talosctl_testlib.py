"""Helpers for the talosctl stand-in tests: run the executable in a temporary sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox_testlib import REPO_ROOT

TALOSCTL = REPO_ROOT / "sandbox" / "bin" / "talosctl"
CONTRACTS = REPO_ROOT / "tests" / "contracts" / "talos" / "v1.13.9"
CLI_MD = CONTRACTS / "cli.md"
FACTORY_IMAGE = "factory.talos.dev/metal-installer/{schematic}:{version}"
VANILLA = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
QEMU = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"


@dataclass
class Run:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Sandbox:
    """A temporary sandbox state folder and a work folder to run the stand-in in."""

    def __init__(self, root: Path) -> None:
        self.state = root / "state"
        self.work = root / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        # the script's "#!/usr/bin/env python3" then finds this interpreter first, not a slower shim
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        self.env = {**os.environ, "TALOSFORGE_SANDBOX_DIR": str(self.state), "HOME": str(root / "home"), "PATH": path}
        self.env.pop("TALOSCONFIG", None)

    def talosctl(self, *argv: str, timeout: float = 30, stdin: str | None = None) -> Run:
        done = subprocess.run(
            [str(TALOSCTL), *argv],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=stdin,
        )
        return Run(list(argv), done.returncode, done.stdout, done.stderr)

    def ok(self, *argv: str) -> Run:
        run = self.talosctl(*argv)
        assert run.returncode == 0, f"talosctl {' '.join(argv)} failed:\n{run.output}"
        return run

    def fails(self, *argv: str) -> Run:
        run = self.talosctl(*argv)
        assert run.returncode == 1, f"talosctl {' '.join(argv)} should have failed:\n{run.output}"
        return run

    def log(self) -> list[dict[str, Any]]:
        path = self.state / "logs" / "talosctl.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def node(self, address: str) -> dict[str, Any]:
        return json.loads((self.state / "talos" / "nodes" / f"{address}.json").read_text(encoding="utf-8"))

    def mtls(self, node: str, endpoint: str, talosconfig: str = "out/talosconfig") -> list[str]:
        return ["--nodes", node, "--endpoints", endpoint, "--talosconfig", talosconfig]

    def gen_cluster(self, name: str = "demo", image_version: str = "v1.13.9", *extra: str) -> None:
        """secrets.yaml and out/{controlplane.yaml,worker.yaml,talosconfig} in the work folder."""
        self.ok("gen", "secrets", "-o", "secrets.yaml")
        self.ok(
            "gen",
            "config",
            name,
            "https://10.0.0.10:6443",
            "--with-secrets",
            "secrets.yaml",
            "--kubernetes-version",
            "1.36.3",
            "--talos-version",
            "v1.13",
            "--install-image",
            FACTORY_IMAGE.format(schematic=VANILLA, version=image_version),
            "--install-disk",
            "/dev/vda",
            "--output-types",
            "controlplane,worker,talosconfig",
            "-o",
            "out",
            "--with-docs=false",
            "--with-examples=false",
            *extra,
        )
