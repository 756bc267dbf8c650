"""The network of :mod:`comparisons.network` written once in PyNN, run on pyNN.nest and on the numpy reference.

The same script for both backends (:func:`measure_pynn`): one ``Population`` of
``GLIF_curr_alpha`` cells, two ``Projection`` s with ``FixedNumberPreConnector`` (800
excitatory and 200 inhibitory inputs per cell, drawn by PyNN from a seeded ``NumpyRNG``),
``StaticSynapse`` with delays from a uniform ``RandomDistribution``, and a population of
``SpikeSourcePoisson`` connected one to one. pyNN.nest runs with ``spike_precision="on_grid"``
(``poisson_generator``, as in PyNEST; PyNN's default is the off-grid
``poisson_generator_ps``).

Build time (``setup()`` to the last ``Projection``, the recorder and, for pyNN.nest, the
connections PyNN defers to the first run) and simulation time are reported
separately: PyNN's connectors draw the connections in Python, one target cell at a time,
and then hand them to the backend, so at 1000 inputs per cell the build takes far longer
than NEST's own ``fixed_indegree`` rule (see the PyNEST table of the same run).
"""
from __future__ import annotations

import time

import numpy as np

from comparisons.network import NetworkSpec, cell_parameters, finish
from comparisons.scale import heap_in_use

#: PyNN kinds: kind -> backend of :func:`measure_pynn`
PYNN_KINDS = {"pyNN.nest": "nest", "glif_pynn.reference": "reference"}
PYNN_PEER = "pyNN.nest"


def backend_module(backend: str):
    """(PyNN simulator module, its GLIF_curr_alpha, extra setup arguments) for ``backend``."""
    if backend == "nest":
        import pyNN.nest as sim

        from glif_pynn.nest import GLIF_curr_alpha
        return sim, GLIF_curr_alpha, {"spike_precision": "on_grid", "threads": 1}
    if backend == "reference":
        import glif_pynn.reference as sim
        return sim, sim.GLIF_curr_alpha, {}
    raise ValueError(f"backend must be 'nest' or 'reference', not {backend!r}")


def measure_pynn(backend: str, spec: dict) -> dict:
    """One process: build and simulate the network through PyNN on ``backend``."""
    from pyNN.random import NumpyRNG, RandomDistribution

    from glif_pynn._quiet import quiet_third_parties
    quiet_third_parties()
    spec = NetworkSpec(**spec)
    sim, cell_type, extra = backend_module(backend)
    start = time.perf_counter()
    sim.setup(timestep=spec.dt, min_delay=spec.delay_min, max_delay=spec.delay_max, rng_seed=spec.seed, **extra)
    heap_empty = heap_in_use()
    cells = sim.Population(spec.n, cell_type(**cell_parameters(spec)))
    heap_cells = heap_in_use()
    rng = NumpyRNG(seed=spec.seed)
    delay = RandomDistribution("uniform", (spec.delay_min, spec.delay_max), rng=rng)
    j = spec.j_pA * 1e-3       # nA
    for source, k, weight, receptor in ((cells[:spec.n_exc], spec.k_exc, j, "excitatory"),
                                        (cells[spec.n_exc:], spec.k_inh, -spec.g * j, "inhibitory")):
        sim.Projection(source, cells, sim.FixedNumberPreConnector(k, with_replacement=True, rng=rng),
                       sim.StaticSynapse(weight=weight, delay=delay), receptor_type=receptor)
    heap_connected = heap_in_use()
    drive = sim.Population(spec.n, sim.SpikeSourcePoisson(rate=spec.nu_ext_hz))
    sim.Projection(drive, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=j, delay=spec.delay_min),
                   receptor_type="excitatory")
    cells.record("spikes")
    if backend == "nest":
        # pyNN.nest connects the recorder (33 kB per recorded cell in NEST 3.10) and the parrot neurons at
        # the first run; its state's run(0) does just that (sim.run(0) returns before reaching it)
        sim.simulator.state.run(0.0)
    build_s = time.perf_counter() - start
    heap_devices = heap_in_use()
    sim.run(spec.warmup_ms)
    heap_prepared = heap_in_use()
    start = time.perf_counter()
    sim.run(spec.t_sim_ms)
    sim_s = time.perf_counter() - start
    trains = cells.get_data("spikes").segments[0].spiketrains
    ids = np.concatenate([np.full(len(st), st.annotations["source_index"]) for st in trains])
    times = np.concatenate([st.rescale("ms").magnitude for st in trains])
    timed = times > spec.warmup_ms + spec.dt / 2          # spikes stamped in the timed run
    sim.end()
    return finish(spec, build_s, sim_s, ids[timed], times[timed], heap_cells - heap_empty,
                  heap_connected - heap_cells + heap_prepared - heap_devices)
