# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real git repositories for the gitops_repository tests: a bare "server" repository on the local filesystem
(reached through a file:// URL) and a separate clone standing for another user who pushes.

origin = Origin(tmp_path)              # bare repository, empty
origin.push_files({"README.md": "hi"}) # a commit by "someone else"
origin.files()                         # {path: text} at the branch's head
"""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "Someone",
    "GIT_AUTHOR_EMAIL": "someone@example.org",
    "GIT_COMMITTER_NAME": "Someone",
    "GIT_COMMITTER_EMAIL": "someone@example.org",
}


def git(*args: str, cwd: Path | str | None = None, stdin: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False, timeout=60,
                          env={**os.environ, **ENV})  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.decode()}")
    return done.stdout.decode()


def subprocess_runner(argv: list[str], stdin: bytes | None, env: Mapping[str, str]) -> tuple[int, str, str]:
    """The runner the module_utils take, over subprocess (the module hands in AnsibleModule.run_command)."""
    done = subprocess.run(argv, input=stdin, capture_output=True, check=False, timeout=60, env={**os.environ, **env})
    return done.returncode, done.stdout.decode("utf-8", "surrogateescape"), done.stderr.decode("utf-8", "replace")


class Origin:
    """A bare repository (the server) and a clone of it for pushes by someone else."""

    def __init__(self, root: Path, branch: str = "main"):
        self.path = root / "origin.git"
        self.branch = branch
        git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(self.path))
        self.url = self.path.as_uri()
        self.other = root / "someone-else"

    def head(self) -> str | None:
        out = subprocess.run(["git", "--git-dir", str(self.path), "rev-parse", "--verify", "-q",
                              f"refs/heads/{self.branch}"], capture_output=True, check=False)  # fmt: skip
        return out.stdout.decode().strip() or None

    def count(self) -> int:
        head = self.head()
        return int(git("--git-dir", str(self.path), "rev-list", "--count", head)) if head else 0

    def files(self, revision: str | None = None) -> dict[str, str]:
        rev = revision or self.head()
        if not rev:
            return {}
        names = git("--git-dir", str(self.path), "ls-tree", "-r", "-z", "--name-only", rev).split("\0")
        return {name: git("--git-dir", str(self.path), "show", f"{rev}:{name}") for name in names if name}

    def push_files(self, files: Mapping[str, str | None], message: str = "by someone else") -> str:
        """Commit ``files`` (None deletes) as another user and push; the new head."""
        if not self.other.exists():
            git("clone", "--quiet", self.url, str(self.other))
            git("checkout", "-q", "-B", self.branch, cwd=self.other)
        else:
            git("fetch", "--quiet", "origin", cwd=self.other)
            if self.head():
                git("reset", "-q", "--hard", f"origin/{self.branch}", cwd=self.other)
        for name, text in files.items():
            path = self.other / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("add", "-A", cwd=self.other)
        git("-c", "user.name=Someone", "-c", "user.email=someone@example.org", "commit", "-q", "-m", message,
            cwd=self.other)  # fmt: skip
        git("push", "-q", "origin", f"HEAD:refs/heads/{self.branch}", cwd=self.other)
        head = self.head()
        if head is None:
            raise AssertionError("the push left no branch")
        return head


class GitHttpServer:
    """git's smart HTTP (``git http-backend``, the CGI program nginx runs in the sandbox) on 127.0.0.1, port 0,
    answering only requests whose ``Authorization`` header is ``expected`` (401 otherwise). Serves ``root``.

    with GitHttpServer(tmp_path, "Basic ...") as server:
        server.url("origin.git"); server.headers  # the Authorization headers seen
    """

    def __init__(self, root: Path, expected: str):
        self.root = root
        self.expected = expected
        self.headers: list[str | None] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> GitHttpServer:
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.cgi()

            def do_POST(self) -> None:
                self.cgi()

            def cgi(self) -> None:
                header = self.headers.get("Authorization")
                outer.headers.append(header)
                if header != outer.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                parts = urllib.parse.urlsplit(self.path)
                path, query = parts.path, parts.query
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {**os.environ, **ENV, "GIT_PROJECT_ROOT": str(outer.root), "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type") or "", "CONTENT_LENGTH": str(len(body)),
                       "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding") or "",
                       "GIT_PROTOCOL": self.headers.get("Git-Protocol") or "", "REMOTE_USER": "deploy",
                       "REMOTE_ADDR": "127.0.0.1"}  # fmt: skip
                done = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env,
                                      check=False, timeout=60)  # fmt: skip
                separator = b"\r\n\r\n" if b"\r\n\r\n" in done.stdout else b"\n\n"
                head, payload = done.stdout.split(separator, 1)
                status = 200
                headers = []
                for line in head.decode("latin-1").splitlines():
                    name, value = line.split(":", 1) if ":" in line else (line, "")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
