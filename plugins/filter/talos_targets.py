# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talos_targets filter: the node list the Talos modules take, for the hosts of a play."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError


def _infra_addresses(infra):
    """{name: talos_address} from the provider's node facts (docs/node-facts.md); {} when there are none."""
    if not infra:
        return {}
    facts = infra.get("nodes") if isinstance(infra, dict) else infra
    if not isinstance(facts, list) or not all(isinstance(fact, dict) for fact in facts):
        raise AnsibleFilterError("talos_targets: infra must be talosforge_infra or its list of node facts")
    return {fact.get("name"): fact.get("talos_address") for fact in facts}


def talos_targets(nodes, hosts, config_dir=None, infra=None):
    """Nodes named in ``hosts``, as ``{name, address, role[, image][, config]}``, in the order of ``nodes``.

    With ``infra`` (the provider stage's ``talosforge_infra``), a node's address is the ``talos_address`` the
    provider reported, which is where talosctl reaches it; without, the address of the cluster definition.
    """
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        raise AnsibleFilterError("talos_targets expects a list of nodes (talosforge_cluster.nodes)")
    reported = _infra_addresses(infra)
    wanted = set(hosts or [])
    targets = []
    for node in nodes:
        name = node.get("name")
        if name not in wanted:
            continue
        address = reported.get(name) if reported else node.get("address")
        if not address:
            where = "the provider reported no talos_address for it" if reported else "it has no address"
            raise AnsibleFilterError(f"node {name}: {where}; run the infrastructure stage first")
        target = {"name": name, "address": address, "role": node.get("role")}
        if node.get("installer_image"):
            target["image"] = node["installer_image"]
        if config_dir:
            target["config"] = os.path.join(config_dir, f"{name}.yaml")
        targets.append(target)
    return targets


class FilterModule:
    def filters(self):
        return {"talos_targets": talos_targets}
