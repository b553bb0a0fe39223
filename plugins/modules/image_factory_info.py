#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_factory_info
short_description: Read what a Talos Image Factory offers (versions, extensions, overlays)
version_added: 0.1.0
description:
  - Returns the Talos versions the Image Factory builds images for and, for one Talos version, its official
    system extensions and overlays.
  - Optionally fails with a clear message when the factory does not offer the version or some extensions, naming
    the nearest versions and suggesting extension names ("did you mean").
  - This module only reads; it runs in check mode as usual.
extends_documentation_fragment:
  - talosforge.cluster.image_factory
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything, so check mode runs it in full.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  talos_version:
    description:
      - Talos version to list extensions and overlays for, such as V(v1.13.9) (a missing leading V(v) is added).
      - Without it, only RV(versions) is returned.
    type: str
  require_version:
    description:
      - Fail when the factory does not offer O(talos_version).
    type: bool
    default: false
  require_extensions:
    description:
      - Official extension names (such as V(siderolabs/qemu-guest-agent)) that must be offered for
        O(talos_version); the module fails listing the missing ones with suggestions.
      - Requires O(talos_version).
    type: list
    elements: str
    default: []
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Check the Talos version and the extensions before building images
  talosforge.cluster.image_factory_info:
    talos_version: v1.13.9
    require_version: true
    require_extensions:
      - siderolabs/qemu-guest-agent
      - siderolabs/iscsi-tools
  register: factory

- name: Show the extension references the factory would use
  ansible.builtin.debug:
    msg: "{{ factory.extensions | map(attribute='ref') | list }}"
"""

RETURN = r"""
versions:
  description: Talos versions the factory offers, as it lists them.
  returned: always
  type: list
  elements: str
  sample: [v1.13.8, v1.13.9]
version_available:
  description: Whether the factory offers O(talos_version).
  returned: when O(talos_version) is set
  type: bool
  sample: true
extensions:
  description: Official system extensions for O(talos_version) (empty when the version is not offered).
  returned: when O(talos_version) is set
  type: list
  elements: dict
  contains:
    name:
      description: Full extension name, as used in a schematic.
      type: str
      sample: siderolabs/qemu-guest-agent
    ref:
      description: Container image reference of the extension.
      type: str
      sample: ghcr.io/siderolabs/qemu-guest-agent:10.0.2
    digest:
      description: Image digest.
      type: str
    author:
      description: Extension author.
      type: str
    description:
      description: What the extension does.
      type: str
extension_names:
  description: The names from RV(extensions), sorted.
  returned: when O(talos_version) is set
  type: list
  elements: str
  sample: [siderolabs/iscsi-tools, siderolabs/qemu-guest-agent]
overlays:
  description: Official overlays for O(talos_version) (empty when the version is not offered).
  returned: when O(talos_version) is set
  type: list
  elements: dict
  contains:
    name:
      description: Overlay name (C(overlay.name) in a schematic).
      type: str
      sample: rpi_generic
    image:
      description: Overlay image (C(overlay.image) in a schematic).
      type: str
      sample: siderolabs/sbc-raspberrypi
    ref:
      description: Container image reference.
      type: str
    digest:
      description: Image digest.
      type: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.client import factory_argument_spec
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory.info import run
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    spec = factory_argument_spec(env_fallback)
    spec.update(
        talos_version={"type": "str"},
        require_version={"type": "bool", "default": False},
        require_extensions={"type": "list", "elements": "str", "default": []},
    )
    return spec


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run(module.params))


if __name__ == "__main__":
    main()
