"""Bad SONATA input is refused by name (SonataError: file and item), not loaded with silent defaults and not
left to crash in h5py, pyNN or numpy.

Most cases break a copy of a small network that BMTK's NetworkBuilder writes (21 cells, 14 virtual
inputs: comparisons/bmtk_network.build_network(n_per_type=3)); the checks of single node types need
no network. Every case runs on the numpy reference; none simulates more than the run checks need.
"""
import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from glif_pynn import sonata
from glif_pynn.sonata.nodes import cell_model

h5py = pytest.importorskip("h5py")

NEST_GLIF1 = {"C_m": 60.0, "g": 4.0, "E_L": -75.0, "V_th": -52.0, "V_reset": -75.0, "t_ref": 3.0, "V_m": -75.0,
              "tau_syn": [5.5, 8.5, 2.8, 5.8], "spike_dependent_threshold": False, "after_spike_currents": False,
              "adapting_threshold": False}
#: An Allen neuron_config (GLIF1, tests/data/allen), unwrapped from {model id: config}
ALLEN = next(iter(json.loads((Path(__file__).parent / "data" / "allen" / "464198958_566291893.json").read_text())
                  .values()))


# -- node types, no network needed ----------------------------------------------------------------------------
@pytest.mark.parametrize("template, dynamics, message", [
    ("nest:glif_psc", dict(NEST_GLIF1, C_mm=70.0), r"node type 7: dynamics_params keys \['C_mm'\] are not "
                                                   r"parameters of NEST's glif_psc"),
    ("nest:glif_psc", ALLEN, r"node type 7: dynamics_params keys \[.*'El_reference'.*\] .*BMTK's Allen templates"),
    ("nest:glif_cond", ALLEN, r"node type 7: dynamics_params keys \[.*'El_reference'.*\] .*glif_cond"),
    ("nest:glif_psc", dict(NEST_GLIF1, E_rev=[0.0, -80.0, 0.0, -80.0]), r"keys \['E_rev'\] .* glif_psc"),
    ("nest:glif_cond", dict(NEST_GLIF1, E_rev=[0.0, -80.0, 0.0, -80.0]), r"keys \['g'\] .* glif_cond"),
])
def test_keys_nest_does_not_know_are_refused(template, dynamics, message):
    with pytest.raises(sonata.SonataError, match=message):
        cell_model(template, dynamics, "types.csv, node type 7")


def _cond(**changes):
    params = {k: v for k, v in NEST_GLIF1.items() if k != "g"}
    params.update(g_m=4.0, **changes)
    return params


@pytest.mark.parametrize("dynamics, message", [
    (_cond(), r"E_rev has 2 values and tau_syn 4"),                          # NEST's default E_rev: 2 ports
    (_cond(E_rev=[0.0, -80.0]), r"E_rev has 2 values and tau_syn 4"),
    (_cond(E_rev=[0.0, -80.0, 0.0], tau_syn=[1.0, 2.0]), r"E_rev has 3 values and tau_syn 2"),
])
def test_glif_cond_needs_one_reversal_potential_per_port(dynamics, message):
    with pytest.raises(sonata.SonataError, match=r"node type 7: dynamics_params cannot be converted: " + message):
        cell_model("nest:glif_cond", dynamics, "types.csv, node type 7")


def test_a_node_type_keeps_its_own_port_count_and_nest_s_defaults():
    model = cell_model("nest:glif_psc", dict(NEST_GLIF1, tau_syn=[5.5]), "node type 7")
    assert (model.ports, model.receptor_ports) == (4, 1), "built with 4 ports, edges only onto NEST's one"
    model = cell_model("nest:glif_cond", {"g_m": 4.0}, "node type 7")
    assert model.receptor_ports == 2 and [model.parameters[f"e_rev_{k}"] for k in (1, 2)] == [0.0, -85.0], \
        "glif_cond's defaults: tau_syn [0.2, 2] ms, E_rev [0, -85] mV"
    assert model.v_init == -78.85, "NEST's default V_m, which does not follow E_L"
    allen = cell_model("nest:glif_lif_psc", ALLEN, "node type 7")
    assert allen.receptor_ports == 4


@pytest.mark.parametrize("changes, message", [
    ({"after_spike_currents": True, "asc_amps": [-10.0], "asc_decay": [0.003, 0.1], "asc_r": [1.0, 1.0]},
     r"two after-spike currents; asc_amps has 1 values"),
    ({"after_spike_currents": "false"}, r"after_spike_currents = 'false': expected true or false"),
    ({"C_m": "sixty"}, r"C_m = 'sixty' is not a number"),
    ({"C_m": "60.0"}, r"C_m = '60.0' is not a number"),                     # NEST refuses strings
    ({"V_m": float("nan")}, r"V_m = nan is not a finite number"),
    ({"tau_syn": []}, r"tau_syn is empty"),
    ({"asc_init": [1.0, 0.0]}, r"asc_init = \[1.0, 0.0\]: initial after-spike currents other than 0"),
])
def test_bad_dynamics_values_are_sonata_errors(changes, message):
    with pytest.raises(sonata.SonataError, match=r"node type 7: .*" + message):
        cell_model("nest:glif_psc", dict(NEST_GLIF1, **changes), "types.csv, node type 7")


