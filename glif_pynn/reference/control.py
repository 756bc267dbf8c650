"""The procedural API of the reference backend: ``setup``, ``run``, ``reset``, ``end`` and the rest.

As ``pyNN.nest``'s module-level functions; most are PyNN's, built over
:mod:`glif_pynn.reference.simulator`.
"""
from __future__ import annotations

from typing import Union

from pyNN import common
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.connectors import FixedProbabilityConnector
from pyNN.recording import get_io

from glif_pynn.reference import simulator
from glif_pynn.reference.populations import Population
from glif_pynn.reference.projections import Projection
from glif_pynn.reference.simulator import state, unsupported
from glif_pynn.reference.standardmodels.synapses import StaticSynapse

Recordable = Union[common.BasePopulation, common.Assembly, common.IDMixin]


def setup(timestep: float = DEFAULT_TIMESTEP, min_delay: Union[float, str] = DEFAULT_MIN_DELAY,
          **extra_params) -> int:
    """Start a new simulation (``rng_seed`` seeds Poisson sources and noise); return the rank, 0."""
    common.setup(timestep, min_delay, **extra_params)
    if extra_params.get("threads", 1) != 1 or extra_params.get("num_processes", 1) != 1:
        unsupported("more than one thread or process")
    state.dt = float(timestep)
    state.min_delay = state.dt if min_delay == "auto" else float(min_delay)
    state.max_delay = extra_params.get("max_delay", 10.0)
    given = extra_params.get("max_delay", "auto")
    state.delay_limit = None if given == "auto" else float(given)      # pyNN.nest refuses longer delays too
    state.populations = []
    state.clear(seed=extra_params.get("rng_seed"))
    return 0


def end(compatible_output: bool = True) -> None:
    """Write the data requested by ``record(..., filename)`` calls."""
    for population, variables, filename in state.write_on_end:
        population.write_data(get_io(filename), variables)
    state.write_on_end = []


run, run_until = common.build_run(simulator)
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)


def record_v(source: Recordable, filename: str) -> None:
    """Record the membrane potential of ``source`` to ``filename`` (written by :func:`end`)."""
    return record(["v"], source, filename)


def record_gsyn(source: Recordable, filename: str) -> None:
    """Record the synaptic conductances of ``source`` to ``filename`` (written by :func:`end`)."""
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
