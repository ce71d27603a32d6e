# The two commands a user needs are `make run` and `make test`; both set up
# everything first (venv, Docker engine, base and task images), the steps that
# do not depend on each other at once (scripts/set_up.py).

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
STAMP_DEV   := $(VENV)/.installed-dev
TASK_IMAGES ?= xc-tasks/sample:latest xc-tasks/textstats-node:latest \
               xc-tasks/numbers-go:latest xc-tasks/greet-sh:latest
# Task images built at once by `make images` (the engine builds them side by side).
IMAGE_JOBS  ?= 4
SET_UP      := $(PYTHON) -m scripts.set_up
PYTEST_ARGS ?=
# GVISOR=1: `make test` and `make bench` also set up gVisor (`make gvisor`, root),
# so its tests run instead of skipping; on by default under CI=true.
ifneq ($(filter 1 true yes,$(CI)),)
GVISOR      ?= 1
endif
GVISOR      ?= 0
WITH_GVISOR := $(if $(filter 1 true yes,$(GVISOR)),gvisor)
# K8S=1: `make test` also starts the single-node Kubernetes (`make k8s-up`: built once per
# machine, about 5 minutes on 2 quiet cores, 15 on busy ones), so the Kubernetes engine's
# tests run instead of skipping, and stops it afterwards; on by default under CI=true.
ifneq ($(filter 1 true yes,$(CI)),)
K8S         ?= 1
endif
K8S         ?= 0
WITH_K8S    := $(filter 1 true yes,$(K8S))

.PHONY: run test lint sdk-test toolchains images base-images base-tools runner-image engine \
        gvisor venv venv-dev set-up set-up-dev compose dist bench bench-first-run bench-submit \
        soak compose-up clean swarm-up swarm-down swarm-nodes browser axe screenshot registry \
        promtool docs docs-serve k8s-up k8s-down bench-k8s

# The set-up, then the demo (or the runner, for a platform). On a first run the demo
# starts as soon as the venv and the engine are ready, and each task image joins it
# once it is built (docs/getting-started.md).
run:
ifdef XC_SCENARIO_SERVER
	@$(SET_UP) --images "$(TASK_IMAGES)" -- $(PY) -m runner run $(TASK_IMAGES)
else
	@$(SET_UP) --images "$(TASK_IMAGES)" --early -- \
	    $(PY) -m runner demo --await-images $(TASK_IMAGES)
endif

test: set-up-dev compose browser registry $(WITH_GVISOR) lint sdk-test
ifneq ($(WITH_K8S),)
	$(MAKE) -o images k8s-up  # set-up-dev has built the task images
	$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; $(MAKE) k8s-down; exit $$status
else
	$(VENV)/bin/pytest $(PYTEST_ARGS)
endif

# A real single-node Kubernetes 1.20 on this machine, for the Kubernetes engine
# (docs/running/kubernetes.md): Debian packages, then the binaries built once per machine
# from Debian's source package into XC_K8S_CACHE (~/.cache/xc-runner/k8s-1.20.2; 6 to 15
# minutes, niced), then etcd, the control plane, a containerd of its own and a kubelet, all
# on loopback; the task images imported. Its kubeconfig: build/k8s/kubeconfig. Root.
# `make k8s-down` stops it and removes everything it started.
k8s-up: venv images
	sh scripts/k8s-packages.sh
	sh scripts/k8s-build.sh
	$(PY) -m scripts.k8s_cluster up $(TASK_IMAGES)

k8s-down: venv
	$(PY) -m scripts.k8s_cluster down

# The Kubernetes engine beside the Docker engine, in one run (docs/running/figures.md):
# cold Pod latency, warm Pod hand-out, throughput at concurrency 4. Not run by `make test`.
bench-k8s: venv images k8s-up
	$(PY) scripts/bench_kube.py

# The set-up alone: venv, engine, base and task images (set-up-dev: the venv with the
# development extras).
set-up:
	@$(SET_UP)

set-up-dev:
	@$(SET_UP) --venv venv-dev

# Debian's docker-registry and apache2-utils (htpasswd) on the host, for the registry
# tests, which start registries of their own on loopback ports. Debian packages; root.
registry:
	sh scripts/ensure-registry.sh

# promtool on the host, for the alerting rules (Debian's prometheus package; root).
promtool:
	sh scripts/ensure-promtool.sh

# Debian's chromium, chromium-driver and npm on the host, for the cockpit's browser
# tests (selenium drives the browser; nothing is downloaded but axe-core). Root.
browser:
	sh scripts/ensure-chromium.sh
	$(MAKE) axe

# axe-core from npm, for the cockpit's accessibility test, into build/axe (git ignores
# build/); the test installs it itself when it is missing.
AXE_VERSION := 4.10.3
axe:
	test -f build/axe/node_modules/axe-core/axe.min.js || \
	    npm install --prefix build/axe --no-audit --no-fund --save-exact axe-core@$(AXE_VERSION)

# docs/cockpit.png and docs/cockpit-*.png (dark, instance, failures, sorted, bulk, paused,
# phone), the pictures of the cockpit in the README and the site: the browser test, once
# more, with tasks in every state.
screenshot: venv-dev engine images browser
	XC_COCKPIT_SCREENSHOT=docs/cockpit.png $(VENV)/bin/pytest -q \
	    tests/integration/test_cockpit_browser.py -k screenshot

