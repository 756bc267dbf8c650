"""SONATA configuration files: the simulation config and the circuit config it names.

BMTK writes a ``simulation_config.json`` (``run``, ``inputs``, ``output``, ``reports``, and
``"network": "<circuit_config.json>"``) and a ``circuit_config.json`` (``networks``,
``components``); either may hold everything. Strings may use the ``manifest`` variables
(``$BASE_DIR``, ``${NETWORK_DIR}``) and the built-ins ``${configdir}`` (the directory of the file
being read) and ``${workingdir}`` (the current directory), as BMTK resolves them. Relative paths
are taken relative to the file's directory. pyNN's ``pyNN.serialization.sonata.load_config``
substitutes the manifest but knows neither built-in nor the ``"network"`` link, so it cannot read
BMTK's files; this module does that part and hands the resolved dictionaries on.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, Mapping, Union

ConfigLike = Union[str, Path, Mapping[str, Any]]


class SonataError(ValueError):
    """A SONATA network or config that glif-pynn cannot run; the message names the file and the fix."""


@dataclass
class SonataConfig:
    """A resolved simulation config (every path absolute, every variable substituted)."""

    path: Path
    networks: dict
    components: dict
    run: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)
    node_sets: dict = field(default_factory=dict)
    target_simulator: str = ""

    @property
    def dt(self) -> float:
        return _number(self.run.get("dt", 0.1), "run.dt", self.path, positive=True)

    @property
    def tstop(self) -> float:
        if "tstop" in self.run:
            return _number(self.run["tstop"], "run.tstop", self.path, positive=True)
        if "duration" in self.run:
            return _number(self.run.get("tstart", 0.0), "run.tstart", self.path) + \
                _number(self.run["duration"], "run.duration", self.path, positive=True)
        raise SonataError(f"{self.path}: the run section has neither 'tstop' nor 'duration'")


def _number(value, name: str, path: Path, positive: bool = False) -> float:
    """``value`` as a finite float (> 0 when ``positive``); SonataError naming ``name`` and ``path``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (positive and value <= 0):
        raise SonataError(f"{path}: {name} = {value!r}; expected a finite number{' > 0' if positive else ''} (ms)")
    return float(value)


def _typed(value, kind: type, where: str, path: Path):
    """``value`` when it is a ``kind`` (a JSON object or array); SonataError naming ``where`` and ``path``."""
    if not isinstance(value, kind):
        expected = {dict: "a JSON object", list: "a JSON array", str: "a string"}[kind]
        raise SonataError(f"{path}: {where} is {type(value).__name__} {value!r:.80}; expected {expected}")
    return value


