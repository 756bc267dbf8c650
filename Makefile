# The two commands of the README: `make demo` (main job) and `make test`.
# Both set everything up first (Debian packages, .venv, the NEST module), idempotently.
.PHONY: setup demo test clean-cache

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/glif-pynn demo

test: setup
	.venv/bin/python -m pytest -q tests

clean-cache:
	rm -rf "$${GLIF_PYNN_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/glif-pynn}"
