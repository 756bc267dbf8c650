"""The Brian2 agreement tests (tests/in_brian2_env/agreement.py), run in the environment that can import Brian2.

Brian2 2.9.0 cannot import with .venv's numpy 2.4, so `make test` creates .venv-brian2
(scripts/brian2-venv.sh, requirements-brian2.txt) and this test runs ``pytest`` on
tests/in_brian2_env/agreement.py with that environment's Python (or with this one, where Brian2
imports; see comparisons.brian2_env.brian2_python). It is skipped only when neither exists,
saying how to make .venv-brian2. 124 s measured with a load of 7 on 2 cores (sympy solving the
linear system for Brian2's exact integrator dominates; about 30 s when idle).
"""
import re
import subprocess

import pytest

from comparisons.brian2_env import MAKE_HINT, ROOT, brian2_python, environment

PYTHON = brian2_python()
AGREEMENT = ROOT / "tests" / "in_brian2_env" / "agreement.py"


@pytest.mark.skipif(PYTHON is None, reason=f"Brian2 does not import with this numpy and .venv-brian2 is missing: "
                                            f"{MAKE_HINT}")
def test_brian2_agreement_in_its_own_environment():
    result = subprocess.run([str(PYTHON), "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(AGREEMENT)],
                            cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=900)
    output = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, f"tests/in_brian2_env/agreement.py failed with {PYTHON}:\n{output}"
    # non-trivial: the tests ran (none skipped, none deselected), all of them passed
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 8, f"expected the 8 agreement tests to pass: {summary!r}\n{output}"
    assert "skipped" not in summary and "deselected" not in summary, summary
