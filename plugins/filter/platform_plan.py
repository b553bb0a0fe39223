# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform role's filters: its Helm releases, its Kubernetes objects, how a Service is put on its address and
what it waits for on the nodes."""

from __future__ import annotations

from ansible_collections.talosforge.cluster.plugins.plugin_utils._filters import as_filter
from ansible_collections.talosforge.cluster.plugins.plugin_utils._platform_objects import platform_objects
from ansible_collections.talosforge.cluster.plugins.plugin_utils._platform_releases import (
    node_expectations,
    platform_releases,
    service_pinning,
)


class FilterModule:
    def filters(self):
        return {
            "platform_releases": as_filter("platform_releases", platform_releases),
            "platform_objects": as_filter("platform_objects", platform_objects),
            "service_pinning": as_filter("service_pinning", service_pinning),
            "node_expectations": as_filter("node_expectations", node_expectations),
        }
