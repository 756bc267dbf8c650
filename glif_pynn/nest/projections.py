"""Fast construction of pyNN.nest projections: PyNN's own draws, one ``nest.Connect`` per projection.

pyNN.nest 0.13 hands a projection to NEST column by column: for every postsynaptic cell,
``Projection._convergent_connect`` calls ``nest.Connect`` once and then reads the sources it
has just connected back through NEST's Python layer (``NodeCollection.tolist()``), at a cost
that grows with the size of the presynaptic population; the first column also calls
``nest.GetConnections``. Profiled here (1,000 GLIF cells, ``FixedProbabilityConnector(0.1)``):
those reads were 75 % of the time, ``nest.Connect`` 7 %, PyNN's own draws a few per cent.

The fast path leaves everything that decides *which* connections exist and *what* they carry
to PyNN: the connector's own ``connect()`` runs unchanged, drawing from its random generators
in its own order (parallel-safe generators under MPI included, where every rank draws every
column and keeps its own), with its own checks and progress callback. Only the hand-over to
NEST changes. While the projection is being built, ``_convergent_connect`` keeps each column
(sources sorted as PyNN sorts them, weights and delays with PyNN's sign convention), and when
the connector returns, one ``nest.Connect`` of arrays (NEST's ``connect_arrays``) makes the
whole projection, in the order PyNN would have made it. The sources PyNN keeps for later
queries (``Projection._sources``) come from those arrays, and no ``GetConnections`` runs
during construction.

It is taken for the connectors of :func:`covered_connectors` (exact classes), ``StaticSynapse`` with
weights and delays given as scalars, arrays, random distributions or distance expressions,
and a postsynaptic ``Population`` or ``PopulationView``; any other projection (plastic
synapses, an ``Assembly``, NEST's native RNGs, another connector) goes through PyNN's own
path unchanged. :func:`construction_path` says which path built a projection. Switch the fast
path off with the environment variable ``GLIF_PYNN_FAST_CONNECT=0`` or, in a block of code,
with :func:`pynn_own_path`.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
from typing import Iterator, Optional

import nest
import numpy as np

from glif_pynn._wrapping import wrap_once

logger = logging.getLogger("glif_pynn")

#: The PyNN versions whose ``_convergent_connect`` this module mirrors.
PYNN_VERSIONS = ("0.13.",)
ENV_SWITCH = "GLIF_PYNN_FAST_CONNECT"
_MARK = "_glif_pynn_fast_connect"
_BATCH = "_glif_pynn_batch"
_PATH = "_glif_pynn_construction_path"

_enabled = contextvars.ContextVar("glif_pynn_fast_connect", default=True)


@functools.lru_cache(maxsize=None)
def covered_connectors() -> tuple:
    """The connector classes the fast path builds (exact classes: a subclass may change ``connect()``)."""
    from pyNN import connectors as common
    from pyNN.nest import connectors as nest_connectors
    names = ("AllToAllConnector", "OneToOneConnector", "FixedProbabilityConnector", "FixedNumberPreConnector",
             "FixedNumberPostConnector", "FromListConnector", "DistanceDependentProbabilityConnector")
    classes = {getattr(common, name) for name in names}
    classes |= {getattr(nest_connectors, name) for name in names}   # pyNN.nest's own subclasses
    return tuple(sorted(classes, key=lambda c: (c.__module__, c.__name__)))


def is_enabled() -> bool:
    """True unless switched off by ``GLIF_PYNN_FAST_CONNECT=0`` or inside :func:`pynn_own_path`."""
    return _enabled.get() and os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


@contextlib.contextmanager
def pynn_own_path() -> Iterator[None]:
    """Build the projections made inside this block with PyNN's own path (for comparisons and tests)."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


def construction_path(projection) -> Optional[str]:
    """``"fast"`` or ``"pynn"``: which path built ``projection``; None for one made before install()."""
    return getattr(projection, _PATH, None)


