"""Every connector case of tests/connect_cases.py, built on pyNN.nest, gathered to rank 0.

Usage: python fast_projections.py WAY OUTPUT.npz  (WAY: fast or pynn; optionally under mpirun -np N)

The cases use parallel-safe generators (PyNN's default), so the connections must not depend
on the number of ranks. One more network uses generators that are not parallel-safe (each
rank draws its own columns from its own seed): its connections depend on the number of ranks,
and the fast path must still give exactly PyNN's own.
"""
import contextlib
import sys
from pathlib import Path

import numpy as np
import pyNN.nest as sim
from pyNN.random import NumpyRNG, RandomDistribution

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import glif_pynn.nest as glif  # noqa: E402
from glif_pynn.nest import projections  # noqa: E402
from connect_cases import CONNECTORS, build, sorted_list  # noqa: E402

way, output = sys.argv[1], sys.argv[2]
path = projections.pynn_own_path() if way == "pynn" else contextlib.nullcontext()
results = {}
paths = set()
sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
for name in CONNECTORS:
    with path:
        built, rng = build(sim, glif, name)
    for key, prj in built.items():
        rows = sorted_list(prj)
        size = prj.size(gather=True)
        if sim.rank() == 0:
            results[f"{name}/{key}"] = rows
            results[f"{name}/{key}/size"] = np.array(size)
        paths.add(projections.construction_path(prj))
    results[f"{name}/next_draw"] = rng.next(4)

rng = NumpyRNG(seed=99, parallel_safe=False)
cells = sim.Population(60, glif.GLIF_cond_exp())
with path:
    prj = sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.2, rng=rng),
                         sim.StaticSynapse(weight=RandomDistribution("uniform", (0.001, 0.01), rng=rng), delay=1.0))
rows = sorted_list(prj)
if sim.rank() == 0:
    results["not_parallel_safe"] = rows
    results["paths"] = np.array(sorted(paths | {projections.construction_path(prj)}))
    results["processes"] = np.array(sim.num_processes())
    np.savez(output, **results)
sim.end()
