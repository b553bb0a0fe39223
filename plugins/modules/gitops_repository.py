#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gitops_repository
short_description: Keep the files a cluster owns in a Git repository branch, committed and pushed only when changed
version_added: 0.1.0
description:
  - Makes a branch of a Git repository hold exactly the given O(files) under the O(managed_paths), such as the tree
    a GitOps controller (Flux) reconciles. The caller renders the files; this module knows nothing of their meaning.
  - Each run fetches the branch into a bare clone kept in O(work_dir), compares the managed files with the
    fetched revision by their blob ids (no file is read when nothing changed), and when one differs writes one
    commit on top of that revision and pushes it. Files outside the O(managed_paths) are carried over untouched;
    files under them that are not in O(files) are deleted.
  - The push holds a lease on the fetched revision (C(--force-with-lease) with the revision given), so a commit
    someone pushed meanwhile is never overwritten. The task then fails with C(failure.code=remote_moved), naming
    both revisions; the commit of the run is kept on C(refs/talosforge/pending/<branch>) in the work folder, and a
    re-run commits on top of the new revision.
  - Until it is pushed, a commit stays on that pending ref. A run killed between commit and push leaves it there,
    and the next run pushes that very commit when it still sits on the remote's revision and holds the wanted
    files, so exactly one commit reaches the remote.
  - Runs the C(git) command line with the user's and the system's git configuration ignored and prompts off. An
    SSH key is passed as a file in C(GIT_SSH_COMMAND); an HTTPS token as an C(Authorization) header in C(GIT_CONFIG_*)
    environment variables, so it is never in a command line nor in the clone's configuration.
