"""Chart repository simulator: the sandbox's Helm repository of stand-in charts, helm's and sops's release downloads.

Stand-ins, named and versioned like the upstream charts the collection installs, each with the upstream CRDs and
values.schema.json (from tests/contracts) and minimal workloads; see docs/sandbox-charts.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .app import ChartsApp

NAME = "charts"
DEFAULT_PORT = 18704
OPTIONS = {
    "helm_binary": "path, default .build/gotools/bin/helm: the helm served at /helm/ in get.helm.sh's layout",
    "sops_binary": "path, default .build/gotools/bin/sops: the sops served at /sops/releases/download/ as on GitHub",
}


def create_app(state_dir: Path, options: dict[str, Any]) -> ChartsApp:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown charts option(s): {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    return ChartsApp(state_dir, options)
