# The two commands of the README: `make demo` and `make test`.
# Both set up everything they need (.venv, packages, Kafka jars from Maven Central).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup chromium demo test lint clean

$(BIN)/monitor: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(BIN)/monitor

setup: $(BIN)/monitor
	$(BIN)/monitor kafka fetch

# The dashboard test drives headless Chromium (Debian package chromium); install it when it is missing and
# fail here, loudly, when it cannot be installed.
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

chromium:
	@test -x $(CHROMIUM) || { \
	  command -v apt-get >/dev/null || { echo "make: $(CHROMIUM) missing and no apt-get to install it" >&2; exit 1; }; \
	  echo "installing chromium (apt-get)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	    || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q \
	         && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; }
	@test -x $(CHROMIUM) || { echo "make: chromium could not be installed at $(CHROMIUM)" >&2; exit 1; }

demo: setup
	$(BIN)/monitor demo

test: setup chromium
	$(BIN)/ruff check monitor tests scripts
	$(BIN)/python -m mypy monitor
	$(BIN)/python -m pytest

clean:
	-$(BIN)/monitor kafka stop
	rm -rf $(VENV) .cache var
