"""Where the sandbox keeps its state: one folder, by default ``<repo>/.sandbox``."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR_ENV = "TALOSFORGE_SANDBOX_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent


def state_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The state folder: the explicit one, else $TALOSFORGE_SANDBOX_DIR, else <repo>/.sandbox."""
    chosen = explicit or os.environ.get(STATE_DIR_ENV) or REPO_ROOT / ".sandbox"
    return Path(chosen).expanduser().resolve()


def state_file(root: Path) -> Path:
    """``sandbox.json``: the running simulators (url, port, pid)."""
    return root / "sandbox.json"


def log_dir(root: Path) -> Path:
    return root / "logs"


def request_log(root: Path, name: str) -> Path:
    """The API request log of one simulator (JSON lines)."""
    return log_dir(root) / f"{name}.jsonl"


def server_output(root: Path, name: str) -> Path:
    """stdout/stderr of a background simulator process."""
    return log_dir(root) / f"{name}.server.log"


def data_dir(root: Path, name: str) -> Path:
    """A simulator's own data (stored schematics, generated images, ...), kept across restarts."""
    return root / name
