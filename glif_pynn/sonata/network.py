"""A SONATA circuit built in a PyNN backend (pyNN.nest or glif_pynn.reference) with glif-pynn's types.

One PyNN ``Population`` per SONATA node population and cell type (per-node parameters as arrays;
virtual nodes: one spike source array), one ``Projection`` per edge population, source and target
Population and receptor port (``FromListConnector``, receptor type ``synK`` for NEST port K), weights
``syn_weight * nsyns / 1000`` (pA -> nA or nS -> uS), delays in ms.

Virtual nodes are spike sources without pyNN.nest's parrot relay (:func:`spike_source_type`): NEST
``spike_generator`` devices connected to their targets directly, as BMTK connects them, so that every input
spike arrives when BMTK delivers it (pyNN.nest's ``SpikeSourceArray`` drops spikes at or before
``min_delay``) and ``min_delay`` can be the network's smallest delay (NEST exchanges spikes once per
``min_delay``: with ``min_delay = dt`` a 1,000-cell network ran 5 times slower at dt = 0.01 ms).
"""
from __future__ import annotations

import functools
import importlib
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Optional

import numpy as np

from glif_pynn.parameters import CONDUCTANCE
from glif_pynn.sonata.config import ConfigLike, SonataConfig, SonataError, read_config
from glif_pynn.sonata.edges import EdgeTable, read_edges
from glif_pynn.sonata.nodes import read_nodes
from glif_pynn.sonata.spikes import read_spikes

NEST_TO_PYNN_WEIGHT = 1e-3      # pA -> nA, nS -> uS
_INPUT_MODULES = ("sonata", "h5", "hdf5")


@dataclass
class SonataNetwork:
    """The PyNN objects of a loaded SONATA network and the SONATA ids of their cells.

    Attributes
    ----------
    populations : dict
        Label (``"<node population>:<cell type>"``) -> PyNN Population.
    projections : list
        Every PyNN Projection.
    node_ids : dict
        Label -> the SONATA node id of each cell of that Population.
    node_population : dict
        Label -> the SONATA node population it belongs to.
    """

    config: SonataConfig
    populations: dict = field(default_factory=dict)
    projections: list = field(default_factory=list)
    node_ids: dict = field(default_factory=dict)
    node_population: dict = field(default_factory=dict)

    def neurons(self) -> dict:
        """The Populations of point neurons (not the virtual nodes), by label."""
        return {label: pop for label, pop in self.populations.items() if pop.celltype.injectable}

    def spikes(self) -> dict:
        """``{node population: (node ids, times in ms)}`` recorded from the point neurons (gathered over
        MPI ranks, as PyNN's ``get_data``)."""
        out: dict = {}
        for label, pop in self.neurons().items():
            trains = pop.get_data("spikes", gather=True).segments[-1].spiketrains
            ids = np.concatenate([np.full(len(st), self.node_ids[label][st.annotations["source_index"]])
                                  for st in trains]) if trains else np.zeros(0, np.int64)
            times = np.concatenate([st.rescale("ms").magnitude for st in trains]) if trains else np.zeros(0)
            previous = out.get(self.node_population[label], (np.zeros(0, np.int64), np.zeros(0)))
            out[self.node_population[label]] = (np.r_[previous[0], ids].astype(np.int64), np.r_[previous[1], times])
        return out


def cell_types_of(sim: ModuleType) -> ModuleType:
    """The module with glif-pynn's cell types for the backend ``sim`` (pyNN.nest or glif_pynn.reference)."""
    if getattr(sim, "__name__", "") == "pyNN.nest":
        return importlib.import_module("glif_pynn.nest")
    if getattr(sim, "__name__", "") == "glif_pynn.reference":
        return sim
    raise SonataError(f"glif_pynn.sonata runs on pyNN.nest and glif_pynn.reference, not {getattr(sim, '__name__', sim)}")


@functools.lru_cache(maxsize=None)
def spike_source_type(sim: ModuleType) -> type:
    """``sim.SpikeSourceArray`` without pyNN.nest's parrot relay (``uses_parrot = False``): a spike at t is
    emitted in the step that ends at or after t, as NEST's ``spike_generator`` (and BMTK) emits it; the
    reference does the same for this type."""
    from pyNN.standardmodels import build_translations
    attributes = {"uses_parrot": False, "__module__": __name__,
                  "__doc__": "Spike times emitted directly (no parrot relay), as BMTK's spike generators."}
    if getattr(sim, "__name__", "") == "pyNN.nest":
        attributes["translations"] = build_translations(("spike_times", "spike_times"))   # no min_delay shift
    return type("SpikeGeneratorArray", (sim.SpikeSourceArray,), attributes)


