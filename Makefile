# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test install dev lint bench bench-queries portability clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# compileall: an editable install leaves rumq's bytecode to be written on first
# import, which PYTHONDONTWRITEBYTECODE (set on some CI machines) forbids; every
# command would then compile rumq from source (its imports took 22 ms instead of 8, timed by hand).
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q rumq

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q rumq
	touch $(STAMP)

dev: $(STAMP)

demo: install
	$(BIN)/rumq demo
	$(BIN)/rumq --data rumq-demo-data info

test: $(STAMP)
	$(BIN)/ruff check rumq tests bench
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check rumq tests bench

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

bench-queries: $(STAMP)
	$(BIN)/python bench/queries.py --events $(or $(EVENTS),20000000)

# Which engines each built-in query runs on, shipped precomputed (rumq/engines/portability.json),
# and the built-ins' parsed front matter (rumq/library_index.json); tests/test_portability_load.py
# and tests/test_library_index.py fail until this is run after a change to a query or a renderer.
portability: $(STAMP)
	$(BIN)/python -m rumq.engines.portability
	$(BIN)/python -m rumq.library_index

clean:
	rm -rf $(VENV) rumq-data build dist *.egg-info
