# Two commands for a newcomer: `make run` starts Relance, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean pixel

$(BIN)/relance: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/relance
	$(BIN)/relance serve --demo

lint: $(BIN)/relance
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy scoring campaigns connectors/base.py
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# The Shopify web pixel builds from a clean checkout: the committed lock, esbuild into the ignored dist/.
pixel:
	npm ci --no-audit --no-fund
	npm run build
	npm test

bench: $(BIN)/relance
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
