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

import functools
import types
from typing import Optional

import numpy as np
from pyNN import common, errors, random, recording, space  # noqa: F401
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.network import Network  # noqa: F401
from pyNN.parameters import ParameterSpace, Sequence, simplify
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: F401
from pyNN.recording import get_io
from pyNN.space import Space  # noqa: F401
from pyNN.standardmodels import build_translations, cells as _cells, electrodes as _electrodes
from pyNN.standardmodels import synapses as _synapses

from glif_pynn import standardmodels as _glif
from glif_pynn.reference import engine as _engine, sources as _sources
from glif_pynn.reference.neurons import steps as _engine_steps

name = "glif_pynn.reference"


class ID(int, common.IDMixin):
    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class _State(common.control.BaseState):
    """The simulator state: one engine :class:`~glif_pynn.reference.engine.Network`."""

    def __init__(self):
        super().__init__()
        self.mpi_rank, self.num_processes = 0, 1
        self.dt, self.min_delay, self.max_delay = DEFAULT_TIMESTEP, DEFAULT_TIMESTEP, 10.0
        self.clear()

    @property
    def t(self) -> float:
        return self.network.t

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        self.network.run(tstop)
        self.running = True

    def clear(self, seed: Optional[int] = None):
        self.network = _engine.Network(self.dt, seed=seed)
        self.recorders, self.write_on_end = set(), []
        self.id_counter, self.segment_counter = 0, -1
        self.reset()

    def reset(self):
        if getattr(self, "running", False):
            self.network.reset()
            for recorder in self.recorders:
                recorder._clear_simulator()
            for pop in getattr(self, "populations", []):
                for variable, value in pop.initial_values.items():
                    pop._set_initial_value_array(variable, value)
        self.populations = getattr(self, "populations", [])
        self.running, self.t_start = False, 0.0
        self.segment_counter += 1


state = _State()
simulator = types.SimpleNamespace(state=state, ID=ID, name=name)


def _unsupported(what: str):
    raise NotImplementedError(f"{what} is not supported by the numpy reference backend ({name})")


# -- cell types, synapses, current sources -------------------------------------------------------
def _identity(cls):
    return build_translations(*[(p, p) for p in cls.default_parameters])


class _GLIFMixin:
    def engine_flavour(self) -> str:
        return ("curr_" if self.flavour == "current" else "cond_") + self.synapse_shape


def _glif_type(base):
    return type(base.__name__, (_GLIFMixin, base), {"translations": _identity(base), "__doc__": base.__doc__})


GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha = (_glif_type(c) for c in _glif.CELL_TYPES)
CELL_TYPES = (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha)


@functools.lru_cache(maxsize=None)
def with_ports(cell_type: type, ports: int) -> type:
    """The N-port variant of one of this backend's four GLIF types (any N >= 2), e.g.
    ``with_ports(GLIF_curr_alpha, 4)`` is ``GLIF_curr_alpha_4ports``: receptor types ``syn1`` ... ``synN``."""
    if cell_type not in CELL_TYPES:
        raise ValueError(f"with_ports takes one of {', '.join(c.__name__ for c in CELL_TYPES)}, "
                         f"not {getattr(cell_type, '__name__', cell_type)!r}")
    neutral = next(c for c in _glif.CELL_TYPES if c.__name__ == cell_type.__name__)
    return _glif_type(_glif.with_ports(neutral, ports))


class SpikeSourceArray(_cells.SpikeSourceArray):
    __doc__ = _cells.SpikeSourceArray.__doc__
    translations = _identity(_cells.SpikeSourceArray)


class SpikeSourcePoisson(_cells.SpikeSourcePoisson):
    __doc__ = _cells.SpikeSourcePoisson.__doc__
    translations = _identity(_cells.SpikeSourcePoisson)


class StaticSynapse(_synapses.StaticSynapse):
    __doc__ = _synapses.StaticSynapse.__doc__
    translations = _identity(_synapses.StaticSynapse)

    def _get_minimum_delay(self):
        return state.dt


