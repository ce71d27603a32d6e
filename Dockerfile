# The runner itself, for compose.yaml and for deployments that run it as a
# container (with the engine's socket mounted). Build it with
# `make runner-image`: the Python dependencies are installed on the host into
# build/runner-site for the base image's Python (no pip needed in the image).
ARG PYTHON_BASE=python:3.12-slim
FROM ${PYTHON_BASE}
COPY build/runner-site /opt/xc-runner/site
COPY runner /opt/xc-runner/site/runner
COPY schemas /opt/xc-runner/site/runner/_schemas
ENV PYTHONPATH=/opt/xc-runner/site \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XC_RUNNER_STATE_DIR=/var/lib/xc-runner/state
WORKDIR /var/lib/xc-runner
# The status outbox and task journal: keep it on a volume across restarts.
VOLUME /var/lib/xc-runner/state
ENTRYPOINT ["python3", "-m", "runner"]
CMD ["--help"]