def read_json(path: Path) -> dict:
    """A JSON object from ``path``; SonataError naming the file when it is missing or invalid."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SonataError(f"SONATA file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise SonataError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise SonataError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _resolve(data: dict, path: Path) -> dict:
    """``data`` with manifest and built-in variables substituted and relative paths made absolute."""
    variables = {"configdir": str(path.parent), "workingdir": os.getcwd()}
    manifest = {key.lstrip("$"): str(value) for key, value in (data.get("manifest") or {}).items()}
    _refuse_cycles(manifest, path)
    for _ in range(len(manifest) + 1):          # manifest entries may refer to each other
        changed = False
        for key, value in manifest.items():
            new = _substitute(value, {**variables, **manifest}, path, f"manifest {key}")
            changed |= new != value
            manifest[key] = new
        if not changed:
            break
    variables.update(manifest)

    def walk(obj, where):
        if isinstance(obj, dict):
            return {k: walk(v, f"{where}.{k}" if where else k) for k, v in obj.items() if k != "manifest"}
        if isinstance(obj, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, str) and "$" in obj:
            return _substitute(obj, variables, path, where)
        return obj

    return walk(data, "")


def _refuse_cycles(manifest: Mapping[str, str], path: Path) -> None:
    """SonataError naming the variables of a cycle in ``manifest`` (``$A`` -> ``$B`` -> ``$A``), which no
    substitution resolves (BMTK refuses them: "Unable to resolve manifest variables")."""
    uses = {key: [m.group("named") or m.group("braced") for m in Template.pattern.finditer(value)
                  if (m.group("named") or m.group("braced")) in manifest] for key, value in manifest.items()}
    state: dict = {}            # key -> 1 while its references are followed, 2 when done

    def visit(key, trail):
        state[key] = 1
        for used in uses[key]:
            if state.get(used) == 1:
                cycle = trail[trail.index(used):] + [used]
                raise SonataError(f"{path}: the manifest variables {' -> '.join('$' + k for k in cycle)} refer to "
                                  "each other in a cycle and cannot be resolved")
            if used not in state:
                visit(used, trail + [used])
        state[key] = 2

    for key in manifest:
        if key not in state:
            visit(key, [key])


def _substitute(text: str, variables: Mapping[str, str], path: Path, where: str) -> str:
    try:
        return Template(text).substitute(variables)
    except KeyError as err:
        raise SonataError(f"{path}: {where} = {text!r} uses the undefined variable ${err.args[0]}; define it in "
                          "the manifest") from None
    except ValueError as err:
        raise SonataError(f"{path}: {where} = {text!r}: {err}") from None


def _absolute(value: str, base: Path) -> str:
    candidate = Path(value)
    return str(candidate if candidate.is_absolute() else (base / candidate).resolve())


def read_config(config: ConfigLike) -> SonataConfig:
    """The simulation config at ``config`` (a path, or an already resolved :class:`SonataConfig`),
    merged with the circuit config it names under ``"network"``.

    Raises
    ------
    SonataError
        For a missing or invalid file, an undefined variable, a config without networks, a section of the
        wrong JSON type (``networks``, ``run``, ``inputs`` ... objects; ``networks.nodes`` an array of
        objects), or a ``run.dt``, ``tstop`` or ``duration`` that is not a number > 0.
    """
    if isinstance(config, SonataConfig):
        return config
    path = Path(config).resolve()
    data = _resolve(read_json(path), path)
    network = data.get("network")
    if network is not None:
        circuit_path = Path(_absolute(_typed(network, str, "network", path), path.parent))
        circuit = _resolve(read_json(circuit_path), circuit_path)
        for key in ("networks", "components"):
            data.setdefault(key, circuit.get(key, {}))
        base = circuit_path.parent
    else:
        base = path.parent
    sections = {key: _typed(data.get(key) or {}, dict, key, path)
                for key in ("networks", "components", "node_sets", "inputs", "output", "run", "reports")}
    if not sections["networks"].get("nodes"):
        raise SonataError(f"{path}: no networks.nodes (neither in this file nor in a circuit config named by "
                          "'network')")
    networks = {}
    for kind in ("nodes", "edges"):
        entries = _typed(sections["networks"].get(kind) or [], list, f"networks.{kind}", path)
        networks[kind] = [{key: _absolute(_typed(value, str, f"networks.{kind}[{i}].{key}", path), base)
                           if key.endswith("_file") else value
                           for key, value in _typed(entry, dict, f"networks.{kind}[{i}]", path).items()}
                          for i, entry in enumerate(entries)]
    components = {key: _absolute(value, base) for key, value in sections["components"].items()
                  if isinstance(value, str)}
    node_sets = dict(sections["node_sets"])
    if data.get("node_sets_file"):
        node_sets.update(read_json(Path(_absolute(_typed(data["node_sets_file"], str, "node_sets_file", path),
                                                  path.parent))))
    inputs = {name: {k: _absolute(_typed(v, str, f"inputs.{name}.input_file", path), path.parent)
                     if k == "input_file" else v for k, v in _typed(spec, dict, f"inputs.{name}", path).items()}
              for name, spec in sections["inputs"].items()}
    output = dict(sections["output"])
    if "output_dir" in output:
        output["output_dir"] = _absolute(_typed(output["output_dir"], str, "output.output_dir", path), path.parent)
    run = dict(sections["run"])
    for key in ("dt", "tstop", "duration", "tstart"):
        if key in run:
            _number(run[key], f"run.{key}", path, positive=key != "tstart")
    return SonataConfig(path=path, networks=networks, components=components, run=run,
                        inputs=inputs, output=output, reports=dict(sections["reports"]),
                        node_sets=node_sets, target_simulator=str(data.get("target_simulator", "")))
