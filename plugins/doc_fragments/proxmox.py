# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the talosforge.cluster.proxmox_* modules.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the Proxmox VE API, such as V(https://pve1.example.org:8006). C(/api2/json) is added when
        missing.
      - When not set, the E(PROXMOX_API_URL) environment variable is used.
    type: str
    required: true
  api_token_id:
    description:
      - API token id, as C(user@realm!tokenid), for example V(talosforge@pve!ansible).
      - When not set, the E(PROXMOX_TOKEN_ID) environment variable is used (the name community.proxmox reads).
    type: str
    required: true
  api_token_secret:
    description:
      - Secret of the API token (a UUID shown once when the token is made). Keep it in ansible-vault.
      - When not set, the E(PROXMOX_TOKEN_SECRET) environment variable is used (the name community.proxmox reads).
    type: str
    required: true
  validate_certs:
    description:
      - Verify the TLS certificate of the API.
      - Prefer O(ca_path) with the cluster's CA (C(/etc/pve/pve-root-ca.pem)) over turning this off.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the API, instead of the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for the API on each connection or read.
      - Reads are retried a few times on connection errors and 5xx answers; writes only when PVE answers
        C(can't lock file ... got timeout).
    type: float
    default: 30.0
"""
