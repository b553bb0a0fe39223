# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_objects reads a kubeconfig: context choice, credentials, refused kinds of users, the key's scratch file."""

from __future__ import annotations

import base64
import os
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.kubeconfig import (
    KubeconfigError,
    connection,
    parse,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def pem_pair() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def config(user: dict[str, Any], server: str = "https://127.0.0.1:6443", **cluster: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "admin@live",
        "clusters": [{"name": "live", "cluster": {"server": server, **cluster}}],
        "users": [{"name": "admin@live", "user": user}],
        "contexts": [
            {"name": "admin@live", "context": {"cluster": "live", "user": "admin@live"}},
            {"name": "apps", "context": {"cluster": "live", "user": "admin@live", "namespace": "apps"}},
        ],
    }


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_the_current_context_or_the_chosen_one() -> None:
    text = yaml.safe_dump(config({"token": "t"}))
    assert parse(text, "k")["namespace"] == "default"
    chosen = parse(text, "k", "apps")
    assert (chosen["namespace"], chosen["cluster"]["server"], chosen["user"]) == (
        "apps",
        "https://127.0.0.1:6443",
        {"token": "t"},
    )
    with pytest.raises(KubeconfigError, match="no context named 'other' \\(it has admin@live, apps\\)"):
        parse(text, "k", "other")


@pytest.mark.parametrize(
    ("user", "words"),
    [
        ({"exec": {"command": "aws"}}, "authenticates with exec, which kube_objects does not support yet"),
        ({"auth-provider": {"name": "gcp"}}, "authenticates with auth-provider, which kube_objects does not support"),
    ],
)
def test_exec_and_auth_provider_users_are_refused_clearly(user: dict[str, Any], words: str) -> None:
    with pytest.raises(KubeconfigError, match=words):
        parse(yaml.safe_dump(config(user)), "k")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: [", "is not valid YAML"),
        ("- a list", "is not a kubeconfig"),
        (yaml.safe_dump({**config({}), "clusters": [{"name": "live", "cluster": {}}]}), "has no server"),
    ],
)
def test_unusable_kubeconfigs(text: str, words: str) -> None:
    with pytest.raises(KubeconfigError, match=words):
        parse(text, "k")


def test_client_certificate_data_is_loaded_and_its_scratch_file_removed(tmp_path: Path) -> None:
    cert, key = pem_pair()
    user = {"client-certificate-data": b64(cert), "client-key-data": b64(key)}
    path = write(tmp_path, config(user, **{"certificate-authority-data": b64(cert)}))
    found = connection(path)
    assert (found.scheme, found.host, found.port, found.base_path, found.token) == (
        "https",
        "127.0.0.1",
        6443,
        "",
        None,
    )
    assert isinstance(found.context, ssl.SSLContext) and found.context.verify_mode == ssl.CERT_REQUIRED
    assert found.context.get_ca_certs()[0]["serialNumber"] == "07"
    assert sorted(os.listdir(tmp_path)) == ["kubeconfig"]  # the key's scratch file is gone


def test_files_relative_to_the_kubeconfig_and_a_token_file(tmp_path: Path) -> None:
    cert, key = pem_pair()
    (tmp_path / "ca.pem").write_bytes(cert)
    (tmp_path / "token").write_text("secret-token\n")
    path = write(
        tmp_path,
        config({"tokenFile": "token"}, "https://api.example.org/prefix/", **{"certificate-authority": "ca.pem"}),
    )
    found = connection(path)
    assert (found.host, found.port, found.base_path, found.token) == ("api.example.org", 443, "/prefix", "secret-token")


def test_insecure_and_tls_server_name(tmp_path: Path) -> None:
    data = config({"token": "t"}, **{"insecure-skip-tls-verify": True, "tls-server-name": "kubernetes"})
    found = connection(write(tmp_path, data), None)
    assert found.context is not None and found.context.verify_mode == ssl.CERT_NONE
    assert found.server_hostname == "kubernetes"


@pytest.mark.parametrize(
    ("user", "cluster", "words"),
    [
        ({"client-certificate-data": "Y2VydA=="}, {}, "needs its key"),
        ({"client-key-data": "not base64!"}, {}, "client-key-data is not valid base64"),
        ({"token": "t"}, {"certificate-authority-data": b64(b"junk")}, "certificate-authority is not a PEM"),
        ({"token": "t"}, {"certificate-authority": "missing.pem"}, "cannot read certificate-authority"),
        ({"username": "u", "password": "p"}, {}, "basic authentication"),
    ],
)
def test_bad_credentials_are_named(tmp_path: Path, user: dict, cluster: dict, words: str) -> None:
    with pytest.raises(KubeconfigError, match=words):
        connection(write(tmp_path, config(user, **cluster)))


def test_a_missing_file_and_a_non_http_server(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="cannot read the kubeconfig"):
        connection(str(tmp_path / "absent"))
    with pytest.raises(KubeconfigError, match="is not an http\\(s\\) URL"):
        connection(write(tmp_path, config({"token": "t"}, "unix:///run/k8s.sock")))
