# -*- coding: utf-8 -*-
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this file is not a public API of the collection and may change without notice.
"""Offline list of the official Talos system extensions, to catch a typo before any network access.

The names are those the Image Factory lists under ``GET /version/{v}/extensions/official`` for the v1.13 line:
the ``name`` of every extension the siderolabs/extensions repository builds, at tags v1.13.0 to v1.13.9 (the
set did not change over that line; v1.13.9 is commit bf7c588faf1d12d5803a3c6d7c08158d1dc9689b). The factory's
live list stays authoritative at run time; this list only lets the validator say "unknown" and suggest a name
without asking it. For other Talos lines an unknown name is a warning, not an error.
"""

from __future__ import annotations

CATALOG_LINE = "v1.13"

OFFICIAL_EXTENSIONS_V1_13: frozenset[str] = frozenset(
    {
        "siderolabs/amazon-ena",
        "siderolabs/amd-ucode",
        "siderolabs/amdgpu",
        "siderolabs/binfmt-misc",
        "siderolabs/bird2",
        "siderolabs/bnx2-bnx2x",
        "siderolabs/btrfs",
        "siderolabs/chelsio-drivers",
        "siderolabs/chelsio-firmware",
        "siderolabs/cloudflared",
        "siderolabs/crun",
        "siderolabs/ctr",
        "siderolabs/drbd",
        "siderolabs/dvb-cx23885",
        "siderolabs/dvb-m88ds3103",
        "siderolabs/ecr-credential-provider",
        "siderolabs/fuse3",
        "siderolabs/gasket-driver",
        "siderolabs/glibc",
        "siderolabs/gpio-pinctrl",
        "siderolabs/gvisor",
        "siderolabs/gvisor-debug",
        "siderolabs/hailort",
        "siderolabs/hello-world-service",
        "siderolabs/i915",
        "siderolabs/intel-ice-firmware",
        "siderolabs/intel-npu",
        "siderolabs/intel-ucode",
        "siderolabs/iscsi-tools",
        "siderolabs/joydev",
        "siderolabs/kata-containers",
        "siderolabs/lldpd",
        "siderolabs/mdadm",
        "siderolabs/mei",
        "siderolabs/mellanox-mstflint",
        "siderolabs/metal-agent",
        "siderolabs/multipath-tools",
        "siderolabs/nebula",
        "siderolabs/netbird",
        "siderolabs/newt",
        "siderolabs/nfs-utils",
        "siderolabs/nfsd",
        "siderolabs/nfsrahead",
        "siderolabs/nonfree-kmod-nvidia-lts",
        "siderolabs/nonfree-kmod-nvidia-production",
        "siderolabs/nut-client",
        "siderolabs/nvidia-container-toolkit-lts",
        "siderolabs/nvidia-container-toolkit-production",
        "siderolabs/nvidia-fabricmanager-lts",
        "siderolabs/nvidia-fabricmanager-production",
        "siderolabs/nvidia-gdrdrv-device",
        "siderolabs/nvidia-open-gpu-kernel-modules-lts",
        "siderolabs/nvidia-open-gpu-kernel-modules-production",
        "siderolabs/nvme-cli",
        "siderolabs/panfrost",
        "siderolabs/px-fuse",
        "siderolabs/qemu-guest-agent",
        "siderolabs/qlogic-firmware",
        "siderolabs/realtek-firmware",
        "siderolabs/revpi-firmware",
        "siderolabs/rockchip-rknn",
        "siderolabs/soci-snapshotter",
        "siderolabs/spin",
        "siderolabs/stargz-snapshotter",
        "siderolabs/tailscale",
        "siderolabs/tenstorrent",
        "siderolabs/thunderbolt",
        "siderolabs/trident-iscsi-tools",
        "siderolabs/uhid",
        "siderolabs/uinput",
        "siderolabs/usb-audio-drivers",
        "siderolabs/usb-modem-drivers",
        "siderolabs/util-linux-tools",
        "siderolabs/v4l-uvc-drivers",
        "siderolabs/vc4",
        "siderolabs/vmtoolsd-guest-agent",
        "siderolabs/wasmedge",
        "siderolabs/xdma-driver",
        "siderolabs/xe",
        "siderolabs/xen-guest-agent",
        "siderolabs/youki",
        "siderolabs/zerotier",
        "siderolabs/zfs",
    }
)

# Official names that existed in earlier lines and were later renamed or dropped (v1.8 to v1.12).
RETIRED_EXTENSIONS: dict[str, str] = {
    "siderolabs/amdgpu-firmware": "siderolabs/amdgpu",
    "siderolabs/i915-ucode": "siderolabs/i915",
    "siderolabs/mellanox-ofed": "",
}


def catalog_covers(talos_version: str | None) -> bool:
    """True when the offline list is the one for ``talos_version`` (``vMAJOR.MINOR.PATCH...``)."""
    if not talos_version:
        return False
    return talos_version == CATALOG_LINE or talos_version.startswith(CATALOG_LINE + ".")


def is_official(name: str, talos_version: str | None = None) -> bool:
    """Known official extension; retired names count as known for the older lines they belonged to."""
    if name in OFFICIAL_EXTENSIONS_V1_13:
        return True
    return name in RETIRED_EXTENSIONS and not catalog_covers(talos_version)
