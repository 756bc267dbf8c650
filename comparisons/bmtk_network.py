"""An Allen-style SONATA network built with BMTK's own NetworkBuilder, and BMTK's PointNet run on it.

:func:`build_network` writes, with bmtk (the ``test`` extra), a network of GLIF cells taken from
``tests/data/allen`` (Allen Cell Types Database fits, GLIF levels 1-5) and NEST ``glif_psc`` parameter
sets, with four receptor ports (BMTK's Allen V1 default ``tau_syn = [5.5, 8.5, 2.8, 5.8]`` ms), driven by
excitatory and inhibitory virtual Poisson inputs, and the SONATA configs (circuit and simulation) that
BMTK's PointNet and :func:`glif_pynn.sonata.run` both read:

* population ``v1``: GLIF1 and GLIF3 cells (Allen ``nest:glif_lif_psc`` / ``nest:glif_lif_asc_psc`` configs
  and ``nest:glif_psc`` dictionaries) that are recurrently connected (an excitatory and an inhibitory
  half, ports 3 and 4), and GLIF2, GLIF4 and GLIF5 cells (Allen configs) that receive the same input but
  project nowhere: their spikes never change what the GLIF1/3 cells receive, so that the GLIF1/3 rasters
  can be compared spike for spike while the other levels are compared by rate;
* population ``lgn``: virtual excitatory (port 1, positive weights) and inhibitory (port 2, negative
  weights) Poisson sources, read from a SONATA spike file.

:func:`run_bmtk` runs PointNet in a fresh Python process (it resets NEST's kernel and keeps module-level
state), returning the wall-clock seconds of its build and simulation phases.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Optional

import numpy as np

ALLEN_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "allen"
#: BMTK's Allen-config model templates (bmtk/simulator/pointnet/glif_utils.py) and the test files
ALLEN_CELLS = {1: ("nest:glif_lif_psc", "464198958_566291893.json"),
               2: ("nest:glif_lif_r_psc", "478888083_566382734.json"),
               3: ("nest:glif_lif_asc_psc", "464198958_566291897.json"),
               4: ("nest:glif_lif_r_asc_psc", "324032509_566283879.json"),
               5: ("nest:glif_lif_r_asc_a_psc", "323834998_566283540.json")}
TAU_SYN = [5.5, 8.5, 2.8, 5.8]     # BMTK's default for Allen GLIF configs, ms
#: A NEST glif_psc GLIF1 and GLIF3 parameter set (pA, pF, nS, mV, ms); t_ref a multiple of 0.05 ms
NEST_GLIF = {1: dict(C_m=60.0, g=4.0, E_L=-75.0, V_th=-52.0, V_reset=-75.0, t_ref=3.0, V_m=-75.0,
                     tau_syn=TAU_SYN, spike_dependent_threshold=False, after_spike_currents=False,
                     adapting_threshold=False),
             3: dict(C_m=80.0, g=5.0, E_L=-72.0, V_th=-50.0, V_reset=-72.0, t_ref=2.5, V_m=-72.0,
                     tau_syn=TAU_SYN, asc_decay=[0.03, 0.1], asc_amps=[-20.0, -60.0], asc_r=[1.0, 1.0],
                     spike_dependent_threshold=False, after_spike_currents=True, adapting_threshold=False)}


def build_network(directory: Path, n_per_type: int = 30, duration: float = 1000.0, dt: float = 0.05,
                  seed: int = 15) -> Path:
    """Write the network, its input spikes and configs into ``directory``; return the simulation config.

    ``n_per_type`` cells of each of the seven node types (Allen GLIF1-5, NEST GLIF1 and GLIF3): 210 cells
    by default. Whatever the size, a cell receives on average 20 excitatory and 8 inhibitory inputs (of
    ``10 n_per_type / 3`` and ``4 n_per_type / 3`` virtual nodes), 6 recurrent excitatory and 6 inhibitory
    ones. ``duration`` and ``dt`` in ms go into the simulation config (BMTK's ``run`` section).
    """
    from bmtk.builder import NetworkBuilder
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator

    directory = Path(directory)
    models = directory / "components" / "point_neuron_models"
    synapses = directory / "components" / "synaptic_models"
    for folder in (models, synapses, directory / "network", directory / "inputs", directory / "output"):
        folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    v1 = NetworkBuilder("v1")
    for level, (template, name) in ALLEN_CELLS.items():
        config = next(iter(json.loads((ALLEN_DIR / name).read_text()).values()))   # {model id: config}
        (models / name).write_text(json.dumps(config))
        v1.add_nodes(N=n_per_type, model_type="point_neuron", model_template=template, dynamics_params=name,
                     glif_level=level, recurrent=level in (1, 3), source="allen")
    for level, params in NEST_GLIF.items():
        name = f"nest_glif{level}.json"
        (models / name).write_text(json.dumps(params))
        v1.add_nodes(N=n_per_type, model_type="point_neuron", model_template="nest:glif_psc", dynamics_params=name,
                     glif_level=level, recurrent=True, source="nest")
    for port in range(1, 5):
        (synapses / f"port{port}.json").write_text(json.dumps({"receptor_type": port}))

    n_exc_inputs, n_inh_inputs, n_recurrent = 10 * n_per_type // 3, 4 * n_per_type // 3, 2 * n_per_type
    lgn = NetworkBuilder("lgn")
    lgn.add_nodes(N=n_exc_inputs, model_type="virtual", ei="e")
    lgn.add_nodes(N=n_inh_inputs, model_type="virtual", ei="i")

    def random_synapses(source, target, p, rng=rng):
        """nsyns between a pair: 0 with probability 1 - p, else 1 or 2."""
        return int(rng.random() < p) * int(rng.integers(1, 3))

    # feedforward input to every cell, scaled to its rheobase: excitatory on port 1, inhibitory (negative
    # pA) on port 2; about 1.3 and 0.35 times the rheobase on average
    for (level, source), rheobase in _rheobases().items():
        target = v1.nodes(glif_level=level, source=source)
        lgn.add_edges(source={"ei": "e"}, target=target, connection_rule=random_synapses,
                      connection_params={"p": 20 / n_exc_inputs}, syn_weight=round(0.2 * rheobase, 3), delay=1.5,
                      model_template="static_synapse", dynamics_params="port1.json")
        lgn.add_edges(source={"ei": "i"}, target=target, connection_rule=random_synapses,
                      connection_params={"p": 8 / n_inh_inputs}, syn_weight=round(-0.1 * rheobase, 3), delay=2.0,
                      model_template="static_synapse", dynamics_params="port2.json")
    # recurrent GLIF1/3 cells: the Allen ones excite (port 3), the NEST ones inhibit (port 4), onto everyone
    v1.add_edges(source={"recurrent": True, "source": "allen"}, target=v1.nodes(), connection_rule=random_synapses,
                 connection_params={"p": 6 / n_recurrent}, syn_weight=4.0, delay=1.0, model_template="static_synapse",
                 dynamics_params="port3.json")
    v1.add_edges(source={"recurrent": True, "source": "nest"}, target=v1.nodes(), connection_rule=random_synapses,
                 connection_params={"p": 6 / n_recurrent}, syn_weight=-5.0, delay=2.5, model_template="static_synapse",
                 dynamics_params="port4.json")
    for net in (v1, lgn):
        net.build()
        net.save(output_dir=str(directory / "network"))

    generator = PoissonSpikeGenerator(population="lgn", seed=seed)
    generator.add(node_ids=list(range(n_exc_inputs)), firing_rate=15.0, times=(0.001, duration / 1e3))
    generator.add(node_ids=list(range(n_exc_inputs, n_exc_inputs + n_inh_inputs)), firing_rate=10.0,
                  times=(0.001, duration / 1e3))
    generator.to_sonata(str(directory / "inputs" / "lgn_spikes.h5"))
    return write_configs(directory, duration, dt)


def _rheobases() -> dict:
    """``{(level, source): G (V_th - E_L)}`` in pA, of each node type."""
    from glif_pynn.allen import describe_config
    out = {}
    for level, (_, name) in ALLEN_CELLS.items():
        p = describe_config(ALLEN_DIR / name).parameters
        out[(level, "allen")] = 1e3 * p["cm"] / p["tau_m"] * (p["v_thresh"] - p["v_rest"])
    for level, params in NEST_GLIF.items():
        out[(level, "nest")] = params["g"] * (params["V_th"] - params["E_L"])
    return out


def write_configs(directory: Path, duration: float, dt: float, output: str = "output") -> Path:
    """The circuit and simulation configs (BMTK's layout, ``${configdir}`` and a manifest)."""
    directory = Path(directory)
    circuit = {
        "manifest": {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR/network",
                     "$COMPONENTS_DIR": "$BASE_DIR/components"},
        "components": {"point_neuron_models_dir": "$COMPONENTS_DIR/point_neuron_models",
                       "synaptic_models_dir": "$COMPONENTS_DIR/synaptic_models"},
        "networks": {
            "nodes": [{"nodes_file": f"$NETWORK_DIR/{pop}_nodes.h5", "node_types_file": f"$NETWORK_DIR/{pop}_node_types.csv"}
                      for pop in ("v1", "lgn")],
            "edges": [{"edges_file": f"$NETWORK_DIR/{src}_{trg}_edges.h5",
                       "edge_types_file": f"$NETWORK_DIR/{src}_{trg}_edge_types.csv"}
                      for src, trg in (("v1", "v1"), ("lgn", "v1"))]}}
    simulation = {
        "manifest": {"$BASE_DIR": "${configdir}", "$OUTPUT_DIR": f"$BASE_DIR/{output}"},
        "target_simulator": "NEST",
        "run": {"tstart": 0.0, "tstop": duration, "dt": dt},
        "inputs": {"lgn_spikes": {"input_type": "spikes", "module": "sonata",
                                  "input_file": "$BASE_DIR/inputs/lgn_spikes.h5", "node_set": "lgn"}},
        "output": {"log_file": "log.txt", "output_dir": "$OUTPUT_DIR", "spikes_file": "spikes.h5",
                   "overwrite_output_dir": True},
        "network": "$BASE_DIR/circuit_config.json"}
    (directory / "circuit_config.json").write_text(json.dumps(circuit, indent=2))
    path = directory / f"simulation_config_{output}.json" if output != "output" else directory / "simulation_config.json"
    path.write_text(json.dumps(simulation, indent=2))
    return path


_BMTK_SCRIPT = textwrap.dedent("""
    import json, sys, time
    started = time.perf_counter()
    from bmtk.simulator import pointnet
    config = pointnet.Config.from_json(sys.argv[1])
    config.build_env()
    network = pointnet.PointNetwork.from_config(config)
    simulation = pointnet.PointSimulator.from_config(config, network)
    built = time.perf_counter()
    simulation.run()
    done = time.perf_counter()
    print("BMTK-TIMES " + json.dumps({"build_s": built - started, "run_s": done - built}))
""")


def run_bmtk(simulation_config: Path, timeout: float = 600.0) -> dict:
    """Run BMTK's PointNet on ``simulation_config`` in a fresh process; return its build and run seconds.

    Raises
    ------
    RuntimeError
        When PointNet fails; the message holds the end of its output.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "PMI_"))}
    started = time.perf_counter()
    config = Path(simulation_config).resolve()      # PointNet runs in the config's folder (its relative paths)
    result = subprocess.run([sys.executable, "-c", _BMTK_SCRIPT, str(config)], capture_output=True,
                            text=True, timeout=timeout, env=env, cwd=str(config.parent))
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BMTK-TIMES ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"BMTK PointNet failed (exit code {result.returncode}):\n"
                           f"{(result.stdout + result.stderr)[-3000:]}")
    times = json.loads(line.split(" ", 1)[1])
    times["total_s"] = time.perf_counter() - started
    return times


def read_spikes(path: Path, population: str = "v1") -> tuple[np.ndarray, np.ndarray]:
    """(node ids, times in ms) of a SONATA spike file, sorted by time then node."""
    import h5py
    with h5py.File(path, "r") as handle:
        group = handle["spikes"][population]
        ids, times = np.asarray(group["node_ids"][()], np.int64), np.asarray(group["timestamps"][()], float)
    order = np.lexsort((ids, times))
    return ids[order], times[order]


def node_levels(directory: Path, population: str = "v1") -> np.ndarray:
    """The GLIF level of every node of ``population`` (index = node id), from the files BMTK wrote."""
    import csv

    import h5py
    types = {}
    with open(Path(directory) / "network" / f"{population}_node_types.csv") as handle:
        for row in csv.DictReader(handle, delimiter=" "):
            types[int(row["node_type_id"])] = int(row["glif_level"])
    with h5py.File(Path(directory) / "network" / f"{population}_nodes.h5", "r") as handle:
        group = handle["nodes"][population]
        ids, type_ids = group["node_id"][()], group["node_type_id"][()]
    levels = np.zeros(int(ids.max()) + 1, int)
    levels[ids] = [types[int(t)] for t in type_ids]
    return levels


def main(argv: Optional[list] = None) -> None:   # pragma: no cover - a manual check
    directory = Path((argv or sys.argv[1:])[0])
    config = build_network(directory)
    print(run_bmtk(config))


if __name__ == "__main__":   # pragma: no cover
    main()
