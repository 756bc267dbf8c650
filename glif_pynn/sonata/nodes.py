"""SONATA nodes as glif-pynn cell types: which PyNN type and parameters each node type becomes.

Accepted ``model_template`` values (``model_type`` ``point_neuron``; ``virtual`` nodes become spike
sources):

* ``nest:glif_psc`` / ``nest:glif_cond`` with a NEST parameter dictionary (``C_m``, ``g``, ``tau_syn``,
  ...): converted by :func:`glif_pynn.convert.from_nest_glif` into ``GLIF_curr_alpha_<N>ports`` /
  ``GLIF_cond_alpha_<N>ports`` (NEST's ``glif_psc``/``glif_cond`` synapses are alpha-shaped, peak = weight),
  N = the number of NEST ports (``len(tau_syn)``) rounded up to a port count the NEST module is built
  with (default 4; the extra ports stay unconnected: edges onto them are refused, as NEST refuses them).
  Keys NEST's model does not have are refused (NEST does too), and so are ``E_rev`` and ``tau_syn`` of
  different lengths for ``glif_cond``; missing keys take NEST's defaults
  (:data:`glif_pynn.convert.NEST_GLIF_DEFAULTS`);
* BMTK's Allen templates ``nest:glif_lif_psc``, ``nest:glif_lif_r_psc``, ``nest:glif_lif_asc_psc``,
  ``nest:glif_lif_r_asc_psc``, ``nest:glif_lif_r_asc_a_psc`` with an Allen ``neuron_config`` (converted by
  :mod:`glif_pynn.allen`, which follows the AllenSDK) and BMTK's ``tau_syn = [5.5, 8.5, 2.8, 5.8]`` ms:
  ``GLIF_curr_alpha_4ports``.

The initial V is the dictionary's ``V_m`` when given (BMTK sets it to ``E_L``), else NEST's default
-78.85 mV for ``nest:glif_psc``/``nest:glif_cond`` and ``v_rest`` for the Allen templates.
pyNN's ``NodeGroup`` would hand ``nest:`` templates to ``sim.native_cell_type`` (NEST's own
``glif_psc``), refuses node groups with several templates and merges the CSV columns into the
dynamics parameters; here only its CSV reader is used.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from glif_pynn import model_sources
from glif_pynn.allen import MODEL_KEYS, describe_config
from glif_pynn.convert import NEST_GLIF_DEFAULTS, NEST_GLIF_KEYS, from_nest_glif
from glif_pynn.parameters import CONDUCTANCE, CURRENT, default_parameters
from glif_pynn.sonata.config import SonataConfig, SonataError, read_json

#: BMTK's templates for Allen GLIF configs (bmtk/simulator/pointnet/glif_utils.py) and its tau_syn (ms)
ALLEN_TEMPLATES = ("glif_lif_psc", "glif_lif_r_psc", "glif_lif_asc_psc", "glif_lif_r_asc_psc", "glif_lif_r_asc_a_psc")
BMTK_ALLEN_TAU_SYN = (5.5, 8.5, 2.8, 5.8)
_MISSING = ("", "NULL", "NONE", "None", "nan")
#: nodes.h5 columns refused (besides a dynamics_params group): a node's model, and NEST GLIF or Allen neuron_config
#: parameters as columns
PER_NODE_REFUSED = frozenset({"model_template", "model_type", "model_processing"}).union(*NEST_GLIF_KEYS.values(),
                                                                                       MODEL_KEYS)


@dataclass(frozen=True)
class CellModel:
    """The glif-pynn cell type and PyNN parameters of one SONATA node type."""

    cell_type: str          # "GLIF_curr_alpha" or "GLIF_cond_alpha"
    ports: int
    parameters: dict        # every parameter of the type, PyNN names and units
    v_init: float
    declared_ports: int = 0  # the node type's own NEST receptor ports (len(tau_syn)); 0: ``ports``

    @property
    def receptor_ports(self) -> int:
        """The receptor ports edges may use: the node type's own (NEST's), not the built model's."""
        return self.declared_ports or self.ports

    @property
    def flavour(self) -> str:
        return CURRENT if "curr" in self.cell_type else CONDUCTANCE

    @property
    def type_name(self) -> str:
        return f"{self.cell_type}_{self.ports}ports"


