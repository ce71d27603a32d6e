# The runner itself, for compose.yaml, the Swarm stack and the Kubernetes manifests
# (with the engine's socket mounted). Build it with `make runner-image`: the Python
# dependencies are installed on the host into build/runner-site for the base image's
# Python (no pip needed in the image), and the build arguments below are filled in.
#
# The base is pinned by digest where a registry is used (re-resolve it with
# `docker buildx imagetools inspect python:3.12-slim` when bumping); a machine with no
# registry builds its own base and passes it (build/base-images.env, PYTHON_BASE).
ARG PYTHON_BASE=python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea
FROM ${PYTHON_BASE}
ARG PYTHON_BASE
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="xc-scenario-runner" \
      org.opencontainers.image.description="A worker for the XC Scenario platform that runs every task as a short-lived, isolated container" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${PYTHON_BASE}"
# Not root: uid and gid 10001. The engine's socket is reached through its group, given
# at run time (compose: group_add; Swarm: user 10001:<gid>; Kubernetes:
# supplementalGroups), as the socket's gid differs from host to host.
RUN groupadd --system --gid 10001 xc-runner \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/xc-runner \
        --no-create-home --shell /usr/sbin/nologin xc-runner \
 && mkdir -p /var/lib/xc-runner/state /var/lib/xc-runner/server \
 && chown -R 10001:10001 /var/lib/xc-runner
COPY build/runner-site /opt/xc-runner/site
COPY runner /opt/xc-runner/site/runner
COPY schemas /opt/xc-runner/site/runner/_schemas
COPY task_images/sdk /opt/xc-runner/site/runner/_sdk
ENV PYTHONPATH=/opt/xc-runner/site \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XC_RUNNER_STATE_DIR=/var/lib/xc-runner/state \
    XC_RUNNER_HTTP_ADDR=0.0.0.0:9180
WORKDIR /var/lib/xc-runner
# The status outbox and task journal: keep it on a volume across restarts.
VOLUME /var/lib/xc-runner/state
USER 10001:10001
EXPOSE 9180
# The runner's /healthz on its operations listener (XC_RUNNER_HTTP_ADDR's port). A
# container of this image running another command (serve, submit) sets its own check.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request as u; p = os.environ.get('XC_RUNNER_HTTP_ADDR', ':9180').rpartition(':')[2]; u.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4)"]
ENTRYPOINT ["python3", "-m", "runner"]
CMD ["--help"]
