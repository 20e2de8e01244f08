# Every target installs what it needs into .venv first, so a fresh clone needs only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test fuzz lint typecheck check bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run the server on 127.0.0.1:8080 with the embedded SQLite store
	$(BIN)/sessionhub serve

test: $(STAMP)  ## run the whole test suite
	$(BIN)/pytest

fuzz: $(STAMP)  ## the generated-input tests (schemathesis, hypothesis) with 20x the examples
	FUZZ_SCALE=$${FUZZ_SCALE:-20} $(BIN)/pytest tests/test_openapi.py tests/test_properties.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

check: lint typecheck test

bench: $(STAMP)  ## load benchmarks, see bench/README.md (needs wrk)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
