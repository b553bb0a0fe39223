#!/usr/bin/python
# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kube_objects
short_description: Apply or delete Kubernetes objects with server-side apply, and await what they should bring
version_added: 0.1.0
description:
  - Makes sure a list of Kubernetes objects exists as written (server-side apply, forced, with its own field
    manager), or does not exist, through the cluster's API server.
  - Namespaces and CustomResourceDefinitions are applied first, and each CRD is awaited until it is Established
    before the objects of its kinds; the other objects are applied in parallel.
  - Every object is read first. An object whose live version already holds every field of its manifest is not
    written at all, so a re-run that changes nothing sends only read requests. When the live object differs, a
    dry-run apply (which writes nothing) says whether applying would change it.
  - Bad input loses nothing. Every object is checked by the API server (a dry-run apply, which runs its
    validation and the CRDs' schemas) before the first write; a refused object fails the task with the API
    server's words, naming the object, and nothing is written. Objects that need a Namespace or a CRD of the
    same task can only be checked once those exist; when one of them is refused, only those Namespaces and CRDs
    were written, and the failure says so.
  - O(expect) reports, or awaits, what the objects should bring about once controllers act on them (a condition,
    a Service's load-balancer address, ready replicas).
  - Talks to the API server directly with the Python standard library (no C(kubernetes) Python package needed).
    The kubeconfig's user must authenticate with a client certificate or a token; C(exec) and C(auth-provider)
    users are not supported yet. The client certificate and key are written to a 0600 file in the kubeconfig's
    own folder only for as long as it takes to load them.
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads every object and asks the API server for a dry-run apply of those that would change; writes
      nothing. Objects that need a Namespace or a CRD the task would create are shown as created, from their
      manifest.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
    details: One diff per object that changes, as YAML, before and after (the dry-run result in check mode). The
      values of Secrets are masked.
options:
  kubeconfig:
    description:
      - Path of the kubeconfig to use, such as the one M(talosforge.cluster.talos_kubeconfig) writes.
    type: path
    required: true
  context:
    description:
      - The kubeconfig context to use. Defaults to its C(current-context).
    type: str
  objects:
    description:
      - Kubernetes manifests, as mappings, each with C(apiVersion), C(kind) and C(metadata.name). Null entries
        (the empty documents of a multi-document YAML file read with C(from_yaml_all)) are skipped.
      - Namespaced objects without C(metadata.namespace) go to the context's namespace (C(default) when it names
        none).
      - C(status) and server-set metadata (C(managedFields), C(resourceVersion), C(uid)...) are ignored.
      - The values of C(Secret) objects (C(data), C(stringData)) are masked in the task's output, diffs and errors.
    type: list
    elements: dict
    default: []
  state:
    description:
      - V(present) applies the objects; V(absent) deletes those that exist (the others count as unchanged), the
        Namespaces and CRDs after the other objects.
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description:
      - The field manager of the server-side apply. Fields this manager set and a later task leaves out are
        removed by the API server; fields other managers own are taken over (the apply is forced).
    type: str
    default: talosforge
  expect:
    description:
      - What should hold once the objects are applied and their controllers acted on them. Each entry names one
        object and sets at most one of O(expect[].condition), O(expect[].address), O(expect[].ready); an entry
        with none of them expects only that the object exists (a Node registered).
      - While waiting, an API server that does not answer yet (starting) or a kind not served yet (its CRD being
        installed) count as not met, and are looked at again until O(wait_timeout).
      - With O(wait_timeout) V(0) they are only reported (RV(pending), RV(addresses)); otherwise the task waits
        for all of them and fails naming each one not met and why.
    type: list
    elements: dict
    default: []
    suboptions:
      apiVersion:
        description: The object's API version, such as V(apps/v1).
        type: str
        required: true
      kind:
        description: The object's kind, such as V(Deployment).
        type: str
        required: true
      name:
        description: The object's name.
        type: str
        required: true
      namespace:
        description: The object's namespace (for namespaced kinds; defaults to the context's namespace).
        type: str
      condition:
        description:
          - A condition type that must be C(True) in the object's C(status.conditions), such as V(Established) or
            V(Available).
        type: str
      address:
        description:
          - V(true) for a Service of type LoadBalancer that must have an address in
            C(status.loadBalancer.ingress); it is returned in RV(addresses).
        type: bool
      ready:
        description:
          - V(true) for a workload whose pods must be ready (a Deployment's available replicas, a StatefulSet's or
            DaemonSet's ready ones reach the desired number) or a Node whose C(Ready) condition must be C(True).
        type: bool
      revision:
        description:
          - For a Flux object, the revision it must have reached with its condition (O(expect[].condition), by
            default V(Ready)) C(True). A source's C(status.artifact.revision) or a Kustomization's
            C(status.lastAppliedRevision) must be the value, or end in C(:<value>) (Flux writes C(main@sha1:<commit>),
            so a commit id will do).
        type: str
      requested:
        description:
          - For a Flux object whose reconcile was requested with the annotation C(reconcile.fluxcd.io/requestedAt),
            the annotation's value - its controller must have handled that request (C(status.lastHandledReconcileAt))
            with its condition (O(expect[].condition), by default V(Ready)) C(True) since.
        type: str
  wait_timeout:
    description:
      - Seconds to wait for all of O(expect); V(0) checks them once and only reports them.
      - In check mode they are checked once and only reported, whatever this value.
    type: int
    default: 0
  parallel:
    description:
      - How many objects are read and written at the same time.
    type: int
    default: 8
notes:
  - A CRD's objects can be in the same task as the CRD itself.
  - Deleting does not wait for the objects to be gone (a Namespace's finalisation can take a while).
author:
  - talosforge.cluster contributors (@talosforge)
"""

EXAMPLES = r"""
- name: MetalLB pools and their advertisement
  talosforge.cluster.kube_objects:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    objects:
      - apiVersion: metallb.io/v1beta1
        kind: IPAddressPool
        metadata: {name: ingress-pool, namespace: metallb-system}
        spec: {addresses: [192.168.10.240/30]}
      - apiVersion: metallb.io/v1beta1
        kind: L2Advertisement
        metadata: {name: pools, namespace: metallb-system}
        spec: {ipAddressPools: [ingress-pool]}

- name: PowerDNS with its API key, and wait for its address
  talosforge.cluster.kube_objects:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    objects:
      - apiVersion: v1
        kind: Namespace
        metadata: {name: powerdns}
      - apiVersion: v1
        kind: Secret
        metadata: {name: powerdns-api, namespace: powerdns}
        stringData: {api-key: "{{ vault_powerdns_api_key }}"}
      - apiVersion: v1
        kind: Service
        metadata:
          name: powerdns
          namespace: powerdns
          annotations: {metallb.io/address-pool: dns-pool}
        spec:
          type: LoadBalancer
          selector: {app: powerdns}
          ports:
            - {name: dns-udp, port: 53, protocol: UDP}
            - {name: dns-tcp, port: 53, protocol: TCP}
    expect:
      - {apiVersion: v1, kind: Service, namespace: powerdns, name: powerdns, address: true}
    wait_timeout: 120
  register: powerdns

- name: Every node Ready once the CNI runs
  talosforge.cluster.kube_objects:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    expect:
      - {apiVersion: v1, kind: Node, name: cp-1, ready: true}
      - {apiVersion: v1, kind: Node, name: worker-1, ready: true}
      - {apiVersion: apps/v1, kind: DaemonSet, namespace: kube-system, name: cilium, ready: true}
    wait_timeout: 300

- name: Remove an object
  talosforge.cluster.kube_objects:
    kubeconfig: "{{ talos_output_dir }}/kubeconfig"
    state: absent
    objects:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: old, namespace: default}}
