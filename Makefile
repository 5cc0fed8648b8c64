# Every target creates .venv (Python 3.11) if it is missing and installs what it needs.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501
TEST_WORKERS ?= 2  # pytest-xdist processes; each test file runs whole on one of them

.PHONY: setup test demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall only when the dependency lists change.
$(STAMP): $(BIN)/python pyproject.toml export/pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q -c constraints.txt -e './export[litert,images]' -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

demo: setup
	$(BIN)/python apps/prebuild.py --zoo saved_models
	@echo "tfmodels app: http://localhost:$(PORT)"
	$(BIN)/streamlit run apps/app.py --server.port $(PORT) --server.headless true

bench: setup
	$(BIN)/python -m benchmarks all
	$(BIN)/python -m benchmarks.render

clean:
	rm -rf $(VENV) .pytest_cache
