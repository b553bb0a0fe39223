# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site playbook checks everything a run needs before its first write request (issue 13, "Check before building").

Run for real: ansible-playbook talosforge.cluster.site against the Proxmox and Hetzner simulators on free ports. A
run with a missing vault password file, or with provider credentials the API refuses, must stop with a message naming
what is missing, and the simulator must have seen read requests only (GET), never a write.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from playbook_testlib import run_playbook

harness = pytest.importorskip("sandbox.harness", reason="the sandbox is not available (installed collection)")
pve_sim = pytest.importorskip("sandbox.simulators.proxmox")

pytestmark = pytest.mark.slow

HCLOUD_TOKEN = "preflight-token-0123456789abcdef0123"
SITE = "- ansible.builtin.import_playbook: talosforge.cluster.site\n"


def fake_talosctl(tmp_path: Path) -> list[str]:
    """A talosctl the talosctl role can install from a file:// URL, verified against its pinned checksum."""
    binary = tmp_path / "talosctl-src"
    binary.write_text("#!/bin/sh\necho talosctl stand-in\n", encoding="utf-8")
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()
    return ["-e", f"talosctl_url=file://{binary}", "-e", f"talosctl_checksum=sha256:{digest}",
            "-e", f"talosctl_install_dir={tmp_path / 'talosctl'}"]  # fmt: skip


def site(tmp_path: Path, cluster: dict, *options: str) -> subprocess.CompletedProcess:
    output = ["-e", f"talos_output_dir={tmp_path / 'cluster'}"]
    return run_playbook(tmp_path, cluster, SITE, *output, *fake_talosctl(tmp_path), *options)


def writes(sim) -> list[tuple[str, str, int]]:
    return [(r["method"], r["path"], r["status"]) for r in sim.requests() if r["method"] not in ("GET", "HEAD")]


