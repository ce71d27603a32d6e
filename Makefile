# The two commands a user needs are `make run` and `make test`; both set up
# everything first (venv, Docker engine, base and task images).

PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
TASK_IMAGES ?= xc-tasks/sample:latest xc-tasks/textstats-node:latest \
               xc-tasks/numbers-go:latest xc-tasks/greet-sh:latest
PYTEST_ARGS ?=
# GVISOR=1: `make test` and `make bench` also set up gVisor (`make gvisor`, root),
# so its tests run instead of skipping; on by default under CI=true.
ifneq ($(filter 1 true yes,$(CI)),)
GVISOR      ?= 1
endif
GVISOR      ?= 0
WITH_GVISOR := $(if $(filter 1 true yes,$(GVISOR)),gvisor)

.PHONY: run test lint sdk-test toolchains images base-images runner-image engine gvisor venv \
        bench soak compose-up clean swarm-up swarm-down swarm-nodes browser axe screenshot \
        registry \
        docs docs-serve

run: venv engine images
ifdef XC_SCENARIO_SERVER
	$(PY) -m runner run $(TASK_IMAGES)
else
	$(PY) -m runner demo $(TASK_IMAGES)
endif

test: venv engine images browser registry $(WITH_GVISOR) lint sdk-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Debian's docker-registry and apache2-utils (htpasswd) on the host, for the registry
# tests, which start registries of their own on loopback ports. Debian packages; root.
registry:
	sh scripts/ensure-registry.sh

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
screenshot: venv engine images browser
	XC_COCKPIT_SCREENSHOT=docs/cockpit.png $(VENV)/bin/pytest -q \
	    tests/integration/test_cockpit_browser.py -k screenshot

# ruff (style, complexity, and which module may import which library), mypy --strict,
# import-linter (the layers: pyproject.toml [tool.importlinter]), the manifests, and the
# documentation site built strictly (a broken link or anchor fails).
lint: venv
	$(VENV)/bin/ruff check runner tests scripts task_images
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m scripts.validate_manifests
	$(MKDOCS) build --strict --quiet

# The documentation site (mkdocs.yml, docs/): built into build/site, offline.
# MkDocs' and the theme's banners about their future versions are off.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs
docs: venv
	$(MKDOCS) build --strict

# The site on http://127.0.0.1:$(DOCS_PORT)/, rebuilt when a page changes.
DOCS_PORT ?= 8000
docs-serve: venv
	$(MKDOCS) serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

# The task SDKs' own tests, in their languages (the shell SDK's run from pytest).
sdk-test: toolchains
	test -z "$$(gofmt -l task_images runner/templates)" || { gofmt -l task_images runner/templates; exit 1; }
	cd task_images/sdk/go && GOPROXY=off go vet ./... && GOPROXY=off go test -count=1 ./...
	cd task_images/numbers-go && GOPROXY=off go vet ./... && GOPROXY=off go test -count=1 ./...
	node --test task_images/sdk/node/xc_task.test.js

# Go, Node.js, jq and dash on the host, for the SDKs' tests (Debian packages; root).
toolchains:
	sh scripts/ensure-toolchains.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

engine:
	./scripts/ensure-engine.sh

# gVisor's runsc runtime registered with the engine (Debian package; root).
gvisor: engine
	sh scripts/ensure-gvisor.sh

base-images: engine
	sh scripts/build-base-images.sh

images: venv base-images
	$(PY) -m scripts.build_images

bench: venv engine images $(WITH_GVISOR)
	$(PY) scripts/bench.py

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
compose-up: images runner-image
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
