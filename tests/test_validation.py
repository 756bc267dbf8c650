"""Invalid GLIF parameters are refused with a ValueError naming the parameter, its value and the range.

First the simulator-neutral cell types (no NEST needed: the check happens at creation),
then every path by which a PyNN user hands values to NEST: Population creation,
Population.set, PopulationView.set, Assembly.set, ID.set_parameters, random
distributions and functions of the index. After each refusal NEST must hold exactly
what it held before: nothing of a refused set() call reaches it.
"""
import math
import re

import numpy as np
import pytest

pytest.importorskip("pyNN")
from pyNN.errors import NonExistentParameterError  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

from glif_pynn import standardmodels  # noqa: E402

NEUTRAL_TYPES = standardmodels.CELL_TYPES
NEUTRAL_IDS = [t.__name__ for t in NEUTRAL_TYPES]

#: (parameter, invalid value, text of the allowed range as the message gives it)
INVALID = [
    ("cm", 0.0, "(0, inf) nF"),
    ("cm", -0.1, "(0, inf) nF"),
    ("tau_m", 0.0, "(0, inf) ms"),
    ("tau_m", -5.0, "(0, inf) ms"),
    ("tau_syn_E", 0.0, "(0, inf) ms"),
    ("tau_syn_I", -1.0, "(0, inf) ms"),
    ("k_asc1", 0.0, "(0, inf) 1/ms"),
    ("k_asc2", -0.1, "(0, inf) 1/ms"),
    ("b_theta", 0.0, "(0, inf) 1/ms"),
    ("tau_refrac", -0.5, "[0, inf) ms"),
    ("f_v", 1.5, "[0, 1]"),
    ("f_v", -0.1, "[0, 1]"),
    ("f_asc1", 1.01, "[0, 1]"),
    ("f_asc2", -1.0, "[0, 1]"),
]
NON_FINITE = [("v_rest", math.nan, "NaN"), ("delta_theta", math.inf, "infinite"), ("v_thresh", -math.inf, "infinite"),
              ("i_offset", math.nan, "NaN"), ("delta_asc1", math.inf, "infinite")]


def message_pattern(name, value, allowed):
    return rf"{re.escape(name)} = {re.escape(f'{value:g}')}\b.*{re.escape(allowed)}"


@pytest.mark.parametrize("celltype", NEUTRAL_TYPES, ids=NEUTRAL_IDS)
@pytest.mark.parametrize("name, value, allowed", INVALID)
def test_out_of_range_value_refused_at_creation(celltype, name, value, allowed):
    with pytest.raises(ValueError, match=message_pattern(name, value, allowed)):
        celltype(**{name: value})


@pytest.mark.parametrize("celltype", NEUTRAL_TYPES, ids=NEUTRAL_IDS)
@pytest.mark.parametrize("name, value, what", NON_FINITE)
def test_nan_and_infinite_values_refused_at_creation(celltype, name, value, what):
    with pytest.raises(ValueError, match=rf"{name} is {what}; allowed range"):
        celltype(**{name: value})


@pytest.mark.parametrize("celltype", NEUTRAL_TYPES, ids=NEUTRAL_IDS)
@pytest.mark.parametrize("name, value, shown", [("lambda0", "20", "'20'"), ("tau_m", b"10", "b'10'"),
                                                ("delta_u", True, "True"), ("v_rest", np.bool_(False), "np.False_"),
                                                ("cm", np.array(["0.2"]), "<U3 values ['0.2']"),
                                                ("v_thresh", [-50.0, None], "object values [-50.0, None]")])
def test_values_that_are_not_numbers_are_refused(celltype, name, value, shown):
    """A string used to pass unchecked: '20' ran on the reference and crashed inside nest.Create."""
    with pytest.raises(ValueError, match=rf"GLIF parameter {name} must be (a number|numbers).* {re.escape(shown)}"):
        celltype(**{name: value})


@pytest.mark.parametrize("celltype", [standardmodels.GLIF_cond_exp, standardmodels.GLIF_cond_alpha])
def test_reversal_potentials_must_be_finite(celltype):
    with pytest.raises(ValueError, match="e_rev_I is NaN"):
        celltype(e_rev_I=math.nan)


def test_an_array_with_one_bad_element_names_that_element():
    with pytest.raises(ValueError, match=message_pattern("tau_m", -3.0, "(0, inf) ms")):
        standardmodels.GLIF_curr_exp(tau_m=[10.0, -3.0, 12.0])


@pytest.mark.parametrize("values", [dict(f_v=0.0, f_asc1=0.0, f_asc2=1.0, tau_refrac=0.0),
                                    dict(f_v=1.0, f_asc1=1.0, f_asc2=0.0, delta_v=-5.0, i_offset=-0.2)])
def test_boundary_and_negative_but_valid_values_accepted(values):
    cell = standardmodels.GLIF_curr_alpha(**values)
    for name, value in values.items():
        assert cell.parameter_space[name].base_value == value


def test_value_in_another_unit_is_caught():
    with pytest.raises(ValueError, match=r"cm = 250 nF is implausibly large.*another unit"):
        standardmodels.GLIF_cond_exp(cm=250.0)          # 250 pF given as nF
    with pytest.raises(ValueError, match=r"cm = 5.872e-05 nF is implausibly small.*another unit"):
        standardmodels.GLIF_cond_exp(cm=5.872e-5)       # 58.72 pF given in uF
    with pytest.raises(ValueError, match=r"tau_m = 0.02 ms is implausibly small.*another unit"):
        standardmodels.GLIF_curr_exp(tau_m=[20.0, 0.02])     # 20 ms given in s
    cell = standardmodels.GLIF_curr_exp(cm=1e-4, tau_m=0.05)  # the smallest plausible values pass
    assert cell.parameter_space["cm"].base_value == 1e-4


