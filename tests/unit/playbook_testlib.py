# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a real ansible-playbook on a cluster definition: the collection from .build/collections, the cluster as a
talosforge.cluster.cluster inventory, no HCLOUD_ or ANSIBLE_ variable of the calling environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def run_playbook(
    tmp_path: Path, cluster: dict, text: str, *options: str, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Write the inventory and ``text`` (the playbook) into ``tmp_path`` and run it with ``options``."""
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    inventory = tmp_path / "cluster.talosforge.yml"
    inventory.write_text(yaml.safe_dump({"plugin": "talosforge.cluster.cluster", "cluster": cluster}), "utf-8")
    play = tmp_path / "play.yml"
    play.write_text(text, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HCLOUD_", "ANSIBLE_"))}
    env.update(
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]),
        ANSIBLE_INVENTORY_ENABLED="talosforge.cluster.cluster",
        ANSIBLE_NOCOLOR="1",
    )
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(play), *options],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip
