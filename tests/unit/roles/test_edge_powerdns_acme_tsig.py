# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge_powerdns role's handling of cert-manager's TSIG key, for real: a real ansible-playbook runs the role's
tsig.yml, renders its pdns.conf template and runs its zones.yml against a real pdns_server on loopback. With the
platform's vault-kept key file and a cluster model whose cert-manager sends DNS-01 through PowerDNS, the challenge
zone _acme-challenge.<cluster zone> accepts an RFC 2136 update signed with that key and refuses an unsigned one, and
pdns.conf turns updates on with an empty global allow-dnsupdate-from; without the file, or with cert-manager not
using PowerDNS, or without a mesh, nothing changes (signed updates refused, no dnsupdate line)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from powerdns_testlib import API_KEY, PdnsServer, needs_pdns, running_pdns

pytestmark = [pytest.mark.slow, needs_pdns]

REPO = Path(__file__).resolve().parents[3]
PASSWORD = b"edge-powerdns-tsig-test"
# The play: the role's tsig.yml (its variables kept for the next steps), its pdns.conf template rendered to a file,
# its zones.yml against the loopback server.
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {name: talosforge.cluster.edge_powerdns, tasks_from: tsig.yml, public: true}
    - ansible.builtin.template:
        src: "{{ role_dir }}/templates/pdns.conf.j2"
        dest: "{{ out }}/pdns.conf"
        mode: "0600"
    - ansible.builtin.include_role: {name: talosforge.cluster.edge_powerdns, tasks_from: zones.yml}
"""


@pytest.fixture(scope="module")
def pdns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdnsServer]:
    # As the role's pdns.conf with a key: updates on, only zones whose metadata allows them take them.
    yield from running_pdns(tmp_path_factory, ("dnsupdate=yes", "allow-dnsupdate-from="))


def keep_key(folder: Path) -> str:
    """The key file as the platform role's vault_secret writes it: base64 of 32 random bytes, vault-encrypted."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    folder.mkdir(parents=True, exist_ok=True)
    vault = VaultLib([("default", VaultSecret(PASSWORD))])
    (folder / "tsig-cert-manager.vault").write_bytes(vault.encrypt(key + "\n"))
    return key


def variables(tmp_path: Path, pdns: PdnsServer, zone: str, dns01: str = "powerdns", mesh: str = "headscale") -> dict:
    return {
        "out": str(tmp_path),
        "role_dir": str(REPO / "roles" / "edge_powerdns"),
        "talosforge_edge": {"domain": zone, "public_address": "127.0.0.1", "mesh": {"type": mesh}},
        "talosforge_cluster": {
            "platform": {
                "cert_manager": {"enabled": True, "dns01": dns01, "email": "ops@example.test"},
                "dns": {"powerdns": {"enabled": True, "pool": "dns-pool", "zone": zone, "address": "10.0.3.3"}},
            },
            "talos_files": {"dir": str(tmp_path / "talos")},
        },
        "talosforge_edge_powerdns_api_key": API_KEY,
        "edge_powerdns_api_port": pdns.api_port,
        "talos_vault_password_file": str(tmp_path / "vault-pass"),
    }


def run(tmp_path: Path, values: dict[str, Any], *options: str) -> subprocess.CompletedProcess:
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    (tmp_path / "vault-pass").write_bytes(PASSWORD + b"\n")
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(values), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HCLOUD_", "ANSIBLE_"))}
    env.update(
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
    )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml")]
    return subprocess.run(
        [*command, "-e", f"@{tmp_path / 'vars.yml'}", *options],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def nsupdate(pdns: PdnsServer, zone: str, key: str | None) -> subprocess.CompletedProcess:
    name = f"_acme-challenge.{zone}"
    script = f'server 127.0.0.1 {pdns.dns_port}\nzone {name}\nupdate add {name} 60 TXT "token"\nsend\n'
    command = ["nsupdate", "-t", "5"] + (["-y", f"hmac-sha256:cert-manager:{key}"] if key else [])
    return subprocess.run(command, input=script, capture_output=True, text=True, timeout=20, check=False)


def metadata(pdns: PdnsServer, zone: str) -> dict[str, list[str]]:
    found = pdns.client().metadata(f"_acme-challenge.{zone}.") or {}
    return {kind: values for kind, values in found.items() if "DNSUPDATE" in kind}


@pytest.fixture(autouse=True)
def _tools() -> None:
    if not shutil.which("nsupdate"):
        pytest.skip("nsupdate (dnsutils) is not installed")


def test_challenge_zone_takes_updates_signed_with_the_platform_key(pdns: PdnsServer, tmp_path: Path) -> None:
    zone = "k8s.example.test"
    key = keep_key(tmp_path / "talos")
    first = run(tmp_path, variables(tmp_path, pdns, zone), "--diff")
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    assert key not in first.stdout + first.stderr
    conf = (tmp_path / "pdns.conf").read_text()
    assert "\ndnsupdate=yes\nallow-dnsupdate-from=\n" in conf

    assert metadata(pdns, zone) == {
        "TSIG-ALLOW-DNSUPDATE": ["cert-manager"],
        "ALLOW-DNSUPDATE-FROM": ["0.0.0.0/0", "::/0"],
    }
    signed = nsupdate(pdns, zone, key)
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert '"token"' in pdns.dig(f"_acme-challenge.{zone}", "TXT")
    unsigned = nsupdate(pdns, zone, None)
    assert unsigned.returncode != 0 and "REFUSED" in unsigned.stdout + unsigned.stderr
    wrong = nsupdate(pdns, zone, base64.b64encode(secrets.token_bytes(32)).decode())
    assert wrong.returncode != 0

    # The key file is only read: same content, no new file.
    again = run(tmp_path, variables(tmp_path, pdns, zone))
    assert again.returncode == 0, again.stdout[-6000:]
    assert "changed=0" in again.stdout
    assert sorted(p.name for p in (tmp_path / "talos").iterdir()) == ["tsig-cert-manager.vault"]


@pytest.mark.parametrize(
    ("case", "zone", "options"),
    [
        ("no key file", "nokey.example.test", {}),
        ("cert-manager without PowerDNS", "http.example.test", {"dns01": "none"}),
        ("no mesh", "nomesh.example.test", {"mesh": "none"}),
    ],
)
def test_otherwise_nothing_changes(pdns: PdnsServer, tmp_path: Path, case: str, zone: str, options: dict) -> None:
    key = keep_key(tmp_path / "elsewhere")  # a key, but not where the role looks (or not to be used)
    if case != "no key file":
        key = keep_key(tmp_path / "talos")
    done = run(tmp_path, variables(tmp_path, pdns, zone, **options))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "dnsupdate" not in (tmp_path / "pdns.conf").read_text()
    assert metadata(pdns, zone) == {}
    # The challenge zone exists, but takes no update, signed or not.
    assert "SOA" in pdns.dig(f"_acme-challenge.{zone}", "SOA")
    signed = nsupdate(pdns, zone, key)
    assert signed.returncode != 0 and "REFUSED" in signed.stdout + signed.stderr, json.dumps(signed.__dict__)[:2000]