class _Columns:
    """The columns of one projection as PyNN hands them over, in order, until one nest.Connect."""

    def __init__(self, projection):
        self.projection = projection
        self.eligible: Optional[bool] = None
        self.flip_sign = False
        self.sources: list = []       # presynaptic indices, per column, in PyNN's order of connection
        self.targets: list = []       # postsynaptic index, per column
        self.counts: list = []        # connections, per column
        self.weights: list = []       # a float (homogeneous) or an array, per column
        self.delays: list = []

    def decide(self, connection_parameters: dict, location_selector) -> bool:
        """Whether this projection can be collected (decided once, at its first column)."""
        if self.eligible is None:
            prj = self.projection
            self.eligible = location_selector is None and _eligible(prj, connection_parameters)
            # NEST wants negative inhibitory conductances (PyNN flips the sign in _convergent_connect)
            self.flip_sign = prj.receptor_type == "inhibitory" and prj.post.conductance_based
            if not self.eligible:
                logger.debug("projection %s: PyNN's own construction path", self.projection.label)
        return self.eligible

    def add(self, presynaptic_indices: np.ndarray, postsynaptic_index, weight, delay) -> None:
        """One column, arranged exactly as pyNN.nest 0.13's ``_convergent_connect`` passes it to NEST."""
        presynaptic_indices = np.asarray(presynaptic_indices)
        n = presynaptic_indices.size
        weight, delay = _column_values(weight, n), _column_values(delay, n)
        if self.flip_sign:
            weight = weight * -1
        order = presynaptic_indices.argsort()   # PyNN's own (unstable) sort, hence its permutation
        sources = presynaptic_indices[order]
        if n > 1 and (sources[1:] == sources[:-1]).any():
            # PyNN splits repeated sources into groups without repeats (the k-th occurrences go
            # to NEST in the k-th nest.Connect): order the column the same way
            order = order[np.argsort(_occurrence_rank(sources), kind="stable")]
            sources = presynaptic_indices[order]
        self.sources.append(sources)
        self.targets.append(int(postsynaptic_index))
        self.counts.append(n)
        self.weights.append(weight if isinstance(weight, float) else weight[order])
        self.delays.append(delay if isinstance(delay, float) else delay[order])

    def connect(self) -> int:
        """Make every collected connection with one nest.Connect; return their number."""
        from pyNN import errors
        prj = self.projection
        if not self.sources:
            if nest.NumProcesses() > 1:
                _connect_nothing(prj)
            return 0
        pre_index = np.concatenate(self.sources)
        pre_all = np.asarray(prj.pre.all_cells, dtype=np.int64)
        post_all = np.asarray(prj.post.all_cells, dtype=np.int64)
        post_ids = np.repeat(post_all[self.targets], self.counts)
        syn_spec = {"synapse_model": prj.nest_synapse_model, "weight": _joined(self.weights, self.counts),
                    "delay": _joined(self.delays, self.counts)}
        if not prj.post.celltype.standard_receptor_type:
            syn_spec["receptor_type"] = prj.post.celltype.get_receptor_type(prj.receptor_type)
        self.sources = self.targets = self.counts = self.weights = self.delays = []
        try:
            _set_default_label(prj.nest_synapse_model, prj.nest_synapse_label)
            nest.Connect(pre_all[pre_index], post_ids, "one_to_one", syn_spec)
        except nest.NESTError as err:
            raise errors.ConnectionError(
                f"{err} (projection {prj.label!r}: {pre_index.size} connections made in one nest.Connect, "
                f"synapse model {prj.nest_synapse_model!r})") from err
        used = np.zeros(pre_all.size, dtype=bool)
        used[pre_index] = True
        prj._sources.update(pre_all[used].tolist())
        prj._connections = None
        prj._simulator.state.stale_connection_cache = True
        return int(pre_index.size)


