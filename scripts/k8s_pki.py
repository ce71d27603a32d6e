"""The certificates and kubeconfigs of the single-node cluster of `make k8s-up`, made with
openssl: a CA, the API server's serving certificate (loopback only), the client
certificates of the API server (to the kubelet), the admin, the controller-manager, the
scheduler and the kubelet, the kubelet's serving certificate, and the service accounts'
key pair. Everything is valid for 30 days and lives in the cluster's folder.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_DAYS = "30"


@dataclass(frozen=True)
class Identity:
    """A certificate's name: its file stem, common name, organisation and SANs."""

    stem: str
    cn: str
    org: str = ""
    sans: tuple[str, ...] = ()
    server: bool = False


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_ca(pki: Path) -> None:
    _openssl("genrsa", "-out", str(pki / "ca.key"), "2048")
    _openssl(
        "req", "-x509", "-new", "-nodes", "-key", str(pki / "ca.key"), "-days", _DAYS,
        "-subj", "/CN=xc-k8s-ca", "-out", str(pki / "ca.crt"),
    )  # fmt: skip


def make_cert(pki: Path, who: Identity) -> None:
    """`who.stem`.key and .crt, signed by the CA."""
    key, csr, crt = (pki / f"{who.stem}.{ext}" for ext in ("key", "csr", "crt"))
    subject = f"/CN={who.cn}" + (f"/O={who.org}" if who.org else "")
    _openssl("genrsa", "-out", str(key), "2048")
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    usage = "serverAuth" if who.server else "clientAuth"
    ext = pki / f"{who.stem}.ext"
    lines = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
    ]
    if who.sans:
        lines.append("subjectAltName=" + ",".join(who.sans))
    ext.write_text("\n".join(lines) + "\n")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"), "-CAkey",
        str(pki / "ca.key"), "-CAcreateserial", "-days", _DAYS, "-extfile", str(ext),
        "-out", str(crt),
    )  # fmt: skip
    csr.unlink()
    ext.unlink()


def make_service_account_keys(pki: Path) -> None:
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def identities(advertise_ip: str) -> list[Identity]:
    loopback = ("DNS:localhost", "IP:127.0.0.1")
    service = ("DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc")
    apiserver_sans = (*loopback, *service, "IP:10.96.0.1", f"IP:{advertise_ip}")
    return [
        Identity("apiserver", "kube-apiserver", sans=apiserver_sans, server=True),
        Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
        Identity("admin", "xc-k8s-admin", "system:masters"),
        Identity("controller-manager", "system:kube-controller-manager"),
        Identity("scheduler", "system:kube-scheduler"),
        Identity("kubelet", "system:node:localhost", "system:nodes"),
        Identity("kubelet-serving", "localhost", sans=loopback, server=True),
    ]


def kubeconfig(pki: Path, server: str, stem: str, namespace: str = "default") -> str:
    """A kubeconfig of one user, the client certificate `stem`, for the cluster at `server`."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: xc-k8s
  cluster:
    certificate-authority: {pki / "ca.crt"}
    server: {server}
users:
- name: {stem}
  user:
    client-certificate: {pki / f"{stem}.crt"}
    client-key: {pki / f"{stem}.key"}
contexts:
- name: {stem}@xc-k8s
  context:
    cluster: xc-k8s
    user: {stem}
    namespace: {namespace}
current-context: {stem}@xc-k8s
"""


def make_all(pki: Path, advertise_ip: str) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    pki.chmod(0o700)
    make_ca(pki)
    for who in identities(advertise_ip):
        make_cert(pki, who)
    make_service_account_keys(pki)


if __name__ == "__main__":
    import sys

    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make k8s-up"))
