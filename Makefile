# One-command set-up for protlm.  `make demo` runs protlm's main job on the
# bundled data, `make test` runs the test suite; both create .venv first.
#
# CPU torch is pinned by default.  CUDA users override it, e.g.
#   make test TORCH_SPEC="torch==2.13.0" TORCH_INDEX="--index-url https://download.pytorch.org/whl/cu126"
PYTHON      ?= python3
VENV        ?= .venv
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.protlm-installed

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/protlm inspect data/UniRef50_E9K9Y4.a3m data/PF00072_seed_hmmalign_no_inserts.fasta data/fn3.sto

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) benchmarks/readers.py

clean:
	rm -rf $(VENV) results .pytest_cache
