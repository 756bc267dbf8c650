"""The GLIF cell types on an MPI-enabled NEST (.venv-mpi, built once per machine by `make mpi`).

One script (tests/mpi/network.py) runs as 2 MPI ranks x 1 thread, 1 process x 2 threads
and 1 process x 1 thread; NEST's results do not depend on how the work is split,
so spikes (neuron, time) and recorded V must be identical.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-mpi" / "bin" / "python"
SCRIPT = ROOT / "tests" / "mpi" / "network.py"
MPIRUN = shutil.which("mpirun")

pytestmark = [
    pytest.mark.mpi,
    pytest.mark.skipif(not PYTHON.exists(), reason="no MPI-enabled NEST: run `make mpi` to build .venv-mpi"),
    pytest.mark.skipif(MPIRUN is None, reason="mpirun not found: apt-get install openmpi-bin"),
]

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def run_network(tmp_path, name, ranks, threads, cache_dir=None):
    prefix = tmp_path / name
    command = [str(PYTHON), str(SCRIPT), str(threads), str(prefix)]
    if ranks > 1:
        command = [MPIRUN, "-np", str(ranks), "--oversubscribe", *command]
    # the MPI environment is shared by every checkout on the machine: glif_pynn comes from this one
    env = dict(os.environ, **MPI_ENV, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    if cache_dir is not None:
        env["GLIF_PYNN_CACHE_DIR"] = str(cache_dir)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return np.load(f"{prefix}.npz"), result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mpi")
    cold_cache = tmp / "cold-cache"
    mpi, mpi_result = run_network(tmp, "mpi2x1", ranks=2, threads=1, cache_dir=cold_cache)
    return {"mpi2x1": mpi, "mpi_result": mpi_result, "threads2": run_network(tmp, "t2", 1, 2)[0],
            "threads1": run_network(tmp, "t1", 1, 1)[0], "tmp": tmp}


def test_mpi_run_really_used_two_processes(runs):
    assert int(runs["mpi2x1"]["processes"]) == 2
    assert int(runs["threads1"]["processes"]) == 1


@pytest.mark.parametrize("other", ["threads2", "threads1"])
def test_same_spikes_and_v_however_the_work_is_split(runs, other):
    mpi, ref = runs["mpi2x1"], runs[other]
    assert len(mpi["pairs"]) > 50, "non-trivial: the network must spike"
    np.testing.assert_array_equal(mpi["pairs"], ref["pairs"], err_msg=f"spikes (neuron, time): mpi2x1 vs {other}")
    np.testing.assert_array_equal(mpi["channels"], ref["channels"])
    assert mpi["v"].shape == ref["v"].shape and np.ptp(mpi["v"]) > 5.0
    # Row 0 (t = 0) is not recorded by NEST: PyNN fills it from the initial values, and its MPI
    # gather puts the ranks' local values in rank order there (a pyNN.nest limitation). Every
    # sample NEST recorded, t = dt onwards, must agree exactly.
    np.testing.assert_array_equal(mpi["v"][1:], ref["v"][1:], err_msg=f"recorded V: mpi2x1 vs {other}")


def test_one_rank_builds_and_every_rank_loads_with_a_cold_cache(runs):
    err = runs["mpi_result"].stderr
    assert err.count("[3/3] compiling") == 1, err[-3000:]
    assert err.count("another process is building the module") == 1, err[-3000:]


def test_write_data_from_rank_0_only(runs):
    tmp = runs["tmp"]
    assert (tmp / "mpi2x1.pkl").is_file()
    assert not list(tmp.glob("mpi2x1.pkl.*")), "gathered write_data must leave one file, written by rank 0"
    from neo.io import PickleIO
    block = PickleIO(str(tmp / "mpi2x1.pkl")).read_block()
    assert len(block.segments[0].spiketrains) == 60
