# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps stage's filters: the cluster's Flux tree as the gitops_repository module takes it, the platform's
Secrets as the sops_files module takes them, and what to await from Flux."""

from __future__ import annotations

from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter
from ansible_collections.talosforge.cluster.plugins.plugin_utils._gitops_flux import (
    flux_expectations,
    flux_helmreleases,
    gitops_secret_files,
)
from ansible_collections.talosforge.cluster.plugins.plugin_utils._gitops_tree import gitops_tree


class FilterModule:
    def filters(self):
        return {
            "gitops_tree": as_filter("gitops_tree", gitops_tree),
            "gitops_secret_files": as_filter("gitops_secret_files", gitops_secret_files),
            "flux_expectations": as_filter("flux_expectations", flux_expectations),
            "flux_helmreleases": as_filter("flux_helmreleases", flux_helmreleases),
        }