# ruff (style, complexity, and which module may import which library), mypy --strict,
# import-linter (the layers: pyproject.toml [tool.importlinter]), the manifests, the
# alerting rules and their unit tests (promtool), and the documentation site built strictly
# (a broken link or anchor fails).
lint: venv-dev promtool
	$(VENV)/bin/ruff check runner tests scripts task_images
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m scripts.validate_manifests
	promtool check rules deploy/prometheus/alerts.yaml
	promtool test rules deploy/prometheus/alerts.test.yaml
	$(MKDOCS) build --strict

# The documentation site (mkdocs.yml, docs/): built into build/site, offline.
# MkDocs' and the theme's banners about their future versions are off.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs
docs: venv-dev
	$(MKDOCS) build --strict

# The site on http://127.0.0.1:$(DOCS_PORT)/, rebuilt when a page changes.
DOCS_PORT ?= 8000
docs-serve: venv-dev
	$(MKDOCS) serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

# The task SDKs' own tests, in their languages (the shell SDK's run from pytest).
sdk-test: toolchains
	test -z "$$(gofmt -l task_images runner/templates)" || { gofmt -l task_images runner/templates; exit 1; }
	cd task_images/sdk/go && GOPROXY=off go vet ./... && GOPROXY=off go test -count=1 ./...
	cd task_images/numbers-go && GOPROXY=off go vet ./... && GOPROXY=off go test -count=1 ./...
	node --test task_images/sdk/node/xc_task.test.js task_images/sdk/node/xc_task_testing.test.js \
	    task_images/sdk/node/xc_task_structured.test.js

# Go, Node.js, jq and dash on the host, for the SDKs' tests (Debian packages; root).
toolchains:
	sh scripts/ensure-toolchains.sh

# One virtual environment: `venv` installs what running needs (what `make run` uses),
# `venv-dev` adds the development extras (pytest, mypy, ruff, MkDocs, ...) to it.
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
venv: $(STAMP)

venv-dev: $(STAMP_DEV)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(STAMP_DEV): $(STAMP)
	$(PIP) -e '.[dev]'
	touch $@

engine:
	./scripts/ensure-engine.sh

# docker-compose (Debian package), for `make compose-up` and its test.
compose:
	sh scripts/ensure-compose.sh

# gVisor's runsc runtime registered with the engine (Debian package; root).
gvisor: engine
	sh scripts/ensure-gvisor.sh

base-images: engine
	sh scripts/build-base-images.sh

# mmdebstrap, which builds the base images where no registry answers (Debian package).
base-tools:
	sh scripts/build-base-images.sh tools

# The sample task images, by `xc-runner build` (scripts/build_images.py gives it their
# shared build context, task_images/, and the base images of build/base-images.env).
images: venv base-images
	$(PY) -m scripts.build_images --jobs $(IMAGE_JOBS)

# The runner's wheel, in build/dist/: what `pip install` installs, with the schemas, the
# templates of `xc-runner new` and the task SDKs inside.
dist: venv
	rm -rf build/dist
	$(PY) -m pip wheel --quiet --no-deps -w build/dist .

bench: venv engine images $(WITH_GVISOR)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_usage.py

# How fast many task instances are queued on the local server: one request each (the
# baseline), `submit --from-file` (10,000), the bulk endpoint (100,000). No engine needed.
bench-submit: venv
	$(PY) -m scripts.bench_submit

# The first `make run` of a newcomer, on a bare machine in a container (an engine of its
# own inside; the Python packages from a wheelhouse downloaded here first), then a second
# one: when their outcomes came, and each set-up step's time. Several minutes; a quiet machine.
bench-first-run: venv base-images
	$(PY) -m scripts.bench_first_run

# SOAK_TASKS tasks (default 20,000) through the runner with its default settings, against the
# local server: its RSS, open descriptors, threads and state file every 1,000 tasks; fails if
# the RSS grows by 5 MiB or more after the first 1,000, or the state file reaches 1 MB.
# About 50 minutes of both cores at 20,000: run it on a quiet machine. Not run by `make test`.
SOAK_TASKS ?= 20000
soak: venv engine images
	SOAK_TASKS=$(SOAK_TASKS) $(PY) scripts/soak.py

runner-image: venv base-images
	$(PY) -m scripts.build_runner_image

# compose.yaml reads the API key from a file (a secret, never the environment) and
# reaches the engine's socket through its group: a random key is made once in
# .local/compose-apikey (the folder private, the file readable by the runner's uid).
COMPOSE_KEY_FILE ?= $(CURDIR)/.local/compose-apikey
compose-up: compose images runner-image
	mkdir -p .local && chmod 700 .local
	test -s $(COMPOSE_KEY_FILE) || (umask 022 && $(PY) -c \
	    'import secrets; print(secrets.token_urlsafe(24))' > $(COMPOSE_KEY_FILE))
	XC_COMPOSE_APIKEY_FILE=$(COMPOSE_KEY_FILE) DOCKER_GID=$$(stat -c %g /var/run/docker.sock) \
	    docker-compose -f compose.yaml up

# The stack of deploy/swarm/ (docs/running/swarm.md). swarm-up makes a single-node
# swarm if the engine is in none and leaves it (`docker swarm leave --force`).
SWARM_STACK   ?= xc
SWARM_RUNNERS ?= 3
swarm-up: images runner-image
	$(PY) -m scripts.swarm up --name $(SWARM_STACK) --runners $(SWARM_RUNNERS)

swarm-down: venv
	$(PY) -m scripts.swarm down --name $(SWARM_STACK)

# Two more engines in containers join a swarm of their own as workers; the
# runners' throughput on 1 and 3 nodes (docs/running/swarm.md). Not run by `make test`.
swarm-nodes: images runner-image
	$(PY) -m scripts.swarm_nodes

clean:
	-docker ps -aq --filter label=xc-scenario.runner-id | xargs -r docker rm -f
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
