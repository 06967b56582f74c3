# Two commands on a fresh machine with python3 and make: `make run` and `make test`.
# uv comes from PyPI into .tools/ when it is not installed; it uses this machine's python3 and
# never downloads an interpreter.

PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
RUN := $(UV) run --frozen --no-sync

.PHONY: run serve test check lint lint-deploy typecheck format clean install

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

install: .venv/.synced

## Migrate, then serve on http://127.0.0.1:8000 on the embedded default (SQLite under ./var/,
## in-process backends).
run: install
	$(RUN) example-service db upgrade
	$(RUN) example-service serve --host 127.0.0.1 --port 8000

## The whole suite, with coverage of src/ (>= 90 %).
test: install
	$(RUN) pytest --cov --cov-report=term $(PYTEST_ARGS)

# lint-deploy only where the deployment files are (a generated project may leave them out).
lint: install $(if $(wildcard Dockerfile),lint-deploy)
	$(RUN) ruff check src tests bench scripts
	$(RUN) ruff format --check src tests bench scripts

## The deployment files, statically (no container engine needed): the Dockerfile (hadolint,
## checkov), compose*.yaml (the Compose Specification schema), deploy/k8s (the API schemas of
## Kubernetes $(K8S_VERSION), strict; checkov). The tools are the deploy-lint dependency group,
## except checkov: it pins packaging==23.2, which would hold back pytest and packaging for the
## whole project, so it runs from its own environment, at an exact version, through uv; once
## for both frameworks (most of its time is its start).
K8S_VERSION := 1.33.0
CHECKOV := $(UV) tool run --python $(PYTHON) --from 'checkov==3.3.30' checkov --compact --quiet --skip-download
K8S_MANIFESTS := $(filter-out deploy/k8s/kustomization.yaml,$(wildcard deploy/k8s/*.yaml))
lint-deploy: install
	$(RUN) hadolint --no-color Dockerfile
	$(RUN) check-jsonschema --builtin-schema vendor.compose-spec $(wildcard compose*.yaml)
	$(RUN) kubernetes-validate --strict --quiet -k $(K8S_VERSION) $(K8S_MANIFESTS)
	$(CHECKOV) --framework dockerfile kubernetes -f Dockerfile $(K8S_MANIFESTS)

typecheck: install
	$(RUN) mypy

## The quality gates CI runs: lint, mypy --strict, tests with coverage.
check: lint typecheck test

format: install
	$(RUN) ruff format src tests bench scripts
	$(RUN) ruff check --fix src tests bench scripts

# part: benchmarks
## Load benchmark against bare FastAPI (needs wrk: apt-get install wrk). ARGS="--rounds 5"
.PHONY: bench
bench: install
	$(RUN) python -m bench.run $(ARGS)

# end part: benchmarks
clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
