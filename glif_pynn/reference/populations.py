"""Populations of the reference backend: Population, PopulationView and Assembly over engine groups.

A Population of GLIF cells is one engine neuron group
(:meth:`glif_pynn.reference.engine.Network.create`); one of spike sources is one engine source
(:mod:`glif_pynn.reference.sources`), rebuilt when its parameters change. Parameters and initial
values live in the engine; a PopulationView reads and writes its cells' share of them.
"""
from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.parameters import ParameterSpace, Sequence

from glif_pynn.reference import simulator, sources as _sources
from glif_pynn.reference.recorder import Recorder
from glif_pynn.reference.simulator import ID, state, unsupported
from glif_pynn.reference.standardmodels.cells import GLIFMixin, SpikeSourceArray, SpikeSourcePoisson


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
    unsupported(f"the cell type {type(celltype).__name__}")


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
            if isinstance(value, np.ndarray):
                if value.ndim == 1:
                    value = value[idx]
                elif value.dtype != object:
                    value = float(value)        # one value for every cell: PyNN broadcasts it (simplify=False)
            space[n] = value
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
        if self is not top:      # PyNN keeps initial values per Population; refuse before writing any
            raise NotImplementedError("initialize() of a PopulationView is not supported by PyNN: initialize the "
                                      "parent Population (an array gives each cell its own value)")
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
    _recorder_class = Recorder

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
        if isinstance(self.celltype, GLIFMixin):
            self._engine = state.network.create(self.celltype.engine_flavour(), self.size, ports=self.celltype.ports,
                                                **params)
        else:
            self._source_params = params
            self._engine = state.network.add_source(_engine_source(self.celltype, params, self.size))
        state.populations.append(self)
