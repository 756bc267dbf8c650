"""The numpy reference as a PyNN backend: ``import glif_pynn.reference as sim``.

An independent second implementation of DESIGN.md section 1 (the engine is
:mod:`glif_pynn.reference.engine`), usable through PyNN's API::

    import glif_pynn.reference as sim
    sim.setup(timestep=0.1)
    cells = sim.Population(100, sim.GLIF_cond_exp(i_offset=0.3))
    cells.record(["v", "spikes"])
    sim.run(1000.0)
    block = cells.get_data()            # a neo.Block as pyNN.nest gives it

Supported: the four GLIF cell types and their N-port variants (``GLIF_curr_alpha_4ports``,
any N, or ``with_ports(GLIF_curr_alpha, N)``), SpikeSourceArray, SpikeSourcePoisson, StaticSynapse,
every PyNN connector, DCSource, StepCurrentSource, ACSource, NoisyCurrentSource, recording
of spikes and every state variable, ``reset``. Anything else raises NotImplementedError
naming it. One process, one thread (``num_processes() == 1``).
"""
from __future__ import annotations

from pyNN import common, errors, random, recording, space  # noqa: F401
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP  # noqa: F401
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.network import Network  # noqa: F401
from pyNN.parameters import ParameterSpace, Sequence, simplify  # noqa: F401
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import get_io  # noqa: F401
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import build_translations  # noqa: F401
from pyNN.standardmodels import cells as _pynn_cells, electrodes as _pynn_electrodes, synapses as _pynn_synapses

from glif_pynn import record_all as _record_all
from glif_pynn.reference import engine, neurons, propagators, quadrature, simulator, sources  # noqa: F401
from glif_pynn.reference.control import (  # noqa: F401
    connect, create, end, get_current_time, get_max_delay, get_min_delay, get_time_step, initialize,
    num_processes, rank, record, record_gsyn, record_v, reset, run, run_for, run_until, setup)
from glif_pynn.reference.populations import Assembly, Population, PopulationView  # noqa: F401
from glif_pynn.reference.projections import Projection  # noqa: F401
from glif_pynn.reference.recorder import Recorder  # noqa: F401
from glif_pynn.reference.simulator import ID, name, state, unsupported as _unsupported
from glif_pynn.reference.standardmodels import cells as _backend_cells
from glif_pynn.reference.standardmodels.cells import (  # noqa: F401
    CELL_TYPES, GLIF_cond_alpha, GLIF_cond_exp, GLIF_curr_alpha, GLIF_curr_exp, SpikeSourceArray,
    SpikeSourcePoisson, list_standard_models, with_ports)
from glif_pynn.reference.standardmodels.electrodes import (  # noqa: F401
    ACSource, DCSource, NoisyCurrentSource, StepCurrentSource)
from glif_pynn.reference.standardmodels.synapses import StaticSynapse  # noqa: F401

_record_all.install()       # record("all"): every recordable variable, as on pyNN.nest


def __getattr__(attr: str) -> type:
    """``GLIF_curr_alpha_4ports`` and the like (:func:`with_ports` of the named type); PyNN's
    standard models that this backend lacks raise NotImplementedError naming them."""
    found = _backend_cells.ports_type(attr)
    if found is not None:
        return found
    for module in (_pynn_cells, _pynn_electrodes, _pynn_synapses):
        if isinstance(getattr(module, attr, None), type):
            _unsupported(f"the PyNN model {attr}")
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
