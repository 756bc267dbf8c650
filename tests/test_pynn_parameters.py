"""Parameters, initial values and state of the GLIF types on pyNN.nest: one table, PyNN units in, NEST units out.

Every test calls ``sim.setup()`` afresh (the ``sim_`` fixture in conftest.py); units and tolerances
are described in pynn_support.py.
"""

import numpy as np
import pytest

sim = pytest.importorskip("pyNN.nest")
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

from glif_pynn import parameters as table  # noqa: E402
from glif_pynn.nest import MODEL_NAMES, GLIF_cond_alpha, GLIF_cond_exp, GLIF_curr_alpha, GLIF_curr_exp  # noqa: E402
from pynn_support import DT, ALL_TYPES, TYPE_IDS, QUIET, signal, spike_times, nest_values, assert_nest_values  # noqa: E402


# --- the definitions come from the one table ------------------------------------------------


@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_definitions_are_those_of_the_parameter_table(celltype):
    flavour = table.CONDUCTANCE if celltype.conductance_based else table.CURRENT
    assert celltype.flavour == flavour
    params, states = table.parameters_for(flavour), table.states_for(flavour)
    assert celltype.default_parameters == {p.name: p.default for p in params}
    assert set(celltype.translations) == set(celltype.default_parameters)
    for p in params:
        assert celltype.units[p.name] == (p.unit or "dimensionless"), p.name
    assert celltype.recordable == ["spikes"] + [s.name for s in states]
    for s in states:
        assert celltype.units[s.name] == s.unit
        assert celltype.variable_map[s.name] == s.nest_name
        assert celltype.scale_factors[s.name] == s.from_nest
    assert set(celltype.default_initial_values) == {s.name for s in states}
    assert celltype.default_initial_values["v"] == table.BY_NAME["v_rest"].default
    assert tuple(celltype.receptor_types) == ("excitatory", "inhibitory")
    assert celltype.nest_name["on_grid"] == celltype.nest_name["off_grid"] in MODEL_NAMES
    names = {"exp": "exp", "alpha": "alpha"}[celltype.synapse_shape]
    assert celltype.nest_name["on_grid"] == f"glif_{'cond' if celltype.conductance_based else 'psc'}_{names}_neuron"


NON_DEFAULT = dict(cm=0.1, tau_m=15.0, v_rest=-70.0, v_thresh=-50.0, i_offset=0.05, tau_refrac=1.0, k_asc1=0.01,
                   k_asc2=0.2, f_asc1=0.5, f_asc2=0.25, delta_asc1=-0.01, delta_asc2=0.02, f_v=0.3, delta_v=2.0,
                   b_theta=0.05, delta_theta=1.5, a_theta_v=0.004, b_theta_v=0.07, tau_syn_E=3.0, tau_syn_I=4.0,
                   e_rev_E=5.0, e_rev_I=-80.0, lambda0=20.0, delta_u=1.5)


@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_every_parameter_reaches_nest_in_nest_units_and_comes_back(sim_, celltype):
    values = {name: NON_DEFAULT[name] for name in celltype.default_parameters}
    assert all(values[name] != celltype.default_parameters[name] for name in values), "non-trivial values"
    pop = sim.Population(2, celltype(**values))
    expected = {p.nest_name: values[p.name] * p.nest_scale for p in table.parameters_for(celltype.flavour)
                if p.nest_name}
    expected["g_L"] = 1000.0 * values["cm"] / values["tau_m"]     # nS = pF / ms
    expected["voltage_reset_add"] = -values["delta_v"]             # the sign flip, spelled out
    expected["I_e"] = 1000.0 * values["i_offset"]                  # nA -> pA, spelled out
    assert_nest_values(pop, **expected)
    back = dict(zip(values, pop.get(list(values))))
    for name, value in values.items():
        np.testing.assert_allclose(back[name], value, rtol=1e-13, err_msg=f"get({name})")


def test_initial_v_follows_v_rest(sim_):
    pop = sim.Population(3, GLIF_cond_exp(v_rest=-65.0))
    np.testing.assert_array_equal(nest_values(pop, "V_m")["V_m"], -65.0)
    pop2 = sim.Population(3, GLIF_curr_exp(v_rest=[-60.0, -61.0, -62.0]))
    np.testing.assert_array_equal(nest_values(pop2, "V_m")["V_m"], [-60.0, -61.0, -62.0])


