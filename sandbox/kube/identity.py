"""The client identity of a sandbox stand-in process: its own certificate, signed by the cluster's CA.

Each stand-in (LB-IPAM, the hcloud CCM, the PowerDNS runner) talks to the cluster's real kube-apiserver as itself, in
``system:masters``, so that the audit log tells its requests from the collection's. The certificate is written once
under ``<cluster dir>/<folder>/`` and reused.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import certs
from .client import Api
from .machine_config import v1alpha1


def stand_in_api(cluster_dir: Path, folder_name: str, user: str) -> Api:
    """An API client of the cluster in ``cluster_dir`` with the stand-in ``user``'s own client certificate."""
    apiserver = json.loads((cluster_dir / "apiserver" / "apiserver.json").read_text())
    pki_dir = cluster_dir / "apiserver" / "pki"
    folder = cluster_dir / folder_name
    if not (folder / "client.crt").exists():
        ca = certs.ClusterPKI.from_config(v1alpha1((cluster_dir / "bootstrap-config.yaml").read_text())).kubernetes
        certs.write_pair(folder, "client", certs.issue_client(ca, user, ["system:masters"]))
    return Api(apiserver["url"], pki_dir / "ca.crt", folder / "client.crt", folder / "client.key")
