# The two commands a newcomer needs:
#   make local   set everything up and deploy the `local` stack to a Kubernetes cluster on this machine
#   make test    set everything up and run the whole test suite (unit, components, e2e with the real engine)
# and, once `make local` ran:
#   make demo    play a whole rollout against real traffic: a healthy promote, a bad version aborted
#   make down    stop everything `make local` started and undo every change it made to the host
# The inner loop, which needs only the virtualenv (no Go build, no cluster, no root):
#   make check   ruff, mypy and the tests of the `check` lane (unit, components under mocks, CLI, policy)
.PHONY: setup lint lint-python lint-shell toolchain cluster prometheus browser dataplane local demo down test check bench

VENV := .venv

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# Part of `make test`: ruff (lint and format) and mypy over the packages; shellcheck and shfmt over
# the scripts (Debian's packages, installed if missing).
lint: lint-python lint-shell

lint-python: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lint-shell:
	bash scripts/lint-shell.sh

# The tests that need only the virtualenv (tests/conftest.py gives each folder its lane); actionlint's
# tests skip, saying why, until scripts/actionlint.sh has built it. Spread over every core (pytest-xdist).
check: lint-python
	STAGEWISE_LANE=check $(VENV)/bin/python -m pytest -q -m check -n auto

# The Pulumi CLI, its Python language host and the Kubernetes provider, built from Go modules.
toolchain: setup
	bash scripts/toolchain.sh

cluster: toolchain
	bash scripts/cluster.sh build

# Prometheus for the stage-gate tests and benchmark (Debian's package; installed only if missing).
prometheus:
	bash scripts/prometheus.sh >/dev/null

# Debian's chromium for the dashboard's browser test (tests/e2e/test_live_view.py); installed only if missing.
browser:
	bash scripts/browser.sh >/dev/null

# The node that runs real containers (Debian's containerd, runc, CNI plugins; the kubelet), Traefik as
# the gateway, and the demo app's images, built on this machine.
dataplane: cluster prometheus
	bash scripts/dataplane.sh install
	bash scripts/dataplane.sh build

local: dataplane
	bash scripts/local.sh up

demo: local
	bash -c '. scripts/env.sh && python -m stagewise.tools.demo'

down:
	bash scripts/local.sh down

test: lint dataplane browser
	bash scripts/test.sh

bench: dataplane
	$(VENV)/bin/python bench/plan_bench.py
	$(VENV)/bin/python bench/parse_count.py
	$(VENV)/bin/python bench/analyze_bench.py
	$(VENV)/bin/python bench/gate_quality.py
	bash -c '. scripts/env.sh && python bench/local_up_bench.py'
	bash -c '. scripts/env.sh && python bench/canary_pull_bench.py'
