# make book: install everything into .venv and build the HTML book with every chapter executed.
# make test: install everything into .venv and run the unit tests and every chapter under nbval.
# Teaching: make assignments, make student-book, make grade CHAPTER=... SUBMISSIONS=..., make lab.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

CHAPTER     ?=
SUBMISSIONS ?=
OUT         ?= _build/grades/$(CHAPTER)
TIMEOUT     ?=
JOBS        ?=
OVERWRITE   ?=
ASSIGNMENTS := _build/assignments

PACKAGE_SOURCES := $(shell find mmcourse -name '*.py')
# numba caches each compiled function keyed on its own file only, so a kernel that inlines a
# function from another file (every Part II kernel inlines mmcourse/core/_pcg64.py) would keep
# running stale code after that file changed. Whenever any file of the package changes, the
# cache is dropped (recompiling everything takes about a minute).
NUMBA_FRESH := $(VENV)/.numba-cache-fresh

.PHONY: book test book-strict bench clean assignments student-book student-book-strict grade lab

$(STAMP): requirements.txt pyproject.toml teaching/lab-overrides.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	mkdir -p $(dir $(LAB_SETTINGS))
	cp teaching/lab-overrides.json $(LAB_SETTINGS)   # a chapter .md opens as a notebook
	touch $(STAMP)

$(NUMBA_FRESH): $(STAMP) $(PACKAGE_SOURCES)
	find mmcourse -name '*.nbi' -delete -o -name '*.nbc' -delete
	touch $@

book: $(STAMP) $(NUMBA_FRESH)
	$(BIN)/jupyter-book build --all .
	@echo "Open _build/html/index.html in a browser."

# CI's build: warnings are errors and a failing cell fails the build.
book-strict: $(STAMP) $(NUMBA_FRESH)
	$(BIN)/jupyter-book build -W --keep-going --all .

test: $(STAMP) $(NUMBA_FRESH)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP) $(NUMBA_FRESH)
	$(BIN)/python benchmarks/bench_chan_shelton.py
	$(BIN)/python benchmarks/bench_lob.py
	$(BIN)/python benchmarks/bench_learners.py
	$(BIN)/python benchmarks/bench_grading.py

# One folder per chapter under _build/assignments/: the student notebook, the solution
# notebook and otter's autograder zip. Regenerated when a chapter, the package or the generator changes.
$(ASSIGNMENTS)/.done: $(STAMP) $(NUMBA_FRESH) $(wildcard book/[0-9][0-9]_*.md) $(wildcard teaching/*.py) $(PACKAGE_SOURCES) references.bib
	$(BIN)/python -m teaching assign --out $(ASSIGNMENTS)
	touch $@

assignments: $(ASSIGNMENTS)/.done

student-book: $(ASSIGNMENTS)/.done
	$(BIN)/python -m teaching student-book --assignments $(ASSIGNMENTS) --out _build/student

student-book-strict: $(ASSIGNMENTS)/.done
	$(BIN)/python -m teaching student-book --assignments $(ASSIGNMENTS) --out _build/student --strict

# Grades against the autograders as they are: generated once if missing, never regenerated
# behind your back (run `make assignments` yourself after changing a chapter).
grade: | $(STAMP)
	@test -n "$(CHAPTER)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade CHAPTER=02_monte_carlo_evaluation SUBMISSIONS=path/ [OUT=_build/grades/<chapter>] [TIMEOUT=seconds, default 600] [JOBS=cores] [OVERWRITE=1]"; exit 2; }
	@test -e $(ASSIGNMENTS)/.done || $(MAKE) assignments
	$(BIN)/python -m teaching grade $(CHAPTER) $(SUBMISSIONS) --out $(OUT) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite)

lab: $(STAMP)
	$(BIN)/jupyter lab

# Removes the builds and assignments but keeps _build/grades: grades are never deleted by make.
clean:
	find _build -mindepth 1 -maxdepth 1 ! -name grades -exec rm -rf {} + 2>/dev/null || true