@dataclass
class NodeGroup:
    """Nodes of one SONATA node population that become one PyNN Population: virtual nodes, or point
    neurons of one cell type (``models``: the :class:`CellModel` of each of their node types)."""

    population: str
    node_ids: np.ndarray
    type_ids: np.ndarray
    models: Optional[dict]          # node type id -> CellModel; None for virtual nodes

    @property
    def virtual(self) -> bool:
        return self.models is None

    @property
    def type_name(self) -> str:
        return "SpikeSourceArray" if self.virtual else next(iter(self.models.values())).type_name

    def parameters(self) -> dict:
        """Per-node PyNN parameters (scalars where every node has the same value)."""
        models = [self.models[int(t)] for t in self.type_ids]
        out = {}
        for name in models[0].parameters:
            values = np.array([m.parameters[name] for m in models], float)
            out[name] = float(values[0]) if np.all(values == values[0]) else values
        return out

    def initial_v(self) -> np.ndarray:
        return np.array([self.models[int(t)].v_init for t in self.type_ids], float)


def port_count(needed: int, where: str) -> int:
    """The smallest port count built into the NEST module that has ``needed`` ports."""
    built = model_sources.port_counts()
    fitting = [n for n in built if n >= needed]
    if not fitting:
        raise SonataError(f"{where}: {needed} receptor ports, but the NEST module has models with "
                          f"{', '.join(map(str, built))}; set {model_sources.PORTS_ENV}={needed} (or a list "
                          "including it) and the module is rebuilt once")
    return min(fitting)


def cell_model(template: str, dynamics: dict, where: str) -> CellModel:
    """The :class:`CellModel` of a node type with ``model_template`` ``template`` and ``dynamics_params``."""
    prefix, _, name = str(template).partition(":")
    if prefix != "nest" and prefix.lower() == "nest" and name in ALLEN_TEMPLATES:
        raise SonataError(f"{where}: model_template {template!r}: write it nest:{name}; BMTK converts an Allen "
                          "neuron_config only under a lower-case nest: prefix (and would hand it to NEST unconverted)")
    if prefix.lower() != "nest" or name not in ("glif_psc", "glif_cond") + ALLEN_TEMPLATES:
        raise SonataError(f"{where}: model_template {template!r} is not supported; glif-pynn runs nest:glif_psc, "
                          f"nest:glif_cond (NEST parameters) and BMTK's Allen GLIF templates "
                          f"({', '.join('nest:' + t for t in ALLEN_TEMPLATES)})")
    try:
        if name in ALLEN_TEMPLATES:
            if dynamics.get("type", "GLIF") != "GLIF" or "El_reference" not in dynamics:
                raise SonataError(f"{where}: {template} needs an Allen neuron_config (type GLIF) as dynamics_params")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")       # keys AllenSDK ignores: reported by glif-pynn allen
                described = describe_config(dynamics, "GLIF_curr_alpha")
            params = {k: v for k, v in described.parameters.items() if k not in ("tau_syn_E", "tau_syn_I")}
            params.update({f"tau_syn_{k}": tau for k, tau in enumerate(BMTK_ALLEN_TAU_SYN, 1)})
            return _complete("GLIF_curr_alpha", len(BMTK_ALLEN_TAU_SYN), params, params["v_rest"], where)
        unknown = set(dynamics) - NEST_GLIF_KEYS[name]
        if unknown:
            hint = (f"; an Allen neuron_config needs one of BMTK's Allen templates "
                    f"({', '.join('nest:' + t for t in ALLEN_TEMPLATES)})" if "El_reference" in dynamics else "")
            raise SonataError(f"{where}: dynamics_params keys {sorted(unknown)} are not parameters of NEST's "
                              f"{name} (NEST refuses them); its parameters: {', '.join(sorted(NEST_GLIF_KEYS[name]))}"
                              f"{hint}")
        cell_type = "GLIF_cond_alpha" if name == "glif_cond" else "GLIF_curr_alpha"
        declared = len(np.atleast_1d(dynamics.get("tau_syn", NEST_GLIF_DEFAULTS[name]["tau_syn"])))
        ports = port_count(max(2, declared), where)
        params = from_nest_glif(dynamics, ports=ports, conductance=name == "glif_cond")
        v_init = float(dynamics.get("V_m", NEST_GLIF_DEFAULTS[name]["V_m"]))
        if not np.isfinite(v_init):
            raise SonataError(f"{where}: V_m = {v_init} is not a finite number")
        return _complete(cell_type, ports, params, v_init, where, declared)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        if isinstance(err, SonataError):
            raise
        raise SonataError(f"{where}: dynamics_params cannot be converted: {err}") from None


