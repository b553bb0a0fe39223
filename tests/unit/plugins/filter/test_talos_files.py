# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talos_files filter: the paths of a cluster's Talos files from their folder."""

from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.talosforge.cluster.plugins.filter.talos_files import FilterModule

talos_files = FilterModule().filters()["talos_files"]


def test_paths_under_the_folder_with_home_expanded():
    home = os.path.expanduser("~")
    assert talos_files("~/.talosforge/lab/") == {
        "dir": f"{home}/.talosforge/lab",
        "configs": f"{home}/.talosforge/lab/configs",
        "talosconfig": f"{home}/.talosforge/lab/configs/talosconfig",
        "secrets": f"{home}/.talosforge/lab/secrets.yaml",
        "kubeconfig": f"{home}/.talosforge/lab/kubeconfig",
        "backups": f"{home}/.talosforge/lab/backups",
    }


def test_moved_secrets_and_kubeconfig():
    files = talos_files("/srv/t", secrets="/vault/s.yaml", kubeconfig="")
    assert (files["secrets"], files["kubeconfig"]) == ("/vault/s.yaml", "/srv/t/kubeconfig")


def test_no_folder():
    with pytest.raises(AnsibleFilterError, match="talos_files: expects the folder"):
        talos_files("")
