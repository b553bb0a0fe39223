# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The nodes option of the talosforge.cluster.talos_* modules that work on nodes. A module that extends this
    # fragment says in its own description of nodes what it does with them (its description replaces this one).
    DOCUMENTATION = r"""
options:
  nodes:
    description:
      - The nodes, each a mapping as the P(talosforge.cluster.talos_targets#filter) filter writes it.
      - Names and addresses must be unique. A key that is not one of the suboptions is refused.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The node's name, in results and messages.
          - Defaults to O(nodes[].address).
        type: str
      address:
        description:
          - The IP address or host name that talosctl connects to.
        type: str
        required: true
      role:
        description:
          - V(controlplane) or V(worker).
          - Required by the modules that treat the two differently; for the others, when no node has a role, every
            node is taken as a control plane.
        type: str
      image:
        description:
          - The node's own installer image, used by M(talosforge.cluster.talos_upgrade); ignored by the others.
        type: str
      config:
        description:
          - Path of the node's machine configuration file, used by M(talosforge.cluster.talos_apply_config);
            ignored by the others.
        type: str
"""
