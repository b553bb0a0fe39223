"""``python -m sandbox.talosctl``: the talosctl stand-in (what sandbox/bin/talosctl runs).

When the Python running this lacks PyYAML or cryptography, the repository's .venv (or .venv-compat) is used.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_GUARD = "TALOSFORGE_TALOSCTL_REEXEC"

if importlib.util.find_spec("cryptography") is None or importlib.util.find_spec("yaml") is None:
    if not os.environ.get(_GUARD):
        for venv in (".venv", ".venv-compat"):
            python = REPO / venv / "bin" / "python"
            if python.exists():
                os.environ[_GUARD] = "1"
                os.execv(str(python), [str(python), "-m", "sandbox.talosctl", *sys.argv[1:]])
    sys.stderr.write("talosctl stand-in: PyYAML and cryptography are needed (use the repository's .venv)\n")
    sys.exit(1)

from sandbox.talosctl.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
