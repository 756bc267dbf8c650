"""Every connector case of tests/connect_cases.py, built on pyNN.nest, gathered to rank 0.

Usage: python fast_projections.py WAYS OUTPUT.npz  (WAYS: fast, pynn or fast,pynn; optionally under
mpirun -np N). Rank 0 writes OUTPUT.npz, keys prefixed "fast:" or "pynn:".

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

ways, output = sys.argv[1].split(","), sys.argv[2]
results = {}


def build_all(way):
    """Every case of connect_cases.py and one network with generators that are not parallel-safe."""
    own_path = projections.pynn_own_path if way == "pynn" else contextlib.nullcontext
    paths = set()
    sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
    for name in CONNECTORS:
        with own_path():
            built, rng = build(sim, glif, name)
        for key, prj in built.items():
            results[f"{way}:{name}/{key}"] = sorted_list(prj)
            if way == "fast":       # one MPI reduction more per projection: the fast path's only
                results[f"{way}:{name}/{key}/size"] = np.array(prj.size(gather=True))
            paths.add(projections.construction_path(prj))
        results[f"{way}:{name}/next_draw"] = rng.next(4)
    rng = NumpyRNG(seed=99, parallel_safe=False)
    cells = sim.Population(60, glif.GLIF_cond_exp())
    with own_path():
        prj = sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.2, rng=rng),
                             sim.StaticSynapse(weight=RandomDistribution("uniform", (0.001, 0.01), rng=rng),
                                               delay=1.0))
    results[f"{way}:not_parallel_safe"] = sorted_list(prj)
    results[f"{way}:paths"] = np.array(sorted(paths | {projections.construction_path(prj)}))


for way in ways:
    build_all(way)
if sim.rank() == 0:       # gathered lists are complete on rank 0 only
    results["processes"] = np.array(sim.num_processes())
    np.savez(output, **results)
sim.end()