def _connect_nothing(prj) -> None:
    """One ``nest.Connect`` that makes no connection on this rank, for a rank that holds no target of ``prj``.

    NEST marks its connection tables as changed on each rank that calls ``nest.Connect``, and at the
    next ``Simulate`` or connection query only the ranks so marked enter the exchange of targets,
    a collective MPI call: a projection whose targets all live on other ranks would leave this rank
    out and hang the others. A pair whose target lives elsewhere marks the tables and is skipped
    here (NEST makes a connection only on the target's rank; the target's rank makes it from its
    own columns, not from this call). NEST refuses empty arrays, hence one pair. When every cell
    of both populations lives on this rank (one cell, and no connection drawn), the target is any
    node of the network that lives elsewhere; a network without one is refused with an error
    instead of hanging.
    """
    from pyNN import errors
    elsewhere = [np.asarray(p.all_cells, dtype=np.int64)[~np.asarray(p._mask_local, bool)] for p in (prj.post, prj.pre)]
    elsewhere = np.concatenate(elsewhere)
    if elsewhere.size == 0:
        every_node = nest.NodeCollection(list(range(1, nest.GetKernelStatus("network_size") + 1)))
        local = set(nest.GetLocalNodeCollection(every_node).tolist())
        elsewhere = np.array([node for node in every_node.tolist() if node not in local][:1], dtype=np.int64)
    if elsewhere.size == 0:
        raise errors.ConnectionError(
            f"projection {prj.label!r} drew no connection on MPI rank {nest.Rank()}, which holds every node of the "
            "network: NEST's exchange of targets would hang the other ranks, which called nest.Connect. Leave "
            "this projection out")
    source = int(np.asarray(prj.pre.all_cells, dtype=np.int64)[0])
    nest.Connect([source], elsewhere[:1].tolist(), "one_to_one",
                 {"synapse_model": prj.nest_synapse_model, "weight": np.zeros(1),
                  "delay": np.full(1, nest.GetKernelStatus("min_delay"))})


def _set_default_label(synapse_model: str, label: int) -> None:
    """Make ``label`` the default ``synapse_label`` of the synapse model, so that new connections carry it.

    Passing the label in the synapse specification instead makes NEST's ``connect_arrays``
    build a parameter dictionary for every connection, which nearly doubled the cost of
    ``nest.Connect`` (0.62 against 0.34 us per synapse, measured here). NEST refuses to set the
    default back to "unlabelled" (-1), so the model keeps the label of the last projection
    built: the ``*_lbl`` synapse models are pyNN.nest's own (it sets their default weight and
    delay for every projection, and passes a label with every ``nest.Connect``).
    """
    nest.SetDefaults(synapse_model, {"synapse_label": int(label)})


def _column_values(value, n: int):
    """A homogeneous parameter as a float, otherwise an array of ``n`` float64 values (what NEST receives)."""
    if np.ndim(value) == 0:
        return float(value)
    value = np.asarray(value, dtype=float)
    if value.shape != (n,):
        raise ValueError(f"expected {n} values, one per connection of the column, got an array of shape "
                         f"{value.shape}")
    return value


def _joined(columns: list, counts: list) -> np.ndarray:
    """The values of every column, in order: floats are repeated over their column's connections."""
    if all(isinstance(v, float) for v in columns):
        return np.repeat(np.array(columns, dtype=float), counts)
    return np.concatenate([np.full(n, v) if isinstance(v, float) else v for v, n in zip(columns, counts)])


def _occurrence_rank(sorted_values: np.ndarray) -> np.ndarray:
    """0 for the first occurrence of each value of a sorted array, 1 for the second, and so on."""
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(sorted_values.size), 0))
    return np.arange(sorted_values.size) - first


def _eligible(projection, connection_parameters: dict) -> bool:
    from pyNN.common import Assembly
    from pyNN.nest import StaticSynapse
    if type(projection.synapse_type) is not StaticSynapse:
        return False
    if set(connection_parameters) != {"weight", "delay"}:
        return False
    if isinstance(projection.pre, Assembly) or isinstance(projection.post, Assembly):
        return False
    if hasattr(projection.post.celltype, "receptor_scale"):   # PyNN's Izhikevich special case
        return False
    pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    # PyNN indexes the presynaptic NodeCollection with sorted indices: ids must rise with them
    return bool(np.all(np.diff(pre_ids) > 0))


