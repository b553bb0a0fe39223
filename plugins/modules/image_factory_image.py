#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_factory_image
short_description: Name, and optionally download, a Talos boot image from an Image Factory
version_added: 0.1.0
description:
  - Builds the download URL of a boot image (disk image, ISO, UKI) and the installer image reference for a
    schematic ID and Talos version. Without O(dest_dir) nothing is sent over the network.
  - With O(dest_dir), downloads the image into that cache directory and verifies it. A download goes to
    C(<filename>.part) first and is resumed on the next run if it breaks off. The verified file is renamed into
    place, and its SHA-256 is written to C(<filename>.sha256). A later run that finds the file matching its
    C(.sha256) file downloads nothing and reports no change.
  - The download is verified against O(checksum) when given, else against the checksum the factory publishes
    at C(<image url>.sha256). The community factory publishes none (it answers 402); the module then records
    the computed SHA-256 and returns RV(checksum_verified=false).
  - One image per task. Several images (for example one per architecture) take one task each, with a loop;
    the cache makes repeated tasks cheap, and parallel hosts that share a cache wait for each other.
extends_documentation_fragment:
  - talosforge.cluster.image_factory
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Nothing is downloaded; the result says, from the cache alone, whether a download would happen.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: none
options:
  schematic_id:
    description:
      - Schematic ID, as returned by M(talosforge.cluster.image_factory_schematic).
    type: str
    required: true
  talos_version:
    description:
      - Talos version, such as V(v1.13.9) (a missing leading V(v) is added).
    type: str
    required: true
  platform:
    description:
      - Talos platform of the image, such as V(metal), V(hcloud), V(nocloud), V(aws) or V(vmware).
    type: str
    default: metal
  arch:
    description:
      - CPU architecture.
    type: str
    choices: [amd64, arm64]
    default: amd64
  format:
    description:
      - Image format, the file suffix the factory serves, such as V(raw.xz), V(raw.zst), V(qcow2), V(iso),
        V(raw.tar.gz), V(vhd.xz), V(ova) or V(uki.efi).
    type: str
    default: raw.xz
  secureboot:
    description:
      - Use the SecureBoot variant of the image and of the installer.
    type: bool
    default: false
  installer_registry:
    description:
      - Registry that serves installer images, as C(host[:port]).
      - Defaults to the host (and port) of O(url).
    type: str
  dest_dir:
    description:
      - Cache directory to download the image into; created with mode 0700 when missing.
      - Without it the module only returns names and URLs.
    type: path
  filename:
    description:
      - File name in O(dest_dir).
      - Defaults to C(<id12>-<talos_version>-<name served by the factory>), where C(id12) is the first 12 characters
        of the schematic ID, for example C(376567988ad3-v1.13.9-metal-amd64.raw.xz). Images of different
        schematics and versions thus never share a name.
    type: str
  checksum:
    description:
      - Expected checksum of the downloaded file, as V(sha256:<hex>) or V(sha512:<hex>).
      - When O(decompress=true), this is the checksum of the compressed file as served.
    type: str
  decompress:
    description:
      - Also unpack a V(.xz) or V(.gz) image to the file name without that suffix (the compressed file is kept).
    type: bool
    default: false
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Name the Hetzner Cloud image and the installer for a schematic
  talosforge.cluster.image_factory_image:
    schematic_id: "{{ schematic.id }}"
    talos_version: v1.13.9
    platform: hcloud
  register: image

- name: Download the metal image for Proxmox and unpack it
  talosforge.cluster.image_factory_image:
    schematic_id: "{{ schematic.id }}"
    talos_version: v1.13.9
    platform: metal
    format: raw.xz
    dest_dir: ~/.cache/talosforge/images
    decompress: true
  register: metal_image
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
url:
  description: Download URL of the image.
  returned: always
  type: str
  sample: https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.13.9/hcloud-amd64.raw.xz
installer_image:
  description: Installer image reference for the same schematic, platform and version.
  returned: always
  type: str
  sample: factory.talos.dev/hcloud-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.13.9
filename:
  description: Name of the image file in O(dest_dir) (as downloaded, before unpacking).
  returned: always
  type: str
  sample: 376567988ad3-v1.13.9-hcloud-amd64.raw.xz
path:
  description: The file to use, the unpacked one when O(decompress=true).
  returned: when O(dest_dir) is set
  type: str
  sample: /home/me/.cache/talosforge/images/376567988ad3-v1.13.9-metal-amd64.raw
sha256:
  description: SHA-256 of RV(path); empty in check mode when the file is not there yet.
  returned: when O(dest_dir) is set
  type: str
download_path:
  description: The downloaded file (equal to RV(path) without O(decompress)).
  returned: when O(dest_dir) is set
  type: str
