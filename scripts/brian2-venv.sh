#!/usr/bin/env bash
# The virtual environment .venv-brian2 for the Brian2 cross-check (comparisons/brian2_*.py,
# tests/in_brian2_env/): Brian2 2.9.0 with numpy < 2.4, which .venv (numpy 2.4) cannot hold; the
# pinned packages are in requirements-brian2.txt. Idempotent: a second run only checks the
# stamp (a hash of requirements-brian2.txt), written once Brian2 imports. glif-pynn itself is not
# installed there: callers put the checkout on PYTHONPATH (tests/test_brian2.py,
# comparisons/brian2_env.py). Creating it downloads about 100 MB (480 MB installed); measured
# 4.4 minutes on a loaded 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-brian2
stamp="$VENV/.glif-pynn-installed"
want=$(sha256sum requirements-brian2.txt | cut -c1-16)

brian2_imports() {
  "$VENV/bin/python" -c "import brian2, numpy, pyNN, neo" >/dev/null 2>&1
}

if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "brian2-venv: $VENV is ready"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "brian2-venv: creating virtual environment $VENV"
  python3 -m venv "$VENV"
fi
echo "brian2-venv: installing Brian2 2.9.0 and numpy < 2.4 into $VENV (a minute or two)"
if ! "$VENV/bin/pip" install -q -r requirements-brian2.txt >"$VENV/pip.log" 2>&1; then
  echo "brian2-venv: pip install -r requirements-brian2.txt failed; see $VENV/pip.log" >&2
  exit 1
fi
if ! brian2_imports; then
  echo "brian2-venv: Brian2 does not import in $VENV after installing:" >&2
  "$VENV/bin/python" -c "import brian2" >&2 || true
  exit 1
fi
echo "$want" > "$stamp"
echo "brian2-venv: $VENV is ready ($("$VENV/bin/python" -c 'import brian2, numpy; print("brian2", brian2.__version__, "numpy", numpy.__version__)'))"
