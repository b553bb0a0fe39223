#!/usr/bin/env bash
# Podman system containers for the scenarios that need a real Debian host (the edge VPS). Source it after
# scripts/lib/env.sh; it defines functions only. tf_podman_setup installs podman and the servers the tests use,
# writes the two settings this machine needs (see ../shared/notes/ENVIRONMENT.md) under $TF_BUILD/podman, exports
# CONTAINERS_CONF and CONTAINERS_STORAGE_CONF, and builds the Debian 12 images once (they are cached).

TF_PODMAN_DIR="$TF_BUILD/podman"
# podman and its helpers; dnsutils (dig), curl and openssl for the checks made from outside the containers;
# pebble (the ACME test server); pdns-server with its sqlite3 backend for the PowerDNS unit tests on loopback.
TF_PODMAN_APT_PACKAGES=(podman runc debootstrap uidmap slirp4netns fuse-overlayfs dnsutils curl openssl
    pebble pdns-server pdns-backend-sqlite3 sqlite3)
# The base image: a minimal Debian 12 that boots systemd and that Ansible can manage.
TF_DEBIAN_IMAGE="localhost/talosforge-debian12"
TF_DEBIAN_BASE_PACKAGES="systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,ca-certificates"
# The edge image: the base with the edge VPS's packages preinstalled, so that the scenario runs without a
# network path to the Debian archive (its containers sit on an internal network).
TF_EDGE_IMAGE="localhost/talosforge-debian12-edge"
TF_EDGE_PACKAGES=(nginx libnginx-mod-stream pdns-server pdns-backend-sqlite3 sqlite3 nftables
    python3-cryptography openssl curl gnupg apt-transport-https)
TF_DEBIAN_MIRROR="${TF_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# _tf_podman_conf: the settings podman needs here, under the project's own folder.
_tf_podman_conf() {
    mkdir -p "$TF_PODMAN_DIR/storage" "$TF_PODMAN_DIR/run"
    cat >"$TF_PODMAN_DIR/containers.conf" <<'EOF'
# Written by scripts/lib/podman.sh. The host cannot raise resource limits, and crun refuses its hybrid cgroups.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
    cat >"$TF_PODMAN_DIR/storage.conf" <<EOF
# Written by scripts/lib/podman.sh: images and containers live under the project's build folder.
[storage]
driver = "overlay"
runroot = "$TF_PODMAN_DIR/run"
graphroot = "$TF_PODMAN_DIR/storage"
EOF
    export CONTAINERS_CONF="$TF_PODMAN_DIR/containers.conf"
    export CONTAINERS_STORAGE_CONF="$TF_PODMAN_DIR/storage.conf"
}

# _tf_image_stamp IMAGE: the talosforge.stamp label of a local image, empty when the image is missing.
_tf_image_stamp() {
    podman image inspect --format '{{ index .Labels "talosforge.stamp" }}' "$1" 2>/dev/null || true
}

# _tf_build_debian_image: debootstrap a minimal bookworm with systemd and import it (about 50 s, once).
_tf_build_debian_image() {
    local stamp rootfs
    stamp="$(printf '%s %s' "$TF_DEBIAN_BASE_PACKAGES" "$TF_DEBIAN_MIRROR" | sha256sum | cut -c1-16)"
    [ "$(_tf_image_stamp "$TF_DEBIAN_IMAGE")" = "$stamp" ] && return 0
    tf_say "building $TF_DEBIAN_IMAGE with debootstrap (about a minute, cached afterwards)"
    rootfs="$(mktemp -d "$TF_PODMAN_DIR/rootfs.XXXXXX")"
    if ! timeout 600 debootstrap --variant=minbase --include="$TF_DEBIAN_BASE_PACKAGES" bookworm "$rootfs" \
        "$TF_DEBIAN_MIRROR" >"$TF_PODMAN_DIR/debootstrap.log" 2>&1; then
        rm -rf "$rootfs"
        tf_die "debootstrap failed; see $TF_PODMAN_DIR/debootstrap.log"
    fi
    # A fresh machine id at each boot; no apt caches in the image.
    : >"$rootfs/etc/machine-id"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . \
        | podman import --quiet --change 'CMD ["/sbin/init"]' --change "LABEL talosforge.stamp=$stamp" \
            - "$TF_DEBIAN_IMAGE" >/dev/null \
        || tf_die "podman import of $TF_DEBIAN_IMAGE failed"
    rm -rf "$rootfs"
}

# _tf_build_edge_image: the base image plus the edge VPS's packages, installed once over the host network.
_tf_build_edge_image() {
    local stamp base name="talosforge-edge-image-build"
    base="$(_tf_image_stamp "$TF_DEBIAN_IMAGE")"
    stamp="$(printf '%s %s' "$base" "${TF_EDGE_PACKAGES[*]}" | sha256sum | cut -c1-16)"
    [ "$(_tf_image_stamp "$TF_EDGE_IMAGE")" = "$stamp" ] && return 0
    tf_say "building $TF_EDGE_IMAGE (the edge packages preinstalled, cached afterwards)"
    podman rm -f "$name" >/dev/null 2>&1 || true
    # policy-rc.d keeps the package scripts from starting services while the image is built.
    if ! timeout 600 podman run --name "$name" --network host "$TF_DEBIAN_IMAGE" /bin/sh -c "
        set -e
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends ${TF_EDGE_PACKAGES[*]}
        apt-get clean
        rm -f /usr/sbin/policy-rc.d
        : >/etc/machine-id
    " >"$TF_PODMAN_DIR/edge-image.log" 2>&1; then
        podman rm -f "$name" >/dev/null 2>&1 || true
        tf_die "installing the edge packages failed; see $TF_PODMAN_DIR/edge-image.log"
    fi
    podman commit --quiet --change 'CMD ["/sbin/init"]' --change "LABEL talosforge.stamp=$stamp" "$name" \
        "$TF_EDGE_IMAGE" >/dev/null || tf_die "podman commit of $TF_EDGE_IMAGE failed"
    podman rm -f "$name" >/dev/null
}

# tf_podman_packages: podman and the real servers the tests start (PowerDNS, Pebble, sqlite).
tf_podman_packages() { tf_apt "${TF_PODMAN_APT_PACKAGES[@]}"; }

# tf_podman_setup: packages, settings and the cached images. Idempotent; about 2 minutes on a fresh machine.
tf_podman_setup() {
    tf_podman_packages
    command -v podman >/dev/null 2>&1 \
        || tf_die "podman is not installed (run as root, or install ${TF_PODMAN_APT_PACKAGES[*]})"
    _tf_podman_conf
    _tf_build_debian_image
    _tf_build_edge_image
    export TF_DEBIAN_IMAGE TF_EDGE_IMAGE
}
