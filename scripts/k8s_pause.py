"""The pause image of the cluster's Pod sandboxes, as a one-layer OCI archive: the static
`pause` binary built from the Kubernetes sources (scripts/k8s-build.sh), nothing else.
No image can be pulled here, so the cluster's containerd imports this one.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

PAUSE_IMAGE = "docker.io/xc-k8s/pause:3.4"
_LAYER = "application/vnd.oci.image.layer.v1.tar"
_CONFIG = "application/vnd.oci.image.config.v1+json"
_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    archive.addfile(info, io.BytesIO(data))


def _layer(pause: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as layer:
        _add(layer, "pause", pause, 0o755)
    return out.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_archive(pause_binary: Path, target: Path) -> None:
    """An OCI image layout archive of the pause image, for `ctr images import`."""
    layer = _layer(pause_binary.read_bytes())
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer)]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": _MANIFEST,
            "config": {"mediaType": _CONFIG, "digest": _digest(config), "size": len(config)},
            "layers": [{"mediaType": _LAYER, "digest": _digest(layer), "size": len(layer)}],
        }
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": _MANIFEST,
                    "digest": _digest(manifest),
                    "size": len(manifest),
                    "annotations": {
                        "io.containerd.image.name": PAUSE_IMAGE,
                        "org.opencontainers.image.ref.name": "3.4",
                    },
                }
            ],
        }
    ).encode()
    with tarfile.open(target, mode="w") as archive:
        _add(archive, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        for blob in (layer, config, manifest):
            _add(archive, "blobs/sha256/" + _digest(blob).split(":", 1)[1], blob)
        _add(archive, "index.json", index)


if __name__ == "__main__":
    import sys

    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make k8s-up"))
