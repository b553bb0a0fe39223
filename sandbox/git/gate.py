"""The gate: a POSIX shell script every fetch and push goes through, over SSH and over HTTPS.

Over SSH, sshd runs it as the forced command of the deploy key's ``authorized_keys`` line, with the key's grants as
arguments (``NAME:ro``, ``NAME:rw``); it reads the command git asked for from ``SSH_ORIGINAL_COMMAND`` and runs
``git-upload-pack`` (fetch) or ``git-receive-pack`` (push) on the repository only when the key may. Over HTTPS,
fcgiwrap runs it as the CGI script nginx names; it takes the token from the ``Authorization`` header (Basic, the
token as the password and any user name, as GitHub and Gitea take it; or Bearer), compares its SHA-256 with the
digests in ``https/tokens`` and hands the request to ``git http-backend``: no or a wrong token is 401, a read-only
token pushing is 403. Refusals name the repository asked for and never a key or a token.

It is shell, not Python, because it runs as the git account, which may not reach the project's interpreter.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from .layout import Layout

_SCRIPT = r"""#!/bin/sh
# The sandbox Git servers' gate, written by sandbox/git/gate.py; rewritten at each start.
set -f
REPOSITORIES=@REPOSITORIES@
TOKENS=@TOKENS@
HOME=@HOME@
PATH=${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin
export HOME PATH
unset XDG_CONFIG_HOME GIT_DIR GIT_CONFIG_GLOBAL
NAME_RE='^([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$'

NEWLINE='
'

valid_name() {
    case $1 in *"$NEWLINE"*) return 1 ;; esac
    printf '%s\n' "$1" | grep -Eq "$NAME_RE"
}

ssh_refuse() {
    printf 'ERROR: %s\n' "$1" >&2
    exit 128
}

serve_ssh() {
    request=${SSH_ORIGINAL_COMMAND:-}
    case $request in
        "git-upload-pack "*) verb=git-upload-pack need=ro ;;
        "git-upload-archive "*) verb=git-upload-archive need=ro ;;
        "git-receive-pack "*) verb=git-receive-pack need=rw ;;
        *) ssh_refuse "this server serves git fetch and push only (no shell, no other command)" ;;
    esac
    name=${request#"$verb "}
    name=${name#\'}
    name=${name%\'}
    name=${name#/}
    name=${name%/}
    name=${name%.git}
    valid_name "$name" || ssh_refuse "no repository named $name"
    mode=
    for grant in "$@"; do
        case $grant in
            "$name:rw") mode=rw ;;
            "$name:ro") [ "$mode" = rw ] || mode=ro ;;
        esac
    done
    [ -n "$mode" ] || ssh_refuse "this key has no access to the repository $name"
    if [ "$need" = rw ] && [ "$mode" != rw ]; then
        ssh_refuse "this deploy key is read-only for the repository $name: push refused"
    fi
    [ -d "$REPOSITORIES/$name.git" ] || ssh_refuse "the repository $name does not exist"
    exec "$verb" "$REPOSITORIES/$name.git"
}

http_answer() {
    printf 'Status: %s\r\nContent-Type: text/plain; charset=utf-8\r\n' "$1"
    [ "${1%% *}" = 401 ] && printf 'WWW-Authenticate: Basic realm="talosforge sandbox git"\r\n'
    printf '\r\n%s\n' "$2"
    exit 0
}

serve_https() {
    name=${SANDBOX_GIT_REPOSITORY:-}
    valid_name "$name" || http_answer "404 Not Found" "no repository named $name"
    need=ro
    case "$PATH_INFO" in */git-receive-pack) need=rw ;; esac
    case "&${QUERY_STRING:-}&" in *"&service=git-receive-pack&"*) need=rw ;; esac
    token=
    case ${HTTP_AUTHORIZATION:-} in
        "Basic "*)
            pair=$(printf '%s' "${HTTP_AUTHORIZATION#Basic }" | base64 -d 2>/dev/null) || pair=
            case $pair in *:*) token=${pair#*:} ;; esac
            ;;
        "Bearer "*) token=${HTTP_AUTHORIZATION#Bearer } ;;
    esac
    [ -n "$token" ] || http_answer "401 Unauthorized" "a token is needed for the repository $name"
    digest=$(printf '%s' "$token" | sha256sum)
    digest=${digest%% *}
    grant=$(awk -v name="$name" -v digest="$digest" '$1 == name && $2 == digest { print $3 " " $4; exit }' "$TOKENS")
    [ -n "$grant" ] || http_answer "401 Unauthorized" "the token is not valid for the repository $name"
    mode=${grant%% *}
    if [ "$need" = rw ] && [ "$mode" != rw ]; then
        http_answer "403 Forbidden" "the token is read-only for the repository $name: push refused"
    fi
    [ -d "$REPOSITORIES/$name.git" ] || http_answer "404 Not Found" "the repository $name does not exist"
    GIT_PROJECT_ROOT=$REPOSITORIES
    GIT_HTTP_EXPORT_ALL=1
    REMOTE_USER=${grant#* }
    export GIT_PROJECT_ROOT GIT_HTTP_EXPORT_ALL REMOTE_USER
    exec git http-backend
}

if [ -n "${GATEWAY_INTERFACE:-}" ]; then
    serve_https
else
    serve_ssh "$@"
fi
"""


def write(layout: Layout) -> Path:
    """Write the gate (0755) for this state folder; returns its path."""
    text = (
        _SCRIPT.replace("@REPOSITORIES@", shlex.quote(str(layout.repositories)))
        .replace("@TOKENS@", shlex.quote(str(layout.tokens)))
        .replace("@HOME@", shlex.quote(str(layout.home)))
    )
    temporary = layout.gate.with_name(layout.gate.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.chmod(temporary, 0o755)
    os.replace(temporary, layout.gate)
    return layout.gate
