"""A stand-in for the cluster's ingress in the edge scenario: it answers every request with what it received.

Plain HTTP on one address (the upstream nginx proxies to) and HTTPS on another (the TLS passthrough target, with its
own certificate). ``/slow?seconds=N`` answers after N seconds (for the reload check); a websocket upgrade is
answered with 101 and one text frame.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import ssl
import threading
import time
import urllib.parse

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def make_handler(label: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args) -> None:
            return

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if self.headers.get("Upgrade", "").lower() == "websocket":
                self._websocket()
                return
            if url.path == "/slow":
                seconds = float(urllib.parse.parse_qs(url.query).get("seconds", ["2"])[0])
                time.sleep(min(seconds, 10.0))
                self._answer("slow done\n")
                return
            self._answer(
                f"{label} host={self.headers.get('Host', '')} path={url.path} "
                f"proto={self.headers.get('X-Forwarded-Proto', '')} for={self.headers.get('X-Forwarded-For', '')}\n"
            )

        def _answer(self, text: str) -> None:
            body = text.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _websocket(self) -> None:
            key = self.headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            payload = f"{label} websocket".encode()
            self.wfile.write(bytes([0x81, len(payload)]) + payload)
            self.wfile.flush()
            self.close_connection = True

    return Handler


def serve(address: str, label: str, tls: ssl.SSLContext | None) -> threading.Thread:
    host, port = address.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), make_handler(label))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http", required=True, help="HOST:PORT of the plain HTTP listener")
    parser.add_argument("--https", required=True, help="HOST:PORT of the HTTPS listener")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--lifetime", type=float, default=1800.0, help="seconds before the server stops by itself")
    args = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    serve(args.http, "talosforge-upstream", None)
    serve(args.https, "talosforge-upstream-tls", context)
    time.sleep(args.lifetime)


if __name__ == "__main__":
    main()
