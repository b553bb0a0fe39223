"""The sandbox's real Git servers: sshd with deploy keys and nginx + git http-backend with tokens, on loopback.

Every git command here is a real client talking to the real servers on free ports of 127.0.0.1: clone, fetch and
push over SSH with a deploy key (read-write accepted, read-only refused on push, a stranger's key refused) and over
HTTPS with a token (accepted; a wrong or missing one 401, a read-only one 403 on push), TLS verified with the
sandbox's CA. The state folder is made under /tmp with mode 0755, since the git account must be able to enter it.
"""

from __future__ import annotations

import base64
import concurrent.futures
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.git import GitServers, GitStore, missing_programs, running, tls

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 30
MISSING = missing_programs()
if MISSING:
    pytest.skip(
        f"the sandbox Git servers need {', '.join(MISSING)} (Debian packages openssh-server, nginx, fcgiwrap, git; "
        "scripts/test installs them as root)",
        allow_module_level=True,
    )


def _state_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tf-git-", dir="/tmp"))
    folder.chmod(0o755)  # the git account enters it (pytest's own tmp_path is 0700)
    return folder


def _key(folder: Path, name: str) -> Path:
    path = folder / "keys" / name
    path.parent.mkdir(exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True, timeout=30)
    return path


class Client:
    """A git client with its own HOME, no prompts, the sandbox's known_hosts and CA, one key at a time."""

    def __init__(self, servers: GitServers, folder: Path) -> None:
        self.servers = servers
        self.folder = folder
        self.home = folder / "client-home"
        self.home.mkdir(exist_ok=True)
        self.known_hosts = folder / "known_hosts"
        self.known_hosts.write_text(servers.known_hosts())

    def environment(self, key: Path | None = None, ca: Path | None = None) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL")
        environment = {name: os.environ[name] for name in keep if name in os.environ}
        ssh = (
            f"ssh -F none -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 "
            f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes"
        )
        environment.update(
            {
                "HOME": str(self.home),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_SSL_CAINFO": str(ca or self.servers.ca_file),
                "GIT_SSH_COMMAND": f"{ssh} -i {key}" if key else f"{ssh} -o IdentityFile=none",
                "GIT_AUTHOR_NAME": "sandbox test",
                "GIT_AUTHOR_EMAIL": "test@sandbox.invalid",
                "GIT_COMMITTER_NAME": "sandbox test",
                "GIT_COMMITTER_EMAIL": "test@sandbox.invalid",
            }
        )
        return environment

    def git(
        self, *arguments: str, cwd: Path | None = None, key: Path | None = None, ca: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *arguments],
            cwd=cwd,
            env=self.environment(key, ca),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )

    def work_tree(self, name: str, text: str) -> Path:
        """A fresh work tree on ``main`` with one commit holding README with ``text``."""
        tree = self.folder / "trees" / name
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        assert self.git("init", "-q", "-b", "main", str(tree)).returncode == 0
        (tree / "README").write_text(text)
        assert self.git("add", "README", cwd=tree).returncode == 0
        assert self.git("commit", "-q", "-m", text, cwd=tree).returncode == 0
        return tree

    def head(self, tree: Path) -> str:
        return self.git("rev-parse", "HEAD", cwd=tree).stdout.strip()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    path = _state_folder()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(folder: Path) -> Iterator[GitServers]:
    with running(folder / "state") as started:
        yield started


@pytest.fixture(scope="module")
def client(servers: GitServers, folder: Path) -> Client:
    return Client(servers, folder)


@pytest.fixture(scope="module")
def keys(folder: Path) -> dict[str, Path]:
    return {name: _key(folder, name) for name in ("writer", "reader", "stranger", "neighbour")}


def _pub(key: Path) -> str:
    return key.with_name(key.name + ".pub").read_text()


