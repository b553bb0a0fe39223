# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sops_files through main() (AnsibleModule.run_command runs sops) with the real sops and age-keygen of the third
gotools tier: encrypted once, kept byte for byte while nothing changes, never a value in what the task returns."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.vault import VaultSecret
from ansible_collections.talosforge.cluster.plugins.module_utils._vault.secret import keep_secret
from ansible_collections.talosforge.cluster.plugins.modules import sops_files
from ansible_collections.talosforge.cluster.plugins.plugin_utils._vault import VaultCodec
from module_harness import check_documentation, run_module

from sandbox.gotools import binary
from sandbox.gotools.programs import MissingProgram

PASSWORDS = {"db": "correct-horse-battery", "api": "s3cr3t-api-token-42"}
DATA_PLAIN = "raw-bytes-in-data"  # "cmF3LWJ5dGVzLWluLWRhdGE=" in data
MISSING_SECRET = "kept-out-of-every-message"


def programs() -> tuple[Path, Path]:
    try:
        return binary("sops"), binary("age-keygen")
    except MissingProgram:
        pytest.skip("sops and age-keygen are not built (the third gotools tier: TALOSFORGE_GOTOOLS_TIER=3 "
                    "scripts/test units, or python -m sandbox.gotools build --tier 3)")  # fmt: skip


def new_key() -> tuple[str, str]:
    """(identity text as age-keygen writes it, recipient)."""
    _sops, keygen = programs()
    text = subprocess.run([str(keygen)], check=True, capture_output=True, text=True).stdout
    public = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("# public key: "))
    return text, public


def secret(name: str, password: str, extra: str = "") -> str:
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: apps\ntype: Opaque\n"
            f"stringData:\n  password: {password}\n  enabled: yes\n  port: 5432\n{extra}"
            "data:\n  raw: cmF3LWJ5dGVzLWluLWRhdGE=\n")  # fmt: skip


def wanted_files(**passwords: str) -> list[dict[str, str]]:
    chosen = {**PASSWORDS, **passwords}
    return [{"path": f"secrets/{name}.yaml", "content": secret(name, value)} for name, value in sorted(chosen.items())]


def args(tmp_path: Path, key: str, recipients: list[str], **extra: Any) -> dict[str, Any]:
    sops, _keygen = programs()
    return {"sops_binary": str(sops), "dest": str(tmp_path / "dest"), "age_recipients": recipients, "age_key": key,
            "files": wanted_files(), **extra}  # fmt: skip


def decrypt(path: Path, key: str) -> Any:
    sops, _keygen = programs()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.devnull, "SOPS_AGE_KEY": key}
    argv = [str(sops), "--config", os.devnull, "--decrypt", "--input-type", "yaml", "--output-type", "yaml", str(path)]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    return yaml.safe_load(out)


def assert_no_values(result: dict[str, Any], key: str, *values: str) -> None:
    shown = json.dumps(result)
    for value in (*PASSWORDS.values(), DATA_PLAIN, *values):
        assert value not in shown
    assert key.strip().splitlines()[-1] not in shown


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR for the test's processes and Python's tempfile: it must stay empty."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_documentation_matches_the_spec() -> None:
    spec = check_documentation(sops_files)
    assert spec["age_key"]["no_log"] is True and spec["files"]["options"]["content"]["no_log"] is True


