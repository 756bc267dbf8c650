# The two commands of the README: `make demo` (main job) and `make test`.
# Both set everything up first (Debian packages, .venv, the NEST module), idempotently;
# `make test` also builds NEST with MPI into .venv-mpi once (about 16 minutes), for the MPI tier.
.PHONY: setup mpi demo test test-fast clean-cache

setup:
	bash scripts/setup.sh

mpi: setup
	bash scripts/mpi-nest.sh

demo: setup
	.venv/bin/glif-pynn demo

test: setup mpi
	.venv/bin/python -m pytest -q

test-fast: setup
	.venv/bin/python -m pytest -q -m "not mpi"

clean-cache:
	rm -rf "$${GLIF_PYNN_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/glif-pynn}"
