# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.vault_secret: a secret generated once, kept encrypted with ansible-vault (the codec
talos_secrets uses) in a 0600 file, read back unchanged on every later run; through the action plugin in a real
ansible-playbook, with the result censored in the output and the value in the registered variable."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_collections.talosforge.cluster.plugins.module_utils._vault import kinds
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.files import SecretsError, is_vault
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.secret import keep_secret
from ansible_collections.talosforge.cluster.plugins.modules import vault_secret as module
from ansible_collections.talosforge.cluster.plugins.plugin_utils._vault import VaultCodec
from module_harness import check_documentation, run_module

REPO = Path(__file__).resolve().parents[4]
PASSWORD = b"unit-test-vault-password"


def codec(password: bytes = PASSWORD) -> VaultCodec:
    secret = ("default", VaultSecret(password))
    return VaultCodec([secret], secret, None)


def decrypt(path: Path, password: bytes = PASSWORD) -> str:
    return VaultLib([("default", VaultSecret(password))]).decrypt(path.read_bytes()).decode()


def params(path: Path, **extra) -> dict:
    return {"path": str(path), "kind": "base64", "length": 32, **extra}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_argument_spec_matches_documentation():
    check_documentation(module)


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_generated_once_encrypted_0600_then_read_back(tmp_path, kind):
    path = tmp_path / "secrets" / f"{kind}.vault"
    planned = keep_secret(params(path, kind=kind), True, codec())
    assert planned["changed"] is True and planned["created"] is True and not path.exists()
    assert planned["value"] not in json.dumps(planned["diff"])

    first = keep_secret(params(path, kind=kind), False, codec())
    assert first["changed"] is True and first["created"] is True
    assert is_vault(path.read_bytes()) and mode(path) == 0o600 and mode(path.parent) == 0o700
    assert first["value"] not in path.read_text()
    assert first["value"] in decrypt(path)

    again = keep_secret(params(path, kind=kind), False, codec())
    assert again["changed"] is False and again["created"] is False
    assert (again["value"], again["public"]) == (first["value"], first["public"])
    assert keep_secret(params(path, kind=kind), True, codec())["changed"] is False


def test_random_kinds_have_their_length_and_differ(tmp_path):
    values = [keep_secret(params(tmp_path / f"b{i}", length=24), False, codec())["value"] for i in range(2)]
    assert values[0] != values[1] and len(base64.b64decode(values[0])) == 24
    assert len(bytes.fromhex(keep_secret(params(tmp_path / "h", kind="hex"), False, codec())["value"])) == 32
    password = keep_secret(params(tmp_path / "p", kind="password", length=40), False, codec())["value"]
    assert len(password) == 40 and password.isalnum()


def test_ssh_key_pair_is_a_real_openssh_ed25519_key(tmp_path):
    result = keep_secret(params(tmp_path / "deploy", kind="ssh_ed25519"), False, codec())
    assert result["value"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert result["public"].startswith("ssh-ed25519 AAAA")
    if shutil.which("ssh-keygen"):
        private = tmp_path / "id_ed25519"
        private.write_text(result["value"])
        private.chmod(0o600)
        derived = subprocess.run(["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, check=True)
        assert derived.stdout.split()[:2] == result["public"].split()[:2]


def test_age_identity_matches_age_keygen(tmp_path):
    result = keep_secret(params(tmp_path / "age", kind="age"), False, codec())
    assert result["value"].startswith("AGE-SECRET-KEY-1") and result["public"].startswith("age1")
    if not shutil.which("age-keygen"):
        pytest.skip("age-keygen is not installed (the bech32 form is checked above)")
    identity = tmp_path / "identity.txt"
    identity.write_text(decrypt(tmp_path / "age"))
    derived = subprocess.run(["age-keygen", "-y", str(identity)], capture_output=True, text=True, check=True)
    assert derived.stdout.strip() == result["public"]
    # and an identity made by age-keygen is read as one
    made = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout
    value, public = kinds.KINDS["age"][1](made, "made")
    assert value in made and f"# public key: {public}" in made


def test_an_existing_plain_secret_is_encrypted_and_kept(tmp_path):
    path = tmp_path / "plain"
    path.write_text("c2VjcmV0c2VjcmV0c2VjcmV0\n")
    path.chmod(0o644)
    result = keep_secret(params(path), False, codec())
    assert result["changed"] is True and result["value"] == "c2VjcmV0c2VjcmV0c2VjcmV0"
    assert is_vault(path.read_bytes()) and mode(path) == 0o600
    os.chmod(path, 0o640)
    assert keep_secret(params(path), True, codec())["changed"] is True and mode(path) == 0o640
    assert keep_secret(params(path), False, codec())["changed"] is True and mode(path) == 0o600


def test_refusals_name_the_file_and_change_nothing(tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_bytes(VaultLib().encrypt(b"not base64 !!\n", VaultSecret(PASSWORD)))
    before = wrong.read_bytes()
    with pytest.raises(SecretsError, match=f"{wrong} does not hold a base64 secret") as info:
        keep_secret(params(wrong), False, codec())
    assert "not base64 !!" not in str(info.value) and wrong.read_bytes() == before
    with pytest.raises(SecretsError, match="does not hold a ssh_ed25519 secret"):
        keep_secret(params(wrong, kind="ssh_ed25519"), False, codec())
    with pytest.raises(SecretsError, match="cannot decrypt"):
        keep_secret(params(wrong), False, codec(b"another password"))
    with pytest.raises(SecretsError, match="length: 4 must be from 16"):
        keep_secret(params(tmp_path / "short", length=4), False, codec())
    with pytest.raises(SecretsError, match="is a directory"):
        keep_secret(params(tmp_path), False, codec())
    with pytest.raises(SecretsError, match="needs a vault password"):
        keep_secret(params(tmp_path / "none"), False, VaultCodec([], None, None))
    assert not (tmp_path / "none").exists() and not (tmp_path / "short").exists()


def test_the_module_alone_cannot_use_the_vault(tmp_path, capsys):
    result = run_module(module, params(tmp_path / "raw"), capsys)
    assert result["failed"] is True and "action plugin" in result["msg"] and not (tmp_path / "raw").exists()


@pytest.mark.slow
def test_through_ansible_playbook_censored_output_and_registered_value(tmp_path):
    if not (REPO / ".build" / "collections" / "ansible_collections" / "talosforge" / "cluster").exists():
        pytest.skip("the collection link .build/collections is not set up")
    password_file = tmp_path / "vault-pass"
    password_file.write_bytes(PASSWORD + b"\n")
    play = tmp_path / "play.yml"
    play.write_text(
        f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - talosforge.cluster.vault_secret:
        path: {tmp_path}/kept/tsig.vault
        vault_password_file: {password_file}
      register: kept
    - ansible.builtin.copy:
        content: "{{{{ kept.value }}}}"
        dest: {tmp_path}/value.txt
        mode: "0600"
""",
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([str(REPO / ".build" / "collections"), *sys.path]),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
    )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-v"]
    runs = [
        subprocess.run([*command, str(play)], capture_output=True, text=True, env=env, timeout=120, check=False)
        for _run in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    value = (tmp_path / "value.txt").read_text()
    assert value and value in decrypt(tmp_path / "kept" / "tsig.vault")
    assert all(value not in run.stdout + run.stderr for run in runs)
    assert "censored" in runs[0].stdout
