"""Mends for pyNN.nest 0.13, for every cell type: ranks without a cell of a population (or a connection of a
projection), recording after run(), the recorded sample at t = 0, a refused reset().

Under MPI a population's cells are spread over the ranks, so on all ranks but one a population of one cell
has no cell at all (and so has a small population on many ranks). pyNN.nest 0.13 does not expect that: the
Population fails while it is made (its own ``initialize()``), ``get_data()`` and ``get()`` fail, and
``get(gather=True)`` hangs; a projection's ``get()`` and ``set()`` fail or hang on a rank that holds none of
its connections (and ``set()`` failed on every rank, as PyNEST refuses lists of values there). Nine wrappers
mend these places; with them a script gathers on rank 0 what one process gives
(``tests/mpi/single_cell_population.py``, ``tests/mpi/one_rank_targets.py``); on one process they change
nothing.

``record()`` of something new after the first ``run()`` failed with a bare AssertionError deep in pyNN.nest
(NEST's recorders are connected at the first run and cannot take more cells or variables); it is now a
NotImplementedError that says so, as on the reference backend, and recording again what is already recorded
is left alone.

The sample at t = 0 that pyNN.nest adds to every recorded signal came from a new draw of a random initial
value (and moved the random stream that reset() then draws from), and under MPI from another cell; it is
now the value the cell starts from.

:func:`install` (called by :mod:`glif_pynn.nest` at import) wraps them once; each wrapper says what it mends.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from glif_pynn._wrapping import wrap_once

_MARK = "_glif_pynn_mend"
#: The PyNN versions whose pyNN.nest internals these wrappers were written against (and tested with).
PYNN_VERSIONS = ("0.13.",)


def _one_dimensional_local_mask(original):
    """pyNN.nest 0.13 keeps which cells of a population live on this MPI rank as ``node_collection.local``,
    which NEST gives as one bool, not a list, for a single node: on a rank that does not hold the only cell
    of a size-1 population the mask is 0-d and PyNN's own initialize() fails with an IndexError. Made 1-d,
    it reads as for any population whose cells all live elsewhere."""
    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        self._mask_local = np.atleast_1d(np.asarray(self._mask_local, dtype=bool))
        return result
    return wrapper


def _empty_ids_to_no_indices(original):
    """PyNN's ``id_to_index`` fails on an empty array of ids (``min()`` of nothing), which is what a rank that
    holds no recorded cell of a population passes it when ``get_data()`` builds its share of the spike trains."""
    def wrapper(self, id):
        if np.iterable(id) and not hasattr(id, "all_cells") and np.size(id) == 0:
            return np.zeros(0, dtype=int)
        return original(self, id)
    return wrapper


def _no_local_cells_no_parameters(original):
    """PyNN's ``_get_native_parameters`` reads the first local value to tell tuples from numbers, which fails
    on a rank that holds no cell of the population (``get()``, gathered or not): there it is empty."""
    def wrapper(self, *names):
        if self.local_size == 0:
            from pyNN.parameters import ParameterSpace
            return ParameterSpace({name: np.zeros(0) for name in names}, shape=(0,))
        return original(self, *names)
    return wrapper


def _gather_before_simplifying(original):
    """PyNN's ``get(gather=True)`` simplifies each rank's values before gathering them (its own comment warns):
    a rank whose cells share a value (one cell, say) has a number, skips the gather that the other ranks enter,
    and the script hangs. With several processes the values are gathered unsimplified and then simplified as
    PyNN does on one process (an array of one value becomes that value)."""
    def wrapper(self, parameter_names, gather=False, simplify=True):
        if not (gather and simplify and self._simulator.state.num_processes > 1):
            return original(self, parameter_names, gather=gather, simplify=simplify)
        values = original(self, parameter_names, gather=True, simplify=False)
        if isinstance(parameter_names, str):
            return _simplified(values)
        return [_simplified(value) for value in values]
    return wrapper


def _simplified(values):
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.size and values.dtype != object \
            and (values == values[0]).all():
        return values[0]
    return values


def _no_local_connections_no_values(original):
    """PyNN reads a projection's connections on each rank (``get()``) by scaling NEST's values column by column,
    which fails on a rank that holds no connection of the projection (none of its targets lives there): NEST
    gives an empty tuple, not a table with no rows. Such a rank has no values to give, and gathers nothing."""
    def wrapper(self, names):
        if len(self.nest_connections) == 0:
            return []
        return original(self, names)
    return wrapper


def _query_on_every_rank(original):
    """pyNN.nest asks NEST for a projection's connections (``nest_connections``, behind ``get()`` and ``set()``)
    only on ranks that hold some of them. After a ``nest.Connect`` that query is a collective MPI call (NEST
    first brings its connection tables up to date on every rank), so a rank without connections of the
    projection left the others waiting: a hang. Such a rank now makes the same query, which finds nothing."""
    def fget(self):
        from glif_pynn.nest.projections import query_as_the_other_ranks
        state = self._simulator.state
        if state.num_processes > 1 and len(self._sources) == 0 and (self._connections is None
                                                                    or state.stale_connection_cache):
            query_as_the_other_ranks(self)
        return original(self)
    return fget


class _NestSettingScalars:
    """The ``nest`` module as pyNN.nest's projections see it during ``Projection.set()`` under MPI. PyNEST refuses a
    list of synapse values on several processes ("not supported in MPI-parallel simulations"), and pyNN.nest
    passes one for every target with more than one source: equal values are set as one value, others as a list
    of one dictionary per connection, which PyNEST passes on to NEST on any number of processes."""

    def __init__(self, nest):
        self._nest = nest

    def __getattr__(self, name):
        return getattr(self._nest, name)

    def SetStatus(self, objects, params, val=None):
        if val is None or np.ndim(val) != 1 or not isinstance(objects, self._nest.SynapseCollection):
            return self._nest.SetStatus(objects, params, val)
        values = np.asarray(val)
        if values.size and (values == values[0]).all():
            return self._nest.SetStatus(objects, params, values[0].item())
        return objects.set([{params: value.item()} for value in values])


def _set_under_mpi(original):
    """pyNN.nest's ``Projection.set()`` under MPI. It failed on every rank: where the projection has connections,
    PyNEST refused the list of values pyNN.nest passes (see :class:`_NestSettingScalars`); on a rank without
    any, sampling one of them to tell NEST's common synapse properties from the others raised StopIteration,
    and the query it makes first is a collective MPI call after a ``nest.Connect``. Such a rank now makes the
    one query the others make, and has nothing to set."""
    def wrapper(self, parameter_space):
        if self._simulator.state.num_processes == 1:
            return original(self, parameter_space)
        import pyNN.nest.projections as pynn_projections

        from glif_pynn.nest.projections import query_as_the_other_ranks
        if len(self._sources) == 0:
            query_as_the_other_ranks(self)
            return None
        nest = pynn_projections.nest
        pynn_projections.nest = _NestSettingScalars(nest)
        try:
            return original(self, parameter_space)
        finally:
            pynn_projections.nest = nest
    return wrapper


def _array_on_ranks_without_connections(original):
    """pyNN.nest's ``Projection.get(format="array", gather=True)`` under MPI builds the array on rank 0, and
    returns on each other rank the first of its own connections' values: an IndexError on a rank that holds none
    (after the gather, so rank 0 has its array). Such a rank gets an empty array."""
    def wrapper(self, attribute_names, format, gather=True, with_address=True, multiple_synapses="sum"):
        try:
            return original(self, attribute_names, format, gather=gather, with_address=with_address,
                            multiple_synapses=multiple_synapses)
        except IndexError:
            state = self._simulator.state
            if not (format == "array" and gather is True and state.num_processes > 1 and state.mpi_rank != 0
                    and len(self.nest_connections) == 0):
                raise
            return np.zeros(0)
    return wrapper


_SET_INITIAL = "_glif_pynn_initial_values_set"      # {variable: (local ids, values in PyNN units)}


def _keep_random_initial_values(original):
    """pyNN.nest's recorder adds each signal's sample at t = 0 (NEST records none) from the population's initial
    values, which PyNN keeps as given: a random distribution was drawn again at each lookup. So that sample was
    not the value the cell started from, and the draws it took moved the random stream, so that reset() set
    other values than the reference backend does (whether V was recorded changed the run after a reset). The
    values NEST holds right after a random initialisation are read back and kept, in PyNN's units, for the
    lookup (a later non-random initialisation of the variable drops them)."""
    from pyNN.random import RandomDistribution

    def wrapper(self, variable, value):
        result = original(self, variable, value)
        kept = self.__dict__.setdefault(_SET_INITIAL, {})
        kept.pop(variable, None)
        if isinstance(value.base_value, RandomDistribution) and self.local_size:
            import nest
            celltype = self.celltype
            name = getattr(celltype, "variable_map", {}).get(variable, variable)
            scale = getattr(celltype, "scale_factors", {}).get(variable, 1.0)
            local = self.node_collection[np.asarray(self._mask_local, bool)]
            try:
                values = np.atleast_1d(np.asarray(nest.GetStatus(local, name), dtype=float)) * scale
            except nest.NESTError:      # a state NEST does not let PyNN set (PyNN warned): PyNN's own lookup
                return result
            kept[variable] = (np.asarray(local.tolist(), dtype=np.int64), values)
        return result
    return wrapper


def _initial_value_of_the_cell(original):
    """A cell's initial value, for the recorder's sample at t = 0: the value kept when it was drawn at random
    (see :func:`_keep_random_initial_values`); otherwise PyNN's own lookup, which under MPI indexed the array of
    the whole population by the cell's index among this rank's cells (another cell's value): by its index in the
    population."""
    def wrapper(self, id, variable):
        kept = self.__dict__.get(_SET_INITIAL, {}).get(variable)
        if kept is not None:
            ids, values = kept
            at = int(np.searchsorted(ids, int(id)))
            if at < ids.size and ids[at] == int(id):
                return float(values[at])
        if self._simulator.state.num_processes > 1 and variable in self.initial_values:
            return self.initial_values[variable][self.id_to_index(id)]
        return original(self, id, variable)
    return wrapper


def _refuse_reset_before_storing(original):
    """pyNN.nest's ``reset()`` stores what was recorded as a finished segment and only then refuses to reset
    without ``setup(t_flush=...)``: a script that caught the error and ran on got its first run twice, in that
    segment and again in the next one, which still starts at t = 0. Refused before anything changes, with
    PyNN's own message."""
    def reset(*args, **kwargs):
        from pyNN.nest import simulator
        state = simulator.state
        if state.t > 0 and state.t_flush < 0:
            state.reset()           # raises PyNN's ValueError (set t_flush) before it touches anything
        return original(*args, **kwargs)
    return reset


def _record_only_before_the_first_run(original):
    """pyNN.nest connects its spike recorder and multimeter to the cells at the first run(); asked afterwards
    to record more cells or another variable, it failed on ``assert not self._connected``, after it had
    already noted the variable as recorded (so that get_data() failed too). Checked first, before anything
    changes; recording again what is recorded already passes through."""
    def wrapper(self, variables, ids, sampling_interval=None, locations=None):
        if variables is None or locations is not None or not (self._multimeter._connected
                                                               or self._spike_detector._connected):
            return original(self, variables, ids, sampling_interval, locations)
        ids = set(ids)
        names = getattr(self.population.celltype, "variable_map", {})      # PyNN name -> NEST name
        left = []                       # variables whose recorder is not connected yet
        for variable in self._localize_variables(variables, None):
            spikes = variable.name == "spikes"
            device = self._spike_detector if spikes else self._multimeter
            if not device._connected or not self.population.can_record(variable.name):
                left.append(variable.name)      # PyNN records it, or says that the cell type cannot
            elif ids - self.recorded_all[variable] or not (spikes or names.get(variable.name, variable.name)
                                                           in device.variables):
                raise NotImplementedError(
                    f"pyNN.nest cannot start recording {variable.name!r} of {self.population.label!r} after the "
                    "first run(): NEST connects its recorders to the cells then. Call record() for everything "
                    "to be recorded before the first run() (a new setup() starts afresh)")
        return original(self, left, ids, sampling_interval, None) if left else None
    return wrapper


def install() -> bool:
    """Wrap the places in pyNN.nest's Population, PopulationView (and their mixin), Projection, Recorder and
    ``reset()`` (once); False, wrapping nothing, for a PyNN whose internals these wrappers were not written
    against."""
    import pyNN
    import pyNN.nest
    import pyNN.nest.control
    from pyNN.nest.populations import Population, PopulationMixin, PopulationView
    from pyNN.nest.projections import Projection
    from pyNN.nest.recording import Recorder

    if not pyNN.__version__.startswith(PYNN_VERSIONS):
        return False

    for cls, name, wrap in ((Recorder, "record", _record_only_before_the_first_run),
                            (Population, "_create_cells", _one_dimensional_local_mask),
                            (Population, "id_to_index", _empty_ids_to_no_indices),
                            (PopulationMixin, "_get_native_parameters", _no_local_cells_no_parameters),
                            (Population, "get", _gather_before_simplifying),
                            (PopulationView, "get", _gather_before_simplifying),
                            (Projection, "_get_attributes_as_list", _no_local_connections_no_values),
                            (Projection, "_set_attributes", _set_under_mpi),
                            (Projection, "get", _array_on_ranks_without_connections),
                            (Population, "_set_initial_value_array", _keep_random_initial_values),
                            (Population, "_get_cell_initial_value", _initial_value_of_the_cell)):
        wrap_once(cls, name, wrap, _MARK)
    for module in (pyNN.nest, pyNN.nest.control):        # sim.reset is the control module's function
        wrap_once(module, "reset", _refuse_reset_before_storing, _MARK)
    getter = SimpleNamespace(fget=Projection.__dict__["nest_connections"].fget)      # a property: wrap its getter
    wrap_once(getter, "fget", _query_on_every_rank, _MARK)
    Projection.nest_connections = property(getter.fget)
    return True