def _complete(cell_type: str, ports: int, params: dict, v_init: float, where: str, declared: int = 0) -> CellModel:
    flavour = CONDUCTANCE if "cond" in cell_type else CURRENT
    full = default_parameters(flavour, port_count(ports, where))
    unknown = set(params) - set(full)
    if unknown:
        raise SonataError(f"{where}: parameters {sorted(unknown)} do not exist for {cell_type}")
    full.update(params)
    return CellModel(cell_type, port_count(ports, where), full, float(v_init), declared)


def read_nodes(config: SonataConfig) -> list[NodeGroup]:
    """Every node of the circuit, grouped by SONATA population and model (one group per PyNN Population).

    Raises
    ------
    SonataError
        For a missing file or key, ids that are not integers, a node type id missing from the types file,
        per-node dynamics parameters or model columns in nodes.h5 (not supported, :data:`PER_NODE_REFUSED`),
        or an unsupported model.
    """
    import h5py
    from pyNN.serialization.sonata import read_types_file

    groups: list[NodeGroup] = []
    seen = set()
    for entry in config.networks["nodes"]:
        nodes_file, types_file = _required(entry, "nodes_file", config), _required(entry, "node_types_file", config)
        try:
            types = read_types_file(types_file, "node")
        except FileNotFoundError:
            raise SonataError(f"node types file not found: {types_file} (networks.nodes of {config.path})") from None
        except (KeyError, ValueError) as err:
            raise SonataError(f"{types_file}: not a SONATA node types table (space-separated, with a node_type_id "
                              f"column): {err}") from None
        for population, data in _read_h5(h5py, nodes_file, "nodes").items():
            if population in seen:
                raise SonataError(f"node population {population!r} is defined twice ({nodes_file})")
            seen.add(population)
            if "dynamics_params" in data["groups_with"]:
                raise SonataError(f"{nodes_file}: per-node dynamics_params in population {population!r} are not "
                                  "supported; give each parameter set its own node type")
            per_node = sorted(data["groups_with"] & PER_NODE_REFUSED)
            if per_node:
                raise SonataError(f"{nodes_file}: per-node columns {per_node} in population {population!r} are not "
                                  f"supported (models and dynamics come from {types_file}; BMTK's PointNet builds "
                                  "the nodes of a type from the types table and ignores such columns); give each "
                                  "model or parameter set its own node type")
            models = {}
            for type_id in np.unique(data["node_type_id"]):
                if int(type_id) not in types:
                    raise SonataError(f"{nodes_file}: node type {int(type_id)} of population {population!r} is not "
                                      f"in {types_file}")
                models[int(type_id)] = _model_of_type(types[int(type_id)], config, f"{types_file}, node type "
                                                      f"{int(type_id)}")
            keys = {tid: (None if m is None else (m.type_name, m.flavour)) for tid, m in models.items()}
            for key in dict.fromkeys(keys.values()):
                chosen = [tid for tid, k in keys.items() if k == key]
                mask = np.isin(data["node_type_id"], chosen)
                groups.append(NodeGroup(population, data["node_id"][mask], data["node_type_id"][mask],
                                        None if key is None else {tid: models[tid] for tid in chosen}))
    return groups