# -- a small network BMTK wrote, broken in copies -------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("bmtk")
    from comparisons import bmtk_network
    directory = tmp_path_factory.mktemp("sonata_tiny")
    bmtk_network.build_network(directory, n_per_type=3, duration=100.0)
    return directory


@pytest.fixture
def broken(tiny, tmp_path):
    """A copy of the tiny network to break: (directory, simulation config)."""
    directory = tmp_path / "copy"
    shutil.copytree(tiny, directory)
    return directory, directory / "simulation_config.json"


def _load(config):
    import glif_pynn.reference as sim
    cfg = sonata.read_config(config)
    edges = sonata.read_edges(cfg)
    sim.setup(timestep=cfg.dt, min_delay=sonata.min_delay(edges, cfg.dt))
    return sonata.load(cfg, sim, edges)


def _rewrite_types(path, change):
    with open(path) as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    for row in rows:
        change(row)
    with open(path, "w") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=" ")
        writer.writeheader()
        writer.writerows(rows)


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _replace_dataset(path, name, values):
    with h5py.File(path, "r+") as handle:
        del handle[name]
        if values is not None:
            handle[name] = values


def test_the_unbroken_copy_loads(broken):
    net = _load(broken[1])
    assert sum(pop.size for pop in net.populations.values()) == 21 + 14


def test_a_typo_in_a_nest_dictionary_is_refused_by_node_type(broken):
    directory, config = broken
    _edit_json(directory / "components" / "point_neuron_models" / "nest_glif1.json",
               lambda d: d.update(C_mm=d.pop("C_m")))
    with pytest.raises(sonata.SonataError, match=r"v1_node_types\.csv, node type \d+: dynamics_params keys "
                                                 r"\['C_mm'\] are not parameters of NEST's glif_psc"):
        _load(config)


def test_edges_onto_ports_the_node_type_lacks_are_refused(broken):
    """tau_syn of 1 port: the module's 4-port model would take ports 2-4 with the default tau_syn; NEST refuses."""
    directory, config = broken
    _edit_json(directory / "components" / "point_neuron_models" / "nest_glif1.json",
               lambda d: d.update(tau_syn=[5.5]))
    with pytest.raises(sonata.SonataError, match=r"_edges\.h5, edge population '\w+' \(\w+ -> v1\): receptor_type "
                                                 r"[234] \(edge types \[\d+.*\]\) onto node types \[\d+\] of 'v1', "
                                                 r"which have \[1\] receptor ports"):
        _load(config)


@pytest.mark.parametrize("column, value, what", [("syn_weight", "nan", "weight"), ("syn_weight", "inf", "weight"),
                                                 ("delay", "nan", "delay"), ("syn_weight", "strong", None)])
def test_weights_and_delays_must_be_finite_numbers(broken, column, value, what):
    directory, config = broken

    def change(row):
        if row["edge_type_id"] == "101":
            row[column] = value
    _rewrite_types(directory / "network" / "lgn_v1_edge_types.csv", change)
    message = (rf"lgn_v1_edges\.h5, edge population 'lgn_to_v1': {what}.* is NaN or infinite for \d+ edges "
               r"\(edge types \[101\]\)") if what else r"lgn_v1_edges\.h5, edge population 'lgn_to_v1'.*syn_weight " \
        r"is not a number"
    with pytest.raises(sonata.SonataError, match=message):
        _load(config)


def test_per_edge_nan_delays_are_refused(broken):
    directory, config = broken
    path = directory / "network" / "v1_v1_edges.h5"
    with h5py.File(path, "r") as handle:
        n = len(handle["edges/v1_to_v1/edge_group_index"])
    delays = np.full(n, 1.5)
    delays[0] = np.nan
    with h5py.File(path, "r+") as handle:
        handle["edges/v1_to_v1/0/delay"] = delays
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1': delay is NaN"):
        _load(config)


def test_a_synapse_model_that_is_no_json_object_is_refused(broken):
    directory, config = broken
    (directory / "components" / "synaptic_models" / "port3.json").write_text("[3]")
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1': cannot be read"):
        _load(config)


def test_edge_datasets_of_different_lengths_are_refused(broken):
    directory, config = broken
    path = directory / "network" / "v1_v1_edges.h5"
    with h5py.File(path, "r") as handle:
        targets = handle["edges/v1_to_v1/target_node_id"][()]
        attributes = dict(handle["edges/v1_to_v1/target_node_id"].attrs)
    _replace_dataset(path, "edges/v1_to_v1/target_node_id", targets[:-3])
    with h5py.File(path, "r+") as handle:
        handle["edges/v1_to_v1/target_node_id"].attrs.update(attributes)
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1': cannot be read"):
        _load(config)


def test_a_node_population_that_is_no_group_is_refused(broken):
    directory, config = broken
    with h5py.File(directory / "network" / "lgn_nodes.h5", "r+") as handle:
        handle["nodes/extra"] = np.arange(3)
    with pytest.raises(sonata.SonataError, match=r"lgn_nodes\.h5: /nodes/extra is not a group"):
        _load(config)


