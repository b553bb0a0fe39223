# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sops_files' pure decisions: Secrets read as sops reads them, compared as data, shown without values."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._sops import secret_files as sf

RECIPIENT = "age1k5vqy0v3rx3v4dad20fx24fvc4jcq8ycwz7nlsq6y75fzumv7cwsg6dy3l"


def test_scalars_are_read_as_go_yaml_v3_reads_them() -> None:
    data = sf.load_one("a: yes\nb: on\nc: 010\nd: 0o17\ne: 0x1F\nf: 1_000\ng: 12:30\nh: True\ni: 1e3\nj: ~\n", "t")
    assert data == {"a": "yes", "b": "on", "c": 8, "d": 15, "e": 31, "f": 1000, "g": "12:30", "h": True,
                    "i": 1000.0, "j": None}  # fmt: skip


def test_same_tells_booleans_from_numbers_and_dates_equal_timestamps() -> None:
    assert (
        not sf.same(True, 1)
        and sf.same(1000, 1e3)
        and not sf.same("1", 1)
        and sf.same({"a": [1, "x"]}, {"a": [1, "x"]})
    )
    date = sf.normal(sf.load_one("d: 2024-01-01", "t"))
    stamp = sf.normal(sf.load_one("d: 2024-01-01T00:00:00Z", "t"))
    assert sf.same(date, stamp)


def test_a_yaml_error_names_the_line_not_the_text() -> None:
    with pytest.raises(sf.SopsInputError) as raised:
        sf.load_one("kind: Secret\nstringData:\n  password: hunter22-secret\n  x: [\n", "files[0] (a.yaml)")
    assert "line" in str(raised.value) and "hunter22" not in str(raised.value)


@pytest.mark.parametrize("path", ["", "/", "/abs.yaml", "../x", "a/../../x", "a/./b", "a\\b", "a\x00b",
                                  ".talosforge-scratch-1-x"])  # fmt: skip
def test_paths_that_could_leave_dest_are_refused(path: str) -> None:
    with pytest.raises(sf.SopsInputError):
        sf.clean_path(path, "files[0]")


def test_paths_are_normalised() -> None:
    assert sf.clean_path("a//b/c.yaml/", "files[0]") == "a/b/c.yaml"


def test_recipients_and_identity() -> None:
    assert sf.check_recipients([RECIPIENT, RECIPIENT]) == [RECIPIENT]
    for bad in ("age1" + "q" * 58, "ssh-ed25519 AAAA", RECIPIENT.upper()):
        with pytest.raises(sf.SopsInputError):
            sf.check_recipients([bad])
    with pytest.raises(sf.SopsInputError) as raised:
        sf.identity_of("AGE-SECRET-KEY-1QQQQ")
    assert "QQQQ" not in str(raised.value)


def test_the_regex_must_select_data_and_stringdata() -> None:
    assert sf.check_regex(sf.DEFAULT_REGEX) == sf.DEFAULT_REGEX
    with pytest.raises(sf.SopsInputError, match="stringData"):
        sf.check_regex("^data$")


def test_metadata_differs() -> None:
    meta = {"age": [{"recipient": RECIPIENT}], "encrypted_regex": sf.DEFAULT_REGEX}
    assert sf.metadata_differs(meta, [RECIPIENT], sf.DEFAULT_REGEX) is None
    assert sf.metadata_differs(meta, [RECIPIENT, "age1other"], sf.DEFAULT_REGEX) == "recipients"
    assert sf.metadata_differs({**meta, "pgp": [{"fp": "X"}]}, [RECIPIENT], sf.DEFAULT_REGEX) == "recipients"
    assert sf.metadata_differs(meta, [RECIPIENT], "^data$") == "encrypted_regex"


def test_all_encrypted_refuses_a_clear_value() -> None:
    good = "kind: Secret\nstringData: {a: 'ENC[AES256_GCM,data:x]', b: ''}\nsops: {age: []}\n"
    assert sf.all_encrypted(good)
    assert not sf.all_encrypted("kind: Secret\nstringData: {a: clear}\nsops: {age: []}\n")
    assert not sf.all_encrypted("kind: Secret\nstringData: {a: 'ENC[AES256_GCM,x]'}\n")


def test_shown_marks_keys_never_values() -> None:
    before = {"kind": "Secret", "stringData": {"a": "old-value", "b": "same-value"}}
    after = {"kind": "Secret", "stringData": {"a": "new-value", "b": "same-value", "c": "added-value"}}
    text = sf.shown(after, sf.DEFAULT_REGEX, before)
    assert text == ("kind: <value>\nstringData.a: <encrypted, changed>\nstringData.b: <encrypted>\n"
                    "stringData.c: <encrypted, added>\n")  # fmt: skip
    assert sf.changed_keys(before, after) == ["stringData.a", "stringData.c"]


def test_secret_values_and_scrub() -> None:
    document = {"kind": "Secret", "data": {"raw": "aHVudGVyMjI="}, "stringData": {"p": "hunter22", "n": "ab"}}
    values = sf.secret_values(document, sf.DEFAULT_REGEX)
    assert "hunter22" in values and "aHVudGVyMjI=" in values and "ab" not in values
    assert sf.scrub("x hunter22 y aHVudGVyMjI=", values) == "x ******** y ********"
