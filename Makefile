# Every target creates .venv (Python 3.11) if it is missing and installs what it needs.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501
TEST_WORKERS ?= 2  # pytest-xdist processes; each test file runs whole on one of them

.PHONY: setup test demo bench wheels clean

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
	$(BIN)/tfmodels app --zoo saved_models --port $(PORT)

# The two wheels (tfmodels, and the edge kit tfmodels-edge that it depends on) into dist/:
#   pip install --find-links dist "tfmodels[app]"
wheels: setup
	$(BIN)/python -m pip wheel --no-deps -q -w dist . ./export

bench: setup
	$(BIN)/python -m benchmarks all
	$(BIN)/python -m benchmarks.render

clean:
	rm -rf $(VENV) .pytest_cache dist
