"""The Image Factory simulator's talosctl downloads: the real routes, serving a launcher of the stand-in."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest

from sandbox.harness import running


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_lists_and_serves_talosctl_with_a_checksum_file(tmp_path):
    with running("image-factory", tmp_path) as factory:
        status, body = fetch(f"{factory.url}/talosctl/v1.13.9")
        assert status == 200
        urls = json.loads(body)
        assert f"{factory.url}/talosctl/v1.13.9/talosctl-linux-amd64" in urls
        status, binary = fetch(f"{factory.url}/talosctl/v1.13.9/talosctl-linux-amd64")
        assert status == 200
        assert binary.startswith(b"#!/bin/sh\n") and b"sandbox/bin/talosctl" in binary
        sums = (tmp_path / "image-factory" / "talosctl" / "sha256sum.txt").read_text(encoding="utf-8")
        assert f"{hashlib.sha256(binary).hexdigest()}  talosctl-linux-amd64\n" in sums


@pytest.mark.parametrize(
    "path, status",
    [("/talosctl/v1.10.4", 404), ("/talosctl/v1.13.99", 404), ("/talosctl/v1.13.9/talosctl-plan9-amd64", 404)],
)
def test_refuses_what_the_factory_does_not_serve(tmp_path, path, status):
    with running("image-factory", tmp_path) as factory:
        assert fetch(factory.url + path)[0] == status
