"""What the MPI-tier tests share: the MPI NEST of ``make mpi``, their skip marks, and running a
Python script of this checkout on one or more ranks."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-mpi" / "bin" / "python"
MPIRUN = shutil.which("mpirun")

#: ``pytestmark`` of every MPI-tier test file.
MARKS = [
    pytest.mark.mpi,
    pytest.mark.skipif(not PYTHON.exists(), reason="no MPI-enabled NEST: run `make mpi` to build .venv-mpi"),
    pytest.mark.skipif(MPIRUN is None, reason="mpirun not found: apt-get install openmpi-bin"),
]

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def run_on_ranks(arguments: list, ranks: int, name: str, timeout: float = 900, **environment: str
                 ) -> subprocess.CompletedProcess:
    """Run ``.venv-mpi``'s Python with ``arguments`` on ``ranks`` processes (``mpirun`` above 1) within ``timeout``
    seconds; assert it succeeds."""
    command = [str(PYTHON), *map(str, arguments)]
    if ranks > 1:
        command = [MPIRUN, "-np", str(ranks), "--oversubscribe", *command]
    # the MPI environment is shared by every checkout on the machine: glif_pynn comes from this one
    env = dict(os.environ, **MPI_ENV, **environment,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result