def min_delay(edges: list, dt: float) -> float:
    """The smallest delay of ``edges`` (ms), as a whole number of steps, at least ``dt``: the ``min_delay``
    to give ``sim.setup`` (BMTK's NEST gets it from the connections)."""
    delays = [table.delay.min() for table in edges if len(table.delay)]
    return max(dt, float(np.floor(min(delays) / dt + 1e-9)) * dt) if delays else dt


def delay_on_grid(delay: np.ndarray, dt: float) -> np.ndarray:
    """``delay`` (ms) rounded to a whole number of steps of ``dt`` as NEST rounds it (nearest step, halves up:
    1.02 ms at dt = 0.05 ms is 1.0 ms, 1.025 ms 1.05 ms), so that both backends connect what BMTK's NEST
    connects."""
    from glif_pynn.reference.neurons import steps     # the one implementation of NEST's rounding
    return steps(delay, dt) * dt


def load(config: ConfigLike, sim: ModuleType, edges: Optional[list] = None) -> SonataNetwork:
    """Build the SONATA network of ``config`` in the PyNN backend ``sim`` (after ``sim.setup()``).

    Parameters
    ----------
    config : str, Path or SonataConfig
        A simulation config (with ``"network"`` naming the circuit config, as BMTK writes them) or a
        circuit config. Spike inputs of the simulation config drive the virtual nodes.
    sim : module
        ``pyNN.nest`` or ``glif_pynn.reference``, set up with the config's time step (and, for speed,
        ``min_delay`` = :func:`min_delay` of the edges).
    edges : list of EdgeTable, optional
        The edges, when already read (:func:`glif_pynn.sonata.edges.read_edges`).

    Returns
    -------
    SonataNetwork
        The populations and projections, and the SONATA node ids of their cells.

    Raises
    ------
    SonataError
        For anything the network holds that glif-pynn cannot run as BMTK would, naming the file and item.
    """
    cfg = read_config(config)
    cell_types = cell_types_of(sim)
    groups = read_nodes(cfg)
    net = SonataNetwork(cfg)
    inputs = _input_spikes(cfg, groups)
    sources = spike_source_type(sim)
    index = {}      # node population -> (node ids sorted, label of each, index in its Population)
    for group in groups:
        label = f"{group.population}:{group.type_name}"
        if group.virtual:
            trains = [sim.Sequence(inputs.get((group.population, int(i)), np.zeros(0))) for i in group.node_ids]
            pop = sim.Population(len(group.node_ids), sources(spike_times=trains), label=label)
        else:
            cell_type = getattr(cell_types, group.type_name)
            pop = sim.Population(len(group.node_ids), cell_type(**group.parameters()), label=label)
            pop.initialize(v=group.initial_v())
        pop.annotate(sonata_population=group.population)
        net.populations[label], net.node_ids[label], net.node_population[label] = pop, group.node_ids, group.population
        ids, labels, positions = index.get(group.population, (np.zeros(0, np.int64), [], np.zeros(0, np.int64)))
        index[group.population] = (np.r_[ids, group.node_ids], labels + [label] * len(group.node_ids),
                                   np.r_[positions, np.arange(len(group.node_ids))])
    lookup = {name: _Lookup(*parts) for name, parts in index.items()}
    targets = {label: group for label, group in zip(net.populations, groups)}
    for table in read_edges(cfg) if edges is None else edges:
        net.projections += _projections(table, lookup, targets, net.populations, sim, cfg.dt)
    return net


