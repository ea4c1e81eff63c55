# Two commands on a fresh machine:  make demo   |   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/immex-gateway demo --dir demo-workspace

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_cfdi.py
	$(BIN)/python bench/bench_correlation.py

.PHONY: bench-sftp
bench-sftp: $(STAMP)
	$(BIN)/python bench/bench_sftp.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache
