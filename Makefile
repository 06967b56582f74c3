# Two commands on a fresh machine with python3 and make: `make run` and `make test`.
# uv comes from PyPI into .tools/ when it is not installed; it uses this machine's python3 and
# never downloads an interpreter.

PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
RUN := $(UV) run --frozen --no-sync

.PHONY: run serve test check lint typecheck format bench clean install

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

lint: install
	$(RUN) ruff check src tests bench scripts
	$(RUN) ruff format --check src tests bench scripts

typecheck: install
	$(RUN) mypy

## The quality gates CI runs: lint, mypy --strict, tests with coverage.
check: lint typecheck test

format: install
	$(RUN) ruff format src tests bench scripts
	$(RUN) ruff check --fix src tests bench scripts

## Load benchmark against bare FastAPI (needs wrk: apt-get install wrk). ARGS="--rounds 5"
bench: install
	$(RUN) python -m bench.run $(ARGS)

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
