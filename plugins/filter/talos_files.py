# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talos_files filter: where the Talos stage keeps a cluster's files, from the folder they live in."""

from __future__ import annotations

from typing import Any

from ansible_collections.talosforge.cluster.plugins.module_utils._cluster.published import talos_files
from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter


def _talos_files(directory: Any, secrets: str | None = None, kubeconfig: str | None = None) -> dict[str, str]:
    if not isinstance(directory, str) or not directory:
        raise ValueError("expects the folder of the cluster's Talos files (talos_output_dir)")
    return talos_files(directory, secrets or None, kubeconfig or None)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"talos_files": as_filter("talos_files", _talos_files)}