class _CurrentSource:
    """A PyNN current source backed by engine sources (one per target population)."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_injected", [])      # engine sources
        super().__init__(**parameters)
        self.set_native_parameters(self.native_parameters)

    def _engine_source(self):
        p = {k: (v.value if isinstance(v, Sequence) else v) for k, v in self._params.items()}
        return self._engine_class(**{self._engine_names.get(k, k): v for k, v in p.items()})

    def set_native_parameters(self, parameters):
        parameters.shape = (1,)
        parameters.evaluate(simplify=True)
        self._params.update({k: (v if isinstance(v, Sequence) else float(v)) for k, v in parameters.items()})
        for k, old in enumerate(self._injected):
            new = self._engine_source()
            state.network.replace_current(old, new)
            self._injected[k] = new

    def get_native_parameters(self):
        return ParameterSpace(dict(self._params), self.get_schema(), (1,))

    def inject_into(self, cells):
        by_parent = {}
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
            by_parent.setdefault(cell.parent, []).append(cell.parent.id_to_index(cell))
        for parent, indices in by_parent.items():
            source = self._engine_source()
            # as pyNN.nest: its devices start min_delay early and reach the cells over min_delay,
            # and cannot start before t = 0, so nothing arrives before step min_delay / dt + 1
            source.first_step = int(_engine_steps(state.min_delay, state.dt)) + 1
            state.network.inject(source, parent._engine, indices)
            self._injected.append(source)

    def record(self):
        _unsupported("recording the current of a current source")


def _electrode(base, engine_class, names=None):
    return type(base.__name__, (_CurrentSource, base), {
        "__doc__": base.__doc__, "translations": _identity(base), "_engine_class": engine_class,
        "_engine_names": names or {}})


DCSource = _electrode(_electrodes.DCSource, _sources.DCSource)
StepCurrentSource = _electrode(_electrodes.StepCurrentSource, _sources.StepCurrentSource)
ACSource = _electrode(_electrodes.ACSource, _sources.ACSource)
NoisyCurrentSource = _electrode(_electrodes.NoisyCurrentSource, _sources.NoisyCurrentSource)


def __getattr__(attr):
    parsed = _glif.parse_ports_type_name(attr, CELL_TYPES)
    if parsed is not None:
        return with_ports(*parsed)
    for module in (_cells, _electrodes, _synapses):
        if isinstance(getattr(module, attr, None), type):
            _unsupported(f"the PyNN model {attr}")
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def list_standard_models():
    """The StandardCellType classes this backend provides."""
    return [c.__name__ for c in (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha,
                                 SpikeSourceArray, SpikeSourcePoisson)]


# -- populations -----------------------------------------------------------------------------
def _spike_lists(values, size: int) -> list:
    values = values if isinstance(values, np.ndarray) and values.dtype == object else [values] * size
    return [np.asarray(v.value if isinstance(v, Sequence) else v, float) for v in values]


def _engine_source(celltype, params: dict, size: int):
    if isinstance(celltype, SpikeSourceArray):
        # emitted in pyNN.nest's steps (spike_generator at t - min_delay + parrot neuron); a subclass with
        # uses_parrot = False (as pyNN.nest's) emits at the spike times themselves, as a bare spike_generator
        relay = state.min_delay if getattr(celltype, "uses_parrot", True) else None
        return _sources.SpikeArraySource(_spike_lists(params["spike_times"], size), state.dt, relay)
    if isinstance(celltype, SpikeSourcePoisson):
        return _sources.PoissonSource(size, state.dt, params["rate"], params["start"], params["duration"])
    _unsupported(f"the cell type {type(celltype).__name__}")


class _Access:
    """Parameters and initial values of a Population or PopulationView, kept in the engine."""

    def _top(self):
        return self.grandparent if hasattr(self, "parent") else self

    def _indices(self):
        return self.index_in_grandparent(np.arange(self.size)) if hasattr(self, "parent") else np.arange(self.size)

    def _get_parameters(self, *names):
        top, idx = self._top(), self._indices()
        values = top._engine.group.params if top._engine.is_neuron else top._source_params
        space = {}
        for n in names or self.celltype.get_native_names():
            value = values[n]
            if isinstance(value, np.ndarray) and value.ndim == 1:
                value = value[idx]
            space[n] = simplify(value) if isinstance(value, np.ndarray) and value.dtype != object else value
        return self.celltype.reverse_translate(ParameterSpace(space, shape=(self.size,)))

    def _set_parameters(self, parameter_space):
        top, idx = self._top(), self._indices()
        parameter_space.shape = (self.size,)
        parameter_space.evaluate(simplify=False)
        if top._engine.is_neuron:
            full = {}
            for n, v in parameter_space.items():
                full[n] = np.array(np.broadcast_to(top._engine.group.params[n], (top.size,)), float)
                full[n][idx] = v
            top._engine.group.set_parameters(**full)
        else:
            for n, v in parameter_space.items():
                old = top._source_params[n]
                full = np.empty(top.size, dtype=object if n == "spike_times" else float)
                full[:] = list(old) if isinstance(old, np.ndarray) and old.ndim else [old] * top.size
                full[idx] = v
                top._source_params[n] = full
            state.network.replace_source(top._engine, _engine_source(top.celltype, top._source_params, top.size))

    def _set_initial_value_array(self, variable, initial_values):
        top = self._top()
        if not top._engine.is_neuron:
            return
        values = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") else initial_values
        state.network.initialize(top._engine, self._indices(), **{variable: values})

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Assembly(common.Assembly):
    _simulator = simulator


class PopulationView(_Access, common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator


class Population(_Access, common.Population):
    __doc__ = common.Population.__doc__
    _assembly_class = Assembly
    _simulator = simulator

    def _create_cells(self):
        self.all_cells = np.array([ID(i) for i in range(state.id_counter, state.id_counter + self.size)], dtype=ID)
        self._mask_local = np.ones(self.size, bool)
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        native = self.celltype.native_parameters
        native.shape = (self.size,)
        native.evaluate(simplify=True)
        params = dict(native.items())
        if isinstance(self.celltype, _GLIFMixin):
            self._engine = state.network.create(self.celltype.engine_flavour(), self.size, ports=self.celltype.ports,
                                                **params)
        else:
            self._source_params = params
            self._engine = state.network.add_source(_engine_source(self.celltype, params, self.size))
        state.populations.append(self)


# -- projections -----------------------------------------------------------------------------
def _split(cells, indices):
    """Yield (top Population, indices in it, positions in ``indices``) for indices into a
    Population, PopulationView or Assembly (whose indices run through its populations in order)."""
    indices = np.asarray(indices, int)
    parts = cells.populations if isinstance(cells, common.Assembly) else [cells]
    bounds = np.cumsum([0] + [part.size for part in parts])
    which = np.searchsorted(bounds, indices, side="right") - 1
    for k, part in enumerate(parts):
        positions = np.flatnonzero(which == k)
        if len(positions):
            local = indices[positions] - bounds[k]
            if hasattr(part, "parent"):
                yield part.grandparent, part.index_in_grandparent(local), positions
            else:
                yield part, local, positions


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=Space(), label=None):
        if synapse_type is not None and type(synapse_type) is not StaticSynapse:
            _unsupported(f"the synapse type {type(synapse_type).__name__} (only this backend's StaticSynapse)")
        if source is not None:
            _unsupported("the Projection argument 'source'")
        super().__init__(presynaptic_population, postsynaptic_population, connector, synapse_type, source,
                         receptor_type, space, label)
        self._parts = []
        connector.connect(self)
        i, j, w, d = (np.concatenate(x) if self._parts else np.zeros(0) for x in zip(*self._parts or [[]] * 4))
        self._arrays = {"presynaptic_index": i.astype(int), "postsynaptic_index": j.astype(int),
                        "weight": w, "delay": d}
        for pre, gi, at_i in _split(self.pre, i):
            for post, gj, at_j in _split(self.post, j[at_i]):
                state.network.connect(pre._engine, post._engine, gi[at_j], gj, w[at_i][at_j], d[at_i][at_j],
                                      receptor=self.receptor_type)

    def __len__(self):
        return len(self._arrays["weight"])

    def set(self, **attributes):
        _unsupported("Projection.set (weights and delays are fixed once connected)")

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters):
        if location_selector is not None:
            _unsupported("multicompartment location selectors")
        n = len(presynaptic_indices)
        extra = set(connection_parameters) - {"weight", "delay"}
        if extra:
            _unsupported(f"the connection parameters {sorted(extra)}")
        self._parts.append((np.asarray(presynaptic_indices), np.full(n, postsynaptic_index),
                            np.broadcast_to(np.asarray(connection_parameters["weight"], float), (n,)),
                            np.broadcast_to(np.asarray(connection_parameters["delay"], float), (n,))))

    def _get_attributes_as_list(self, names):
        return list(zip(*(self._arrays[n] for n in names)))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        combine = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        out = []
        for n in names:
            values = np.full((self.pre.size, self.post.size), np.nan)
            key = n[:-1] if n.endswith("s") else n
            arrays = self._arrays
            for i, j, v in zip(arrays["presynaptic_index"], arrays["postsynaptic_index"], arrays[key]):
                values[i, j] = v if np.isnan(values[i, j]) else combine(values[i, j], v)
            out.append(values)
        return out


# -- recording -------------------------------------------------------------------------------
class Recorder(recording.Recorder):
    _simulator = simulator

    def _engine(self):
        return self.population._engine

    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        engine = self._engine()
        if engine.recording is not None and (engine.recording.times or engine.recording.samples.get("spikes")):
            _unsupported("changing what is recorded once data has been recorded")
        ids = set().union(*self.recorded.values())
        indices = np.sort([self.population.id_to_index(i) for i in ids])
        names = sorted({v.name for v in self.recorded})
        state.network.record(engine, names, indices, self.sampling_interval)

    def _get_spiketimes(self, ids, clear=False):
        idx, times = state.network.get_recording(self._engine())["spikes"]
        id_array = np.asarray(self.population.all_cells, int)[idx]
        keep = np.isin(id_array, np.asarray(list(ids), int))
        return id_array[keep], times[keep]

    def _get_all_signals(self, variable, ids, clear=False):
        data = state.network.get_recording(self._engine())
        column = {int(k): c for c, k in enumerate(data["indices"])}
        cols = [column[self.population.id_to_index(i)] for i in ids]
        return data[variable.name][:, cols], None

    def _local_count(self, variable, filter_ids=None):
        ids, _ = self._get_spiketimes(self.filter_recorded(variable, filter_ids))
        counts = dict.fromkeys((int(i) for i in self.filter_recorded(variable, filter_ids)), 0)
        for i, c in zip(*np.unique(ids, return_counts=True)):
            counts[int(i)] = int(c)
        return counts

    def _clear_simulator(self):
        state.network.clear_recording(self._engine())

    def _reset(self):
        state.network.clear_recording(self._engine(), stop=True)


Population._recorder_class = Recorder


# -- control -----------------------------------------------------------------------------------
def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start a new simulation (``rng_seed`` seeds Poisson sources and noise); return the rank, 0."""
    common.setup(timestep, min_delay, **extra_params)
    if extra_params.get("threads", 1) != 1 or extra_params.get("num_processes", 1) != 1:
        _unsupported("more than one thread or process")
    state.dt = float(timestep)
    state.min_delay = state.dt if min_delay == "auto" else float(min_delay)
    state.max_delay = extra_params.get("max_delay", 10.0)
    state.populations = []
    state.clear(seed=extra_params.get("rng_seed"))
    return 0


def end(compatible_output=True):
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
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405
record = common.build_record(simulator)


def record_v(source, filename):
    return record(["v"], source, filename)


def record_gsyn(source, filename):
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
