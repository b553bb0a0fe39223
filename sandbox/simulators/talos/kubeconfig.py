"""The admin kubeconfig a control-plane node hands out (``talosctl kubeconfig`` asks for it)."""

from __future__ import annotations

import datetime

from . import pki, yamlio
from .durations import parse_duration


def admin_kubeconfig(config_text: str) -> str:
    """A kubeconfig for ``admin@<cluster>``: server = the config's control-plane endpoint, a client certificate
    (O=system:masters, CN=admin) signed by the cluster CA, valid for ``cluster.adminKubeconfig.certLifetime``
    (one year by default)."""
    documents = yamlio.load_documents(config_text)
    cluster = next(document for document in documents if "kind" not in document).get("cluster") or {}
    name = str(cluster.get("clusterName") or "talos")
    ca = pki.CertAndKey(pki.unb64(cluster["ca"]["crt"]), pki.unb64(cluster["ca"]["key"]))
    lifetime = (cluster.get("adminKubeconfig") or {}).get("certLifetime")
    validity = datetime.timedelta(seconds=parse_duration(lifetime)) if lifetime else pki.ADMIN_VALIDITY
    client = pki.issue_client(ca, ["system:masters"], "admin", validity)
    user = f"admin@{name}"
    return yamlio.dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {
                        "server": cluster["controlPlane"]["endpoint"],
                        "certificate-authority-data": pki.b64(ca.crt),
                    },
                }
            ],
            "contexts": [{"name": user, "context": {"cluster": name, "namespace": "default", "user": user}}],
            "current-context": user,
            "users": [
                {
                    "name": user,
                    "user": {"client-certificate-data": pki.b64(client.crt), "client-key-data": pki.b64(client.key)},
                }
            ],
        }
    )
