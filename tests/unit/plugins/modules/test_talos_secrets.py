# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""talosforge.cluster.talos_secrets: the bundle is created once, checked, kept 0600, encrypted with ansible-vault,
rotated only when asked; nothing secret is returned.

The pure part runs against a fake talosctl; the rest against the sandbox's talosctl stand-in (sandbox/bin/talosctl),
through the collection's runner, and every command line is checked against the v1.13.9 CLI reference.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_collections.talosforge.cluster.plugins.doc_fragments.talos import ModuleDocFragment
from ansible_collections.talosforge.cluster.plugins.module_utils._talos import secrets
from ansible_collections.talosforge.cluster.plugins.module_utils._talos.talosctl import Result, Talosctl
from ansible_collections.talosforge.cluster.plugins.modules import talos_secrets as module
from ansible_collections.talosforge.cluster.plugins.plugin_utils._process import run_process
from ansible_collections.talosforge.cluster.plugins.plugin_utils._vault import VaultCodec
from module_harness import check_documentation, run_module

REPO = Path(__file__).resolve().parents[4]
STANDIN = REPO / "sandbox" / "bin" / "talosctl"
CLI_MD = REPO / "tests" / "contracts" / "talos" / "v1.13.9" / "cli.md"

BUNDLE = {
    "cluster": {"id": "Y2x1c3Rlci1pZA==", "secret": "c2VjcmV0LXZhbHVl"},
    "secrets": {"bootstraptoken": "abcdef.0123456789abcdef", "secretboxencryptionsecret": "Ym94LXNlY3JldA=="},
    "trustdinfo": {"token": "ghijkl.0123456789abcdef"},
    "certs": {
        "etcd": {"crt": "ZXRjZC1jcnQ=", "key": "ZXRjZC1rZXk="},
        "k8s": {"crt": "azhzLWNydA==", "key": "azhzLWtleQ=="},
        "k8saggregator": {"crt": "YWdnLWNydA==", "key": "YWdnLWtleQ=="},
        "k8sserviceaccount": {"key": "c2Eta2V5"},
        "os": {"crt": "b3MtY3J0", "key": "b3Mta2V5"},
    },
}
SECRET_VALUES = ["c2VjcmV0LXZhbHVl", "abcdef.0123456789abcdef", "b3Mta2V5", "ZXRjZC1rZXk=", "Ym94LXNlY3JldA=="]


class FakeTalosctl(Talosctl):
    """Writes a bundle where ``gen secrets --output-file`` says; records the command line like the runner."""

    def __init__(self, bundle: dict | None = None):
        super().__init__(binary="talosctl")
        self.bundle = bundle or BUNDLE
        self.counter = 0

    def run(self, args, *rest, **kwargs):
        args = list(args)
        self.counter += 1
        bundle = json.loads(json.dumps(self.bundle))
        bundle["cluster"]["secret"] = f"{bundle['cluster']['secret']}-{self.counter}"
        Path(args[args.index("--output-file") + 1]).write_text(yaml.safe_dump(bundle), encoding="utf-8")
        result = Result(argv=["talosctl", *args], rc=0, stdout="", stderr="")
        self.history.append(result)
        return result


def params(path: Path, **extra) -> dict:
    base = {"path": str(path), "rotate": False, "talos_version": None, "encrypt": False, "timeout": 30.0}
    return {**base, **extra}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def vault_codec(password: str = "correct horse") -> VaultCodec:
    secret = VaultSecret(password.encode())
    return VaultCodec([("default", secret)], ("default", secret), None)


def assert_no_secret(result: dict) -> None:
    text = json.dumps(result)
    for value in SECRET_VALUES:
        assert value not in text


# --------------------------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------------------------


def test_a_complete_bundle_has_no_problems():
    assert secrets.bundle_problems(BUNDLE) == []


def test_bundle_problems_name_each_missing_field():
    broken = json.loads(json.dumps(BUNDLE))
    del broken["certs"]["os"]["key"]
    broken["secrets"]["aescbcencryptionsecret"] = "x"
    problems = secrets.bundle_problems(broken)
    assert "certs.os.key is missing or empty" in problems
    assert any("exactly one of secrets.secretboxencryptionsecret" in p for p in problems)
    assert secrets.bundle_problems(["not", "a", "mapping"]) == ["the file is not a YAML mapping"]


def test_check_bundle_says_what_is_wrong_without_content():
    with pytest.raises(secrets.SecretsError, match="trustdinfo.token is missing") as info:
        text = yaml.safe_dump({**BUNDLE, "trustdinfo": {}})
        secrets.check_bundle(text, "/x/secrets.yaml")
    assert "abcdef.0123456789abcdef" not in str(info.value)
    with pytest.raises(secrets.SecretsError, match="not valid YAML"):
        secrets.check_bundle("a: [", "/x/secrets.yaml")


