"""Scale on one machine: large GLIF networks on NEST, 1 and 2 threads and 2 MPI ranks.

``glif-pynn bench scale`` runs, for each configuration, one fresh process (or
``mpirun -np 2`` with the MPI NEST of ``.venv-mpi``) that builds a network of the NESTML
glif_psc_exp_neuron in PyNEST (N neurons with random I_e, K random inputs each from the
network itself with NEST's fixed_indegree rule, 0.1 ms resolution), simulates it and reports
build time, the time of NEST's preparation at the first ``Simulate`` (a 1 ms run, timed apart),
simulation time per biological second after it, the heap memory in use added by
creating the neurons (per neuron), by connecting them and by NEST's preparation of its
connection tables at the first Simulate (per synapse), summed over ranks, and the peak
resident set (largest of each process, summed over ranks). Heap in use is glibc's
``mallinfo2`` (``uordblks + hblkhd``): differences of the resident set are not usable, as
memory freed by one stage is reused unseen by the next.

PyNEST rather than PyNN: PyNN's connectors draw connections in Python, one target at a
time (measured here: 80 s to build 10k x 100 synapses with FixedNumberPreConnector),
which would dominate and hide NEST's own build time at 1e8 synapses.
"""
from __future__ import annotations

import ctypes
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
#: the untimed first run, in which NEST prepares its connection tables (ms)
PREPARE_MS = 1.0


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]


def heap_in_use() -> int:
    """Bytes allocated and not freed through malloc in this process, all arenas (glibc >= 2.33)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def have_mpi() -> bool:
    """Whether the MPI NEST of ``make mpi`` (``.venv-mpi``) and ``mpirun`` are there."""
    return MPI_PYTHON.exists() and shutil.which("mpirun") is not None


def mpi_launcher() -> list[str]:
    """The command prefix that runs ``.venv-mpi``'s Python on 2 ranks."""
    return ["mpirun", "-np", "2", "--oversubscribe", str(MPI_PYTHON)]


def configurations(mpi: bool = True, local: bool = True) -> list[tuple[list[str], int]]:
    """(launcher, threads) of each configuration a benchmark runs in fresh processes: 1 and 2 threads in one
    process (``local``), and 2 MPI ranks of 1 thread (``mpi``, where the MPI NEST is built)."""
    configs = [([sys.executable], 1), ([sys.executable], 2)] if local else []
    if mpi and have_mpi():
        configs.append((mpi_launcher(), 1))
    return configs


def launch_environment() -> dict:
    """The environment of a benchmark's child processes: this checkout on PYTHONPATH, Open MPI allowed as root."""
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def one_run(n: int, k: int, threads: int, t_sim: float, compressed: bool = True) -> dict:
    """Build and simulate in this process (one MPI rank); print a JSON line from rank 0.

    ``compressed=False`` sets ``nest.use_compressed_spikes = False`` before connecting (glif-pynn's
    workaround for NEST 3.10's MPI target-exchange bug, see glif_pynn.nest.mpi)."""
    import nest

    import glif_pynn.nest as glif_nest
    start = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=threads, rng_seed=1)
    nest.use_compressed_spikes = compressed
    glif_nest.install()
    heap_empty = heap_in_use()
    cells = nest.Create("glif_psc_exp_neuron", n, params={"V_m": -78.85, "t_ref": 2.0})
    heap_neurons = heap_in_use()
    nest.Connect(cells, cells, {"rule": "fixed_indegree", "indegree": k},
                 {"weight": 50.0 / k, "delay": 1.5})
    heap_synapses = heap_in_use()
    cells.I_e = nest.random.uniform(100.0, 300.0)
    built = time.perf_counter() - start
    start = time.perf_counter()
    nest.Simulate(PREPARE_MS)           # NEST builds its connection tables here: timed apart
    prepared = time.perf_counter() - start
    heap_prepared = heap_in_use()
    spikes_before = nest.GetKernelStatus("local_spike_counter")
    start = time.perf_counter()
    nest.Simulate(t_sim)
    simulated = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    processes = nest.NumProcesses()
    memory = [(peak, heap_neurons - heap_empty, heap_synapses - heap_neurons, heap_prepared - heap_neurons)]
    if processes > 1:
        from mpi4py import MPI
        memory = MPI.COMM_WORLD.allgather(memory[0])
    peak_total, neurons_total, connected_total, prepared_total = (sum(column) for column in zip(*memory))
    spikes = nest.GetKernelStatus("local_spike_counter") - spikes_before
    if processes > 1:
        from mpi4py import MPI
        spikes = MPI.COMM_WORLD.allreduce(spikes)
    result = {"neurons": n, "inputs": k, "threads": threads, "processes": processes, "compressed": compressed,
              "rate_hz": spikes / n / (t_sim / 1000.0),
              "build_s": built, "prepare_s": prepared, "sim_s_per_bio_s": simulated / (t_sim / 1000.0),
              "peak_bytes": peak_total, "bytes_per_neuron": neurons_total / n,
              "bytes_per_synapse_connected": connected_total / (n * k),
              "bytes_per_synapse": prepared_total / (n * k)}
    if nest.Rank() == 0:
        print("SCALE " + json.dumps(result), flush=True)
    return result


