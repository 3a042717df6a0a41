# One-command set-up for protlm.  `make demo` runs protlm's main job on the
# bundled data, `make test` runs the test suite, `make docs` builds the HTML
# documentation (docs/_build/html, offline, warnings are errors); all create .venv first.
#
# CPU torch is pinned by default.  CUDA users override it, e.g.
#   make test TORCH_SPEC="torch==2.13.0" TORCH_INDEX="--index-url https://download.pytorch.org/whl/cu126"
PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.protlm-installed
DOCS_STAMP  := $(VENV)/.protlm-docs-installed

.PHONY: setup demo test docs bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# The whole workflow (pairing + sequencing chains) on the bundled data/, offline.
demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/snakemake --cores 2
	@echo
	@echo "Results in results/:"
	@echo "  pairing:    results/pairing/summary.tsv, summary.png; per family pair results/pairing/<family>/{pairs.tsv,paired.a3m,report.json,pairing.png}"
	@echo "  sequencing: results/sequencing/summary.tsv, summary.png; per known set results/sequencing/<known>/prediction/{predictions.fasta,positions.tsv,report.json,confusion.png,calibration.png}"
	@echo "  complexes:  per complex results/complexes/<name>/{chain1.a3m,chain2.a3m,chain1_hits.tsv,chain2_hits.tsv}, pairing/{pairs.tsv,paired.a3m,af3_input.json,boltz/,report.json}"
	@echo "  logs:       results/logs/"

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

# Sphinx + numpydoc + myst-nb (the `docs` extra); the tutorials are executed at build time on the
# bundled data (cached in docs/_build/.jupyter_cache); -E rereads every page so no warning hides.
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m sphinx -E -b html -W --keep-going -q docs docs/_build/html
	@echo "Documentation: docs/_build/html/index.html"

bench: $(STAMP)
	$(PY) benchmarks/readers.py

clean:
	rm -rf $(VENV) results .pytest_cache docs/_build docs/api/generated
