# Two commands: `make run` (demo office, server, kiosk agent) and `make test` (the whole suite).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	./scripts/ensure-venv.sh $(VENV)

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	./scripts/install-system-deps.sh runtime
	$(BIN)/motcua run-demo

test: $(VENV)/.dev
	./scripts/install-system-deps.sh test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# Every benchmark against a server it starts; rewrites the generated section of bench/RESULTS.md.
# Long (1,000,000 dossiers, 1,000 clients …): `make bench BENCH_ARGS=--quick` is a smoke run.
bench: $(VENV)/.dev
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
