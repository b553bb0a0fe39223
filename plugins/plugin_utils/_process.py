# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Run a command on the controller (action plugins), bounded in time: the runner the talosctl wrapper takes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping


def run_process(argv: list, stdin: str | None, env: Mapping, timeout: float) -> tuple[int, str, str]:
    """(exit code, stdout, stderr); raises TimeoutError when ``timeout`` seconds pass first."""
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, env={**os.environ, **env}, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError(str(exc)) from exc
    return done.returncode, done.stdout, done.stderr
