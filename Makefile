# make book: install everything into .venv and build the HTML book with every chapter executed.
# make test: install everything into .venv and run the unit tests and every chapter under nbval.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test book-strict bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build --all .
	@echo "Open _build/html/index.html in a browser."

# CI's build: warnings are errors and a failing cell fails the build.
book-strict: $(STAMP)
	$(BIN)/jupyter-book build -W --keep-going --all .

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_chan_shelton.py
	$(BIN)/python benchmarks/bench_lob.py

clean:
	rm -rf _build