requirements:
  - git 2.32 or later on the host the task runs on (C(GIT_CONFIG_GLOBAL), C(GIT_CONFIG_COUNT)), and OpenSSH's C(ssh)
    for V(ssh://) URLs.
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Fetches into the work folder (created when missing) and reports what would be committed; no commit, no push.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details:
      - A unified diff of the changed managed files, shown as they are (encrypted files stay encrypted).
options:
  url:
    description:
      - The repository, as V(ssh://git@git.example.org/infra/cluster.git), V(https://git.example.org/infra/cluster.git)
        or V(file:///srv/git/cluster.git). A URL holding a password is refused; use O(token).
    type: str
    required: true
  branch:
    description: The branch to keep; it is created by the first push when the repository does not have it.
    type: str
    default: main
  work_dir:
    description:
      - A private folder (0700) kept between runs, holding the bare clone (C(repo.git)) and the SSH known hosts.
        One folder per repository.
    type: path
    required: true
  files:
    description:
      - The managed files wanted, as a mapping of path (relative to the repository's root, V(/) separators) to
        text. Every path must lie under one of the O(managed_paths) when those are given. Files are written with
        mode C(100644).
    type: dict
    default: {}
  managed_paths:
    description:
      - The folders (or files) the caller owns, such as V(clusters/prod) or V(infrastructure). A file of the branch
        under one of them that is not in O(files) is deleted; nothing outside them is ever changed.
      - Empty, only the paths of O(files) are managed and nothing is deleted.
    type: list
    elements: str
    default: []
  scaffold:
    description:
      - Files to start the user off with, as a mapping of path to text. Each is added when the branch has nothing
        at its path, then never changed nor deleted (the user owns it). A scaffold path may not lie under the
        O(managed_paths) nor be one of the O(files).
    type: dict
    default: {}
  ssh_key_file:
    description:
      - A private SSH key (the deploy key) for an V(ssh://) URL, used alone (C(IdentitiesOnly)). Not set, ssh uses
        its own keys or agent.
    type: path
  known_hosts:
    description:
      - The server's host keys as C(known_hosts) lines (C(ssh-keyscan) output); only those are accepted.
      - Not set, the host key seen first is recorded in C(known_hosts) in O(work_dir) and a changed key is refused.
    type: str
  token:
    description:
      - An HTTPS access token, sent in an C(Authorization) header (see O(http_auth)). Never shown in a result or
        an error. With a token, HTTP redirects are not followed, so the token is never sent to another host.
    type: str
  username:
    description: The user name sent with O(token) in basic authentication.
    type: str
    default: git
  http_auth:
    description: How O(token) is sent. V(basic) with O(username), or V(bearer).
    type: str
    choices: [basic, bearer]
    default: basic
  ca_file:
    description: A CA bundle to verify an HTTPS server with (a private CA).
    type: path
  author_name:
    description: The commit's author and committer name.
    type: str
    default: talosforge
  author_email:
    description: The commit's author and committer e-mail.
    type: str
    default: talosforge@localhost
  commit_message:
    description: The first line(s) of the commit message; a line per changed path (V(added), V(modified),
      V(deleted)) follows.
    type: str
    default: Update the cluster's managed files
  timeout:
    description:
      - Seconds ssh waits to connect, and seconds an HTTPS transfer may stay below 1 kB/s before git gives up.
    type: int
    default: 60
  git_binary:
    description: The git command to run.
    type: str
    default: git
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Keep the cluster's Flux tree in its repository, over SSH with the deploy key
  talosforge.cluster.gitops_repository:
    url: ssh://git@git.example.org/infra/cluster.git
    branch: main
    work_dir: "{{ talosforge_output_dir }}/gitops"
    ssh_key_file: "{{ talosforge_output_dir }}/gitops-deploy-key"
    known_hosts: "{{ lookup('file', 'files/git.example.org.known_hosts') }}"
    managed_paths: [clusters/prod, infrastructure, apps/kustomization.yaml]
    files:
      clusters/prod/infrastructure.yaml: "{{ lookup('template', 'infrastructure.yaml.j2') }}"
      apps/kustomization.yaml: |
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: []
    commit_message: "talosforge: cluster prod"
  register: pushed

- name: The same over HTTPS with a token, shown as a diff first
  talosforge.cluster.gitops_repository:
    url: https://git.example.org/infra/cluster.git
    work_dir: "{{ talosforge_output_dir }}/gitops"
    token: "{{ vault_git_token }}"
    managed_paths: [k8s]
    files: "{{ gitops_files }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
revision:
  description: The branch's revision after the run (the fetched one when nothing was pushed, and in check mode);
    null when the branch does not exist.
  returned: always
  type: str
  sample: 4f0c7e1b9d2a3c5e6f708192a3b4c5d6e7f80912
previous_revision:
  description: The branch's revision fetched before any change; null when the branch did not exist.
  returned: always
  type: str
  sample: 9d2a3c5e6f708192a3b4c5d6e7f809124f0c7e1b
commit:
  description: The commit this run pushed; null when it pushed nothing.
  returned: always
  type: str
  sample: 4f0c7e1b9d2a3c5e6f708192a3b4c5d6e7f80912
changes:
  description: The managed files that changed (or would change, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file's path in the repository.
      type: str
      sample: infrastructure/controllers/cert-manager.yaml
    action:
      description: V(added), V(modified) or V(deleted).
      type: str
      sample: modified
commands:
  description: The git commands run, by name, in order (C(fetch), C(for-each-ref), C(ls-tree) when nothing changed).
  returned: always
  type: list
  elements: str
  sample: [fetch, for-each-ref, ls-tree]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.git import module_runner
from ansible_collections.talosforge.cluster.plugins.module_utils._gitops.repository_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    return {
        "url": {"type": "str", "required": True},
        "branch": {"type": "str", "default": "main"},
        "work_dir": {"type": "path", "required": True},
        "files": {"type": "dict", "default": {}},
        "managed_paths": {"type": "list", "elements": "str", "default": []},
        "scaffold": {"type": "dict", "default": {}},
        "ssh_key_file": {"type": "path", "no_log": False},  # a path, not the key
        "known_hosts": {"type": "str"},
        "token": {"type": "str", "no_log": True},
        "username": {"type": "str", "default": "git"},
        "http_auth": {"type": "str", "choices": ["basic", "bearer"], "default": "basic"},
        "ca_file": {"type": "path"},
        "author_name": {"type": "str", "default": "talosforge"},
        "author_email": {"type": "str", "default": "talosforge@localhost"},
        "commit_message": {"type": "str", "default": "Update the cluster's managed files"},
        "timeout": {"type": "int", "default": 60},
        "git_binary": {"type": "str", "default": "git"},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run(module.params, module.check_mode, module._diff, module_runner(module)))


if __name__ == "__main__":
    main()