def run(t_sim: float = 100.0, progress=print) -> tuple[list[dict], list[str]]:
    """Every size x configuration in a fresh process: (the rows, a line for each configuration that failed)."""
    rows, failed = [], []
    env = launch_environment()
    configs = configurations()
    progress(f"{len(SIZES)} networks x {len(configs)} configurations, each in a fresh process (minutes each at "
             f"these sizes): build, {PREPARE_MS:g} ms of preparation, then {t_sim:g} ms timed")
    for n, k in SIZES:
        for launcher, threads in configs:
            where = f"N={n:,} x {k} inputs, {2 if launcher[0] == 'mpirun' else 1} process(es) x {threads} thread(s)"
            progress(f"{where}: running")
            code = f"from comparisons.scale import one_run; one_run({n}, {k}, {threads}, {t_sim})"
            out = subprocess.run([*launcher, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
            line = next((l for l in out.stdout.splitlines() if l.startswith("SCALE ")), None)
            if line is None:
                failed.append(f"{where}: {_last_lines(out.stderr)}")
                progress(f"failed: {failed[-1]}")
                continue
            row = json.loads(line[6:])
            rows.append(row)
            progress(f"{where}: build {row['build_s']:.1f} s, preparation {row['prepare_s']:.1f} s, "
                     f"{row['sim_s_per_bio_s']:.1f} s per biological second, "
                     f"peak {row['peak_bytes'] / 2**30:.2f} GiB, "
                     f"{row.get('bytes_per_neuron', float('nan')):.0f} B per neuron, "
                     f"{row['bytes_per_synapse']:.1f} B per synapse (after NEST's preparation)")
    return rows, failed


def _last_lines(text: str, lines: int = 5) -> str:
    """The last ``lines`` lines of a failed run's stderr (whole lines), or a note that it wrote none."""
    tail = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(tail) if tail else "no error output"


def workaround_cost(n: int = 100_000, k: int = 100, t_sim: float = 1000.0, repeats: int = 3,
                    progress=print) -> dict:
    """What turning compressed spikes off costs on 2 MPI ranks (the patched NEST of ``make mpi``, which is
    correct either way): simulation time per biological second, medians of interleaved fresh runs."""
    import statistics
    if not have_mpi():
        raise RuntimeError("no MPI NEST: run `make mpi` first")
    env = launch_environment()
    samples = {True: [], False: []}
    for _ in range(repeats):
        for compressed in (True, False):
            code = f"from comparisons.scale import one_run; one_run({n}, {k}, 1, {t_sim}, {compressed})"
            out = subprocess.run([*mpi_launcher(), "-c", code],
                                 capture_output=True, text=True, env=env, cwd=ROOT)
            line = next((l for l in out.stdout.splitlines() if l.startswith("SCALE ")), None)
            if line is None:
                raise RuntimeError(f"the MPI run failed: {out.stderr[-1000:]}")
            row = json.loads(line[6:])
            samples[compressed].append(row)
            progress(f"2 ranks, N={n:,} x {k}, compressed spikes {'on' if compressed else 'off'}: "
                     f"{row['sim_s_per_bio_s']:.2f} s per biological second at {row['rate_hz']:.1f} Hz")
    on, off = ([statistics.median(r["sim_s_per_bio_s"] for r in samples[c]) for c in (True, False)])
    return {"neurons": n, "inputs": k, "t_sim_ms": t_sim, "repeats": repeats,
            "rate_hz": statistics.median(r["rate_hz"] for r in samples[True]),
            "s_per_bio_s_compressed": on, "s_per_bio_s_uncompressed": off, "ratio_off_on": off / on,
            "per_round_ratios": [b["sim_s_per_bio_s"] / a["sim_s_per_bio_s"]
                                 for a, b in zip(samples[True], samples[False])]}