def _required(entry: dict, key: str, config: SonataConfig) -> str:
    if key not in entry:
        raise SonataError(f"{config.path}: an entry of networks.{key.split('_')[0]} lacks {key!r}")
    return entry[key]


def _read_h5(h5py, path: str, kind: str) -> dict:
    """``{population: {node_id, node_type_id, groups_with}}`` of a SONATA nodes file."""
    try:
        handle = h5py.File(path, "r")
    except (FileNotFoundError, OSError) as err:
        raise SonataError(f"{kind} file not found or unreadable: {path} ({err})") from None
    out = {}
    with handle:
        if kind not in handle:
            raise SonataError(f"{path}: no /{kind} group; not a SONATA {kind} file")
        for population, group in handle[kind].items():
            if not isinstance(group, h5py.Group):
                raise SonataError(f"{path}: /{kind}/{population} is not a group (a SONATA node population: node_id, "
                                  "node_type_id and node groups)")
            for key in ("node_id", "node_type_id"):
                if key not in group:
                    raise SonataError(f"{path}: population {population!r} lacks '{key}'")
                if not isinstance(group[key], h5py.Dataset) or group[key].dtype.kind not in "iu":
                    values = group[key][()] if isinstance(group[key], h5py.Dataset) else "a group"
                    raise SonataError(f"{path}: population {population!r}: {key} is not integer "
                                      f"({getattr(group[key], 'dtype', 'a group')}: {np.ravel(values)[:5].tolist()}"
                                      " ...); SONATA ids are integers")
            node_ids = np.asarray(group["node_id"][()], np.int64)
            type_ids = np.asarray(group["node_type_id"][()], np.int64)
            if len(node_ids) != len(type_ids) or len(np.unique(node_ids)) != len(node_ids):
                raise SonataError(f"{path}: population {population!r} has inconsistent node ids (repeated ids, or "
                                  "node_id and node_type_id of different lengths)")
            columns = set().union(*(set(sub.keys()) for name, sub in group.items() if isinstance(sub, h5py.Group)))
            out[population] = {"node_id": node_ids, "node_type_id": type_ids, "groups_with": columns}
    return out


def _model_of_type(row: dict, config: SonataConfig, where: str) -> Optional[CellModel]:
    model_type = str(row.get("model_type", "")).strip()
    if model_type == "virtual":
        return None
    if model_type not in ("point_neuron", "point_process"):
        raise SonataError(f"{where}: model_type {model_type!r} is not supported (point_neuron or virtual)")
    template, dynamics_file = row.get("model_template"), row.get("dynamics_params")
    if template in _MISSING or template is None:
        raise SonataError(f"{where}: no model_template")
    if dynamics_file in _MISSING or dynamics_file is None:
        dynamics = {}
    else:
        folder = config.components.get("point_neuron_models_dir")
        if folder is None:
            raise SonataError(f"{where}: dynamics_params {dynamics_file!r} but no components.point_neuron_models_dir "
                              f"in {config.path}")
        path = Path(folder) / str(dynamics_file)
        if not path.is_file():
            raise SonataError(f"{where}: dynamics_params file {dynamics_file!r} not found: {path} "
                              f"(components.point_neuron_models_dir of {config.path})")
        dynamics = read_json(path)
        if len(dynamics) == 1 and isinstance(next(iter(dynamics.values())), dict):
            dynamics = next(iter(dynamics.values()))           # Allen's {model id: config}
    return cell_model(template, dynamics, where)
