# The README's two commands: `make demo` and `make test`. Each sets up .venv when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-all lint types pytest pytest-all docs bench lab fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m toolkit demo --out out/demo

# JupyterLab on the notebooks (installs the `lab` extra once). As root (Docker, many lab machines)
# JupyterLab refuses to start without --allow-root.
LAB_STAMP := $(VENV)/.lab-stamp
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,lab]'
	touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	cd notebooks && ../$(VENV)/bin/jupyter lab $(ALLOW_ROOT)

# `make test`: lint, types and the tests not marked slow (a few minutes). `make test-all` (CI) adds the
# slow ones: whole-corpus runs, property and fuzz runs, decompression bombs, the notebooks.
test: lint types pytest

test-all: lint types pytest-all

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check toolkit tests bench scripts

types: $(STAMP)
	$(PY) -m mypy

pytest: $(STAMP)
	$(PY) -m pytest -q

pytest-all: $(STAMP)
	$(PY) -m pytest -q -m ""

# Regenerate the README's table reference from toolkit/schema.py.
docs: $(STAMP)
	$(PY) scripts/update_readme.py

# Fuzz every reader for FUZZ_SECONDS in total; new crashes go to tests/fuzz/crashes/<target>/ (replayed
# by `make test`), crashes of a class listed in tests/fuzz/known.toml to tests/fuzz/pending/<target>/.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(PY) -m toolkit.fuzz --seconds $(FUZZ_SECONDS) --crashes tests/fuzz/crashes --pending tests/fuzz/pending \
		--known tests/fuzz/known.toml

bench: $(STAMP)
	$(PY) bench/bench_har.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
