"""The configuration files and command lines of the single-node cluster of `make k8s-up`.

Everything listens on loopback, on ports the OS hands out; the cluster has a containerd
of its own (its own root, state, socket and runc root, never the Docker engine's), a
CNI bridge that is no gateway (Pods reach neither the host nor any other machine, and
nothing is masqueraded), no kube-proxy (the host's iptables rules are left alone), and
the kubelet's cgroups under /xc-k8s (never Docker's).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

from scripts.k8s_pause import PAUSE_IMAGE

NODE_NAME = "localhost"  # the API server reaches the kubelet by this name: loopback
CGROUP_ROOT = "/xc-k8s"
BRIDGE = "xck8s0"
POD_SUBNET = "10.244.77.0/24"
SERVICE_RANGE = "10.96.0.0/24"
# The process limit of every Pod (the kubelet's podPidsLimit: Kubernetes 1.20 has no
# per-Pod field), the runner's default for a task (runner.core.policy) plus the sandbox.
POD_PIDS_LIMIT = 258
# Set by the kubelet at start (it cannot be told not to); put back by `make k8s-down`.
KERNEL_TUNABLES = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)
# No component may look up a cloud's metadata address.
NO_CLOUD = {"AWS_EC2_METADATA_DISABLED": "true"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Layout:
    """Where the cluster keeps everything: one folder, removed by `make k8s-down`."""

    base: Path

    @property
    def socket(self) -> Path:
        return self.base / "run" / "containerd.sock"

    @property
    def kubeconfig(self) -> Path:
        return self.base / "kubeconfig"


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    kubelet: int

    @classmethod
    def pick(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port())

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


def containerd_toml(layout: Layout) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{layout.base / "containerd" / "root"}"
state = "{layout.base / "run" / "containerd-state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{layout.socket}"

[ttrpc]
  address = "{layout.socket}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.base / "containerd" / "opt"}"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false
  max_container_log_line_size = 16384

# No registry is reachable from here: a pull from Docker Hub goes to a closed loopback
# port and fails at once (Pods use imported images, imagePullPolicy Never).
[{cri}.registry]
  config_path = "{layout.base / "registry"}"

[{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{layout.base / "cni"}"

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  Root = "{layout.base / "run" / "runc"}"
  SystemdCgroup = false
"""


def registry_hosts() -> str:
    return 'server = "http://127.0.0.1:9"\n'


def cni_conflist(layout: Layout) -> str:
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": "xc-k8s",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": False,
                    "ipMasq": False,
                    "hairpinMode": False,
                    "ipam": {
                        "type": "host-local",
                        "subnet": POD_SUBNET,
                        "routes": [],
                        "dataDir": str(layout.base / "run" / "ipam"),
                    },
                }
            ],
        },
        indent=2,
    )


def kubelet_yaml(layout: Layout, ports: Ports) -> str:
    pki = layout.base / "pki"
    return f"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: {ports.kubelet}
readOnlyPort: 0
healthzPort: 0
tlsCertFile: {pki / "kubelet-serving.crt"}
tlsPrivateKeyFile: {pki / "kubelet-serving.key"}
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {pki / "ca.crt"}}}
authorization: {{mode: Webhook}}
cgroupDriver: cgroupfs
cgroupRoot: {CGROUP_ROOT}
failSwapOn: false
makeIPTablesUtilChains: false
podPidsLimit: {POD_PIDS_LIMIT}
maxPods: 60
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {{memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}}
volumePluginDir: {layout.base / "kubelet" / "volume-plugins"}
resolvConf: ""
clusterDomain: cluster.local
syncFrequency: 10s
fileCheckFrequency: 0s
httpCheckFrequency: 0s
nodeStatusUpdateFrequency: 10s
"""


def etcd_command(layout: Layout, ports: Ports) -> list[str]:
    client, peer = f"http://127.0.0.1:{ports.etcd_client}", f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        "etcd", "--name=xc-k8s", f"--data-dir={layout.base / 'etcd'}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=xc-k8s={peer}", "--listen-metrics-urls=",
        "--log-level=warn", "--quota-backend-bytes=1073741824",
    ]  # fmt: skip


def apiserver_command(layout: Layout, ports: Ports, advertise_ip: str, binary: Path) -> list[str]:
    pki = layout.base / "pki"
    return [
        str(binary), f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
        "--bind-address=127.0.0.1", f"--secure-port={ports.apiserver}", "--insecure-port=0",
        f"--advertise-address={advertise_ip}", "--endpoint-reconciler-type=none",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        "--kubelet-preferred-address-types=Hostname",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_RANGE}",
        "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=false", "--profiling=false", "--anonymous-auth=false",
        "--event-ttl=10m", "--v=0",
    ]  # fmt: skip


def controller_manager_command(layout: Layout, binary: Path) -> list[str]:
    pki = layout.base / "pki"
    return [
        str(binary), f"--kubeconfig={layout.base / 'controller-manager.kubeconfig'}",
        "--leader-elect=false", "--port=0", "--secure-port=0",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={pki / 'ca.crt'}", "--use-service-account-credentials=true",
        "--controllers=*,-nodeipam,-service,-route,-cloud-node-lifecycle",
        "--profiling=false", "--v=0",
    ]  # fmt: skip


def scheduler_command(layout: Layout, binary: Path) -> list[str]:
    return [
        str(binary), f"--kubeconfig={layout.base / 'scheduler.kubeconfig'}",
        "--leader-elect=false", "--port=0", "--secure-port=0", "--profiling=false", "--v=0",
    ]  # fmt: skip


def kubelet_command(layout: Layout, binary: Path) -> list[str]:
    return [
        str(binary), f"--config={layout.base / 'kubelet.yaml'}",
        f"--kubeconfig={layout.base / 'kubelet.kubeconfig'}",
        "--container-runtime=remote", f"--container-runtime-endpoint=unix://{layout.socket}",
        f"--root-dir={layout.base / 'kubelet'}", f"--cert-dir={layout.base / 'kubelet' / 'pki'}",
        f"--hostname-override={NODE_NAME}", "--register-node=true", "--v=0",
    ]  # fmt: skip


if __name__ == "__main__":
    import sys

    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make k8s-up"))
