# Two commands matter: `make run` (the whole platform on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck imports pytest bench soak lock conformance clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.lock pyproject.toml
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

# Embedded defaults: SQLite under ./var, the worker in-process, Meta's side played by the emulator.
run: $(VENV)/.installed
	$(BIN)/sevamitra migrate
	SEVAMITRA_GRAPH_API_URL=$${SEVAMITRA_GRAPH_API_URL:-http://$(HOST):$(PORT)/emulator} \
	SEVAMITRA_PUBLIC_URL=$${SEVAMITRA_PUBLIC_URL:-http://$(HOST):$(PORT)} \
	$(BIN)/sevamitra serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(MAKE) --no-print-directory lint typecheck imports pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

imports: $(VENV)/.installed
	$(BIN)/lint-imports

pytest: $(VENV)/.installed
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/sevamitra bench ingest

# The long crash soak (minutes): thousands of citizens, serve and worker processes killed, PostgreSQL
# restarted (this disturbs anything else using that server), Graph API faults; then the fuzz tests'
# long mode. `make test` runs the short crash test only (tests/e2e/test_crash.py).
SOAK_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
SOAK_OPTIONS ?=
SOAK_FUZZ_EXAMPLES ?= 2000
soak: $(VENV)/.installed
	$(BIN)/python -m sevamitra.testing.soak --database-url $(SOAK_DATABASE_URL) --restart-database \
		--token-refused $(SOAK_OPTIONS)
	if [ -d tests/fuzz ]; then SEVAMITRA_FUZZ_EXAMPLES=$(SOAK_FUZZ_EXAMPLES) \
		SEVAMITRA_TEST_POSTGRES_URL=$${SEVAMITRA_TEST_POSTGRES_URL:-$(SOAK_DATABASE_URL)} $(BIN)/pytest -q tests/fuzz; fi

conformance: $(VENV)/.installed
	$(BIN)/python ../shared/conformance/check_spine.py "$(CURDIR)/$(BIN)/sevamitra"

# Re-pin every dependency (needs network to the package index).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
