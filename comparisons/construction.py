"""How long PyNN takes to build a GLIF network on NEST: the fast path, PyNN's own path, NEST's floor.

``glif-pynn bench connect`` builds the network of the building-networks guide at several sizes: N GLIF_curr_exp
cells, a recurrent ``FixedProbabilityConnector(0.1)`` with a seeded ``NumpyRNG`` and uniform
random weights, and an inhibitory ``FixedNumberPreConnector(50)``, ``0.1 N^2 + 50 N`` synapses
in all (N = 4000 is the guide's example, 1.8 million). Each run is a fresh process (or
``mpirun -np 2`` with the MPI NEST of ``.venv-mpi``) that times only the two ``Projection``
calls, in wall time and in CPU time (the largest of the ranks), and reports microseconds per
synapse for:

* ``fast``: glif-pynn's construction path (:mod:`glif_pynn.nest.projections`);
* ``pynn``: PyNN's own path (``pynn_own_path()``), only up to ``pynn_max`` synapses, because it
  takes minutes beyond (18 us per synapse measured earlier on an idle machine);
* ``nest``: NEST's floor, one ``nest.Connect`` of arrays with the same number of synapses
  (drawn with numpy beforehand, not timed), with weights, delays and PyNN's synapse model.

On 1 and 2 threads, and on 2 MPI ranks of 1 thread where ``.venv-mpi`` exists.
"""
from __future__ import annotations

import contextlib
import json
import math
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CELLS = 4000
P_CONNECT, N_PRE = 0.1, 50
WAYS = ("fast", "pynn", "nest")


def cells_for(synapses: float) -> int:
    """The N whose network has about ``synapses`` synapses (0.1 N^2 + 50 N)."""
    return int(round((-N_PRE + math.sqrt(N_PRE ** 2 + 4 * P_CONNECT * synapses)) / (2 * P_CONNECT)))


def one_run(way: str, cells: int, threads: int) -> dict:
    """Build the network once in this process (one MPI rank); rank 0 prints a JSON line."""
    import nest
    import numpy as np
    import pyNN.nest as sim
    from pyNN.random import NumpyRNG, RandomDistribution

    import glif_pynn.nest as glif
    from glif_pynn.nest import projections

    sim.setup(timestep=0.1, min_delay=0.1, threads=threads, verbosity="error")
    pop = sim.Population(cells, glif.GLIF_curr_exp())
    rng = NumpyRNG(seed=20260611)
    weights = RandomDistribution("uniform", (0.0, 0.1), rng=NumpyRNG(seed=7))
    if way == "nest":
        floor = _numpy_draw(np.random.default_rng(1), np.asarray(pop.all_cells, dtype=np.int64))
        model = sim.StaticSynapse()._get_nest_synapse_model()
    start, cpu = time.perf_counter(), time.process_time()
    if way == "nest":
        nest.Connect(floor["pre"], floor["post"], "one_to_one",
                     {"synapse_model": model, "weight": floor["weight"], "delay": floor["delay"]})
    else:
        with projections.pynn_own_path() if way == "pynn" else contextlib.nullcontext():
            exc = sim.Projection(pop, pop, sim.FixedProbabilityConnector(P_CONNECT, rng=rng),
                                 sim.StaticSynapse(weight=weights, delay=1.0))
            inh = sim.Projection(pop, pop, sim.FixedNumberPreConnector(N_PRE, rng=rng),
                                 sim.StaticSynapse(weight=-0.05, delay=1.0), receptor_type="inhibitory")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    local = nest.GetKernelStatus("num_connections") if way == "nest" else len(exc) + len(inh)
    if way != "nest" and projections.construction_path(exc) != way:
        raise RuntimeError(f"asked for the {way} path, got {projections.construction_path(exc)}")
    per_rank = [(wall, cpu, local)]
    if sim.num_processes() > 1:
        from mpi4py import MPI
        per_rank = MPI.COMM_WORLD.allgather(per_rank[0])
    result = {"way": way, "cells": cells, "threads": threads, "processes": sim.num_processes(),
              "synapses": int(sum(r[2] for r in per_rank)), "wall_s": max(r[0] for r in per_rank),
              "cpu_s": max(r[1] for r in per_rank)}
    result["us_per_synapse"] = 1e6 * result["wall_s"] / result["synapses"]
    result["cpu_us_per_synapse"] = 1e6 * result["cpu_s"] / result["synapses"]
    if sim.rank() == 0:
        print("CONNECT " + json.dumps(result), flush=True)
    return result


