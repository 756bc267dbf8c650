"""Bad SONATA input is refused by name (SonataError: file and item), not loaded with silent defaults and not
left to crash in h5py, pyNN or numpy.

Each case breaks a copy of a small network that BMTK's NetworkBuilder writes (21 cells, 14 virtual
inputs: comparisons/bmtk_network.build_network(n_per_type=3)); single node types, which need no
network: tests/test_sonata_node_types.py. Every case runs on the numpy reference; none simulates more
than the run checks need.
"""
import json
import shutil

import numpy as np
import pytest

from glif_pynn import sonata
from sonata_support import rewrite_types

h5py = pytest.importorskip("h5py")


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
    rewrite_types(directory / "network" / "lgn_v1_edge_types.csv", change)
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


# -- ids, per-node columns, templates, delays, spike units, manifests ------------------------------------------------
@pytest.mark.parametrize("value, dtype", [(0, np.int64), (-3, np.int64), (1.5, float), (2**32 - 3, np.uint32)])
def test_nsyns_below_one_or_not_whole_is_refused(broken, value, dtype):
    """BMTK multiplies syn_weight by nsyns: 0 would be a connection without effect, -3 one of the other sign;
    -3 written as uint32 reads 4294967293 synapses."""
    directory, config = broken
    path = directory / "network" / "v1_v1_edges.h5"
    with h5py.File(path, "r") as handle:
        nsyns = handle["edges/v1_to_v1/0/nsyns"][()].astype(dtype)
    nsyns[0] = value
    _replace_dataset(path, "edges/v1_to_v1/0/nsyns", nsyns)
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1', edge group 0: "
                                                 rf"nsyns \[{value}(\.0)?\] for 1 edges \(edge types \[\d+\]\); "
                                                 r"expected whole numbers >= 1"):
        _load(config)


def test_no_nsyns_column_means_one_synapse(broken):
    """As BMTK's PointNet (edge_props.get('nsyns', 1))."""
    directory, config = broken
    _replace_dataset(directory / "network" / "v1_v1_edges.h5", "edges/v1_to_v1/0/nsyns", None)
    table = next(t for t in sonata.read_edges(sonata.read_config(config)) if t.name == "v1_to_v1")
    assert set(table.weight.tolist()) == {4.0, -5.0}, "syn_weight of the two edge types, once each"


@pytest.mark.parametrize("dataset", ["target_node_id", "source_node_id"])
def test_edge_node_ids_that_are_not_integers_are_refused(broken, dataset):
    directory, config = broken
    path = directory / "network" / "v1_v1_edges.h5"
    name = f"edges/v1_to_v1/{dataset}"
    with h5py.File(path, "r") as handle:
        ids, attributes = handle[name][()].astype(float) + 0.5, dict(handle[name].attrs)
    _replace_dataset(path, name, ids)
    with h5py.File(path, "r+") as handle:
        handle[name].attrs.update(attributes)
    with pytest.raises(sonata.SonataError, match=rf"v1_v1_edges\.h5, edge population 'v1_to_v1': {dataset} is of "
                                                 r"type float64 \(\[\d+\.5, .*\); SONATA ids are integers"):
        _load(config)


def test_node_type_ids_that_are_not_integers_are_refused(broken):
    directory, config = broken
    path = directory / "network" / "v1_nodes.h5"
    with h5py.File(path, "r") as handle:
        type_ids = handle["nodes/v1/node_type_id"][()] + 0.7
    _replace_dataset(path, "nodes/v1/node_type_id", type_ids)
    with pytest.raises(sonata.SonataError, match=r"v1_nodes\.h5: population 'v1': node_type_id is not integer "
                                                 r"\(float64: \[100\.7, .*SONATA ids are integers"):
        _load(config)


@pytest.mark.parametrize("column, values", [("model_template", np.array([b"nest:iaf_psc_alpha"] * 21)),
                                            ("model_type", np.array([b"point_neuron"] * 21)),
                                            ("V_m", np.full(21, -40.0)),
                                            ("th_inf", np.full(21, 0.02)),
                                            ("El_reference", np.full(21, -0.07))])
def test_per_node_model_and_dynamics_columns_are_refused(broken, column, values):
    """BMTK's PointNet builds the nodes of a type from the types table: such columns would be ignored."""
    directory, config = broken
    with h5py.File(directory / "network" / "v1_nodes.h5", "r+") as handle:
        handle[f"nodes/v1/0/{column}"] = values
    with pytest.raises(sonata.SonataError, match=rf"v1_nodes\.h5: per-node columns \['{column}'\] in population "
                                                 r"'v1' are not supported \(models and dynamics come from "
                                                 r".*v1_node_types\.csv"):
        _load(config)


