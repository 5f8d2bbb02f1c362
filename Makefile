# Two commands on a fresh machine: `make demo` (install + main job) and `make test` (install + tests).
# Every install goes through constraints.txt: torch==2.13.0 is the CPU wheel here; any other spelling
# pulls gigabytes of CUDA packages.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install -q -c constraints.txt
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: install demo test test-slow test-browser bench lint docs clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/structlearn run experiments/mosaic_filters.yaml --out results/mosaic_filters

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(PIP) -e ".[dev,docs]"
	$(BIN)/python -m pytest -q -m slow

# The report checked in a real headless browser (Debian's Chromium + Playwright; root, or sudo).
test-browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)
	$(PIP) -e ".[dev,browser]"
	$(BIN)/python -m pytest -q -m slow tests/test_report_browser.py

bench: $(STAMP)
	$(PIP) -e ".[dev,bench]"
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

# The documentation site (Sphinx + sphinx-gallery): docs/_build/html/index.html. Warnings are errors.
docs: $(STAMP)
	$(PIP) -e ".[dev,docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) results