def _numpy_draw(rng, ids) -> dict:
    """A network of the same shape, drawn with numpy, as arrays for one nest.Connect (the floor)."""
    import numpy as np
    n = ids.size
    pre, post = [], []
    for j in range(n):      # column by column, as the draw is not what is timed
        sources = np.flatnonzero(rng.random(n) < P_CONNECT)
        pre.append(sources)
        post.append(np.full(sources.size, j))
    pre.append(rng.integers(0, n, n * N_PRE))
    post.append(np.repeat(np.arange(n), N_PRE))
    pre, post = np.concatenate(pre), np.concatenate(post)
    weight = np.concatenate([rng.uniform(0.0, 100.0, pre.size - n * N_PRE), np.full(n * N_PRE, -50.0)])
    return {"pre": ids[pre], "post": ids[post], "weight": weight, "delay": np.ones(pre.size)}


def run(synapses: Sequence[float] = (1e5, 1e6, 1e7), pynn_max: float = 2e6, mpi: bool = True, example: bool = True,
        local: bool = True, progress: Callable[[str], None] = print) -> tuple[list[dict], list[str]]:
    """Every size (and the guide's example) x way x configuration, each in a fresh process: (the rows, a line
    for each run that failed).

    ``local=False`` runs only the MPI configuration, ``mpi=False`` only the single-process ones.
    """
    from comparisons.scale import _last_lines, configurations, launch_environment
    env = launch_environment()
    sizes = sorted({cells_for(s) for s in synapses} | ({EXAMPLE_CELLS} if example else set()))
    rows, failed = [], []
    for cells in sizes:
        expected = P_CONNECT * cells ** 2 + N_PRE * cells
        for launcher, threads in configurations(mpi, local):
            ranks = 2 if launcher[0] == "mpirun" else 1
            for way in WAYS:
                if way == "pynn" and (expected > pynn_max or threads > 1):
                    continue
                code = f"from comparisons.construction import one_run; one_run({way!r}, {cells}, {threads})"
                out = subprocess.run([*launcher, "-W", "ignore", "-c", code], capture_output=True, text=True,
                                     env=env, cwd=ROOT)
                line = next((li for li in out.stdout.splitlines() if li.startswith("CONNECT ")), None)
                if line is None:
                    failed.append(f"{way}, N={cells}, {ranks} process(es) x {threads} thread(s): "
                                  f"{_last_lines(out.stderr)}")
                    progress(f"failed: {failed[-1]}")
                    continue
                row = json.loads(line[len("CONNECT "):])
                rows.append(row)
                progress(f"{way:4s} N={cells:>6} ({row['synapses']:>10,} synapses), {ranks} process(es) x "
                         f"{threads} thread(s): {row['wall_s']:7.2f} s, {row['us_per_synapse']:6.2f} us per "
                         f"synapse (CPU {row['cpu_us_per_synapse']:.2f})")
    return rows, failed


def format_table(rows: list[dict], load: Optional[str] = None) -> str:
    """Markdown: us per synapse (wall; CPU in brackets) per size and configuration, and ratios of wall times
    within one configuration (less sensitive to the machine's load than the times)."""
    configs = sorted({(r["processes"], r["threads"]) for r in rows})
    lines = ["| cells | synapses | processes x threads | fast | PyNN's own path | NEST floor | PyNN / fast | "
             "fast / floor |", "|---|---|---|---|---|---|---|---|"]
    for cells in sorted({r["cells"] for r in rows}):
        for procs, threads in configs:
            cell = {r["way"]: r for r in rows if r["cells"] == cells and (r["processes"], r["threads"]) ==
                    (procs, threads)}
            if "fast" not in cell:
                continue

            def text(way):
                r = cell.get(way)
                return f"{r['us_per_synapse']:.2f} ({r['cpu_us_per_synapse']:.2f})" if r else "not run"
            lines.append(f"| {cells} | {cell['fast']['synapses']:,} | {procs} x {threads} | {text('fast')} | "
                         f"{text('pynn')} | {text('nest')} | {_ratio(cell, 'pynn', 'fast')} | "
                         f"{_ratio(cell, 'fast', 'nest')} |")
    if load:
        lines.append(f"\n{load}")
    return "\n".join(lines)


def _ratio(cell: dict, numerator: str, denominator: str) -> str:
    if numerator not in cell or denominator not in cell:
        return ""
    return f"{cell[numerator]['us_per_synapse'] / cell[denominator]['us_per_synapse']:.1f}"