def test_write_private_is_0600_and_atomic(tmp_path):
    target = tmp_path / "deep" / "secrets.yaml"
    secrets.write_private(str(target), b"one")
    secrets.write_private(str(target), b"two")
    assert target.read_bytes() == b"two" and mode(target) == 0o600
    assert mode(target.parent) == 0o700
    assert sorted(p.name for p in target.parent.iterdir()) == ["secrets.yaml"]


def test_backup_names_are_unique(tmp_path):
    target = tmp_path / "secrets.yaml"
    target.write_text("x")
    first = secrets.backup(str(target))
    second = secrets.backup(str(target))
    assert first != second and first.startswith(str(target) + ".") and first.endswith(".bak")
    assert mode(Path(first)) == 0o600


def test_is_vault():
    assert secrets.is_vault(b"$ANSIBLE_VAULT;1.1;AES256\n3031") and not secrets.is_vault(b"cluster: {}")


# --------------------------------------------------------------------------------------------------------------
# ensure_bundle: create once, check, encrypt, rotate
# --------------------------------------------------------------------------------------------------------------


def test_creates_once_then_reports_no_change(tmp_path):
    path = tmp_path / "talos" / "secrets.yaml"
    talosctl = FakeTalosctl()
    first = secrets.ensure_bundle(params(path), False, secrets.NoVault(), talosctl)
    assert first["changed"] and first["created"] and not first["rotated"] and first["encrypted"] is False
    assert mode(path) == 0o600 and secrets.bundle_problems(yaml.safe_load(path.read_text())) == []
    content = path.read_bytes()
    second = secrets.ensure_bundle(params(path), False, secrets.NoVault(), talosctl)
    assert second["changed"] is False and path.read_bytes() == content
    assert [r.argv[1:3] for r in talosctl.history] == [["gen", "secrets"]]
    assert_no_secret(first)
    assert_no_secret(second)


def test_the_diff_is_masked(tmp_path):
    result = secrets.ensure_bundle(params(tmp_path / "s.yaml"), False, secrets.NoVault(), FakeTalosctl())
    assert result["diff"]["before"] == "" and "<secret:sha256:" in result["diff"]["after"]
    assert_no_secret(result)


def test_check_mode_creates_nothing(tmp_path):
    path = tmp_path / "talos" / "secrets.yaml"
    talosctl = FakeTalosctl()
    result = secrets.ensure_bundle(params(path), True, secrets.NoVault(), talosctl)
    assert result["changed"] and result["created"] and "would create" in result["msg"]
    assert not path.parent.exists() and talosctl.history == []


