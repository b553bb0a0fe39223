# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The small HTTP client (plugins/module_utils/_http.py), against a scripted server on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import shutil
import socket
import ssl
import subprocess
import time
from collections import defaultdict

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._http import (
    USER_AGENT,
    HttpClient,
    HttpError,
    client_from_params,
    retry_after_seconds,
)
from loopback_testlib import LoopbackServer, QuietHandler


class ScriptedServer(LoopbackServer):
    """Answers each path from a list of scripted answers (the last one repeats); records every request.

    An answer is ``(status, headers, body)``, or ``"drop"`` to close the connection without answering, or
    ``("short", total, body)`` to promise ``total`` bytes and close after ``body``.
    """

    def __init__(self, tls_context: ssl.SSLContext | None = None):
        self.script: dict[str, list] = defaultdict(list)
        self.requests: list[dict] = []
        server = self

        class Handler(QuietHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                answers = server.script.get(self.path) or [(404, {}, b"not found\n")]
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if answer == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if answer[0] == "short":
                    total, data = answer[1], answer[2]
                    self.send_response(200)
                    self.send_header("Content-Length", str(total))
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers, data = answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _answer

        super().__init__(Handler, tls_context)


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def client(url, **kwargs):
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("timeout", 5)
    return HttpClient(url, **kwargs)


def test_get_json_sends_user_agent(server):
    server.script["/versions"] = [(200, {"Content-Type": "application/json"}, b'["v1.13.9"]')]
    http = client(server.url)
    assert http.get_json("/versions") == ["v1.13.9"]
    assert server.requests[0]["headers"]["User-Agent"] == USER_AGENT == "talosforge.cluster"
    assert http.attempts == 1


def test_base_url_with_path_and_absolute_urls():
    http = client("https://factory.example.org/prefix/")
    assert http.url_for("/versions") == "https://factory.example.org/prefix/versions"
    assert http.url_for("https://cdn.example.org/x") == "https://cdn.example.org/x"


@pytest.mark.parametrize("url", ["", "factory.talos.dev", "ftp://x", "https://"])
def test_bad_base_url(url):
    with pytest.raises(ValueError, match="not an http"):
        HttpClient(url)


def test_retries_5xx_with_exponential_backoff(server):
    server.script["/x"] = [(503, {}, b"busy"), (502, {}, b""), (500, {}, b""), (200, {}, b"ok")]
    sleeps = Sleeps()
    http = client(server.url, sleep=sleeps, backoff=0.5)
    assert http.get_text("/x") == "ok"
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(server.requests) == 4


def test_backoff_is_capped(server):
    server.script["/x"] = [(500, {}, b"")] * 4 + [(200, {}, b"ok")]
    sleeps = Sleeps()
    http = client(server.url, sleep=sleeps, backoff=10, max_backoff=15)
    assert http.get_text("/x") == "ok"
    assert sleeps == [10, 15, 15, 15]


def test_429_honours_retry_after_seconds(server):
    server.script["/x"] = [(429, {"Retry-After": "7"}, b"slow down"), (200, {}, b"ok")]
    sleeps = Sleeps()
    assert client(server.url, sleep=sleeps).get_text("/x") == "ok"
    assert sleeps == [7.0]


def test_retry_after_as_http_date(server):
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.script["/x"] = [(503, {"Retry-After": later}, b""), (200, {}, b"ok")]
    sleeps = Sleeps()
    assert client(server.url, sleep=sleeps).get_text("/x") == "ok"
    assert 25 <= sleeps[0] <= 31


def test_retries_are_bounded(server):
    server.script["/x"] = [(500, {}, b"broken\n")]
    http = client(server.url, retries=2)
    with pytest.raises(HttpError) as info:
        http.get_text("/x")
    assert info.value.status == 500
    assert info.value.body == "broken\n"
    assert info.value.url == server.url + "/x"
    assert "HTTP 500 from" in str(info.value) and "broken" in str(info.value)
    assert len(server.requests) == 3


def test_4xx_is_not_retried(server):
    server.script["/schematics"] = [(400, {}, b"field foo not found in type schematic.Customization\n")]
    http = client(server.url)
    with pytest.raises(HttpError) as info:
        http.post("/schematics", "{}", "application/yaml")
    assert info.value.status == 400
    assert "field foo not found" in str(info.value)
    assert len(server.requests) == 1


def test_expected_error_status_is_returned(server):
    answer = client(server.url).request("GET", "/missing", ok=(200, 404))
    assert answer.status == 404
    assert answer.text() == "not found\n"


def test_post_sends_body_and_content_type(server):
    server.script["/schematics"] = [(201, {}, json.dumps({"id": "abc"}).encode())]
    answer = client(server.url).post("/schematics", "customization: {}\n", "application/yaml")
    assert answer.status == 201 and answer.json() == {"id": "abc"}
    sent = server.requests[0]
    assert sent["method"] == "POST" and sent["body"] == b"customization: {}\n"
    assert sent["headers"]["Content-Type"] == "application/yaml"


def test_invalid_json_is_an_http_error(server):
    server.script["/versions"] = [(200, {}, b"<html>")]
    with pytest.raises(HttpError, match="not valid JSON"):
        client(server.url).get_json("/versions")


def test_dropped_connection_is_retried(server):
    server.script["/x"] = ["drop", (200, {}, b"ok")]
    sleeps = Sleeps()
    assert client(server.url, sleep=sleeps).get_text("/x") == "ok"
    assert len(sleeps) == 1


def test_answer_that_breaks_off_is_fetched_again(server):
    server.script["/x"] = [("short", 10, b"abc"), (200, {}, b"0123456789")]
    assert client(server.url).get_text("/x") == "0123456789"


def test_connection_refused_after_all_attempts():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    http = client(f"http://127.0.0.1:{port}", sleep=sleeps, retries=2)
    with pytest.raises(HttpError) as info:
        http.get_text("/versions")
    assert info.value.status is None
    assert "cannot reach" in str(info.value) and "after 3 attempts" in str(info.value)
    assert len(sleeps) == 2


def test_stream_sends_range_and_reads_chunks(server):
    server.script["/image"] = [(206, {"Content-Range": "bytes 4-9/10"}, b"456789")]
    with client(server.url).stream("/image", headers={"Range": "bytes=4-"}) as answer:
        assert answer.status == 206
        assert b"".join(answer.chunks(2)) == b"456789"
    assert server.requests[0]["headers"]["Range"] == "bytes=4-"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("12", 12.0), (" 3 ", 3.0), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_date_in_the_future():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


# ---------------------------------------------------------------------------------------------------------------
# TLS: validate_certs and ca_path
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with ScriptedServer(context) as srv:
        srv.script["/versions"] = [(200, {}, b'["v1.13.9"]')]
        yield srv


def test_untrusted_certificate_fails_without_retrying(tls_server):
    sleeps = Sleeps()
    with pytest.raises(HttpError, match="TLS error") as info:
        client(tls_server.url, sleep=sleeps).get_json("/versions")
    assert info.value.status is None
    assert sleeps == []


def test_ca_path_trusts_the_certificate(tls_server, certificate):
    assert client(tls_server.url, ca_path=certificate[0]).get_json("/versions") == ["v1.13.9"]


def test_validate_certs_false_skips_verification(tls_server):
    assert client(tls_server.url, validate_certs=False).get_json("/versions") == ["v1.13.9"]


def test_client_from_params_reads_the_connection_options():
    http = client_from_params(
        {"api_url": "https://pve.example.org:8006/", "request_timeout": 7, "validate_certs": False},
        "https://unused.example.org",
        url_key="api_url",
        timeout_key="request_timeout",
        retries=1,
    )
    assert (http.base_url, http.timeout, http.retries) == ("https://pve.example.org:8006", 7.0, 1)
    default = client_from_params({"url": None, "timeout": None}, "https://factory.talos.dev", default_timeout=12)
    assert (default.base_url, default.timeout, default.retries) == ("https://factory.talos.dev", 12.0, 4)


def test_client_from_params_names_the_option_at_fault(tmp_path):
    with pytest.raises(InputError, match="^api_url: 'pve:8006' is not an http"):
        client_from_params({"api_url": "pve:8006"}, url_key="api_url")
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(InputError, match=f"^ca_path '{missing}' cannot be read as PEM certificates"):
        client_from_params({"url": "https://x.example.org", "ca_path": missing})
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    with pytest.raises(InputError, match="cannot be read as PEM certificates"):
        client_from_params({"url": "https://x.example.org", "ca_path": str(tmp_path / "bad.pem")})


def test_a_failed_request_names_its_method_and_url(server):
    server.script["/things"] = [(409, {}, b'{"error": "taken"}')]
    with pytest.raises(HttpError) as caught:
        client(server.url).post("/things", "{}", "application/json")
    assert caught.value.failure() == {
        "status": 409,
        "code": None,
        "details": '{"error": "taken"}',
        "request": f"POST {server.url}/things",
    }
