# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the talosforge.cluster.image_factory_* modules.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Talos Image Factory.
      - When not set, the E(TALOSFORGE_IMAGE_FACTORY_URL) environment variable is used if it is set.
    type: str
    default: https://factory.talos.dev
  validate_certs:
    description:
      - Verify the factory's TLS certificate.
      - Set to V(false) only for a factory you trust on a network you trust.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for the factory, instead of the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for the factory on each connection or read before the attempt counts as failed.
      - Failed attempts, 5xx and 429 answers are retried a few times with exponential backoff.
    type: float
    default: 30.0
"""
