"""Scale on one machine: large GLIF networks on NEST, 1 and 2 threads and 2 MPI ranks.

``glif-pynn bench scale`` runs, for each configuration, one fresh process (or
``mpirun -np 2`` with the MPI NEST of ``.venv-mpi``) that builds a network of the NESTML
glif_psc_exp_neuron in PyNEST (N neurons with random I_e, K random inputs each from the
network itself with NEST's fixed_indegree rule, 0.1 ms resolution), simulates it and reports
build time, simulation time per biological second and peak memory (the largest
resident set of any process, summed over ranks) per neuron and per synapse.

PyNEST rather than PyNN: PyNN's connectors draw connections in Python, one target at a
time (measured here: 80 s to build 10k x 100 synapses with FixedNumberPreConnector),
which would dominate and hide NEST's own build time at 1e8 synapses.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MPI_PYTHON = ROOT / ".venv-mpi" / "bin" / "python"
SIZES = ((1_000_000, 100), (100_000, 1000))


def one_run(n: int, k: int, threads: int, t_sim: float) -> dict:
    """Build and simulate in this process (one MPI rank); print a JSON line from rank 0."""
    import nest

    import glif_pynn.nest as glif_nest
    start = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=threads, rng_seed=1)
    glif_nest.install()
    cells = nest.Create("glif_psc_exp_neuron", n, params={
        "I_e": nest.random.uniform(100.0, 300.0), "V_m": -78.85, "t_ref": 2.0})
    nest.Connect(cells, cells, {"rule": "fixed_indegree", "indegree": k},
                 {"weight": 50.0 / k, "delay": 1.5})
    built = time.perf_counter() - start
    start = time.perf_counter()
    nest.Simulate(t_sim)
    simulated = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    processes = nest.NumProcesses()
    peaks = [peak]
    if processes > 1:
        from mpi4py import MPI
        peaks = MPI.COMM_WORLD.allgather(peak)
    result = {"neurons": n, "inputs": k, "threads": threads, "processes": processes,
              "build_s": built, "sim_s_per_bio_s": simulated / (t_sim / 1000.0),
              "peak_bytes": sum(peaks), "bytes_per_neuron_plus_synapses": sum(peaks) / n,
              "bytes_per_synapse": sum(peaks) / (n * k)}
    if nest.Rank() == 0:
        print("SCALE " + json.dumps(result), flush=True)
    return result


def run(t_sim: float = 100.0, progress=print) -> list[dict]:
    rows = []
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    for n, k in SIZES:
        configs = [([sys.executable], 1), ([sys.executable], 2)]
        if MPI_PYTHON.exists() and shutil.which("mpirun"):
            configs.append((["mpirun", "-np", "2", "--oversubscribe", str(MPI_PYTHON)], 1))
        for launcher, threads in configs:
            code = f"from comparisons.scale import one_run; one_run({n}, {k}, {threads}, {t_sim})"
            out = subprocess.run([*launcher, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
            line = next((l for l in out.stdout.splitlines() if l.startswith("SCALE ")), None)
            if line is None:
                progress(f"scale N={n} K={k} failed: {out.stderr[-500:]}")
                continue
            row = json.loads(line[6:])
            rows.append(row)
            progress(f"N={n:,} x {k} inputs, {row['processes']} process(es) x {threads} thread(s): "
                     f"build {row['build_s']:.1f} s, {row['sim_s_per_bio_s']:.1f} s per biological second, "
                     f"peak {row['peak_bytes'] / 2**30:.2f} GiB ({row['bytes_per_synapse']:.1f} B per synapse)")
    return rows
