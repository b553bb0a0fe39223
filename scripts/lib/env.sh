#!/usr/bin/env bash
# Shared set-up for scripts/sandbox-site and scripts/test: apt packages (as root), the pinned virtualenvs,
# and the collection built and installed from its own tarball. Source it; it defines functions only.

TF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TF_BUILD="$TF_ROOT/.build"
TF_VENV="$TF_ROOT/.venv"
TF_VENV_COMPAT="$TF_ROOT/.venv-compat"
# Where the built collection is installed; TALOSFORGE_COLLECTIONS_DIR moves it (parallel runs on one checkout).
TF_COLLECTIONS="${TALOSFORGE_COLLECTIONS_DIR:-$TF_BUILD/installed}"
# Debian packages the suite uses: shellcheck for ansible-test sanity, xz for image handling, git for
# ansible-test's file listing, rsync for staging the collection tree, openssh-server for the Hetzner Cloud
# simulator's rescue system (a real sshd on loopback) and the sandbox's SSH Git server, nginx and fcgiwrap for its
# HTTPS Git server (git http-backend behind them; docs/sandbox-git.md).
TF_APT_PACKAGES=(shellcheck xz-utils git rsync ca-certificates openssh-server curl nginx fcgiwrap)

tf_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
tf_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

tf_apt() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        tf_say "not root: please install ${missing[*]} with apt-get"
        return 0
    fi
    tf_say "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# tf_python VERSION: print the path of a working interpreter for VERSION (3.12 or 3.11).
tf_python() {
    local want="$1" candidate
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    command -v pyenv >/dev/null 2>&1 && pyenv_root="$(pyenv root)"
    for candidate in "$pyenv_root"/versions/"$want".*/bin/python3 "/usr/bin/python$want" "/usr/local/bin/python$want"; do
        if [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    tf_die "no working Python $want found (looked in $pyenv_root/versions and /usr/bin)"
}

# tf_venv DIR PYTHON REQUIREMENTS: create DIR and install REQUIREMENTS unless the pins are unchanged.
tf_venv() {
    local dir="$1" python="$2" reqs="$3" stamp
    stamp="$(sha256sum "$reqs" | cut -c1-16)"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.talosforge-pins" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    tf_say "virtualenv $dir from $(basename "$reqs")"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$reqs" 2>&1 | grep -v '^WARNING: Location' || true
    "$dir/bin/python" -c 'import ansible, yaml' || tf_die "installing $reqs into $dir failed"
    echo "$stamp" >"$dir/.talosforge-pins"
}

# tf_link_source: make the working tree importable as ansible_collections.talosforge.cluster (pytest).
tf_link_source() {
    mkdir -p "$TF_BUILD/collections/ansible_collections/talosforge"
    ln -sfn ../../../.. "$TF_BUILD/collections/ansible_collections/talosforge/cluster"
}

# tf_install_collection: build the tarball users get and install it where ansible-playbook finds it.
tf_install_collection() {
    local tarball
    rm -rf "$TF_BUILD/dist" "$TF_COLLECTIONS"
    "$TF_VENV/bin/ansible-galaxy" collection build --force --output-path "$TF_BUILD/dist" "$TF_ROOT" >/dev/null
    tarball="$(ls "$TF_BUILD"/dist/talosforge-cluster-*.tar.gz)"
    # Test tooling, the sandbox and the benchmarks stay out of what users install.
    if tar -tzf "$tarball" | grep -qE '^(sandbox|tests|bench|scripts|extensions|requirements|\.ci)/'; then
        tf_die "$tarball contains test tooling: $(tar -tzf "$tarball" | grep -E '^(sandbox|tests|bench|scripts)/' | head -3)"
    fi
    "$TF_VENV/bin/ansible-galaxy" collection install --force -p "$TF_COLLECTIONS" "$tarball" >/dev/null
    tf_say "installed $(basename "$tarball") into $TF_COLLECTIONS"
}

# tf_gotools: the sandbox's real programs (etcd, kube-apiserver, helm, Talos's config code; kube-controller-manager,
# kube-scheduler and kwok in the second tier; Flux's controllers, sops and age-keygen in the third) compiled from their
# Go modules into .build/gotools/bin; a program whose wrapper module, flags and Go version did not change is not
# rebuilt (docs/sandbox-gotools.md). TALOSFORGE_GOTOOLS_TIER=1 or 2 builds the tiers up to that one only.
tf_gotools() {
    command -v go >/dev/null 2>&1 || tf_die "the go command is needed to build the sandbox's programs (Go 1.26)"
    (cd "$TF_ROOT" && "$TF_VENV/bin/python" -m sandbox.gotools build --tier "${TALOSFORGE_GOTOOLS_TIER:-3}") \
        || tf_die "building the sandbox's Go programs failed (see above)"
}

# tf_base: the pinned virtualenv on PATH and the working tree importable (enough for ruff, mypy and the linters).
tf_base() {
    tf_venv "$TF_VENV" "$(tf_python 3.12)" "$TF_ROOT/requirements/dev.txt"
    tf_link_source
    export PATH="$TF_VENV/bin:$PATH"
    export ANSIBLE_COLLECTIONS_PATH="$TF_COLLECTIONS"
}

# tf_packages: the Debian packages the tests and the sandbox use.
tf_packages() { tf_apt "${TF_APT_PACKAGES[@]}"; }

# tf_setup: everything scripts/sandbox-site and bench/run need on a fresh machine.
tf_setup() {
    tf_packages
    tf_base
    tf_gotools
}

tf_setup_compat() {
    tf_venv "$TF_VENV_COMPAT" "$(tf_python 3.11)" "$TF_ROOT/requirements/compat.txt"
}