def test_set_cm_keeps_tau_m_and_set_tau_m_keeps_cm(sim_):
    """Regression: NEST's C_m and g_L are coupled, PyNN's cm and tau_m are not."""
    pop = sim.Population(2, GLIF_curr_exp(cm=0.1, tau_m=15.0))
    pop.set(cm=0.3)
    assert pop.get(["cm", "tau_m"]) == pytest.approx([0.3, 15.0], rel=1e-13)
    np.testing.assert_allclose(nest_values(pop, "g_L")["g_L"], 20.0, rtol=1e-13)
    pop.set(tau_m=30.0)
    assert pop.get(["cm", "tau_m"]) == pytest.approx([0.3, 30.0], rel=1e-13)
    np.testing.assert_allclose(nest_values(pop, "C_m", "g_L")["g_L"], 10.0, rtol=1e-13)


# --- set, get, views, assemblies, random values ---------------------------------------------


def test_set_with_a_random_distribution_draws_the_values_pyNN_would(sim_):
    n = 20
    pop = sim.Population(n, GLIF_curr_alpha(cm=0.2))
    pop.set(tau_m=RandomDistribution("uniform", (10.0, 30.0), rng=NumpyRNG(seed=11)))
    tau = pop.get("tau_m")
    # PyNN draws set() values from a copy of the generator: the first n numbers of that seed
    expected = RandomDistribution("uniform", (10.0, 30.0), rng=NumpyRNG(seed=11)).next(n)
    assert np.ptp(tau) > 5.0
    np.testing.assert_allclose(tau, expected, rtol=1e-13)
    np.testing.assert_allclose(nest_values(pop, "g_L")["g_L"], 1000.0 * 0.2 / expected, rtol=1e-13)
    assert pop.get("cm") == pytest.approx(0.2, rel=1e-13)


def test_population_view_set_with_a_function_of_the_index(sim_):
    pop = sim.Population(6, GLIF_curr_exp())
    view = pop[[1, 3, 4]]
    view.set(i_offset=lambda i: 0.01 * (i + 1))
    np.testing.assert_allclose(pop.get("i_offset"), [0, 0.01, 0, 0.02, 0.03, 0], rtol=1e-13, atol=0)
    np.testing.assert_allclose(nest_values(pop, "I_e")["I_e"], [0, 10, 0, 20, 30, 0], rtol=1e-13, atol=0)
    view.set(f_v=0.75)
    np.testing.assert_array_equal(pop.get("f_v"), [0.2, 0.75, 0.2, 0.75, 0.75, 0.2])


def test_assembly_set_get_initialize_record(sim_):
    a, b = sim.Population(3, GLIF_curr_exp(**QUIET)), sim.Population(2, GLIF_cond_alpha(**QUIET))
    both = a + b
    both.set(v_thresh=-45.0, b_theta=0.05)
    np.testing.assert_array_equal(both.get("v_thresh"), [-45.0] * 5)
    both.initialize(theta=3.0)
    both.record("theta")
    sim.run(10.0)
    block = both.get_data("theta")
    sig = block.segments[0].filter(name="theta")[0]
    t, theta = sig.times.magnitude, np.asarray(sig.magnitude)
    assert theta.shape == (len(t), 5)
    np.testing.assert_allclose(theta, 3.0 * np.exp(-0.05 * t)[:, None] * np.ones(5), rtol=1e-12,
                               err_msg="theta from 3 mV decaying at b_theta in every member")


