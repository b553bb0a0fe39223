# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the talosforge.cluster.hcloud_* modules; the names are those of hetzner.hcloud, so that one
    # module_defaults entry serves both collections.
    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - The Hetzner Cloud API token (read/write) of the project.
      - When not set, the E(HCLOUD_TOKEN) environment variable is used. It is never logged or returned.
    type: str
    required: true
  api_endpoint:
    description:
      - Base URL of the Hetzner Cloud API.
      - When not set, the E(HCLOUD_ENDPOINT) environment variable is used if it is set.
    type: str
    default: https://api.hetzner.cloud/v1
  request_timeout:
    description:
      - Seconds to wait for each API request before the attempt counts as failed.
      - Failed attempts, 5xx, C(locked), C(conflict) and 429 answers are retried a bounded number of times with
        exponential backoff; a 429 waits until the time the API gives in C(RateLimit-Reset).
    type: float
    default: 30.0
notes:
  - Every resource the collection creates carries the labels C(talosforge.io/cluster=<cluster>) and
    C(talosforge.io/managed-by=talosforge.cluster).
"""
