# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the talosforge.cluster.powerdns_* modules.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the PowerDNS Authoritative HTTP API (its built-in webserver), without C(/api/v1).
      - When not set, the E(TALOSFORGE_POWERDNS_URL) environment variable is used if it is set.
      - The modules run on the managed host, so the default reaches a PowerDNS on that host.
    type: str
    default: http://127.0.0.1:8081
  api_key:
    description:
      - The API key (C(api-key) in C(pdns.conf)), sent in the C(X-API-Key) header.
      - When not set, the E(TALOSFORGE_POWERDNS_API_KEY) environment variable is used. Keep it in ansible-vault.
    type: str
    required: true
  server_id:
    description:
      - The server the zones belong to; an authoritative server calls itself V(localhost).
    type: str
    default: localhost
  validate_certs:
    description:
      - Verify the API's TLS certificate when O(url) is C(https).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the API, instead of the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for the API on each connection or read. Connection errors and 5xx answers are retried twice.
    type: float
    default: 10.0
"""
