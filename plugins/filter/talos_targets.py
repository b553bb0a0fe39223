# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talos_targets filter: the node list the Talos modules take, for the hosts of a play."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError


def talos_targets(nodes, hosts, config_dir=None):
    """Nodes named in ``hosts``, as ``{name, address, role[, image][, config]}``, in the order of ``nodes``."""
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        raise AnsibleFilterError("talos_targets expects a list of nodes (talosforge_cluster.nodes)")
    wanted = set(hosts or [])
    targets = []
    for node in nodes:
        if node.get("name") not in wanted:
            continue
        if not node.get("address"):
            raise AnsibleFilterError(f"node {node.get('name')} has no address yet: run the infrastructure stage first")
        target = {"name": node["name"], "address": node["address"], "role": node.get("role")}
        if node.get("installer_image"):
            target["image"] = node["installer_image"]
        if config_dir:
            target["config"] = os.path.join(config_dir, f"{node['name']}.yaml")
        targets.append(target)
    return targets


class FilterModule:
    def filters(self):
        return {"talos_targets": talos_targets}
