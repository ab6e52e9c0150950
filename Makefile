# Two commands for a newcomer: `make run` starts Relance, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Shopify's published Admin API schema (the GraphQL tests check every document we send against it), as npm's
# @shopify/dev-mcp package ships it (ISC licence); fetched once into the ignored .cache/ and checked by sha256.
SCHEMA_PACKAGE := @shopify/dev-mcp@1.16.0
SCHEMA_MEMBER := package/dist/data/admin_2026-10.json.gz
SCHEMA_SHA256 := f3b522f264556925eada700e795e4a002a9cba83444ebcc6c0d724254a0c6593
SCHEMA := .cache/shopify/admin_2026-10.json.gz

.PHONY: run test test-unit test-sqlite lint schema bench clean pixel translations

$(BIN)/relance: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

$(SCHEMA):
	@command -v npm >/dev/null 2>&1 || { echo "make: npm (Node.js) is needed once to fetch $(SCHEMA_PACKAGE)'s Admin schema: install npm (Debian: apt-get install npm)" >&2; exit 1; }
	rm -rf $(@D)/pack && mkdir -p $(@D)/pack
	npm pack --silent --pack-destination $(@D)/pack $(SCHEMA_PACKAGE) >/dev/null
	tar -xzf $(@D)/pack/*.tgz -C $(@D)/pack $(SCHEMA_MEMBER) package/LICENSE
	$(PYTHON) -c 'import hashlib, sys; got = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest(); sys.exit(0 if got == sys.argv[2] else f"sha256 mismatch for {sys.argv[1]}: {got}")' $(@D)/pack/$(SCHEMA_MEMBER) $(SCHEMA_SHA256)
	mv $(@D)/pack/package/LICENSE $(@D)/LICENSE-admin-schema
	mv $(@D)/pack/$(SCHEMA_MEMBER) $@
	rm -rf $(@D)/pack

schema: $(SCHEMA)

run: $(BIN)/relance
	$(BIN)/relance serve --demo

lint: $(BIN)/relance
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bridge admin_ui connectors scoring campaigns
	$(BIN)/lint-imports

test: lint $(SCHEMA)
	$(BIN)/pytest

# The pure and unit layers alone (tests/unit): no server, under a minute.
test-unit: $(BIN)/relance $(SCHEMA)
	$(BIN)/pytest tests/unit

# A quick loop on SQLite alone: what needs PostgreSQL, Redis or a browser, and the slow tests, left out
# (tests/conftest.py marks them from the fixtures they use).
test-sqlite: $(BIN)/relance $(SCHEMA)
	$(BIN)/pytest -m "not postgres and not redis and not browser and not slow"

# The Shopify web pixel builds from a clean checkout: the committed lock, esbuild into the ignored dist/.
pixel:
	npm ci --no-audit --no-fund
	npm run build
	npm test

# The admin's French catalogue: extract every msgid (admin_ui/babel.cfg) into the ignored .cache/, merge the new
# ones into admin_ui/translations/fr/LC_MESSAGES/messages.po (translate them there: their msgstr is empty, or
# marked fuzzy when Babel guessed one), then compile the messages.mo committed beside it.
BABEL_KEYWORDS := -k lazy_gettext -k lazy_ngettext:1,2
translations: $(BIN)/relance
	mkdir -p .cache
	$(BIN)/pybabel extract -F admin_ui/babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output -w 110 -o .cache/messages.pot admin_ui
	$(BIN)/pybabel update -i .cache/messages.pot -d admin_ui/translations -D messages --ignore-obsolete -w 110
	$(BIN)/pybabel compile -d admin_ui/translations -D messages --statistics

bench: $(BIN)/relance
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .cache
