"""Where the Brian2 studies run: the environment ``.venv-brian2``, made by ``make brian2``.

Brian2 2.9.0 cannot be imported with numpy >= 2.4, which the main environment ``.venv``
has (NEST's wheel and the rest are fine with it). ``scripts/brian2-venv.sh`` (run by
``make test`` and ``make compare``) therefore makes a second environment, ``.venv-brian2``
in the repository root, with the pins of ``requirements-brian2.txt`` (Brian2 2.9.0,
numpy < 2.4, and what :mod:`comparisons.brian2_glif` and the numpy reference import; no
NEST). The checkout is put on its ``PYTHONPATH``, as for ``.venv-mpi``.

:func:`brian2_python` picks the interpreter: this one when Brian2 imports here (an
environment with the ``compare`` extra), else ``.venv-brian2``'s. :func:`study` runs both
Brian2 studies there (``python -m comparisons.brian2_speed --json``) for
``glif-pynn compare``, passing its progress lines on; ``tests/test_brian2.py`` runs the
agreement tests there.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv-brian2" / "bin" / "python"
MAKE_HINT = "run `make brian2` (scripts/brian2-venv.sh) to create .venv-brian2"


def brian2_imports_here() -> bool:
    """Whether Brian2 imports in this interpreter (ImportError, or AttributeError with numpy >= 2.4: no)."""
    try:
        from brian2 import NeuronGroup  # noqa: F401  (not just "import brian2": a folder of that name imports too)
    except (ImportError, AttributeError):
        return False
    return True


def brian2_python() -> Optional[Path]:
    """The Python that runs the Brian2 studies: this one if Brian2 imports here, else ``.venv-brian2``'s
    when it exists, else None."""
    if brian2_imports_here():
        return Path(sys.executable)
    return VENV_PYTHON if VENV_PYTHON.exists() else None


def environment() -> dict:
    """``os.environ`` with the checkout first on ``PYTHONPATH`` (glif_pynn is not installed in .venv-brian2)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def study(quick: bool, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Both Brian2 studies (agreement and speed, :mod:`comparisons.brian2_speed`) in a fresh process of
    :func:`brian2_python`; returns ``{"agreement": rows, "performance": rows, "load": text}``.

    Raises
    ------
    RuntimeError
        When no Python can import Brian2 (the message says how to make ``.venv-brian2``), or when
        the study fails (with the end of its output).
    """
    python = brian2_python()
    if python is None:
        raise RuntimeError(f"Brian2 does not import here and .venv-brian2 is missing: {MAKE_HINT}")
    say = progress or (lambda line: None)
    with tempfile.TemporaryDirectory(prefix="glif_brian2_") as scratch:
        out = Path(scratch) / "brian2.json"
        command = [str(python), "-m", "comparisons.brian2_speed", "--json", str(out)] + (["--quick"] if quick else [])
        say(f"Brian2 studies with {python}")
        tail: list[str] = []
        with subprocess.Popen(command, cwd=ROOT, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) as process:
            for line in process.stdout:
                tail = (tail + [line.rstrip()])[-40:]
                if line.startswith("brian2: "):
                    say(line[len("brian2: "):].rstrip())
        if process.returncode or not out.is_file():
            raise RuntimeError(f"the Brian2 study failed (exit status {process.returncode}):\n" + "\n".join(tail))
        return json.loads(out.read_text())
