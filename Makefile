# The two commands of the README: `make demo` and `make test`.
# Both set up everything they need (.venv, packages, Kafka jars from Maven Central).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint clean

$(BIN)/monitor: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(BIN)/monitor

setup: $(BIN)/monitor
	$(BIN)/monitor kafka fetch

demo: setup
	$(BIN)/monitor demo

test: setup
	$(BIN)/ruff check monitor tests scripts
	$(BIN)/python -m pytest

clean:
	-$(BIN)/monitor kafka stop
	rm -rf $(VENV) .cache var
