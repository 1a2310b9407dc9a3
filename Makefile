# Every target creates the virtual environment on first use, so a fresh clone needs no setup.
# `make serve` installs the service alone (about 0.5 GB); `make test` adds the test tooling (PyTorch
# and torchvision as the solvers' oracle, playwright, schemathesis...: about 6 GB).
VENV := .venv
PY := $(VENV)/bin/python
SERVICE := $(VENV)/.service-installed
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: serve test lint bench clean

# The project's modules compiled to bytecode before they run: an editable install compiles none, and
# where PYTHONDONTWRITEBYTECODE is set every process would compile them from source at each start
# (about a second of every command's, server's and test's start). Not the sandbox's own package,
# which is shown to submissions as it is.
BYTECODE = $(PY) -m compileall -q -j 0 api cli grader problems migrations harness bench > /dev/null

$(PY):
	python3 -m venv $(VENV)

# The packages are installed by uv (from PyPI, as pip would): on a clean clone the test tooling's 6 GB
# took pip 234 s and uv 90 s on the project's 2-core machine, the same versions, every CI run's first minutes.
# Unlike pip, uv writes no bytecode unless asked: without it, where PYTHONDONTWRITEBYTECODE is set, every
# process compiled the libraries it imports from source at each start (sympy alone 2.1 s against 0.5 s).
UV := $(VENV)/bin/uv
$(UV): | $(PY)
	$(PY) -m pip install --quiet uv

$(SERVICE): pyproject.toml | $(UV)
	@echo "Installing the service into $(VENV) (once; about a minute)..."
	$(UV) pip install --compile-bytecode --python $(PY) -e .
	touch $(SERVICE)

$(STAMP): pyproject.toml | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -e '.[test]'
	touch $(SERVICE) $(STAMP)

# The tests' processes: one more than the cores. A third of the suite's time is spent waiting on other
# processes (the servers, sandboxes, browsers and PostgreSQL it starts), which the extra process fills.
TEST_PROCESSES ?= $(shell echo $$(( $$(nproc) + 1 )))

## serve: the web service on http://127.0.0.1:$(PORT) (PORT=8001 make serve for another port; SQLite
## ./grader.db) with the demo course
serve: $(SERVICE)
	$(BYTECODE)
	$(VENV)/bin/grader serve --demo --port $(PORT)

## test: lint, the layers' import contract and the type checker, then every test (solvers against PyTorch
## included; the pages in Debian's chromium, the proxy's configuration in Debian's nginx: scripts/test-deps
## installs them when run as root)
test: $(STAMP)
	scripts/test-deps
	$(BYTECODE)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n $(TEST_PROCESSES)

## bench: the service's and the command line's start (import, --help, a command, grader serve to its first
## healthy /health, grader worker --queue code to ready), grader grade's start on one submission, batch-grading throughput (100,000 submissions, 1 and 2
## workers), then the service's submissions/s, p50/p99 and /health rate (32 clients, grader serve --workers 2 on PostgreSQL),
## then its submissions/s with 1 and 2 replicas (directly, and through nginx when installed), then
## regrade throughput (20,000 stored submissions, 1 and 2 grader worker processes), then the views of a
## 1,000-student course (each view's median time and size), then grade passback's latency to an LMS
## (a submission committed → its score received; SQLite and PostgreSQL) and its retry after an outage,
## then the time and peak memory to suggest groups of 1,000 free-response answers (as typed, all
## different, 3,000 characters each, 10,000 random characters each), the similarity report of 1,000
## submissions of the four-function CNN homework (CPU, peak memory, a late submission, where the planted
## copies rank), the same report through the service's job on SQLite and PostgreSQL, a 1,000-answer grading queue
## (first read, groups suggested; read again; a grading), code submissions graded per second through
## the sandbox (1 and 2 warm workers) beside the same calls in-process, and code submissions graded per
## second end to end through the service (8 students at once on SQLite, 201 → result) beside the floor,
## a four-part homework per submission beside a cold sandbox running pytest (the peers' way) and the floors,
## 300 students submitting it within 10 s through the service (SQLite; PostgreSQL with a code worker), idle
## and beside twice the cores' busy processes, and on PostgreSQL beside one code worker held to half a core
## then two (as workers on hosts of their own: how the last result scales with workers);
## then a PyTorch model's checks per submission through the warm torch sandbox (its time, each probe's)
bench: $(STAMP)
	$(BYTECODE)
	$(PY) -m bench.startup
	$(PY) -m bench.grading
	$(PY) -m bench.service
	$(PY) -m bench.replicas
	$(PY) -m bench.regrade
	$(PY) -m bench.course_views
	$(PY) -m bench.lti_passback
	$(PY) -m bench.grouping
	$(PY) -m bench.similarity
	$(PY) -m bench.similarity_service
	$(PY) -m bench.grading_queue
	$(PY) -m bench.sandbox
	$(PY) -m bench.code
	$(PY) -m bench.homework
	$(PY) -m bench.request_cost
	$(PY) -m bench.burst
	$(PY) -m bench.burst --beside-load $$(( 2 * $$(nproc) ))
	$(PY) -m bench.burst --database postgresql --workers 1 --cores-per-worker 0.5
	$(PY) -m bench.burst --database postgresql --workers 2 --cores-per-worker 0.5
	$(PY) -m bench.code_torch

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
