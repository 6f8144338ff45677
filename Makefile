# sitematch — the two commands that matter: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-quick bench lint format layers clean system-deps serve messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[data,dask,postgis,pdf,import,service,dev]"
	# ogctests (the OGC API Features conformance suite) pins old httpx/pytest it does not need: no deps
	$(BIN)/python -m pip install -q --no-deps "ogctests==0.1.15"
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

## demo: install (and Debian's chromium for the PDF dossier, when root), then match every profile
## in scenarios/ on the bundled region -> out/<lead>/
demo: install system-deps
	$(BIN)/sitematch match scenarios/*.yaml --out out

## test: install (Python and Debian packages), then run the whole test suite
test: install system-deps
	$(BIN)/python -m pytest

test-quick: install
	$(BIN)/python -m pytest -m "not slow"

## bench: national-scale benchmark against the obvious geopandas approach -> bench/results.md
bench: install
	$(BIN)/sitematch bench

lint: install
	$(BIN)/ruff check sitematch tests scripts
	$(BIN)/ruff format --check sitematch tests scripts
	$(BIN)/mypy

format: install
	$(BIN)/ruff format sitematch tests scripts
	$(BIN)/ruff check --fix sitematch tests scripts

## serve: the web service on http://127.0.0.1:8000 (create an account first: docs/service.md)
serve: install
	$(BIN)/sitematch serve --profiles scenarios

## messages: the Swedish and English catalogues: extract the words from Python and templates (babel.cfg),
## update sitematch/locale/{sv,en}/LC_MESSAGES/sitematch.po, compile the .mo files (committed, so a clone
## and a wheel need no build step; tests/test_i18n.py fails when they are not up to date)
LOCALE := sitematch/locale
messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -k N_ -o $(LOCALE)/sitematch.pot .
	$(BIN)/pybabel update -D sitematch -i $(LOCALE)/sitematch.pot -d $(LOCALE) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -D sitematch -d $(LOCALE) --statistics

## layers: rebuild layers/region.gpkg from the curated tables and the data packages
layers: install
	$(BIN)/sitematch layers build-demo

clean:
	rm -rf out bench/out .pytest_cache .ruff_cache .mypy_cache