def proxmox_cluster(url: str) -> dict:
    return {
        "name": "preflight",
        "talos_version": "v1.13.9",
        "kubernetes_version": "1.34.1",
        "image_factory": {"url": "http://127.0.0.1:9", "cache_dir": "images"},
        "provider": {"type": "proxmox", "proxmox": {"api_url": url, "nodes": ["pve1"]}},
        "network": {"nodes": "10.0.1.0/24"},
        "nodes": [{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11"}],
    }


def hcloud_cluster(endpoint: str) -> dict:
    return {
        "name": "preflight",
        "talos_version": "v1.13.9",
        "kubernetes_version": "1.34.1",
        "image_factory": {"url": "http://127.0.0.1:9", "cache_dir": "images"},
        "provider": {"type": "hcloud", "hcloud": {"firewall_source_cidrs": ["127.0.0.0/8"]}},
        "network": {"nodes": "10.0.1.0/24"},
        "endpoint": {"vip": "10.0.1.100"},
        "nodes": [{"name": "cp-1", "role": "controlplane", "address": "10.0.1.11", "size": "cx22"}],
    }


def proxmox_options(pve, tmp_path: Path, secret: str | None = None) -> list[str]:
    token_id, good = pve_sim.DEFAULT_TOKEN.split("=", 1)
    return ["-e", f"talosforge_proxmox_api_token_id={token_id}",
            "-e", f"talosforge_proxmox_api_token_secret={secret or good}",
            "-e", f"infra_proxmox_ca_path={pve_sim.ca_file(pve.state_dir)}"]  # fmt: skip


def hcloud_options(endpoint: str, token: str) -> list[str]:
    return ["-e", f"infra_hcloud_api_token={token}", "-e", f"infra_hcloud_api_endpoint={endpoint}"]


@pytest.mark.parametrize("provider", ["proxmox", "hcloud"])
def test_missing_vault_password_file_stops_before_any_write(tmp_path, provider):
    missing = tmp_path / "no-such-vault-password"
    vault = ["-e", f"talos_vault_password_file={missing}"]
    if provider == "proxmox":
        with harness.running("proxmox", tmp_path / "sim", task_seconds=0.05) as sim:
            done = site(tmp_path, proxmox_cluster(sim.url), *proxmox_options(sim, tmp_path), *vault)
            seen = writes(sim)
    else:
        with harness.running("hcloud", tmp_path / "sim", token=HCLOUD_TOKEN) as sim:
            done = site(
                tmp_path, hcloud_cluster(sim.url + "/v1"), *hcloud_options(sim.url + "/v1", HCLOUD_TOKEN), *vault
            )
            seen = writes(sim)
    assert done.returncode != 0, done.stdout[-4000:]
    assert str(missing) in done.stdout, done.stdout[-4000:]
    assert "vault password file" in done.stdout, done.stdout[-4000:]
    assert seen == [], seen
    assert "Image Factory schematics" not in done.stdout  # stopped before the images stage


@pytest.mark.parametrize("provider", ["proxmox", "hcloud"])
def test_bad_provider_credentials_stop_before_any_write(tmp_path, provider):
    password = tmp_path / "vault-password"
    password.write_text("preflight-vault-password\n", encoding="utf-8")
    password.chmod(0o600)
    vault = ["-e", f"talos_vault_password_file={password}"]
    if provider == "proxmox":
        with harness.running("proxmox", tmp_path / "sim", task_seconds=0.05) as sim:
            bad = "00000000-0000-0000-0000-000000000000"
            done = site(tmp_path, proxmox_cluster(sim.url), *proxmox_options(sim, tmp_path, bad), *vault)
            seen, reads = writes(sim), [r for r in sim.requests() if r["method"] == "GET"]
        named = "Proxmox"
    else:
        with harness.running("hcloud", tmp_path / "sim", token=HCLOUD_TOKEN) as sim:
            endpoint = sim.url + "/v1"
            done = site(tmp_path, hcloud_cluster(endpoint), *hcloud_options(endpoint, "wrong-token-0123456789"), *vault)
            seen, reads = writes(sim), [r for r in sim.requests() if r["method"] == "GET"]
        named = "Hetzner"
    assert done.returncode != 0, done.stdout[-4000:]
    assert seen == [], seen
    assert len(reads) == 1 and reads[0]["status"] == 401, (
        reads,
        done.stdout[-3000:],
    )  # one read request checked the credentials
    assert named in done.stdout and "credentials" in done.stdout, done.stdout[-4000:]
    assert "Image Factory schematics" not in done.stdout


@pytest.mark.parametrize("transient", [False, True])
def test_good_settings_pass_the_preflight(tmp_path, transient):
    """The control: with the vault password file and the credentials right, the run goes on to the images stage;
    a transient fault on the credentials read (a 503, then a dropped connection) is ridden out, not reported."""
    password = tmp_path / "vault-password"
    password.write_text("preflight-vault-password\n", encoding="utf-8")
    with harness.running("proxmox", tmp_path / "sim", task_seconds=0.05) as sim:
        if transient:
            sim.set_fault(503, path="^/api2/json/cluster/resources$", method="GET")
            sim.set_fault(drop_connection=True, path="^/api2/json/cluster/resources$", method="GET")
        options = [*proxmox_options(sim, tmp_path), "-e", f"talos_vault_password_file={password}"]
        done = site(tmp_path, proxmox_cluster(sim.url), *options)
        statuses = [(r["method"], r["path"], r["status"]) for r in sim.requests()]
    assert ("GET", "/api2/json/cluster/resources", 200) in statuses, statuses
    if transient:
        assert ("GET", "/api2/json/cluster/resources", 503) in statuses, statuses
    assert "Image Factory schematics" in done.stdout, done.stdout[-4000:]
    assert (tmp_path / "talosctl" / "talosctl").exists()


def test_check_diff_on_a_new_proxmox_cluster_writes_nothing(tmp_path):
    """`--check --diff` on an empty Proxmox shows the whole plan, exits 0 and sends no write request (issue 13)."""
    password = tmp_path / "vault-password"
    password.write_text("preflight-vault-password\n", encoding="utf-8")
    with (
        harness.running("image-factory", tmp_path / "factory", raw_image_size=1 << 20, asset_size=1 << 16) as factory,
        harness.running("proxmox", tmp_path / "sim", task_seconds=0.05) as sim,
    ):
        cluster = proxmox_cluster(sim.url)
        cluster["image_factory"] = {"url": factory.url, "cache_dir": str(tmp_path / "images")}
        cluster["nodes"].append({"name": "w-1", "role": "worker", "address": "10.0.1.21"})
        options = [*proxmox_options(sim, tmp_path), "-e", f"talos_vault_password_file={password}"]
        done = site(tmp_path, cluster, *options, "--check", "--diff")
        pve_writes, factory_writes = writes(sim), writes(factory)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert pve_writes == [], pve_writes
    assert factory_writes == [], factory_writes
    # The steps whose inputs only a real run makes are reported as would-change, by name.
    assert "Would apply the machine configs" in done.stdout, done.stdout[-6000:]
    assert not (tmp_path / "cluster" / "secrets.yaml").exists()


HCLOUD_ENDPOINTS = {
    "alias-ip": {"vip": "10.0.1.100"},
    "load-balancer": {"load_balancer": {"type": "lb11", "location": "fsn1"}},
    "floating-ip": {"vip": "203.0.113.50"},
}


@pytest.mark.parametrize("kind", sorted(HCLOUD_ENDPOINTS))
def test_check_diff_on_a_new_hcloud_cluster_writes_nothing(tmp_path, kind):
    """`--check --diff` on an empty Hetzner project shows the whole plan, exits 0 and sends no write (issue 13)."""
    password = tmp_path / "vault-password"
    password.write_text("preflight-vault-password\n", encoding="utf-8")
    with (
        harness.running("image-factory", tmp_path / "factory", raw_image_size=1 << 20, asset_size=1 << 16) as factory,
        harness.running("hcloud", tmp_path / "sim", token=HCLOUD_TOKEN) as sim,
    ):
        endpoint = sim.url + "/v1"
        cluster = hcloud_cluster(endpoint)
        cluster["endpoint"] = HCLOUD_ENDPOINTS[kind]
        cluster["image_factory"] = {"url": factory.url, "cache_dir": str(tmp_path / "images")}
        cluster["nodes"].append({"name": "w-1", "role": "worker", "address": "10.0.1.21", "size": "cax11"})
        options = [*hcloud_options(endpoint, HCLOUD_TOKEN), "-e", f"talos_vault_password_file={password}"]
        done = site(tmp_path, cluster, *options, "--check", "--diff")
        hcloud_writes, factory_writes = writes(sim), writes(factory)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert hcloud_writes == [], hcloud_writes
    assert factory_writes == [], factory_writes
    assert "Would apply the machine configs" in done.stdout, done.stdout[-6000:]