def test_no_edge_type_id_dataset_is_refused(broken):
    directory, config = broken
    _replace_dataset(directory / "network" / "v1_v1_edges.h5", "edges/v1_to_v1/edge_type_id", None)
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1': no edge_type_id"):
        _load(config)


def _spike_file(directory):
    return directory / "inputs" / "lgn_spikes.h5"


@pytest.mark.parametrize("breakage, message", [
    ("unknown node", r"lgn_spikes\.h5: node ids \[999\] of population 'lgn' \(input 'lgn_spikes'\) are not "
                     r"virtual nodes"),
    ("nan time", r"lgn_spikes\.h5: spike times of population 'lgn' that are NaN or infinite"),
    ("inf time", r"lgn_spikes\.h5: spike times of population 'lgn' that are NaN or infinite"),
    ("lengths", r"lgn_spikes\.h5: /spikes/lgn has \d+ node_ids and \d+ timestamps"),
    ("no timestamps", r"lgn_spikes\.h5: /spikes/lgn has no timestamps dataset"),
])
def test_bad_input_spikes_are_refused_by_file(broken, breakage, message):
    directory, config = broken
    path = _spike_file(directory)
    with h5py.File(path, "r") as handle:
        ids, times = handle["spikes/lgn/node_ids"][()], handle["spikes/lgn/timestamps"][()]
    if breakage == "unknown node":
        ids[-1] = 999
    elif breakage in ("nan time", "inf time"):
        times[len(times) // 2] = np.nan if breakage == "nan time" else np.inf
    elif breakage == "lengths":
        times = times[:-1]
    _replace_dataset(path, "spikes/lgn/node_ids", ids)
    _replace_dataset(path, "spikes/lgn/timestamps", None if breakage == "no timestamps" else times)
    with pytest.raises(sonata.SonataError, match=message):
        _load(config)


@pytest.mark.parametrize("file, change, message", [
    ("simulation_config.json", lambda c: c["inputs"]["lgn_spikes"].pop("input_file"),
     r"simulation_config\.json: input 'lgn_spikes' has no input_file"),
    ("simulation_config.json", lambda c: c["inputs"].update(lgn_spikes="lgn_spikes.h5"),
     r"simulation_config\.json: inputs\.lgn_spikes is str 'lgn_spikes\.h5'; expected a JSON object"),
    ("circuit_config.json", lambda c: c.update(networks=[c["networks"]]),
     r"simulation_config\.json: networks is list .*; expected a JSON object"),
    ("circuit_config.json", lambda c: c["networks"].update(nodes=c["networks"]["nodes"][0]),
     r"networks\.nodes is dict .*; expected a JSON array"),
    ("circuit_config.json", lambda c: c["networks"]["nodes"][0].update(nodes_file=3),
     r"networks\.nodes\[0\]\.nodes_file is int 3; expected a string"),
    ("simulation_config.json", lambda c: c.update(run=[c["run"]]), r"run is list .*; expected a JSON object"),
    ("simulation_config.json", lambda c: c["run"].update(dt="0.05"),
     r"run\.dt = '0\.05'; expected a finite number > 0"),
    ("simulation_config.json", lambda c: c["run"].update(dt=0.0), r"run\.dt = 0\.0; expected a finite number > 0"),
    ("simulation_config.json", lambda c: c["run"].update(dt=-0.05), r"run\.dt = -0\.05; expected a finite number"),
])
def test_config_sections_of_the_wrong_type_are_refused(broken, file, change, message):
    directory, config = broken
    _edit_json(directory / file, change)
    with pytest.raises(sonata.SonataError, match=message):
        _load(config)


@pytest.mark.parametrize("change, message", [
    (lambda c: c["output"].update(spikes_sort_order="times"), r"output\.spikes_sort_order 'times': expected one of"),
    (lambda c: c["run"].pop("tstop"), r"the run section has neither 'tstop' nor 'duration'"),
    (lambda c: c["output"].update(output_dir="${configdir}/a_file/output"), r"a_file is a file, not a folder"),
    (lambda c: c["output"].update(spikes_file="sub"), r"the spike file .*sub .* is a folder"),
    (lambda c: c["run"].update(n_thread="2"), r"run\.n_thread = '2'; expected a whole number"),
])
def test_run_checks_the_output_and_the_run_before_building(broken, change, message):
    directory, config = broken
    (directory / "a_file").write_text("not a folder")
    (directory / "output" / "sub").mkdir(parents=True)
    _edit_json(config, change)
    said = []
    with pytest.raises(sonata.SonataError, match=message):
        sonata.run(config, backend="reference", progress=said.append)
    assert said == [], "refused before building"


def test_the_cli_reports_a_refusal_in_one_line(broken, capsys):
    from glif_pynn.cli import main
    directory, config = broken
    _edit_json(config, lambda c: c["run"].update(dt="fast"))
    assert main(["sonata", str(config), "--backend", "reference"]) == 1
    assert "run.dt = 'fast'; expected a finite number > 0" in capsys.readouterr().err