download_sha256:
  description: SHA-256 of RV(download_path).
  returned: when O(dest_dir) is set
  type: str
checksum_verified:
  description:
    - Whether the file was checked against O(checksum) or the factory's published checksum in this run.
    - V(false) on the community factory, which publishes no checksums, and on a cache hit without O(checksum).
  returned: when O(dest_dir) is set
  type: bool
checksum_source:
  description:
    - V(user) (O(checksum)), V(factory) (published C(.sha256)), V(none) (nothing published),
      V(cache) (the file matched its C(.sha256) file; nothing was downloaded), or V(unknown) (check mode).
  returned: when O(dest_dir) is set
  type: str
downloaded:
  description: Whether image bytes were (or, in check mode, would be) fetched.
  returned: when O(dest_dir) is set
  type: bool
decompressed:
  description: Whether the image was (or would be) unpacked.
  returned: when O(dest_dir) is set
  type: bool
resumed_from:
  description: Bytes of an earlier, interrupted download that were kept and resumed from.
  returned: when O(dest_dir) is set
  type: int
size:
  description: Size of RV(path) in bytes (0 in check mode when it is not there yet).
  returned: when O(dest_dir) is set
  type: int
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.talosforge.cluster.plugins.module_utils._http import HttpClient, HttpError
from ansible_collections.talosforge.cluster.plugins.module_utils._image_download import (
    DownloadError,
    download_image,
    plan_download,
)
from ansible_collections.talosforge.cluster.plugins.module_utils._image_factory import (
    ARCHES,
    DEFAULT_URL,
    ImageFactoryError,
    check_schematic_id,
    client_from_params,
    factory_argument_spec,
    image_filename,
    image_url,
    installer_image,
    normalize_version,
    registry_from_url,
)


def argument_spec() -> dict[str, Any]:
    spec = factory_argument_spec(env_fallback)
    spec.update(
        schematic_id={"type": "str", "required": True},
        talos_version={"type": "str", "required": True},
        platform={"type": "str", "default": "metal"},
        arch={"type": "str", "choices": list(ARCHES), "default": "amd64"},
        format={"type": "str", "default": "raw.xz"},
        secureboot={"type": "bool", "default": False},
        installer_registry={"type": "str"},
        dest_dir={"type": "path"},
        filename={"type": "str"},
        checksum={"type": "str"},
        decompress={"type": "bool", "default": False},
    )
    return spec


def default_filename(schematic_id: str, version: str, platform: str, arch: str, fmt: str, secureboot: bool) -> str:
    """``<id[:12]>-<version>-<served name>``: unique per schematic and version, suffix kept at the end."""
    return f"{schematic_id[:12]}-{version}-{image_filename(platform, arch, fmt, secureboot)}"


def run_module(params: dict[str, Any], check_mode: bool, http: HttpClient | None = None) -> dict[str, Any]:
    """Build names, download when asked; return the result. Raises ImageFactoryError, DownloadError, HttpError."""
    base = (params.get("url") or DEFAULT_URL).rstrip("/")
    schematic_id = check_schematic_id(params["schematic_id"])
    version = normalize_version(params["talos_version"])
    platform, arch, fmt = (
        params.get("platform") or "metal",
        params.get("arch") or "amd64",
        params.get("format") or "raw.xz",
    )
    secureboot = bool(params.get("secureboot"))
    url = image_url(base, schematic_id, version, platform, arch, fmt, secureboot)
    registry = params.get("installer_registry") or registry_from_url(base)
    filename = params.get("filename") or default_filename(schematic_id, version, platform, arch, fmt, secureboot)
    result: dict[str, Any] = {
        "changed": False,
        "url": url,
        "installer_image": installer_image(registry, platform, schematic_id, version, secureboot),
        "filename": filename,
    }
    dest_dir = params.get("dest_dir")
    if not dest_dir:
        return result
    options = {"filename": filename, "checksum": params.get("checksum"), "decompress": bool(params.get("decompress"))}
    if check_mode:
        outcome = plan_download(url, dest_dir, **options)
    else:
        outcome = download_image(http or client_from_params(params).http, url, dest_dir, **options)
    result.update(outcome.as_dict())
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        module.exit_json(**run_module(module.params, module.check_mode))
    except (ImageFactoryError, DownloadError) as exc:
        module.fail_json(msg=str(exc))
    except HttpError as exc:
        module.fail_json(
            msg=f"Image Factory request failed: {exc}", status=exc.status, body=exc.body, request_url=exc.url
        )
    except OSError as exc:
        module.fail_json(msg=f"cannot write the image cache: {exc}")


if __name__ == "__main__":
    main()
