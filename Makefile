# One task runner. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck bench locales clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newsbrief run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench all

# The bot's own texts: extract them from the code, merge them into each locale's .po, and
# compile the .mo files the bot reads (committed, so a fresh install needs no step of its
# own). Run after changing a text, then translate what is new; a test checks it was done.
locales: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output --project newsbrief --version "" \
		--msgid-bugs-address "" --copyright-holder "newsbrief contributors" -k N_ -w 100 \
		-o bot/locale/newsbrief.pot bot
	$(BIN)/pybabel update -N --ignore-obsolete -w 100 -i bot/locale/newsbrief.pot \
		-d bot/locale -D newsbrief
	$(BIN)/pybabel compile -d bot/locale -D newsbrief --statistics

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