def test_unknown_and_other_flavour_parameters_are_pyNN_errors():
    with pytest.raises(NonExistentParameterError):
        standardmodels.GLIF_curr_exp(v_reset=-70.0)
    with pytest.raises(NonExistentParameterError):
        standardmodels.GLIF_curr_exp(e_rev_E=0.0)       # conductance flavours only


# --- on pyNN.nest: every path to NEST -------------------------------------------------------

GUARDED = ("C_m", "g_L", "E_L", "V_th", "I_e", "voltage_reset_fraction", "asc_r1", "tau_syn_inh", "th_spike_decay")


@pytest.fixture
def sim():
    sim = pytest.importorskip("pyNN.nest")
    sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
    return sim


@pytest.fixture
def nest_cells(sim):
    import glif_pynn.nest as cells
    return cells


def snapshot(population):
    import nest
    return {name: nest.GetStatus(population.node_collection, name) for name in GUARDED}


def test_creation_with_bad_random_values_creates_no_glif_node(sim, nest_cells):
    import nest
    celltype = nest_cells.GLIF_cond_exp(cm=RandomDistribution("normal", (0.05, 0.1), rng=NumpyRNG(seed=3)))
    with pytest.raises(ValueError, match=r"GLIF parameter cm = -?[0-9.e-]+ nF is out of range: allowed \(0, inf\)"):
        sim.Population(50, celltype)
    assert len(nest.GetNodes({"model": "glif_cond_exp_neuron"})) == 0, "nothing reached NEST"
    sim.Population(5, nest_cells.GLIF_cond_exp())          # and the kernel is still usable
    assert len(nest.GetNodes({"model": "glif_cond_exp_neuron"})) == 5


def refusals(sim, cells):
    """(description, function of (population, view, assembly) that must raise, expected message pattern)."""
    rng = NumpyRNG(seed=1)
    return [
        ("Population.set", lambda p, v, a: p.set(cm=-1.0), message_pattern("cm", -1.0, "(0, inf) nF")),
        ("mixed valid and invalid", lambda p, v, a: p.set(v_rest=-60.0, tau_syn_I=0.0),
         message_pattern("tau_syn_I", 0.0, "(0, inf) ms")),
        ("computed parameter", lambda p, v, a: p.set(tau_m=0.0), message_pattern("tau_m", 0.0, "(0, inf) ms")),
        ("PopulationView.set", lambda p, v, a: v.set(f_asc1=1.5), message_pattern("f_asc1", 1.5, "[0, 1]")),
        ("Assembly.set", lambda p, v, a: a.set(b_theta=-0.01), message_pattern("b_theta", -0.01, "(0, inf) 1/ms")),
        ("ID.set_parameters", lambda p, v, a: p[2].set_parameters(f_v=2.0), message_pattern("f_v", 2.0, "[0, 1]")),
        ("NaN", lambda p, v, a: p.set(v_rest=math.nan), r"v_rest is NaN"),
        ("random distribution", lambda p, v, a: p.set(f_v=RandomDistribution("uniform", (0.5, 1.5), rng=rng)),
         r"f_v = 1\.[0-9]+ +is out of range: allowed \[0, 1\]"),
        ("random distribution on a view",
         lambda p, v, a: v.set(tau_m=RandomDistribution("normal", (1.0, 5.0), rng=rng)), r"tau_m = -[0-9.]+ ms"),
        ("function of the index", lambda p, v, a: p.set(v_thresh=lambda i: np.where(i < 3, -50.0, math.inf)),
         r"v_thresh is infinite"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_refused_set_leaves_nest_untouched(sim, nest_cells, case):
    description, action, pattern = refusals(sim, nest_cells)[case]
    pop = sim.Population(4, nest_cells.GLIF_curr_alpha())
    other = sim.Population(2, nest_cells.GLIF_cond_alpha())
    view, both = pop[1:3], pop + other
    before = snapshot(pop), snapshot(other)
    with pytest.raises(ValueError, match=pattern):
        action(pop, view, both)
    assert (snapshot(pop), snapshot(other)) == before, f"{description}: NEST must be unchanged"


def test_valid_set_through_the_same_paths_does_change_nest(sim, nest_cells):
    """The guard of the test above: the same calls with valid values do reach NEST."""
    pop = sim.Population(4, nest_cells.GLIF_curr_alpha())
    before = snapshot(pop)
    pop.set(cm=0.1, tau_syn_I=3.0)
    pop[1:3].set(f_asc1=0.5)
    pop[2].set_parameters(f_v=0.9)
    pop.set(v_thresh=lambda i: -50.0 - i)
    after = snapshot(pop)
    assert after["C_m"] == (100.0,) * 4 and after["tau_syn_inh"] == (3.0,) * 4
    assert after["asc_r1"] == (1.0, 0.5, 0.5, 1.0) and after["voltage_reset_fraction"][2] == 0.9
    assert after["V_th"] == (-50.0, -51.0, -52.0, -53.0)
    assert after != before


def test_nest_alone_would_have_taken_a_nan(sim, nest_cells):
    """Why the Python check matters: NEST has no guard on E_L and takes a NaN silently."""
    import nest
    pop = sim.Population(1, nest_cells.GLIF_curr_exp())
    nest.SetStatus(pop.node_collection, {"E_L": math.nan})
    assert np.isnan(nest.GetStatus(pop.node_collection, "E_L")[0])
