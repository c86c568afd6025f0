# Cascade: the two commands a learner needs are `make course` and `make test`.
#
# Both use one virtual environment, .venv, made with the system python3 (>= 3.10).
# It is created when missing and reinstalled only when pyproject.toml changes
# (the stamp file .venv/.cascade-installed records the last install).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cascade-installed
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-m 'not slow' -x"
PYTEST_ARGS ?=
# Test files run side by side in this many processes (pytest-xdist, one file per process at a
# time, so a file's module fixtures are built once). Most slow tests wait on kernels, nbgrader
# and the browser, so two processes help even on one core; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; [ $$n -gt 4 ] && n=4; echo $$n)
# make grade LAB=<lab> [WORKERS=n] [SHARD=i/N] [TIMEOUT=seconds per submission]
LAB ?=
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
SHARD ?=
TIMEOUT ?= 900
# the sandboxed grading kernel's kernelspec, inside the venv (course/sandbox_kernel.py)
KERNELSPEC := $(VENV)/share/jupyter/kernels/cascade-sandbox/kernel.json
# Jupyter refuses to run as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help venv course test labs grade grades grade-merge bench picture clean distclean

help:
	@echo "make course     install (first time) and open the course in JupyterLab"
	@echo "make test       install (first time) and run the whole test suite"
	@echo "make labs       regenerate labs/ from solutions/ (instructors)"
	@echo "make grade LAB=<lab> [WORKERS=n] [SHARD=i/N]"
	@echo "                autograde every submission of a lab in sandboxed workers (instructors)"
	@echo "make grades     export every grade to course/grades.csv (instructors)"
	@echo "make bench      run the speed benchmarks (benchmarks/README.md)"
	@echo "make picture    redraw the README picture with the kit"
	@echo "make clean      remove caches and test output (keeps .venv and grades)"
	@echo "make distclean  clean, and remove .venv too"

venv: $(STAMP) $(KERNELSPEC)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Cascade needs Python >= 3.10, but $(PYTHON) is " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "could not create $(VENV) (on Debian/Ubuntu: apt install python3-venv)"; exit 1; }
	@echo "Installing Cascade and its dependencies into $(VENV) (a few minutes the first time)..."
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(KERNELSPEC): $(STAMP) course/sandbox_kernel.py
	$(PY) course/sandbox_kernel.py install

# Opens at labs/; the file browser can go up to the repository (course/, solutions/ for instructors).
course: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/labs $(ROOT_FLAG)

test: $(STAMP) $(KERNELSPEC)
	$(PY) -m pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile $(PYTEST_ARGS)

labs: $(STAMP)
	$(PY) course/generate_labs.py

# nbgrader runs in course/ and needs the venv's executables (alembic) on PATH
grade: $(STAMP) $(KERNELSPEC)
	@test -n "$(LAB)" || { echo "usage: make grade LAB=<lab> [WORKERS=n] [SHARD=i/N] [TIMEOUT=s]"; exit 2; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) course/grade_class.py grade $(LAB) \
		--workers $(WORKERS) --timeout $(TIMEOUT) $(if $(SHARD),--shard $(SHARD),)

grade-merge: $(STAMP)
	@test -n "$(LAB)" || { echo "usage: make grade-merge LAB=<lab>"; exit 2; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) course/grade_class.py merge $(LAB)

grades: $(STAMP)
	cd course && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ../$(PY) -m nbgrader export --to=grades.csv
	@echo "grades written to course/grades.csv"

bench: $(STAMP) $(KERNELSPEC)
	$(PY) benchmarks/bench_retry_storm.py
	$(PY) benchmarks/bench_scenarios.py
	$(PY) benchmarks/bench_labs.py
	$(PY) benchmarks/bench_console.py
	$(PY) benchmarks/bench_phase.py
	$(PY) benchmarks/bench_balance.py
	$(PY) benchmarks/bench_debrief.py
	$(PY) benchmarks/bench_grading.py

PICTURE := course/images/dynamodb-2015.png
# the operators' historical way out (the scenario's historical_plan): failed capacity requests,
# the pause at 05:06, capacity once the service is quiet, then renewals through again
PICTURE_RUN := dynamodb-2015 --seed 0 --plan historical

picture: $(STAMP)
	@mkdir -p $(dir $(PICTURE))
	$(VENV)/bin/simkit run $(PICTURE_RUN) --plot $(PICTURE)

clean:
	rm -rf build .pytest_cache test-artifacts *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
