"""``python -m sandbox git ...``: the sandbox's Git servers and their repositories, deploy keys and tokens.

Wired into ``sandbox/__main__.py`` with :func:`add_arguments` (on the ``git`` sub-parser) and :func:`run` (which
returns the lines to print), as the Talos nodes' commands are.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .servers import GitServers


def add_arguments(parser: argparse.ArgumentParser, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """The ``git`` sub-commands, on ``parser`` (``parents`` e.g. the shared ``--state-dir`` parser)."""
    commands = parser.add_subparsers(dest="git_command", required=True)

    def command(name: str, help_text: str, owner: Any = None) -> argparse.ArgumentParser:
        return (owner or commands).add_parser(name, help=help_text, parents=list(parents))

    start = command("start", "start the SSH and HTTPS Git servers (python -m sandbox start does it too)")
    start.add_argument("--ssh-port", type=int, help="port of sshd (default 18722 or $TALOSFORGE_SANDBOX_PORT_GIT_SSH)")
    start.add_argument(
        "--https-port", type=int, help="port of nginx (default 18723 or $TALOSFORGE_SANDBOX_PORT_GIT_HTTPS)"
    )
    command("stop", "stop the Git servers")
    command("status", "one line per Git server")
    create = command("create", "create a bare repository")
    create.add_argument("name", help="NAME or OWNER/NAME, without .git")
    create.add_argument("--default-branch", default="main", help="the branch HEAD names (default main)")
    command("remove", "delete a repository with its keys and tokens").add_argument("name")
    listing = command("list", "the repositories, their default branch, keys and tokens")
    listing.add_argument("--json", action="store_true", help="one JSON list")
    command("refs", "a repository's refs and the commits they point at").add_argument("name")
    urls = command("urls", "a repository's SSH and HTTPS URLs, the known_hosts line and the CA file")
    urls.add_argument("name")
    command("known-hosts", "the SSH server's known_hosts line")
    key = command("key", "deploy keys (SSH)")
    key_commands = key.add_subparsers(dest="key_command", required=True)
    key_add = command("add", "allow a public key to fetch (and with --write push) a repository", key_commands)
    key_add.add_argument("name")
    key_add.add_argument("public_key", metavar="PUBLIC_KEY_FILE", help="an OpenSSH .pub file, or - for stdin")
    key_add.add_argument("--write", action="store_true", help="allow pushing too (default: read-only)")
    key_add.add_argument("--title", help="the key's title (default: from its fingerprint)")
    key_remove = command("remove", "remove a deploy key by title", key_commands)
    key_remove.add_argument("name")
    key_remove.add_argument("title")
    token = command("token", "access tokens (HTTPS)")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_add = command("add", "make a token for a repository and print it (it is stored hashed)", token_commands)
    token_add.add_argument("name")
    token_add.add_argument("--read-only", action="store_true", help="fetch only (default: fetch and push)")
    token_add.add_argument("--title", help="the token's title (default token-N)")
    token_remove = command("remove", "remove a token by title", token_commands)
    token_remove.add_argument("name")
    token_remove.add_argument("title")


def _read_key(source: str) -> str:
    return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")


def run(root: Path, arguments: argparse.Namespace) -> list[str]:
    """The lines to print for a parsed ``git`` command; KeyError/ValueError/RuntimeError for bad input."""
    servers = GitServers(root)
    store = servers.store
    command = arguments.git_command
    if command == "start":
        return servers.start(arguments.ssh_port, arguments.https_port)
    if command == "stop":
        return servers.stop() or ["git: not running"]
    if command == "status":
        return [f"{item.name:<16} {item.url or '-':<26} {'up' if item.up else 'down'}" for item in servers.status()]
    if command == "create":
        repository = store.create(arguments.name, arguments.default_branch)
        return [f"{repository.name}: bare repository at {repository.path}, default branch {repository.default_branch}"]
    if command == "remove":
        return [f"{arguments.name}: {'removed' if store.remove(arguments.name) else 'not found'}"]
    if command == "list":
        repositories = store.list()
        if arguments.json:
            return [
                json.dumps(
                    [
                        {
                            "name": item.name,
                            "default_branch": item.default_branch,
                            "path": str(item.path),
                            "deploy_keys": [{k: v for k, v in key.items() if k != "key"} for key in item.deploy_keys],
                            "tokens": item.tokens,
                        }
                        for item in repositories
                    ],
                    indent=2,
                )
            ]
        return [f"{'NAME':<32} {'BRANCH':<12} {'KEYS':<5} TOKENS"] + [
            f"{item.name:<32} {item.default_branch:<12} {len(item.deploy_keys):<5} {len(item.tokens)}"
            for item in repositories
        ]
    if command == "refs":
        return [f"{commit} {ref}" for ref, commit in sorted(store.refs(arguments.name).items())]
    if command == "urls":
        store.get(arguments.name)
        return [
            f"ssh: {servers.ssh_url(arguments.name)}",
            f"https: {servers.https_url(arguments.name)}",
            f"known_hosts: {servers.known_hosts().strip()}",
            f"ca: {servers.ca_file}",
        ]
    if command == "known-hosts":
        return [servers.known_hosts().rstrip("\n")]
    if command == "key":
        if arguments.key_command == "add":
            title = store.add_deploy_key(
                arguments.name, _read_key(arguments.public_key), read_only=not arguments.write, title=arguments.title
            )
            return [f"{arguments.name}: deploy key {title} ({'read-write' if arguments.write else 'read-only'})"]
        found = store.remove_deploy_key(arguments.name, arguments.title)
        return [f"{arguments.name}: deploy key {arguments.title} {'removed' if found else 'not found'}"]
    if command == "token":
        if arguments.token_command == "add":
            return [store.add_token(arguments.name, read_only=arguments.read_only, title=arguments.title)]
        found = store.remove_token(arguments.name, arguments.title)
        return [f"{arguments.name}: token {arguments.title} {'removed' if found else 'not found'}"]
    raise ValueError(f"unknown git command {command!r}")
