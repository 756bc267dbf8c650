"""Bad SONATA node types are refused by name (SonataError: the node type and the item), not loaded with
silent defaults: NEST dictionaries with keys NEST does not know, glif_cond without one reversal
potential per port, values NEST refuses; a node type keeps its own port count and NEST's defaults.
No network needed (networks with broken files: tests/test_sonata_inputs.py).
"""
import json
from pathlib import Path

import pytest

from glif_pynn import sonata
from glif_pynn.sonata.nodes import cell_model

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




def test_an_upper_case_nest_prefix():
    """BMTK creates NEST's model named after the colon whatever the prefix, but converts an Allen config only
    under a lower-case ``nest:`` (``startswith('nest:glif')``)."""
    assert cell_model("NEST:glif_psc", NEST_GLIF1, "node type 7") == cell_model("nest:glif_psc", NEST_GLIF1, "x")
    with pytest.raises(sonata.SonataError, match=r"node type 7: model_template 'NEST:glif_lif_psc': write it "
                                                 r"nest:glif_lif_psc"):
        cell_model("NEST:glif_lif_psc", ALLEN, "types.csv, node type 7")