def test_ssh_deploy_key_pushes_and_clones(servers: GitServers, client: Client, keys: dict[str, Path]) -> None:
    store = servers.store
    store.create("team/cluster")
    store.add_deploy_key("team/cluster", _pub(keys["writer"]), read_only=False, title="writer")
    store.add_deploy_key("team/cluster", _pub(keys["reader"]), read_only=True, title="reader")
    url = servers.ssh_url("team/cluster")
    assert url.startswith("ssh://") and "@127.0.0.1:" in url

    tree = client.work_tree("ssh-push", "pushed over ssh\n")
    pushed = client.git("push", url, "main", cwd=tree, key=keys["writer"])
    assert pushed.returncode == 0, pushed.stderr
    assert store.refs("team/cluster") == {"refs/heads/main": client.head(tree)}
    assert store.read_file("team/cluster", "main", "README") == "pushed over ssh\n"

    clone = client.folder / "trees" / "ssh-clone"
    cloned = client.git("clone", "-q", url, str(clone), key=keys["reader"])
    assert cloned.returncode == 0, cloned.stderr
    assert (clone / "README").read_text() == "pushed over ssh\n"
    assert client.git("symbolic-ref", "HEAD", cwd=clone).stdout.strip() == "refs/heads/main"


def test_ssh_read_only_key_cannot_push(servers: GitServers, client: Client, keys: dict[str, Path]) -> None:
    store = servers.store
    store.create("read-only")
    store.add_deploy_key("read-only", _pub(keys["reader"]), read_only=True, title="reader")
    tree = client.work_tree("ssh-read-only", "not to be pushed\n")
    refused = client.git("push", servers.ssh_url("read-only"), "main", cwd=tree, key=keys["reader"])
    assert refused.returncode != 0
    assert "read-only for the repository read-only: push refused" in refused.stderr
    assert store.refs("read-only") == {}
    listed = client.git("ls-remote", servers.ssh_url("read-only"), key=keys["reader"])
    assert listed.returncode == 0 and listed.stdout == "", listed.stderr


