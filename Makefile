# posenet: `make install` sets everything up, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Backend-dependent tests run again under JAX (the model must run on both backends).
JAX_TESTS := -m backend

.PHONY: install test test-tf test-jax lint bench clean

install: $(BIN)/posenet

$(BIN)/posenet: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

test: test-tf test-jax

test-tf: install
	KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q tests

test-jax: install
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q $(JAX_TESTS) tests

lint: install
	$(BIN)/ruff check posenet cli tests

bench: install
	$(BIN)/posenet bench

clean:
	rm -rf $(VENV) build *.egg-info
