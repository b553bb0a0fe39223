# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps stage's filter: the cluster's Flux tree, as the gitops_repository module takes it."""

from __future__ import annotations

from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter
from ansible_collections.talosforge.cluster.plugins.plugin_utils._gitops_tree import gitops_tree


class FilterModule:
    def filters(self):
        return {"gitops_tree": as_filter("gitops_tree", gitops_tree)}
