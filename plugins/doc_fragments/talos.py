# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the talosforge.cluster.talos_* modules that run talosctl.
    DOCUMENTATION = r"""
options:
  talosctl:
    description:
      - Path or name of the C(talosctl) executable to run.
      - When not set, the E(TALOSFORGE_TALOSCTL) environment variable is used if it is set,
        else C(talosctl) is looked up on E(PATH).
    type: path
  talosconfig:
    description:
      - Path of the talosconfig file that holds the client certificate and endpoints of the cluster.
      - Passed to C(talosctl) as C(--talosconfig). Not needed for commands that do not talk to a node.
    type: path
  timeout:
    description:
      - Seconds one C(talosctl) invocation may run before it is stopped and counted as failed.
    type: float
    default: 300.0
  parallel:
    description:
      - How many nodes are worked on at the same time.
    type: int
    default: 8
"""
