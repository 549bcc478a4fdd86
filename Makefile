# Two commands: `make run` (the product, with a demo workspace) and `make test`.
# Both need only Python 3.11; with DATABASE_URL unset they use an embedded PostgreSQL under var/.
# Both install requirements-dev.txt (the product, plus the embedded database, tests and lint);
# production installs requirements.txt alone (deploy/Dockerfile).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

run: $(VENV)/.installed
	$(BIN)/python -m qrcards.run

test: $(VENV)/.installed
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) var/static