def test_encrypt_keep_then_reencrypt_only_what_changed(
    tmp_path: Path, private_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, public = new_key()
    first = run_module(sops_files, args(tmp_path, key, [public]), capsys)
    dest = tmp_path / "dest"
    assert first["changed"] and first["changed_paths"] == ["secrets/api.yaml", "secrets/db.yaml"]
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    for name, password in PASSWORDS.items():
        path = dest / "secrets" / f"{name}.yaml"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text()
        assert first["files"][f"secrets/{name}.yaml"] == text
        on_disk = yaml.safe_load(text)
        assert [entry["recipient"] for entry in on_disk["sops"]["age"]] == [public]
        assert on_disk["sops"]["encrypted_regex"] == "^(data|stringData)$"
        values = [*on_disk["stringData"].values(), *on_disk["data"].values()]
        assert all(str(value).startswith("ENC[AES256_GCM,") for value in values)
        assert on_disk["metadata"]["name"] == name and password not in text and DATA_PLAIN not in text
        assert decrypt(path, key) == yaml.safe_load(secret(name, password)) | {"stringData": {
            "password": password, "enabled": "yes", "port": 5432}}  # fmt: skip
    assert_no_values(first, key)
    before = snapshot(dest)

    again = run_module(sops_files, args(tmp_path, key, [public]), capsys)
    assert not again["changed"] and again["changed_paths"] == [] and snapshot(dest) == before
    assert again["files"] == first["files"]

    flow = (
        "# the same Secret, written differently\n{kind: Secret, apiVersion: v1, type: Opaque, metadata: {namespace: "
        f"apps, name: db}}, data: {{raw: cmF3LWJ5dGVzLWluLWRhdGE=}}, stringData: {{port: 5432, enabled: 'yes', "
        f"password: '{PASSWORDS['db']}'}}}}\n"
    )
    reformatted = [{"path": "secrets/db.yaml", "content": flow}, wanted_files()[0]]
    same = run_module(sops_files, args(tmp_path, key, [public], files=reformatted), capsys)
    assert not same["changed"] and snapshot(dest) == before

    new_password = "a-brand-new-password"
    changed = run_module(sops_files, {**args(tmp_path, key, [public], files=wanted_files(db=new_password)),
                                      "_ansible_diff": True}, capsys)  # fmt: skip
    assert changed["changed"] and changed["changed_paths"] == ["secrets/db.yaml"]
    after = snapshot(dest)
    assert (
        after["secrets/api.yaml"] == before["secrets/api.yaml"]
        and after["secrets/db.yaml"] != before["secrets/db.yaml"]
    )
    assert decrypt(dest / "secrets" / "db.yaml", key)["stringData"]["password"] == new_password
    [entry] = changed["diff"]
    assert entry["before_header"] == "secrets/db.yaml" and "1 keys changed" in entry["after_header"]
    assert "stringData.password: <encrypted, changed>" in entry["after"]
    assert "stringData.port: <encrypted>" in entry["after"]
    assert_no_values(changed, key, new_password)
    assert os.listdir(private_tmp) == []


def test_a_new_recipient_reencrypts_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, public = new_key()
    other_key, other = new_key()
    run_module(sops_files, args(tmp_path, key, [public]), capsys)
    before = snapshot(tmp_path / "dest")
    both = run_module(sops_files, {**args(tmp_path, key, [public, other]), "_ansible_diff": True}, capsys)
    assert both["changed"] and both["changed_paths"] == ["secrets/api.yaml", "secrets/db.yaml"]
    assert all("rekeyed, 0 keys changed" in entry["after_header"] for entry in both["diff"])
    path = tmp_path / "dest" / "secrets" / "db.yaml"
    assert path.read_bytes() != before["secrets/db.yaml"]
    assert sorted(entry["recipient"] for entry in yaml.safe_load(path.read_text())["sops"]["age"]) == sorted(
        [public, other]
    )
    assert decrypt(path, other_key)["stringData"]["password"] == PASSWORDS["db"]
    kept = run_module(sops_files, args(tmp_path, other_key, [other, public]), capsys)
    assert not kept["changed"]
    assert_no_values(both, key)


def test_check_mode_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, public = new_key()
    planned = run_module(sops_files, {**args(tmp_path, key, [public]), "_ansible_check_mode": True,
                                      "_ansible_diff": True}, capsys)  # fmt: skip
    assert planned["changed"] and planned["changed_paths"] == ["secrets/api.yaml", "secrets/db.yaml"]
    assert not (tmp_path / "dest").exists()
    assert all(text.count("ENC[AES256_GCM,") >= 4 for text in planned["files"].values())
    assert [entry["before"] for entry in planned["diff"]] == ["", ""]
    assert_no_values(planned, key)
    run_module(sops_files, args(tmp_path, key, [public]), capsys)
    before = snapshot(tmp_path / "dest")
    (tmp_path / "dest" / "stale.yaml").write_text("kind: Secret\n")
    checked = run_module(sops_files, {**args(tmp_path, key, [public], files=wanted_files(api="changed-api-token"),
                                             prune=True), "_ansible_check_mode": True}, capsys)  # fmt: skip
    assert checked["changed_paths"] == ["secrets/api.yaml", "stale.yaml"]
    assert snapshot(tmp_path / "dest") == {**before, "stale.yaml": b"kind: Secret\n"}
    assert_no_values(checked, key, "changed-api-token")


def test_prune_removes_unlisted_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, public = new_key()
    run_module(sops_files, args(tmp_path, key, [public]), capsys)
    one = [wanted_files()[1]]
    kept = run_module(sops_files, args(tmp_path, key, [public], files=one), capsys)
    assert not kept["changed"] and (tmp_path / "dest" / "secrets" / "api.yaml").exists()
    (tmp_path / "dest" / "old" / "deep").mkdir(parents=True)
    (tmp_path / "dest" / "old" / "deep" / "gone.yaml").write_text("x: 1\n")
    pruned = run_module(sops_files, args(tmp_path, key, [public], files=one, prune=True), capsys)
    assert pruned["changed"] and pruned["changed_paths"] == ["old/deep/gone.yaml", "secrets/api.yaml"]
    assert sorted(snapshot(tmp_path / "dest")) == ["secrets/db.yaml"] and not (tmp_path / "dest" / "old").exists()
    assert list(pruned["files"]) == ["secrets/db.yaml"]


def test_a_file_for_another_key_is_reencrypted_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, public = new_key()
    stranger_key, stranger = new_key()
    run_module(sops_files, args(tmp_path, stranger_key, [stranger]), capsys)
    (tmp_path / "dest" / "secrets" / "db.yaml").chmod(0o644)
    (tmp_path / "dest" / "plain.yaml").write_text(secret("plain", MISSING_SECRET))
    files = [*wanted_files(), {"path": "plain.yaml", "content": secret("plain", MISSING_SECRET)}]
    taken = run_module(sops_files, args(tmp_path, key, [public], files=files), capsys)
    assert taken["changed"] and taken["changed_paths"] == ["plain.yaml", "secrets/api.yaml", "secrets/db.yaml"]
    warnings = taken["warnings"]
    assert len(warnings) == 3
    assert any(
        "secrets/db.yaml" in w and "could not be decrypted with age_key" in w and stranger in w for w in warnings
    )
    assert any("plain.yaml" in w and "not a SOPS-encrypted file" in w for w in warnings)
    assert_no_values(taken, key, MISSING_SECRET)
    path = tmp_path / "dest" / "secrets" / "db.yaml"
    assert (
        stat.S_IMODE(path.stat().st_mode) == 0o600 and decrypt(path, key)["stringData"]["password"] == PASSWORDS["db"]
    )
    assert not run_module(sops_files, args(tmp_path, key, [public], files=files), capsys)["changed"]


def test_mode_is_set_back_to_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, public = new_key()
    run_module(sops_files, args(tmp_path, key, [public]), capsys)
    path = tmp_path / "dest" / "secrets" / "api.yaml"
    before = path.read_bytes()
    path.chmod(0o644)
    fixed = run_module(sops_files, args(tmp_path, key, [public]), capsys)
    assert fixed["changed_paths"] == ["secrets/api.yaml"] and path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


BAD_CONTENT = f"kind: Secret\nstringData:\n  password: {MISSING_SECRET}\n  bad: [unclosed\n"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"files": [{"path": "../escape.yaml", "content": secret("x", MISSING_SECRET)}]}, "escapes dest"),
        ({"files": [{"path": "a/../../b.yaml", "content": secret("x", MISSING_SECRET)}]}, "escapes dest"),
        ({"files": [{"path": "/etc/x.yaml", "content": secret("x", MISSING_SECRET)}]}, "relative to dest"),
        ({"files": [{"path": "x.yaml", "content": BAD_CONTENT}]}, "not valid YAML at line"),
        (
            {"files": [{"path": "x.yaml", "content": f"kind: ConfigMap\ndata: {{k: {MISSING_SECRET}}}\n"}]},
            "kind: Secret",
        ),
        ({"files": [{"path": "x.yaml", "content": secret("x", MISSING_SECRET) + "---\nkind: Secret\n"}]}, "holds 2"),
        ({"files": [{"path": "x.yaml", "content": f"- {MISSING_SECRET}\n"}]}, "a YAML mapping"),
        ({"files": [{"path": "x.yaml", "content": "kind: Secret\n"}] * 2}, "listed twice"),
        ({"age_recipients": ["age1notakey"]}, "not an age recipient"),
        ({"age_recipients": []}, "age_recipients is empty"),
        ({"age_key": "AGE-SECRET-KEY-1NOTAKEY"}, "age_key is not one age identity"),
        ({"encrypted_regex": "^stringData$"}, "does not select data"),
        ({"sops_binary": "/nonexistent/sops"}, "no such program"),
        ({"parallel": 0}, "parallel must be 1 or more"),
    ],
)
def test_bad_input_is_refused_before_any_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], words: str
) -> None:
    key, public = new_key()
    failed = run_module(sops_files, {**args(tmp_path, key, [public]), **change}, capsys)
    assert failed["failed"] and words in failed["msg"], failed["msg"]
    assert not (tmp_path / "dest").exists()
    assert_no_values(failed, key, MISSING_SECRET)


