# Two commands on a fresh machine:  make demo   |   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean fuzz hostile
# the workspace suites run a second time against the machine's PostgreSQL (127.0.0.1:5432, a database per test)
PG_SUITE := tests/test_intake.py tests/test_split.py tests/test_delivery.py tests/test_outbox.py tests/test_crash.py \
	tests/test_cli.py tests/test_health_metrics.py tests/test_erp_flow.py tests/test_zip_archives.py \
	tests/test_cancellations.py tests/test_answers.py tests/test_immex.py

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/immex-gateway demo --dir demo-workspace

# system packages first (installed as root, else one line naming the command), then the venv, then the suite
test:
	@PYTHON=$(PYTHON) bash tools/system-packages.sh
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest
	IMMEX_TEST_STORE=postgresql $(BIN)/python -m pytest -q $(PG_SUITE)

bench: $(STAMP)
	$(BIN)/python bench/bench_cfdi.py
	$(BIN)/python bench/bench_correlation.py

.PHONY: bench-sftp
bench-sftp: $(STAMP)
	$(BIN)/python bench/bench_sftp.py

# Property-based fuzzing with a large budget (docs/limits.md); FUZZ_EXAMPLES=N per property. Turn every failure
# it prints (hypothesis shows the falsifying input) into a regression test in tests/test_hostile.py.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_hostile.py -k property -x -q

# The 1,500-input hostile corpus through validate --json and run --once (60 s / 1 GB per process)
hostile: $(STAMP)
	$(BIN)/python -W ignore bench/hostile/corpus.py .hostile-corpus
	$(BIN)/python bench/hostile/run.py .hostile-corpus --out .hostile-corpus/report.json

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .hostile-corpus