@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_initialize_in_pyNN_units_and_decay_of_each_state(sim_, celltype):
    syn = "gsyn_exc" if celltype.conductance_based else "isyn_exc"
    syn0 = 0.01 if celltype.conductance_based else 0.1          # uS / nA
    params = dict(QUIET, k_asc1=0.02, k_asc2=0.3, b_theta=0.07, tau_syn_E=3.0)
    pop = sim.Population(2, celltype(**params))
    pop.initialize(v=-60.0, theta=2.0, i_asc1=0.05, i_asc2=-0.02, **{syn: syn0})
    assert_nest_values(pop, V_m=-60.0, theta_s=2.0, I_asc1=50.0, I_asc2=-20.0,
                       **{celltype.variable_map[syn]: syn0 * 1e3})
    pop.record(["theta", "i_asc1", "i_asc2", syn])
    sim.run(20.0)
    for name, x0, rate in (("theta", 2.0, 0.07), ("i_asc1", 0.05, 0.02), ("i_asc2", -0.02, 0.3),
                           (syn, syn0, 1 / 3.0)):
        t, x, sig = signal(pop, name)
        assert str(sig.units.dimensionality) == celltype.units[name]
        expected = x0 * np.exp(-rate * t)
        if name == "gsyn_exc" and celltype.synapse_shape == "alpha":
            # g'' = -2 g' / tau - g / tau^2 from g(0) = x0, g'(0) = 0 (initialize sets g only)
            expected *= 1 + rate * t
        np.testing.assert_allclose(x[:, 0], expected, rtol=1e-10, err_msg=f"{name}(t)")


def _run_reset_run(celltype):
    """Spikes and the synaptic state of two 50 ms segments around a reset() taken while the cell is
    refractory (tau_refrac 10 ms, it fires as soon as it may) with its alpha PSC or PSG rising."""
    sim.setup(timestep=DT, min_delay=DT, verbosity="error", t_flush=3.0)
    syn = "isyn_exc" if "curr" in celltype.__name__ else "gsyn_exc"
    pop = sim.Population(1, celltype(i_offset=2.0, tau_refrac=10.0, tau_syn_E=5.0))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 25.0, 48.0]))
    weight = 0.5 if syn == "isyn_exc" else 0.01
    sim.Projection(source, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=weight, delay=1.0),
                   receptor_type="excitatory")
    pop.record(["spikes", syn])
    sim.run(50.0)
    sim.reset()
    sim.run(50.0)
    segments = pop.get_data().segments
    return ([np.asarray(s.spiketrains[0].rescale("ms")) for s in segments],
            [np.asarray(s.filter(name=syn)[0])[:500, 0] for s in segments])


@pytest.mark.parametrize("celltype", [GLIF_curr_alpha, GLIF_cond_alpha], ids=["curr_alpha", "cond_alpha"])
def test_reset_also_restores_the_states_pyNN_does_not_know(celltype, monkeypatch):
    """pyNN.nest's reset() sets v, isyn_exc, ... but not refr_counts or the alpha rate of change;
    glif_pynn.nest resets those to their defaults too, so the run after reset() repeats the first.
    Without that (the unwrapped reset), the cell starts the second segment still refractory."""
    spikes, syn = _run_reset_run(celltype)
    assert len(spikes[0]) >= 4 and np.ptp(syn[0]) > 0, "non-trivial: the cell fires and its synapse acts"
    np.testing.assert_allclose(spikes[1], spikes[0], atol=1e-9, err_msg="spike times after reset()")
    np.testing.assert_allclose(syn[1], syn[0], rtol=1e-12, atol=1e-15, err_msg="synaptic state after reset()")
    state_class = type(sim.simulator.state)
    monkeypatch.setattr(state_class, "reset", state_class.reset.__wrapped__)
    spikes, _ = _run_reset_run(celltype)
    assert spikes[1][0] > spikes[0][0], "without the hook the first spike comes later (still refractory)"


def test_reset_restores_pyNN_unit_initial_values_and_repeats_the_run():
    sim.setup(timestep=DT, min_delay=DT, verbosity="error", t_flush=100.0)
    pop = sim.Population(1, GLIF_curr_exp(i_offset=0.4))
    pop.initialize(theta=1.0, i_asc1=0.02)
    pop.record("spikes")
    sim.run(100.0)
    sim.reset()
    assert_nest_values(pop, I_asc1=20.0, theta_s=1.0)
    sim.run(100.0)
    first, second = spike_times(pop, 0)[0], spike_times(pop, 1)[0]
    assert len(first) >= 3
    np.testing.assert_allclose(second, first, atol=1e-9, err_msg="same run after reset()")