@pytest.mark.parametrize("template, message", [
    (None, r"edge group 0: no model_template .*BMTK's PointNet needs it too"),
    ("", r"edge group 0: edge types \[100\] have no model_template; BMTK's PointNet needs it too"),
    ("stdp_synapse", r"edge group 0: synapse model \['stdp_synapse'\] is not supported"),
    ("NEST:static_synapse", r"edge group 0: synapse model \['NEST:static_synapse'\] is not supported"),
    ("nest:static_synapse", None),
])
def test_edge_types_need_a_static_synapse_model_template(broken, template, message):
    directory, config = broken

    def change(row):
        if template is None:
            del row["model_template"]
        elif row["edge_type_id"] == "100":
            row["model_template"] = template
    rewrite_types(directory / "network" / "v1_v1_edge_types.csv", change)
    if message is None:
        assert sum(len(p) for p in _load(config).projections) == 546
        return
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1', " + message):
        _load(config)


@pytest.mark.parametrize("delay, connected", [(1.02, 1.0), (1.025, 1.05), (1.07, 1.05), (0.03, 0.05)])
def test_delays_are_rounded_to_the_grid_as_nest_rounds_them(broken, delay, connected):
    """Measured with NEST 3.10 at resolution 0.05 ms: 1.02 -> 1.0, 1.025 -> 1.05, 1.07 -> 1.05, 0.03 -> 0.05;
    0.02 is refused (0 steps)."""
    directory, config = broken

    def change(row):
        if row["edge_type_id"] == "100":
            row["delay"] = str(delay)
    rewrite_types(directory / "network" / "v1_v1_edge_types.csv", change)
    net = _load(config)
    delays = {round(d, 9) for p in net.projections if p.label.startswith("v1_to_v1") and p.receptor_type == "syn3"
              for d in p.get("delay", format="list", with_address=False)}
    assert delays == {connected}


def test_delays_that_round_to_zero_steps_are_refused(broken):
    directory, config = broken

    def change(row):
        if row["edge_type_id"] == "100":
            row["delay"] = "0.02"
    rewrite_types(directory / "network" / "v1_v1_edge_types.csv", change)
    with pytest.raises(sonata.SonataError, match=r"v1_v1_edges\.h5, edge population 'v1_to_v1' \(v1 -> v1\): delays "
                                                 r"down to 0\.02 ms, which round to less than one step of 0\.05 ms"):
        _load(config)


@pytest.mark.parametrize("units", ["msec", "second", "us"])
def test_input_spike_units_other_than_ms_and_s_are_refused(broken, units):
    directory, config = broken
    with h5py.File(_spike_file(directory), "r+") as handle:
        handle["spikes/lgn/timestamps"].attrs["units"] = units
    with pytest.raises(sonata.SonataError, match=rf"lgn_spikes\.h5: timestamps in '{units}'; expected ms or s"):
        _load(config)


@pytest.mark.parametrize("manifest, cycle", [({"$A": "$B", "$B": "$A/x"}, r"\$A -> \$B -> \$A"),
                                             ({"$A": "${A}/x"}, r"\$A -> \$A"),
                                             ({"$C": "$A", "$A": "$B/y", "$B": "$C"}, r"\$C -> \$A -> \$B -> \$C")])
def test_a_cyclic_manifest_is_refused_by_name(broken, manifest, cycle):
    directory, config = broken
    _edit_json(directory / "circuit_config.json", lambda c: c["manifest"].update(manifest))
    with pytest.raises(sonata.SonataError, match=r"circuit_config\.json: the manifest variables " + cycle +
                                                 r" refer to each other in a cycle"):
        _load(config)


def test_a_missing_dynamics_params_file_names_the_node_type(broken):
    directory, config = broken
    (directory / "components" / "point_neuron_models" / "nest_glif1.json").unlink()
    message = (r"v1_node_types\.csv, node type \d+: dynamics_params file 'nest_glif1\.json' not found: "
               r".*point_neuron_models/nest_glif1\.json \(components\.point_neuron_models_dir of "
               r".*simulation_config\.json\)")
    with pytest.raises(sonata.SonataError, match=message):
        _load(config)