def test_an_existing_file_that_is_not_a_bundle_fails(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text("cluster:\n  id: x\n")
    with pytest.raises(secrets.SecretsError, match="is not a Talos secrets bundle: cluster.secret is missing"):
        secrets.ensure_bundle(params(path), False, secrets.NoVault(), FakeTalosctl())
    assert path.read_text() == "cluster:\n  id: x\n"


def test_an_existing_bundle_gets_mode_0600(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump(BUNDLE))
    path.chmod(0o644)
    assert secrets.ensure_bundle(params(path), True, secrets.NoVault(), FakeTalosctl())["changed"] is True
    assert mode(path) == 0o644
    assert secrets.ensure_bundle(params(path), False, secrets.NoVault(), FakeTalosctl())["changed"] is True
    assert mode(path) == 0o600


def test_rotation_keeps_a_backup(tmp_path):
    path = tmp_path / "secrets.yaml"
    talosctl = FakeTalosctl()
    secrets.ensure_bundle(params(path), False, secrets.NoVault(), talosctl)
    old = path.read_bytes()
    planned = secrets.ensure_bundle(params(path, rotate=True), True, secrets.NoVault(), talosctl)
    assert planned["changed"] and planned["rotated"] and path.read_bytes() == old
    result = secrets.ensure_bundle(params(path, rotate=True), False, secrets.NoVault(), talosctl)
    assert result["rotated"] and not result["created"]
    assert Path(result["backup"]).read_bytes() == old and mode(Path(result["backup"])) == 0o600
    assert path.read_bytes() != old
    assert "<secret:sha256:" in result["diff"]["before"] and result["diff"]["before"] != result["diff"]["after"]


def test_encrypts_with_vault_and_reads_it_back(tmp_path):
    path = tmp_path / "secrets.yaml"
    codec = vault_codec()
    result = secrets.ensure_bundle(params(path, encrypt=True), False, codec, FakeTalosctl())
    assert result["encrypted"] is True and secrets.is_vault(path.read_bytes()) and mode(path) == 0o600
    plain = VaultLib(codec.secrets).decrypt(path.read_bytes())
    assert secrets.bundle_problems(yaml.safe_load(plain)) == []
    again = secrets.ensure_bundle(params(path, encrypt=True), False, codec, FakeTalosctl())
    assert again["changed"] is False and again["encrypted"] is True


def test_a_plain_bundle_is_encrypted_in_place(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump(BUNDLE))
    codec = vault_codec()
    result = secrets.ensure_bundle(params(path, encrypt=True), False, codec, FakeTalosctl())
    assert result["changed"] and result["encrypted"] and not result["created"]
    assert yaml.safe_load(VaultLib(codec.secrets).decrypt(path.read_bytes())) == BUNDLE


def test_a_wrong_vault_password_fails_clearly(tmp_path):
    path = tmp_path / "secrets.yaml"
    secrets.ensure_bundle(params(path, encrypt=True), False, vault_codec("one"), FakeTalosctl())
    with pytest.raises(secrets.SecretsError, match="cannot decrypt .* with the vault passwords given"):
        secrets.ensure_bundle(params(path, encrypt=True), False, vault_codec("two"), FakeTalosctl())
    with pytest.raises(secrets.SecretsError, match="no vault password is known"):
        secrets.ensure_bundle(params(path), False, VaultCodec([], None, None), FakeTalosctl())


def test_encrypt_without_a_password_fails_before_generating(tmp_path):
    talosctl = FakeTalosctl()
    with pytest.raises(secrets.SecretsError, match="needs a vault password"):
        secrets.ensure_bundle(params(tmp_path / "s.yaml", encrypt=True), False, VaultCodec([], None, None), talosctl)
    assert talosctl.history == [] and not (tmp_path / "s.yaml").exists()


def test_without_the_action_plugin_an_encrypted_bundle_cannot_be_read(tmp_path):
    path = tmp_path / "secrets.yaml"
    secrets.ensure_bundle(params(path, encrypt=True), False, vault_codec(), FakeTalosctl())
    with pytest.raises(secrets.SecretsError, match="only the talos_secrets action plugin can read"):
        secrets.ensure_bundle(params(path), False, secrets.NoVault(), FakeTalosctl())


def test_vault_id_label_is_written():
    secret = VaultSecret(b"pw")
    codec = VaultCodec([("prod", secret)], ("prod", secret), None)
    assert codec.encrypt(b"x").startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod")


# --------------------------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------------------------


def test_argument_spec_matches_documentation():
    check_documentation(module, ModuleDocFragment)


def test_module_without_vault_refuses_to_encrypt(tmp_path, capsys):
    result = run_module(module, {"path": str(tmp_path / "s.yaml"), "talosctl": "/bin/true"}, capsys)
    assert result["failed"] and "action plugin" in result["msg"]


# --------------------------------------------------------------------------------------------------------------
# Against the talosctl stand-in
# --------------------------------------------------------------------------------------------------------------

standin = pytest.mark.skipif(not STANDIN.exists(), reason="the sandbox talosctl stand-in is not available")


def contract_check(talosctl: Talosctl) -> None:
    contract = pytest.importorskip("sandbox.talosctl.contract")
    checker = contract.load(CLI_MD)
    for argv in talosctl.commands():
        assert checker.check(["talosctl", *argv]) == [], argv


@standin
def test_module_against_the_standin(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TALOSFORGE_SANDBOX_DIR", str(tmp_path / "sandbox"))
    path = tmp_path / "talos" / "secrets.yaml"
    args = {"path": str(path), "encrypt": False, "talosctl": str(STANDIN), "talos_version": "v1.13.9"}
    first = run_module(module, args, capsys)
    assert first["changed"] and first["created"] and mode(path) == 0o600
    assert first["commands"][0][:2] == ["gen", "secrets"]
    assert secrets.bundle_problems(yaml.safe_load(path.read_text())) == []
    assert "diff" not in first
    bundle = yaml.safe_load(path.read_text())
    assert bundle["cluster"]["secret"] not in json.dumps(first)
    second = run_module(module, args, capsys)
    assert second["changed"] is False and second["commands"] == []


@standin
def test_runner_commands_pass_the_cli_contract(tmp_path):
    talosctl = Talosctl(
        binary=str(STANDIN), env={"TALOSFORGE_SANDBOX_DIR": str(tmp_path / "sandbox")}, runner=run_process
    )
    secrets.ensure_bundle(params(tmp_path / "s.yaml", talos_version="v1.13.9"), False, secrets.NoVault(), talosctl)
    secrets.ensure_bundle(params(tmp_path / "s.yaml", rotate=True), False, secrets.NoVault(), talosctl)
    assert len(talosctl.commands()) == 2
    contract_check(talosctl)
    assert os.path.exists(str(tmp_path / "s.yaml"))
