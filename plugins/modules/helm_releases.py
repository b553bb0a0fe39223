#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: helm_releases
short_description: Install or upgrade a list of Helm releases in order, and put back releases changed by hand
version_added: 0.1.0
description:
  - Makes every release of O(releases) deployed with its pinned chart version and exactly its values, with the
    C(helm) command line on the control node. Releases are handled in the order given (install the CNI first).
  - A run reads first, with one C(helm list) for all the releases and one C(helm get values) per installed release,
    in parallel. A release that is deployed with the wanted chart version and the wanted values (compared as data,
    not as text) is left alone, so a re-run that changes nothing runs no other helm command.
  - Every release to install or upgrade is first rendered with C(helm template), which checks the values against
    the chart's C(values.schema.json). When a chart refuses its values the task fails with C(Nothing was installed)
    before the first install, naming the release and quoting helm.
  - Then C(helm upgrade --install) runs for those releases only, one at a time. A release whose last helm run
    failed (status C(failed)) is upgraded again, with a warning.
  - A release locked by a helm run that was interrupted (status C(pending-install), C(pending-upgrade),
    C(pending-rollback) or C(uninstalling)) for at least O(wait_timeout) seconds is cleared first (an install that
    never finished is uninstalled, an upgrade or rollback rolled back) and installed again, with a warning. A
    younger lock may be another helm run at work; the task then fails before installing anything and says when to
    re-run.
  - The values of every release are written to O(values_dir) as C(<namespace>-<name>.yaml) (mode C(0600), folder
    C(0700)), after helm accepted them and only when they changed. The GitOps stage hands the same files to Flux.
  - When a deployed release has other values or another chart version than wanted while its values file still
    holds exactly what is wanted, the release was changed outside this module (a hand-made C(helm upgrade)). That
    is drift; the task warns with C(DRIFT), names the release and the keys, and puts the release back.
  - Values go to helm on its standard input, never on its command line. Diffs, warnings and errors show the value
    of every key that looks secret (its name has a word such as password, token, secret, key or tsig) as
    C(********). Keep secrets out of Helm values anyway (helm stores values in the release and this module writes
    them to the values files); put them in Secrets the chart reads.
  - Charts come from their repository with C(--repo) (or from an C(oci://) reference); nothing is added to or read
    from the user's helm repositories or cache (helm runs with a private, temporary C(HELM_*_HOME)).
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads and compares, and checks the values of every release to change with C(helm template); installs
        nothing and writes no file.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: The values of every release to change, before (as deployed) and after, as YAML, secrets masked.
options:
  kubeconfig:
    description: The cluster's admin kubeconfig, passed to helm with C(--kubeconfig).
    type: path
    required: true
  helm_binary:
    description:
      - The helm executable, a path or a name on C(PATH). The P(talosforge.cluster.helm#role) role installs a pinned helm
        and sets C(talosforge_helm_binary) to its path.
      - Helm 4 (C(helm list) shows releases of every status, C(--wait=watcher)).
    type: path
    default: helm
  values_dir:
    description:
      - Folder of the values files, C(<namespace>-<name>.yaml) each. Created C(0700) when missing.
    type: path
    required: true
  releases:
    description: The releases, in the order they are installed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The release's name (a DNS label of at most 53 characters).
        type: str
        required: true
      namespace:
        description: The release's namespace.
        type: str
        required: true
      chart:
        description:
          - The chart's name in O(releases[].repo), such as V(cilium), or an C(oci://) reference without a tag,
            such as V(oci://docker.io/envoyproxy/gateway-helm).
        type: str
        required: true
      repo:
        description:
          - The chart repository's URL, such as V(https://helm.cilium.io/). Required unless O(releases[].chart) is
            an C(oci://) reference.
        type: str
      version:
        description:
          - The chart version, pinned (such as V(1.20.0)). A leading C(v) is not significant when comparing.
        type: str
        required: true
      values:
        description:
          - The release's values, exactly (values set by hand on the release and not listed here are removed on the
            next run); the chart's defaults apply to what is not set.
        type: dict
        default: {}
      create_namespace:
        description: Create the namespace when it is missing (C(--create-namespace)).
        type: bool
        default: true
      wait:
        description:
          - Wait until the release's objects are ready (C(--wait=watcher)), at most O(wait_timeout) seconds.
          - Off by default; the next tasks check what they need (nodes Ready after the CNI, for instance), and a
            workload that cannot start before another release is installed would block the run.
        type: bool
        default: false
  wait_timeout:
    description:
      - Seconds helm may take for one install or upgrade, hooks and O(releases[].wait) included (C(--timeout)).
      - Also how old a C(pending-*) status must be to be taken as left by an interrupted helm run.
    type: int
    default: 300
  check_only:
    description:
      - Read and compare only, as in check mode, whatever the play's mode (to report drift without repairing it).
        C(changed) then says whether a run would change something.
      - A release that another helm run holds (a recent pending status, such as Flux's helm-controller upgrading it)
        is then only warned about as not checked; without O(check_only) it fails the task before anything is
        installed.
    type: bool
    default: false
  parallel:
    description: How many C(helm get values) and C(helm template) commands run at the same time.
    type: int
    default: 8
notes:
  - Releases not listed are never touched; this module uninstalls nothing but an install that never finished.
  - "On failure, C(failure.code) is V(values_refused) (a chart refused its values; nothing was installed),
    V(in_progress) (another helm run holds a release; nothing was installed) or V(helm) (helm failed; C(failure.details)
    has the release and helm's error output). A failure after some releases were installed names them and the ones
    not attempted, and returns C(releases) as far as the run got."
seealso:
  - module: talosforge.cluster.kube_objects
  - module: talosforge.cluster.talos_kubeconfig
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: Install Cilium first, then MetalLB
  talosforge.cluster.helm_releases:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    helm_binary: "{{ talosforge_helm_binary }}"
    values_dir: "{{ talos_output_dir }}/helm-values"
    releases:
      - name: cilium
        namespace: kube-system
        chart: cilium
        repo: https://helm.cilium.io/
        version: 1.20.0
        values:
          ipam:
            mode: kubernetes
          kubeProxyReplacement: true
          k8sServiceHost: localhost
          k8sServicePort: 7445
      - name: metallb
        namespace: metallb-system
        chart: metallb
        repo: https://metallb.github.io/metallb
        version: 0.16.1

- name: Envoy Gateway from its OCI chart, waiting for its controller
  talosforge.cluster.helm_releases:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    helm_binary: "{{ talosforge_helm_binary }}"
    values_dir: "{{ talos_output_dir }}/helm-values"
    releases:
      - name: envoy-gateway
        namespace: envoy-gateway-system
        chart: oci://docker.io/envoyproxy/gateway-helm
        version: 1.6.0
        wait: true

- name: Report releases changed by hand, without putting them back
  talosforge.cluster.helm_releases:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    values_dir: "{{ talos_output_dir }}/helm-values"
    releases: "{{ platform_helm_releases }}"
    check_only: true
  register: helm_drift
"""

RETURN = r"""
releases:
  description: One entry per release of O(releases), in their order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The release's name.
      type: str
      sample: cilium
    namespace:
      description: The release's namespace.
      type: str
      sample: kube-system
    chart:
      description: The chart's name.
      type: str
      sample: cilium
    version:
      description: The wanted chart version.
      type: str
      sample: 1.20.0
    action:
      description:
        - V(installed) (also after removing an install that never finished), V(upgraded) (new values or chart
          version, a failed or interrupted release run again), V(drifted) (changed by hand, put back) or
          V(unchanged). In check mode, what a run would do.
      type: str
      sample: upgraded
    reason:
      description: Why the release was installed or upgraded; empty when unchanged.
      type: str
      sample: values differ at ipam.mode
    changed_keys:
      description: Dotted paths of the values that differ from the deployed ones (the keys, never the values).
      type: list
      elements: str
      sample: [ipam.mode, l2announcements.enabled]
    revision:
      description: The release's revision after the run (before it in check mode); null when not installed.
      type: int
      sample: 2
    values_file:
      description: The path of the release's values file.
      type: str
      sample: /home/me/clusters/prod/helm-values/kube-system-cilium.yaml
values_files_written:
  description: The values files written by this run.
  returned: always
  type: list
  elements: str
commands:
  description: The helm command lines this run ran, in order (values go on stdin, so they hold no secret).
  returned: always
  type: list
  elements: str
  sample: ["list --all-namespaces --filter ^(cilium)$ --output json --kubeconfig /home/me/kubeconfig"]
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.helm import module_runner
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    return {
        "kubeconfig": {"type": "path", "required": True},
        "helm_binary": {"type": "path", "default": "helm"},
        "values_dir": {"type": "path", "required": True},
        "releases": {
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "name": {"type": "str", "required": True},
                "namespace": {"type": "str", "required": True},
                "chart": {"type": "str", "required": True},
                "repo": {"type": "str"},
                "version": {"type": "str", "required": True},
                "values": {"type": "dict", "default": {}},
                "create_namespace": {"type": "bool", "default": True},
                "wait": {"type": "bool", "default": False},
            },
        },
        "wait_timeout": {"type": "int", "default": 300},
        "check_only": {"type": "bool", "default": False},
        "parallel": {"type": "int", "default": 8},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, lambda: run(module.params, module.check_mode, module_runner(module), module.warn))


if __name__ == "__main__":
    main()
