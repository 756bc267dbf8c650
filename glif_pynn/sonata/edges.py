"""SONATA edges as per-edge arrays, with BMTK PointNet's conventions.

PointNet (``bmtk/simulator/pointnet/sonata_adaptors.py``) connects each edge with
``weight = syn_weight * nsyns`` (``nsyns`` 1 when absent), the edge type's (or edge's) ``delay`` in ms,
and the synapse model's dynamics parameters, among them ``receptor_type``: the NEST receptor port
(from 1; ``glif_psc`` refuses 0). Weights are NEST's: pA for ``glif_psc`` (of either sign, on any
port), nS for ``glif_cond`` (>= 0). :mod:`glif_pynn.sonata.network` turns them into PyNN units (nA,
uS) and receptor types ``synK``.

The edge files are read by pyNN's ``EdgePopulation.from_data`` (source and target ids, edge types,
``syn_weight``, ``nsyns``, the synapse models' JSON). What it lacks is added here: per-edge ``delay``
columns, and the split of one edge group into several receptor ports (pyNN refuses an edge group
whose types have different ``receptor_type`` values, which is what BMTK writes for mixed inputs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glif_pynn.sonata.config import SonataConfig, SonataError

_STATIC = ("static_synapse", "nest:static_synapse")
#: nsyns from here on is a negative count written to an unsigned column (2**32 - 3 for -3 as uint32), not synapses
MAX_NSYNS = 2**31
#: why an edge type needs a value BMTK has no default for
_NEEDED = {"model_template": "; BMTK's PointNet needs it too (the NEST synapse model: static_synapse, also written "
                             "nest:static_synapse)"}


@dataclass
class EdgeTable:
    """The edges of one SONATA edge population, one entry per edge (NEST units)."""

    name: str
    source: str              # node population of the sources
    target: str              # node population of the targets
    source_ids: np.ndarray
    target_ids: np.ndarray
    type_ids: np.ndarray
    weight: np.ndarray       # syn_weight * nsyns: pA (glif_psc) or nS (glif_cond)
    delay: np.ndarray        # ms
    port: np.ndarray         # NEST receptor type, from 1
    path: str = ""           # the edges file


def read_edges(config: SonataConfig) -> list[EdgeTable]:
    """Every edge population of the circuit.

    Raises
    ------
    SonataError
        For a missing file, an edge type missing from its types file, an edge type without
        ``syn_weight``, ``delay``, ``receptor_type`` or ``model_template``, a weight or delay that is not a
        finite number, an ``nsyns`` that is not a whole number >= 1, node or edge type ids that are not
        integers, a ``weight_function`` or a synapse model other than ``static_synapse``.
    """
    import h5py
    from pyNN.serialization.sonata import EdgePopulation, read_types_file

    tables = []
    for entry in config.networks.get("edges", []):
        for key in ("edges_file", "edge_types_file"):
            if key not in entry:
                raise SonataError(f"{config.path}: an entry of networks.edges lacks {key!r}")
        try:
            types = read_types_file(entry["edge_types_file"], "edge")
        except FileNotFoundError:
            raise SonataError(f"edge types file not found: {entry['edge_types_file']}") from None
        try:
            handle = h5py.File(entry["edges_file"], "r")
        except (FileNotFoundError, OSError) as err:
            raise SonataError(f"edges file not found or unreadable: {entry['edges_file']} ({err})") from None
        with handle:
            if "edges" not in handle:
                raise SonataError(f"{entry['edges_file']}: no /edges group; not a SONATA edges file")
            for name, group in handle["edges"].items():
                where = f"{entry['edges_file']}, edge population {name!r}"
                if not isinstance(group, h5py.Group) or "edge_type_id" not in group:
                    raise SonataError(f"{where}: no edge_type_id dataset; not a SONATA edge population")
                for key in ("source_node_id", "target_node_id", "edge_type_id"):
                    dataset = group.get(key)
                    if isinstance(dataset, h5py.Dataset) and dataset.dtype.kind not in "iu":
                        raise SonataError(f"{where}: {key} is of type {dataset.dtype} ({_sample(dataset[()])}); "
                                          "SONATA ids are integers")
                missing = sorted({int(t) for t in np.unique(group["edge_type_id"][()])} - set(types))
                if missing:
                    raise SonataError(f"{where}: edge types {missing} are not in {entry['edge_types_file']}")
                try:
                    population = EdgePopulation.from_data(name, group, types, {"components": config.components})
                except FileNotFoundError as err:
                    raise SonataError(f"{where}: synapse model file not found: {err.filename}") from None
                except KeyError as err:
                    raise SonataError(f"{where}: missing {err} (SONATA: source_node_id/target_node_id with a "
                                      "node_population attribute; components.synaptic_models_dir for dynamics_params)"
                                      ) from None
                except (ValueError, TypeError, AttributeError, IndexError) as err:
                    raise SonataError(f"{where}: cannot be read ({type(err).__name__}: {err}); datasets of different "
                                      "lengths, an edge_group_index out of range, or a synapse model file that is no "
                                      "JSON object?") from None
                table = _table(population, group, where)
                table.path = entry["edges_file"]
                tables.append(table)
    return tables


def _table(population, h5_group, where: str) -> EdgeTable:
    parts = []
    for group in population.edge_groups:
        params, types = group.parameters, np.asarray(group.edge_types_array, np.int64)
        gwhere = f"{where}, edge group {group.id}"
        for key in ("weight_function",):
            value = params.get(key)
            if isinstance(value, dict) and any(v not in (None, "", "NULL", "NONE") for v in value.values()):
                raise SonataError(f"{gwhere}: weight_function {sorted(set(value.values()))} is not supported "
                                  "(a Python function of BMTK's); give syn_weight per edge instead")
        templates = set(_values(params.get("model_template", {}), types, "model_template", gwhere))
        if templates - set(_STATIC):
            raise SonataError(f"{gwhere}: synapse model {sorted(templates - set(_STATIC))} is not supported "
                              f"({' or '.join(_STATIC)} only)")
        delay = params.get("delay")
        columns = h5_group[str(group.id)]
        if "delay" in columns:       # per-edge delays, which pyNN's reader does not pick up
            index = h5_group["edge_group_index"][()][h5_group["edge_group_id"][()] == group.id]
            delay = np.asarray(columns["delay"][()])[index]
        nsyns = _values(params.get("nsyns", 1), types, "nsyns", gwhere, default=1)
        bad = ~(np.isfinite(nsyns) & (nsyns >= 1) & (nsyns < MAX_NSYNS) & (nsyns == np.round(nsyns)))
        if np.any(bad):
            raise SonataError(f"{gwhere}: nsyns {_sample(nsyns[bad])} for {int(bad.sum())} edges (edge types "
                              f"{sorted(set(types[bad].tolist()))}); expected whole numbers >= 1 (the number of "
                              "synapses; BMTK would scale the weight by it: 0 a connection without effect, a negative "
                              "number one of the opposite sign) and below 2**31 (a larger one is a negative number "
                              "stored unsigned: -3 as uint32 reads 4294967293)")
        weight = _values(params.get("syn_weight"), types, "syn_weight", gwhere) * nsyns
        parts.append((np.asarray(group.source_ids, np.int64), np.asarray(group.target_ids, np.int64), types, weight,
                      _values(delay, types, "delay", gwhere),
                      _values(params.get("receptor_type"), types, "receptor_type", gwhere)))
    src, trg, types, weight, delay, port = (np.concatenate(x) for x in zip(*parts)) if parts else [np.zeros(0)] * 6
    for name, values in (("weight (syn_weight * nsyns)", weight), ("delay", delay)):
        bad = ~np.isfinite(np.asarray(values, float))
        if np.any(bad):
            raise SonataError(f"{where}: {name} is NaN or infinite for {int(bad.sum())} edges (edge types "
                              f"{sorted(set(types[bad].astype(np.int64).tolist()))})")
    if len(port) and (np.any(port != np.round(port)) or np.any(port < 1)):
        raise SonataError(f"{where}: receptor_type must be a NEST receptor port 1, 2, ...; got "
                          f"{sorted(set(port.tolist()))}")
    return EdgeTable(population.name, population.source_node_population, population.target_node_population,
                     src, trg, types.astype(np.int64), weight.astype(float), delay.astype(float), port.astype(np.int64))


def _sample(values, n: int = 5) -> str:
    """The first ``n`` distinct values of ``values``, for a message."""
    distinct = list(dict.fromkeys(np.asarray(values).ravel().tolist()))
    return f"{distinct[:n]}{' ...' if len(distinct) > n else ''}"


def _values(value, types: np.ndarray, name: str, where: str, default=None) -> np.ndarray:
    """Per-edge values from a per-type dict, a per-edge array or a scalar."""
    try:
        return _per_edge(value, types, name, where, default)
    except (TypeError, ValueError) as err:
        if isinstance(err, SonataError):
            raise
        raise SonataError(f"{where}: {name} is not a number: {err}") from None


def _per_edge(value, types: np.ndarray, name: str, where: str, default=None) -> np.ndarray:
    if value is None or (isinstance(value, dict) and not value):
        if default is None:
            raise SonataError(f"{where}: no {name} (in the edge types table, the edges file or the synapse "
                              f"model's dynamics_params){_NEEDED.get(name, '')}")
        value = default
    if isinstance(value, dict):
        absent = [int(t) for t in np.unique(types) if t not in value or value[t] in (None, "", "NULL", "NONE")]
        if absent and default is None:
            raise SonataError(f"{where}: edge types {absent} have no {name}{_NEEDED.get(name, '')}")
        lookup = {t: (default if t in absent else v) for t, v in value.items()}
        lookup.update({t: default for t in absent})
        return np.array([lookup[int(t)] for t in types], dtype=object if name == "model_template" else float)
    array = np.asarray(value)
    if array.ndim == 0:
        return np.full(len(types), value, dtype=object if name == "model_template" else float)
    if len(array) != len(types):
        raise SonataError(f"{where}: {name} has {len(array)} values for {len(types)} edges")
    return array.astype(object if name == "model_template" else float)
