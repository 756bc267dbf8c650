# The two commands of the README (docs/getting-started.md): `make compare` (main job) and `make test`.
# Both set everything up first (Debian packages, .venv, the NEST module), idempotently;
# `make test` also builds NEST with MPI once per machine (about 16 minutes; linked as .venv-mpi), for the MPI tier.
# `make test` and `make compare` also make .venv-brian2 (Brian2 2.9.0 with numpy < 2.4, which .venv cannot hold),
# where the Brian2 cross-check runs (tests/test_brian2.py, comparisons/brian2_env.py).
.PHONY: setup mpi brian2 compare demo docs test test-fast clean-cache

setup:
	bash scripts/setup.sh

mpi: setup
	bash scripts/mpi-nest.sh

brian2: setup
	bash scripts/brian2-venv.sh

compare: setup brian2
	.venv/bin/glif-pynn compare --output results/report

demo: setup
	.venv/bin/glif-pynn demo

# HTML documentation in docs/_build/html (index.html); warnings are errors, as in CI (tests/test_docs.py)
docs: setup
	.venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

test: setup mpi brian2
	.venv/bin/python -m pytest -q

test-fast: setup
	.venv/bin/python -m pytest -q -m "not mpi"

clean-cache:
	rm -rf "$${GLIF_PYNN_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/glif-pynn}"