def _collecting_init(original):
    def __init__(self, presynaptic_population, postsynaptic_population, connector, *args, **kwargs):
        if not (is_enabled() and type(connector) in covered_connectors()):
            setattr(self, _PATH, "pynn")
            original(self, presynaptic_population, postsynaptic_population, connector, *args, **kwargs)
            _pynn_path_on_every_rank(self)
            return
        columns = _Columns(self)
        self.__dict__[_BATCH] = columns
        try:
            original(self, presynaptic_population, postsynaptic_population, connector, *args, **kwargs)
        finally:
            del self.__dict__[_BATCH]
        if columns.eligible is None and len(self._sources) == 0:
            # no column reached this process (no connection, or none of the targets lives on this MPI rank):
            # decide as a process with columns would, so that every rank gives the projection one label
            columns.eligible = _eligible(self, dict.fromkeys(self.synapse_type.native_parameters.keys()))
        setattr(self, _PATH, "fast" if columns.eligible else "pynn")
        if columns.eligible:
            columns.connect()
        else:
            _pynn_path_on_every_rank(self)
    return __init__


def _pynn_path_on_every_rank(prj) -> None:
    """Under MPI, after PyNN's own path built ``prj``: make on this rank the collective calls that the path
    made on the others, so that no rank waits for one that stayed out.

    PyNN queries NEST once per rank, after the first column it connects there (``nest.GetConnections``, in
    ``_identify_common_synapse_properties``). After a ``nest.Connect``, NEST first brings its connection tables
    up to date, a collective MPI call, entered only by the ranks that connected something. A rank that holds no
    target of the projection (a population smaller than the number of ranks, say) stayed out, and the others
    hung or aborted (``MPI_ERR_TRUNCATE``), whatever the cell type (``tests/mpi/one_rank_targets.py``). Such a
    rank now makes a ``Connect`` of nothing (:func:`_connect_nothing`) and one query; where no rank has a
    column, every rank makes both. Then every rank leaves with its tables marked as changed, as after a
    ``Connect`` (a second ``Connect`` of nothing), so that all of them enter NEST's next update of the tables
    (at the next query or ``Simulate``) together, however many columns each connected. Nothing on one process.
    """
    if nest.NumProcesses() == 1:
        return
    if len(prj._sources) == 0:
        _connect_nothing(prj)
        query_as_the_other_ranks(prj)
    _connect_nothing(prj)


def query_as_the_other_ranks(prj) -> None:
    """Ask NEST for ``prj``'s connections on a rank that holds none of them, to take part in what the same query
    does on the ranks that hold some: after a ``nest.Connect`` it first brings NEST's connection tables up to
    date, a collective MPI call. It finds nothing."""
    nest.GetConnections(synapse_model=prj.nest_synapse_model, synapse_label=prj.nest_synapse_label)


def _collecting_convergent_connect(original):
    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters):
        columns = self.__dict__.get(_BATCH)
        if columns is None or not columns.decide(connection_parameters, location_selector):
            return original(self, presynaptic_indices, postsynaptic_index, location_selector=location_selector,
                            **connection_parameters)
        columns.add(presynaptic_indices, postsynaptic_index, connection_parameters["weight"],
                    connection_parameters["delay"])
    return _convergent_connect


def install() -> bool:
    """Install the fast path into pyNN.nest's ``Projection`` (once); False where PyNN's version is not mirrored."""
    import pyNN
    from pyNN.nest.projections import Projection

    if not pyNN.__version__.startswith(PYNN_VERSIONS):
        logger.info("glif-pynn: PyNN %s: projections are built by PyNN's own path (the fast path mirrors "
                    "PyNN %s)", pyNN.__version__, "/".join(v + "x" for v in PYNN_VERSIONS))
        return False
    for name, wrap in (("__init__", _collecting_init), ("_convergent_connect", _collecting_convergent_connect)):
        wrap_once(Projection, name, wrap, _MARK)
    return True