class _Lookup:
    """SONATA node id -> (Population label, index in it), for one node population."""

    def __init__(self, ids: np.ndarray, labels: list, positions: np.ndarray):
        order = np.argsort(ids)
        self.ids, self.labels, self.positions = ids[order], np.array(labels, dtype=object)[order], positions[order]

    def __call__(self, node_ids: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
        slot = np.clip(np.searchsorted(self.ids, node_ids), 0, max(len(self.ids) - 1, 0))
        unknown = len(self.ids) == 0 or np.any(self.ids[slot] != node_ids)
        if unknown:
            bad = sorted(set(node_ids.tolist()) - set(self.ids.tolist()))
            raise SonataError(f"{where}: node ids {bad[:10]}{' ...' if len(bad) > 10 else ''} are not in the node "
                              "population (inconsistent ids between the edges and nodes files)")
        return self.labels[slot], self.positions[slot]


def _projections(table: EdgeTable, lookup: dict, groups: dict, populations: dict, sim, dt: float) -> list:
    where = f"edge population {table.name!r} ({table.source} -> {table.target})"
    where = f"{table.path}, {where}" if table.path else where
    for side in (table.source, table.target):
        if side not in lookup:
            raise SonataError(f"{where}: node population {side!r} is in no nodes file of the config")
    pre_labels, pre_index = lookup[table.source](table.source_ids, where)
    post_labels, post_index = lookup[table.target](table.target_ids, where)
    delays = delay_on_grid(table.delay, dt)
    if len(delays) and delays.min() < dt / 2:
        raise SonataError(f"{where}: delays down to {table.delay.min():g} ms, which round to less than one step "
                          f"of {dt:g} ms (NEST refuses them too)")
    projections = []
    keys = sorted(set(zip(pre_labels.tolist(), post_labels.tolist(), table.port.tolist())))
    for pre_label, post_label, port in keys:
        group = groups[post_label]
        if group.virtual:
            raise SonataError(f"{where}: edges into virtual nodes ({post_label})")
        mask = (pre_labels == pre_label) & (post_labels == post_label) & (table.port == port)
        node_types = group.type_ids[post_index[mask]]
        known = np.array(sorted(group.models), np.int64)          # node type ids -> their own port counts
        declared = np.array([group.models[int(t)].receptor_ports for t in known], np.int64)[
            np.searchsorted(known, node_types)]
        bad = port > declared
        if np.any(bad):
            edge_types = sorted(set(table.type_ids[mask][bad].tolist()))
            raise SonataError(f"{where}: receptor_type {port} (edge types {edge_types}) onto node types "
                              f"{sorted(set(node_types[bad].tolist()))} of {table.target!r}, which have "
                              f"{sorted(set(declared[bad].tolist()))} receptor ports "
                              "(len(tau_syn); NEST refuses the connection)")
        weights = table.weight[mask] * NEST_TO_PYNN_WEIGHT
        if next(iter(group.models.values())).flavour == CONDUCTANCE and np.any(weights < 0):
            raise SonataError(f"{where}: negative weights onto conductance-based cells ({post_label}); glif_cond "
                              "weights are conductances (nS, >= 0)")
        connections = np.column_stack([pre_index[mask], post_index[mask], weights, delays[mask]])
        with warnings.catch_warnings():
            # PyNN cannot tell the sign convention of a port named "synK"; each port takes either sign
            warnings.filterwarnings("ignore", message="Can't check weight")
            projections.append(sim.Projection(
                populations[pre_label], populations[post_label],
                sim.FromListConnector(connections, column_names=["weight", "delay"]), sim.StaticSynapse(),
                receptor_type=f"syn{port}", label=f"{table.name}:{pre_label}->{post_label}:syn{port}"))
    return projections


def _input_spikes(cfg: SonataConfig, groups: list) -> dict:
    """``{(node population, node id): spike times}`` of the config's spike inputs."""
    virtual = {g.population for g in groups if g.virtual}
    out: dict = {}
    for name, spec in cfg.inputs.items():
        if spec.get("input_type") != "spikes":
            raise SonataError(f"{cfg.path}: input {name!r} of type {spec.get('input_type')!r} is not supported "
                              "(spikes only)")
        if spec.get("module") not in _INPUT_MODULES:
            raise SonataError(f"{cfg.path}: input {name!r}: module {spec.get('module')!r} is not supported "
                              f"({', '.join(_INPUT_MODULES)}: a SONATA spike file)")
        population = _node_set_population(cfg, spec.get("node_set"), f"input {name!r}")
        if population not in virtual:
            raise SonataError(f"{cfg.path}: input {name!r} drives {population!r}, which has no virtual nodes")
        if "input_file" not in spec:
            raise SonataError(f"{cfg.path}: input {name!r} has no input_file")
        ids, times = read_spikes(spec["input_file"], population)
        if not np.all(np.isfinite(times)):
            raise SonataError(f"{spec['input_file']}: spike times of population {population!r} that are NaN or "
                              "infinite")
        if len(times) and times.min() <= 0:
            raise SonataError(f"{spec['input_file']}: spike times at or before 0 ms (NEST, and BMTK, refuse them)")
        known = np.concatenate([g.node_ids for g in groups if g.virtual and g.population == population])
        unknown = np.setdiff1d(ids, known)
        if len(unknown):
            more = " ..." if len(unknown) > 10 else ""
            raise SonataError(f"{spec['input_file']}: node ids {unknown[:10].tolist()}{more} of population "
                              f"{population!r} (input {name!r}) are not virtual nodes of that population in the nodes "
                              "files")
        for node in np.unique(ids):
            out[(population, int(node))] = np.sort(np.r_[out.get((population, int(node)), []), times[ids == node]])
    return out


def _node_set_population(cfg: SonataConfig, node_set, where: str) -> str:
    if isinstance(node_set, str) and node_set not in cfg.node_sets:
        return node_set                                  # a node population's name
    definition = cfg.node_sets.get(node_set) if isinstance(node_set, str) else node_set
    if isinstance(definition, dict) and set(definition) == {"population"}:
        return definition["population"]
    raise SonataError(f"{cfg.path}: {where}: node_set {node_set!r} is not supported (a node population's name, or "
                      "a node set {'population': name})")