def test_a_key_outside_the_recipients_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, _public = new_key()
    _other_key, other = new_key()
    failed = run_module(sops_files, args(tmp_path, key, [other]), capsys)
    assert failed["failed"] and "not among age_recipients" in failed["msg"] and not (tmp_path / "dest").exists()


def test_a_link_out_of_dest_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, public = new_key()
    (tmp_path / "dest").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "dest" / "secrets").symlink_to(tmp_path / "outside")
    failed = run_module(sops_files, args(tmp_path, key, [public]), capsys)
    assert failed["failed"] and "leads outside dest" in failed["msg"] and os.listdir(tmp_path / "outside") == []


def test_a_failing_sops_writes_nothing_and_shows_no_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sops that echoes its input on error (as a YAML parser might quote a line): the message is scrubbed."""
    key, public = new_key()
    run_module(sops_files, args(tmp_path, key, [public]), capsys)
    before = snapshot(tmp_path / "dest")
    real, _keygen = programs()
    fake = tmp_path / "sops"
    fake.write_text(f'#!/bin/sh\ncase "$*" in *--encrypt*) grep password >&2; exit 3;; esac\nexec {real} "$@"\n')
    fake.chmod(0o755)
    failed = run_module(sops_files, args(tmp_path, key, [public], sops_binary=str(fake),
                                         files=wanted_files(db="the-new-db-password")), capsys)  # fmt: skip
    assert failed["failed"] and failed["failure"]["code"] == "sops" and "secrets/db.yaml" in failed["msg"]
    assert "exit 3" in failed["msg"] and "********" in failed["msg"]
    assert snapshot(tmp_path / "dest") == before
    assert_no_values(failed, key, "the-new-db-password")


def test_vault_secret_age_key_works_with_sops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """vault_secret kind=age gives the identity (value) and the recipient (public) sops_files takes."""
    vault = ("default", VaultSecret(b"unit-test-vault-password"))
    params = {"path": str(tmp_path / "age.vault"), "kind": "age", "length": 32}
    generated = keep_secret(params, False, VaultCodec([vault], vault, None))
    key, public = generated["value"], generated["public"]
    assert key.startswith("AGE-SECRET-KEY-1") and public.startswith("age1")
    first = run_module(sops_files, args(tmp_path, key, [public]), capsys)
    assert first["changed"]
    assert decrypt(tmp_path / "dest" / "secrets" / "db.yaml", key)["stringData"]["password"] == PASSWORDS["db"]
    assert not run_module(sops_files, args(tmp_path, key, [public]), capsys)["changed"]


QUIRKS = """apiVersion: v1
kind: Secret
metadata: {name: quirks, namespace: apps, labels: {tier: "on"}}
stringData:
  yes_word: yes
  on_word: on
  octal: 010
  hex: 0x1F
  underscored: 1_000
  quoted_true: "true"
  real_true: true
  clock: 12:30
  date: 2024-01-01
  exponent: 1e3
  float: 1.5
  nothing: ~
  empty: ""
  block: |
    line one
    line two
"""


def test_scalars_sops_rewrites_still_compare_equal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """sops (go-yaml v3) writes some scalars back differently (010 as 8, a date as a timestamp, yes quoted): the
    Secret still compares equal, so the file is kept."""
    key, public = new_key()
    files = [{"path": "quirks.yaml", "content": QUIRKS}]
    assert run_module(sops_files, args(tmp_path, key, [public], files=files), capsys)["changed"]
    before = snapshot(tmp_path / "dest")
    again = run_module(sops_files, args(tmp_path, key, [public], files=files), capsys)
    assert not again["changed"] and snapshot(tmp_path / "dest") == before