"""

RETURN = r"""
objects:
  description: One entry per object, in the order of O(objects), with what the task did to it.
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion:
      description: The object's API version.
      type: str
      sample: metallb.io/v1beta1
    kind:
      description: The object's kind.
      type: str
      sample: IPAddressPool
    namespace:
      description: The object's namespace; null for cluster-scoped kinds.
      type: str
      sample: metallb-system
    name:
      description: The object's name.
      type: str
      sample: ingress-pool
    action:
      description: What was done (would be done, in check mode).
      type: str
      choices: [created, updated, unchanged, deleted]
      sample: unchanged
pending:
  description:
    - The O(expect) entries not met (yet), each with C(why), when O(wait_timeout) is V(0) or in check mode.
  returned: always
  type: list
  elements: dict
  sample:
    - {apiVersion: v1, kind: Service, namespace: powerdns, name: powerdns, address: true,
       why: "no load-balancer address assigned yet (is the pool it is pinned to there and not full?)"}
addresses:
  description: The load-balancer address of each Service expected with C(address), keyed C(<namespace>/<name>).
  returned: always
  type: dict
  sample: {powerdns/powerdns: 192.168.10.244}
api_requests:
  description: Requests sent to the API server, by HTTP method (a run that changes nothing sends only C(GET)).
  returned: always
  type: dict
  sample: {GET: 23}
failures:
  description: When the task fails, one entry per refused object or unmet expectation, naming it, with the API
    server's words and the request's C(failure) details.
  returned: failure
  type: list
  elements: dict
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.compare import mask_text, secret_values
from ansible_collections.talosforge.cluster.plugins.module_utils._kube.objects_apply import run
from ansible_collections.talosforge.cluster.plugins.module_utils._module import run_module


def argument_spec() -> dict[str, Any]:
    return {
        "kubeconfig": {"type": "path", "required": True},
        "context": {"type": "str"},
        "objects": {"type": "list", "elements": "dict", "default": []},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "field_manager": {"type": "str", "default": "talosforge"},
        "expect": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "apiVersion": {"type": "str", "required": True},
                "kind": {"type": "str", "required": True},
                "name": {"type": "str", "required": True},
                "namespace": {"type": "str"},
                "condition": {"type": "str"},
                "address": {"type": "bool"},
                "ready": {"type": "bool"},
                "revision": {"type": "str"},
                "requested": {"type": "str"},
            },
        },
        "wait_timeout": {"type": "int", "default": 0},
        "parallel": {"type": "int", "default": 8},
    }


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    secrets = secret_values(module.params["objects"])
    module.no_log_values.update(secrets)  # Ansible masks them in the result, the invocation and the logs

    def mask(text: str) -> str:
        return mask_text(text, secrets)

    run_module(module, lambda: run(module.params, module.check_mode), mask)


if __name__ == "__main__":
    main()