def test_ssh_other_keys_are_refused(servers: GitServers, client: Client, keys: dict[str, Path]) -> None:
    store = servers.store
    store.create("guarded")
    store.create("next-door")
    store.add_deploy_key("guarded", _pub(keys["writer"]), read_only=False, title="writer")
    store.add_deploy_key("next-door", _pub(keys["neighbour"]), read_only=False, title="neighbour")
    url = servers.ssh_url("guarded")

    stranger = client.git("ls-remote", url, key=keys["stranger"])  # a key the server does not know at all
    assert stranger.returncode != 0
    assert "Permission denied (publickey)" in stranger.stderr

    neighbour = client.git("ls-remote", url, key=keys["neighbour"])  # a deploy key of another repository
    assert neighbour.returncode != 0
    assert "this key has no access to the repository guarded" in neighbour.stderr
    for secret in (_pub(keys["neighbour"]).split()[1], _pub(keys["writer"]).split()[1], "next-door"):
        assert secret not in neighbour.stderr

    parts = urllib.parse.urlsplit(url)
    ssh = client.environment(keys["writer"])["GIT_SSH_COMMAND"].split()
    shell = subprocess.run(  # a shell or any other command is refused: only fetch and push are served
        [*ssh, "-p", str(parts.port), f"{parts.username}@{parts.hostname}", "id"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert shell.returncode != 0 and "serves git fetch and push only" in shell.stderr


def test_removed_deploy_key_is_refused_at_once(servers: GitServers, client: Client, keys: dict[str, Path]) -> None:
    store = servers.store
    store.create("rotating")
    store.add_deploy_key("rotating", _pub(keys["writer"]), read_only=False, title="writer")
    url = servers.ssh_url("rotating")
    assert client.git("ls-remote", url, key=keys["writer"]).returncode == 0
    assert store.remove_deploy_key("rotating", "writer")
    refused = client.git("ls-remote", url, key=keys["writer"])
    assert refused.returncode != 0 and "no access to the repository rotating" in refused.stderr


def _https(url: str, ca: Path, credentials: str | None) -> int:
    request = urllib.request.Request(f"{url}/info/refs?service=git-upload-pack")
    if credentials is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        if error.code == 401:
            assert error.headers["WWW-Authenticate"].startswith("Basic ")
        return int(error.code)


def _with_token(url: str, token: str, user: str = "x-access-token") -> str:
    return url.replace("https://", f"https://{user}:{token}@", 1)


def test_https_token_pushes_and_fetches(servers: GitServers, client: Client) -> None:
    store = servers.store
    store.create("web", default_branch="trunk")
    token = store.add_token("web", title="pusher")
    reader = store.add_token("web", read_only=True, title="reader")
    assert token.startswith("tfgit_") and token not in servers.layout.tokens.read_text()
    url = servers.https_url("web")
    assert url.startswith("https://127.0.0.1:")

    tree = client.work_tree("https-push", "pushed over https\n")
    pushed = client.git("push", _with_token(url, token), "main:trunk", cwd=tree)
    assert pushed.returncode == 0, pushed.stderr
    assert store.refs("web") == {"refs/heads/trunk": client.head(tree)}

    clone = client.folder / "trees" / "https-clone"
    cloned = client.git("clone", "-q", _with_token(url, reader, "anyone"), str(clone))
    assert cloned.returncode == 0, cloned.stderr
    assert (clone / "README").read_text() == "pushed over https\n"
    assert client.git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone).stdout.strip() == "trunk"

    (clone / "README").write_text("a reader's change\n")
    client.git("commit", "-q", "-am", "change", cwd=clone)
    refused = client.git("push", "origin", "trunk", cwd=clone)
    assert refused.returncode != 0 and "403" in refused.stderr
    assert store.refs("web") == {"refs/heads/trunk": client.head(tree)}


def test_https_wrong_token_is_401(servers: GitServers, client: Client) -> None:
    store = servers.store
    store.create("locked")
    good = store.add_token("locked")
    other = store.add_token("locked", title="second")
    store.create("elsewhere")
    elsewhere = store.add_token("elsewhere")
    url = servers.https_url("locked")
    ca = servers.ca_file
    assert _https(url, ca, f"x:{good}") == 200
    assert _https(url, ca, f"x:{other}") == 200
    assert _https(url, ca, f"x:{good}-wrong") == 401
    assert _https(url, ca, f"x:{elsewhere}") == 401  # a token of another repository
    assert _https(url, ca, None) == 401
    assert _https(url, ca, "no-colon-at-all") == 401

    failed = client.git("ls-remote", _with_token(url, "tfgit_not-the-token"))
    assert failed.returncode != 0 and "Authentication failed" in failed.stderr
    assert "tfgit_not-the-token" not in (servers.layout.https / "access.log").read_text()

    assert store.remove_token("locked", "second")
    assert _https(url, ca, f"x:{other}") == 401


def test_https_tls_is_verified_with_the_sandbox_ca(servers: GitServers, client: Client, folder: Path) -> None:
    store = servers.store
    store.create("tls")
    token = store.add_token("tls")
    url = _with_token(servers.https_url("tls"), token)
    assert client.git("ls-remote", url).returncode == 0
    stranger_ca, _certificate, _key = tls.ensure_certificates(folder / "stranger-ca")  # a CA that signed nothing here
    untrusted = client.git("ls-remote", url, ca=stranger_ca)
    assert untrusted.returncode != 0 and "certificate" in untrusted.stderr.lower()


def test_cli_manages_repositories(servers: GitServers, client: Client, keys: dict[str, Path]) -> None:
    root = servers.layout.root

    def cli(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        return subprocess.run(
            [sys.executable, "-m", "sandbox", "git", *arguments, "--state-dir", str(root)],
            cwd=REPO_ROOT,
            env=environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )

    created = cli("create", "cli/made", "--default-branch", "main")
    assert created.returncode == 0 and "cli/made: bare repository" in created.stdout, created.stderr
    added = cli("key", "add", "cli/made", "-", "--write", "--title", "ci", stdin=_pub(keys["writer"]))
    assert added.returncode == 0 and "deploy key ci (read-write)" in added.stdout, added.stderr
    token = cli("token", "add", "cli/made", "--title", "bot").stdout.strip()
    assert token.startswith("tfgit_")
    listing = cli("list").stdout
    assert any(line.split() == ["cli/made", "main", "1", "1"] for line in listing.splitlines()), listing

    tree = client.work_tree("cli-push", "pushed for the cli\n")
    assert client.git("push", servers.ssh_url("cli/made"), "main", cwd=tree, key=keys["writer"]).returncode == 0
    assert cli("refs", "cli/made").stdout.split() == [client.head(tree), "refs/heads/main"]
    urls = cli("urls", "cli/made").stdout
    assert f"https: {servers.https_url('cli/made')}" in urls and f"ca: {servers.ca_file}" in urls
    assert cli("status").stdout.split()[2::3] == ["up", "up"]
    assert "no sandbox Git repository named 'nope'" in cli("refs", "nope").stderr
    assert cli("create", "../escape").returncode == 1
    assert cli("remove", "cli/made").stdout.strip() == "cli/made: removed"


def test_servers_stop_cleanly_and_start_again(folder: Path) -> None:
    servers = GitServers(folder / "stopping")
    try:
        started = servers.start(0, 0)
        assert [line.split(":")[0] for line in started] == ["git-ssh", "git-https"]
        statuses = servers.status()
        assert [item.up for item in statuses] == [True, True]
        assert servers.start(0, 0)[0].startswith("git-ssh: already running")
        records = servers._records()
        pids = [records[name]["pid"] for name in ("ssh", "https", "fcgiwrap")]
        ports = [records[name]["port"] for name in ("ssh", "https")]
    finally:
        stopped = servers.stop()
    assert sorted(stopped) == sorted(
        [
            f"git-ssh: stopped (pid {pids[0]})",
            f"git-https: stopped (pid {pids[1]})",
            f"git-fcgiwrap: stopped (pid {pids[2]})",
        ]
    )
    for pid in pids:
        state = Path(f"/proc/{pid}/stat")
        assert not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    assert [item.up for item in servers.status()] == [False, False]
    assert servers.stop() == []
    for port in ports:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex(("127.0.0.1", port)) != 0
    again = servers.start(0, 0)
    try:
        assert [item.up for item in servers.status()] == [True, True], again
    finally:
        servers.stop()


def test_store_refuses_bad_input(folder: Path) -> None:
    store = GitStore(folder / "refusals")
    with pytest.raises(ValueError, match="repository name"):
        store.create("/absolute")
    with pytest.raises(ValueError, match="repository name"):
        store.create("a/b/c")
    with pytest.raises(ValueError, match="without the .git suffix"):
        store.create("name.git")
    store.create("fine")
    with pytest.raises(ValueError, match="not an OpenSSH public key line"):
        store.add_deploy_key("fine", "-----BEGIN OPENSSH PRIVATE KEY----- secret")
    with pytest.raises(KeyError, match="no sandbox Git repository named 'absent'"):
        store.add_token("absent")
    with pytest.raises(ValueError, match="default branch 'main'"):
        store.create("fine", default_branch="develop")


def test_forget_clears_repositories_keys_and_tokens(folder: Path, keys: dict[str, Path]) -> None:
    store = GitStore(folder / "forgetting")
    store.create("kept-not")
    store.add_deploy_key("kept-not", _pub(keys["writer"]), title="writer")
    token = store.add_token("kept-not")
    assert _pub(keys["writer"]).split()[1] in store.layout.authorized_keys.read_text()
    assert store.forget()
    assert store.list() == []
    assert store.layout.authorized_keys.read_text() == "" and store.layout.tokens.read_text() == ""
    assert not store.layout.repository("kept-not").exists() and not store.layout.access.exists()
    assert token.startswith("tfgit_")
    assert not GitStore(folder / "never-used").forget()


def test_concurrent_changes_all_stay(folder: Path) -> None:
    store = GitStore(folder / "concurrent")
    store.create("busy")
    titles = [f"t{number}" for number in range(8)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(lambda title: GitStore(store.layout.root).add_token("busy", title=title), titles))
    assert sorted(item["title"] for item in store.get("busy").tokens) == titles
    assert len(store.layout.tokens.read_text().splitlines()) == len(set(tokens)) == 8
