#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hcloud_talos_image
short_description: Make Hetzner Cloud snapshots of Talos Image Factory images, reusing those that exist
version_added: 0.1.0
description:
  - Does what hcloud-upload-image does, for several images at once. For each entry of O(images) it looks for a
    snapshot labelled with its Talos version, schematic ID and architecture (and the collection's label, and
    O(cluster) when set) and reuses it.
  - A missing snapshot is built on a temporary server. A temporary SSH key and server (labelled
    C(talosforge.io/temporary=image-build)) are created, the server boots the rescue system with that key, and
    over SSH the rescue system downloads the Image Factory's C(hcloud-<arch>.raw.xz) from O(images[].url) itself,
    unpacks it and writes it to C(/dev/sda). The server is then snapshotted with the labels, and the temporary
    server and key are deleted, also when a step failed.
  - Temporary servers and keys left by an earlier run that was stopped are deleted first (found by label).
    Do not run two builds for the same O(cluster) at the same time.
  - The builds of several images (architectures, schematics, versions) run in parallel.
  - SSH runs the system C(ssh) client on the controller (BatchMode, a key and a known_hosts file made for the
    build only, bounded connect timeouts); C(ssh-keygen) makes the key.
extends_documentation_fragment:
  - talosforge.cluster.hcloud
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Says which snapshots would be built (state V(would_build) in RV(images)) and which leftovers would go.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  images:
    description:
      - The images to have as snapshots. Entries that are the same image are built once.
    type: list
    elements: dict
    required: true
    suboptions:
      url:
        description: The Image Factory URL of C(hcloud-<arch>.raw.xz), as the images stage publishes it.
        type: str
        required: true
      schematic_id:
        description: The schematic ID (64 hex characters).
        type: str
        required: true
      arch:
        description: CPU architecture of the image.
        type: str
        choices: [amd64, arm64]
        default: amd64
      talos_version:
        description: Talos version; defaults to O(talos_version).
        type: str
      location:
        description: Location of the temporary server (and so where the snapshot is made); defaults to O(location).
        type: str
      server_type:
        description: Server type of the temporary server; defaults to the entry of O(server_types) for the arch.
        type: str
  talos_version:
    description: Talos version of the images that set none.
    type: str
  cluster:
    description:
      - When set, snapshots and temporary resources also carry C(talosforge.io/cluster=<cluster>), and only such
        snapshots are reused (so that destroying the cluster with snapshots removes them).
    type: str
  location:
    description: Location of the temporary servers.
    type: str
    default: fsn1
  server_types:
    description:
      - Server type per architecture for the temporary servers, for example V(amd64=cx22) and V(arm64=cax11) as a dict.
      - An architecture not named here gets the cheapest type of that architecture sold in the location.
    type: dict
  base_image:
    description: Image the temporary server is created from (it boots the rescue system, so any will do).
    type: str
    default: debian-12
  scratch_dir:
    description:
      - Private folder (created with mode C(0700)) for the temporary SSH key pair of a build, for example the
        cluster's Talos output folder. The key is removed after the build; a key left by a killed run is removed
        at the start of the next run that uses the folder.
      - The key never goes to the system temp folder.
    type: path
    default: ~/.ansible/talosforge
  ssh_port:
    description: SSH port of the rescue system.
    type: int
    default: 22
  ssh_timeout:
    description: Seconds to wait for the rescue system to accept SSH.
    type: float
    default: 300.0
  write_timeout:
    description: Seconds the download and disk write may take (bounded by SSH keep-alives when the link dies).
    type: float
    default: 1800.0
  wait_timeout:
    description: Seconds to wait for each API action (server creation, rescue, snapshot).
    type: float
    default: 900.0
  parallel:
    description: How many snapshots are built at the same time.
    type: int
    default: 4
requirements:
  - The OpenSSH client (C(ssh), C(ssh-keygen)) on the host that runs the module.
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Snapshots of the hcloud images of both architectures (the talosforge.cluster.infra_hcloud role does this)
  talosforge.cluster.hcloud_talos_image:
    cluster: prod
    talos_version: v1.13.9
    server_types:
      amd64: cx22
      arm64: cax11
    images:
      - url: https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.13.9/hcloud-amd64.raw.xz
        schematic_id: 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba
        arch: amd64
      - url: https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.13.9/hcloud-arm64.raw.xz
        schematic_id: 376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba
        arch: arm64
  register: talos_snapshots
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
images:
  description:
    - One entry per distinct image, with C(talos_version), C(schematic_id), C(arch), C(url), C(location),
      C(image_id) (the snapshot's id, a string), C(description), C(labels) and C(state)
      (V(reused), V(built), V(would_build) in check mode, V(failed)).
  returned: always
  type: list
  elements: dict
leftovers:
  description: Temporary servers and SSH keys of earlier runs that were (or would be) deleted.
  returned: always
  type: list
  elements: dict
api_requests:
  description: API requests this run sent.
  returned: always
  type: int
failures:
  description:
    - Per failed build, C(name) and C(image) (the image's C(<talos version>/<schematic>/<arch>)), C(msg) and, when
      a request failed, the API's C(failure) (C(status), C(code), C(details), C(request)); docs/failures.md.
  returned: on failure
  type: list
  elements: dict
"""

from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.client import (
    auth_argument_spec,
    client_from_params,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._hcloud.image_plan import ARCHES
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    image = {
        "url": {"type": "str", "required": True},
        "schematic_id": {"type": "str", "required": True},
        "arch": {"type": "str", "choices": list(ARCHES), "default": "amd64"},
        "talos_version": {"type": "str"},
        "location": {"type": "str"},
        "server_type": {"type": "str"},
    }
    spec = auth_argument_spec(env_fallback)
    spec.update(
        images={"type": "list", "elements": "dict", "required": True, "options": image},
        talos_version={"type": "str"},
        cluster={"type": "str"},
        location={"type": "str", "default": "fsn1"},
        server_types={"type": "dict"},
        base_image={"type": "str", "default": "debian-12"},
        scratch_dir={"type": "path", "default": "~/.ansible/talosforge"},
        ssh_port={"type": "int", "default": 22},
        ssh_timeout={"type": "float", "default": 300.0},
        write_timeout={"type": "float", "default": 1800.0},
        wait_timeout={"type": "float", "default": 900.0},
        parallel={"type": "int", "default": 4},
    )
    return spec


def module_runner(module: AnsibleModule) -> Any:
    def run_command(argv: list, stdin: str | None, env: Mapping, timeout: float) -> tuple[int, str, str]:
        return module.run_command(argv, data=stdin, environ_update=dict(env), check_rc=False)

    return run_command


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(
        module, lambda: run(client_from_params(module.params), module_runner(module), module.params, module.check_mode)
    )


if __name__ == "__main__":
    main()
