"""The GLIF cell types on pyNN.nest, used as a PyNN user uses them, each result against a closed form.

PyNN units throughout (mV, ms, nA, nF, uS). Every test calls ``sim.setup()`` afresh (the
``sim`` fixture). Recorded signals start at t = 0 with the initial values and are sampled
every step; a spike found in the step ending at t is stamped t, and the states recorded at
t are those after the reset. Tolerances: 1e-9 or tighter where the NESTML model applies
exact propagators (current flavours; every linear state of the conductance flavours);
1e-5 mV for V of the conductance flavours, which GSL's RKF45 integrates to 1e-6.
"""
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

sim = pytest.importorskip("pyNN.nest")
import nest  # noqa: E402
from neo.io import PickleIO  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

from glif_pynn import parameters as table  # noqa: E402
from glif_pynn.nest import (MODEL_NAMES, GLIF_cond_alpha, GLIF_cond_exp, GLIF_curr_alpha,  # noqa: E402
                            GLIF_curr_exp)

ROOT = Path(__file__).resolve().parent.parent
DT = 0.1
ALL_TYPES = (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha)
CURRENT_TYPES = (GLIF_curr_exp, GLIF_curr_alpha)
TYPE_IDS = [t.__name__ for t in ALL_TYPES]
#: A leaky neuron that never fires: no after-spike currents, threshold far away.
QUIET = dict(cm=0.25, tau_m=20.0, v_rest=-70.0, v_thresh=0.0, delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0)


def v_tolerance(celltype):
    """V of the conductance flavours is integrated by GSL's RKF45 (tolerance 1e-6); the rest is exact."""
    return 1e-5 if celltype.conductance_based else 1e-9


@pytest.fixture
def sim_():
    sim.setup(timestep=DT, min_delay=DT, verbosity="error")
    return sim


def signal(population, name, segment=0):
    """(times in ms, values as an array [time, cell], the neo signal) of one recorded variable."""
    block = population.get_data(name)
    sig = block.segments[segment].filter(name=name)[0]
    return sig.times.rescale("ms").magnitude, np.asarray(sig.magnitude), sig


def spike_times(population, segment=0):
    return [st.rescale("ms").magnitude for st in population.get_data("spikes").segments[segment].spiketrains]


def nest_values(population, *names):
    return {name: np.array(nest.GetStatus(population.node_collection, name), dtype=float) for name in names}


def assert_nest_values(population, **expected):
    """Every cell's NEST value of each name (NEST units) equals the expected one to 1e-13."""
    got = nest_values(population, *expected)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-13, err_msg=f"NEST {name}")


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
                   e_rev_E=5.0, e_rev_I=-80.0)


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


# --- the module is there whenever a user needs it -------------------------------------------


def test_module_survives_a_second_setup_reset_and_threads():
    runs = {}
    for threads in (1, 2, 1):
        # min_delay 1 ms: few thread barriers, which cost a time slice each on a loaded 2-core machine
        sim.setup(timestep=DT, min_delay=1.0, verbosity="error", threads=threads)
        assert nest.GetKernelStatus("local_num_threads") == threads
        src = sim.Population(4, sim.SpikeSourceArray(spike_times=[2.0, 4.0]))
        pop = sim.Population(4, GLIF_cond_exp(i_offset=0.3))
        sim.Projection(src, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
        pop.record("spikes")
        sim.run(60.0)
        runs.setdefault(threads, []).append([list(st) for st in spike_times(pop)])
    assert sum(len(st) for st in runs[1][0]) >= 8
    assert runs[1][0] == runs[1][1] == runs[2][0], "identical spikes for 1 and 2 threads"


def test_hooks_wrap_once_however_often_installed():
    from pyNN.nest import nestml, populations

    from glif_pynn.nest import hooks
    hooks.install_hooks()
    hooks.install_hooks()
    for wrapped in (nestml._compile_and_resolve, populations.Population._set_initial_value_array):
        assert getattr(wrapped, "_glif_pynn_hook", False), wrapped
        assert not getattr(wrapped.__wrapped__, "_glif_pynn_hook", False), "wrapped twice"


def run_script(code):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_after_setup_still_loads_the_module():
    out = run_script("""
        import pyNN.nest as sim
        sim.setup()
        from glif_pynn.nest import GLIF_cond_exp
        sim.Population(10, GLIF_cond_exp())
        print("created")
    """)
    assert "created" in out


def test_too_late_import_says_what_to_do_and_the_next_setup_recovers():
    out = run_script("""
        import pyNN.nest as sim
        sim.setup()
        sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        from glif_pynn.nest import GLIF_curr_exp
        try:
            GLIF_curr_exp()
        except RuntimeError as err:
            print("refused:", err)
        sim.setup()
        sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        sim.Population(3, GLIF_curr_exp())
        print("created after setup")
    """)
    assert "refused:" in out and "Import glif_pynn.nest before calling pyNN.nest.setup()" in out
    assert "created after setup" in out


# --- dynamics against closed forms ----------------------------------------------------------


@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_v_under_i_offset_tends_to_v_rest_plus_i_tau_over_cm(sim_, celltype):
    i_offset = 0.1
    pop = sim.Population(1, celltype(**dict(QUIET, i_offset=i_offset)))
    pop.record(["v", "spikes"])
    sim.run(600.0)                   # 30 tau_m: the closed form is within 1e-12 mV of its limit
    t, v, sig = signal(pop, "v")
    assert str(sig.units.dimensionality) == "mV"
    steady = QUIET["v_rest"] + i_offset * QUIET["tau_m"] / QUIET["cm"]   # -62 mV, far below v_thresh
    assert len(spike_times(pop)[0]) == 0
    assert v[-1, 0] - QUIET["v_rest"] > 7.9, "non-trivial: V must rise by i_offset tau_m / cm = 8 mV"
    expected = QUIET["v_rest"] + (steady - QUIET["v_rest"]) * -np.expm1(-t / QUIET["tau_m"])
    np.testing.assert_allclose(v[:, 0], expected, rtol=0, atol=v_tolerance(celltype), err_msg="V(t)")
    assert v[-1, 0] == pytest.approx(steady, abs=v_tolerance(celltype))


@pytest.mark.parametrize("dt", [0.1, 0.01])
@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_first_spike_under_dc_source_in_the_step_of_the_analytic_crossing(celltype, dt):
    sim.setup(timestep=dt, min_delay=0.1, verbosity="error")
    params = dict(QUIET, v_thresh=-55.0)
    amplitude, start = 0.25, 20.0
    pop = sim.Population(1, celltype(**params))
    sim.DCSource(amplitude=amplitude, start=start, stop=1000.0).inject_into(pop)
    pop.record("spikes")
    sim.run(80.0)
    spikes = spike_times(pop)[0]
    tau, r = params["tau_m"], params["tau_m"] / params["cm"]
    t_cross = start - tau * math.log(1 - (params["v_thresh"] - params["v_rest"]) / (amplitude * r))
    assert len(spikes) >= 1
    # the spike is stamped at the end of the step in which V crosses
    assert spikes[0] - dt - 1e-9 < t_cross <= spikes[0] + 1e-9, (spikes[0], t_cross)


@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_each_spike_jumps_theta_by_delta_theta_and_the_after_spike_currents(sim_, celltype):
    p = dict(cm=0.1, tau_m=10.0, v_rest=-70.0, v_thresh=-55.0, i_offset=0.5, k_asc1=0.02, k_asc2=0.2, f_asc1=0.8,
             f_asc2=0.5, delta_asc1=-0.01, delta_asc2=-0.05, f_v=0.3, delta_v=5.0, b_theta=0.05, delta_theta=2.0)
    pop = sim.Population(1, celltype(**p))
    pop.record(["spikes", "theta", "i_asc1", "i_asc2"])
    sim.run(150.0)
    spikes = spike_times(pop)[0]
    assert len(spikes) >= 3
    t, theta, _ = signal(pop, "theta")
    asc = {j: signal(pop, f"i_asc{j}")[1][:, 0] for j in (1, 2)}
    theta = theta[:, 0]
    at_spike = np.zeros(len(t), dtype=bool)
    at_spike[np.rint(spikes / DT).astype(int)] = True
    decayed = theta[:-1] * math.exp(-p["b_theta"] * DT)
    np.testing.assert_allclose(theta[1:][at_spike[1:]] - decayed[at_spike[1:]], p["delta_theta"], rtol=0,
                               atol=1e-9, err_msg="theta jumps by delta_theta at every spike")
    np.testing.assert_allclose(theta[1:][~at_spike[1:]], decayed[~at_spike[1:]], rtol=1e-10, atol=1e-14,
                               err_msg="and only decays in between")
    for j in (1, 2):
        decayed = asc[j][:-1] * math.exp(-p[f"k_asc{j}"] * DT)
        expected = np.where(at_spike[1:], p[f"f_asc{j}"] * decayed + p[f"delta_asc{j}"], decayed)
        np.testing.assert_allclose(asc[j][1:], expected, rtol=1e-10, atol=1e-14,
                                   err_msg=f"i_asc{j}: f_asc{j} I + delta_asc{j} at spikes, decay between")


ARRIVAL = 6.5   # spike at 5 ms, delay 1.5 ms: added at the end of the step ending at 6.5 ms


def psc(shape, weight, tau, t, onset=ARRIVAL):
    s = np.clip(t - onset, 0.0, None)
    if shape == "exp":
        return np.where(t >= onset - 1e-9, weight * np.exp(-s / tau), 0.0)
    return weight * s / tau * np.exp(1 - s / tau)


@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_synaptic_response_shape_and_peak_equal_the_weight(sim_, celltype, receptor):
    exc = receptor == "excitatory"
    cond = celltype.conductance_based
    weight = (0.004 if cond else 0.4) * (1 if exc or cond else -1)   # PyNN: negative for inhibitory currents
    tau = 2.0 if exc else 3.0
    name = ("gsyn_" if cond else "isyn_") + ("exc" if exc else "inh")
    other = name[:-3] + ("inh" if exc else "exc")
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    params = dict(QUIET, tau_syn_E=2.0, tau_syn_I=3.0, **({"e_rev_I": -90.0} if cond else {}))
    pop = sim.Population(1, celltype(**params))
    prj = sim.Projection(src, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=weight, delay=1.5),
                         receptor_type=receptor)
    assert prj.get("weight", format="list")[0][2] == pytest.approx(weight, rel=1e-13)
    pop.record([name, other, "v"])
    sim.run(30.0)
    t, x, sig = signal(pop, name)
    assert str(sig.units.dimensionality) == ("uS" if cond else "nA")
    # the recorded sign is the table's (NEST state -> PyNN factor); the magnitude is the weight's
    amplitude = abs(weight) * np.sign(celltype.scale_factors[name])
    np.testing.assert_allclose(x[:, 0], psc(celltype.synapse_shape, amplitude, tau, t), rtol=1e-10, atol=1e-15,
                               err_msg=f"{name}(t)")
    peak = np.argmax(np.abs(x[:, 0]))
    assert x[peak, 0] == pytest.approx(amplitude, rel=1e-12), "peak = weight"
    t_peak = ARRIVAL if celltype.synapse_shape == "exp" else ARRIVAL + tau
    assert t[peak] == pytest.approx(t_peak, abs=1e-9)
    np.testing.assert_array_equal(signal(pop, other)[1], 0.0, err_msg="the other receptor stays silent")
    v = signal(pop, "v")[1][:, 0]
    if exc:
        assert v.max() > QUIET["v_rest"] + 0.1, "an excitatory input depolarises"
    else:
        assert v.min() < QUIET["v_rest"] - 0.01, "an inhibitory input hyperpolarises"


@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_one_to_one_weights_and_delays_reach_each_cell(sim_, celltype, receptor):
    cond, exc = celltype.conductance_based, receptor == "excitatory"
    unit = 0.001 if cond else 0.1
    weights = np.array([1.0, 2.0, 3.0, 4.0]) * unit * (1 if exc or cond else -1)
    delays = np.array([1.0, 1.5, 2.0, 2.5])
    src = sim.Population(4, sim.SpikeSourceArray(spike_times=[5.0]))
    pop = sim.Population(4, celltype(**QUIET))
    # PyNN takes per-connection values as a (pre, post) matrix; OneToOne uses its diagonal
    synapse = sim.StaticSynapse(weight=np.diag(weights), delay=np.diag(delays))
    prj = sim.Projection(src, pop, sim.OneToOneConnector(), synapse, receptor_type=receptor)
    np.testing.assert_allclose(np.diag(prj.get("weight", format="array")), weights, rtol=1e-13)
    np.testing.assert_allclose(np.diag(prj.get("delay", format="array")), delays, rtol=1e-13)
    name = ("gsyn_" if cond else "isyn_") + ("exc" if exc else "inh")
    pop.record(name)
    sim.run(20.0)
    t, x, _ = signal(pop, name)
    tau = 2.0 if exc else table.BY_NAME["tau_syn_I"].default
    sign = np.sign(celltype.scale_factors[name])
    for i in range(4):
        expected = psc(celltype.synapse_shape, abs(weights[i]) * sign, tau, t, onset=5.0 + delays[i])
        np.testing.assert_allclose(x[:, i], expected, rtol=1e-10, atol=1e-15,
                                   err_msg=f"cell {i}: weight {weights[i]}, delay {delays[i]}")


@pytest.mark.parametrize("celltype", ALL_TYPES, ids=TYPE_IDS)
def test_pyNN_weight_sign_rules_follow_conductance_based(sim_, celltype):
    """Inhibitory weights: negative for the current types, positive for the conductance types."""
    from pyNN.errors import ConnectionError
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[1.0]))
    pop = sim.Population(2, celltype())
    wrong = 0.01 if not celltype.conductance_based else -0.01
    with pytest.raises(ConnectionError, match="Weights must be"):
        sim.Projection(src, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=wrong), receptor_type="inhibitory")
    right = sim.Projection(src, pop, sim.AllToAllConnector(), sim.StaticSynapse(weight=-wrong),
                           receptor_type="inhibitory")
    assert len(right) == 4


@pytest.mark.parametrize("celltype", [GLIF_curr_exp, GLIF_cond_exp], ids=["curr_exp", "cond_exp"])
def test_connectors_with_random_weights_sum_at_each_target(sim_, celltype):
    """All sources fire at once: each target's synaptic state at the arrival is the sum of its weights."""
    rng = NumpyRNG(seed=5)
    cond = celltype.conductance_based
    low, high = (0.001, 0.002) if cond else (0.05, 0.1)
    n_pre, n_post = 10, 6
    src = sim.Population(n_pre, sim.SpikeSourceArray(spike_times=[5.0]))
    pop = sim.Population(n_post, celltype(**QUIET))
    connectors = {"all": sim.AllToAllConnector(), "p=0.5": sim.FixedProbabilityConnector(0.5, rng=rng),
                  "3 pre": sim.FixedNumberPreConnector(3, rng=rng)}
    projections = {}
    for label, connector in connectors.items():
        weight = RandomDistribution("uniform", (low, high), rng=rng)
        projections[label] = sim.Projection(src, pop, connector, sim.StaticSynapse(weight=weight, delay=1.0),
                                            receptor_type="excitatory", label=label)
    assert len(projections["all"]) == n_pre * n_post
    assert 0 < len(projections["p=0.5"]) < n_pre * n_post
    assert len(projections["3 pre"]) == 3 * n_post
    total = np.zeros(n_post)
    for prj in projections.values():
        w = prj.get("weight", format="array", gather=True)     # NaN where no connection
        present = ~np.isnan(w)
        assert np.all((w[present] >= low) & (w[present] <= high)), prj.label
        assert np.ptp(w[present]) > 0, "random weights differ"
        total += np.nansum(w, axis=0)
    name = "gsyn_exc" if cond else "isyn_exc"
    pop.record(name)
    sim.run(10.0)
    t, x, _ = signal(pop, name)
    k = int(round(6.0 / DT))
    assert x[k - 1].max() == 0.0
    np.testing.assert_allclose(x[k], total, rtol=1e-12, err_msg="sum of weights onto each target")


# --- current sources and spike sources ------------------------------------------------------


def lif_piecewise(t, params, times, amplitudes):
    """V(t) of a leaky neuron from v_rest under a current that steps to amplitudes[k] at times[k]."""
    tau, r, e_l = params["tau_m"], params["tau_m"] / params["cm"], params["v_rest"]
    v = np.full_like(t, e_l)
    previous = 0.0
    for t_k, a_k in zip(times, amplitudes):
        s = np.clip(t - t_k, 0.0, None)
        v += (a_k - previous) * r * -np.expm1(-s / tau)
        previous = a_k
    return v


@pytest.mark.parametrize("celltype", [GLIF_curr_exp, GLIF_cond_alpha], ids=["curr_exp", "cond_alpha"])
def test_step_current_source_against_the_closed_form(sim_, celltype):
    times, amplitudes = [10.0, 60.0, 110.0], [0.1, -0.05, 0.02]
    pop = sim.Population(1, celltype(**QUIET))
    sim.StepCurrentSource(times=times, amplitudes=amplitudes).inject_into(pop)
    pop.record("v")
    sim.run(150.0)
    t, v, _ = signal(pop, "v")
    assert np.ptp(v) > 10.0
    np.testing.assert_allclose(v[:, 0], lif_piecewise(t, QUIET, times, amplitudes), rtol=0,
                               atol=v_tolerance(celltype), err_msg="V under a step current")


def test_ac_source_amplitude_and_mean_of_the_response(sim_):
    amplitude, offset, frequency = 0.1, 0.05, 20.0        # nA, nA, Hz
    pop = sim.Population(1, GLIF_curr_exp(**QUIET))
    sim.ACSource(amplitude=amplitude, offset=offset, frequency=frequency, phase=0.0, start=0.0,
                 stop=1000.0).inject_into(pop)
    pop.record("v")
    sim.run(400.0)
    t, v, _ = signal(pop, "v")
    late = v[t >= 200.0, 0]                                # 10 tau_m: the transient is gone
    tau, r = QUIET["tau_m"], QUIET["tau_m"] / QUIET["cm"]
    omega = 2 * math.pi * frequency / 1000.0               # rad / ms
    expected_amplitude = amplitude * r / math.sqrt(1 + (omega * tau) ** 2)
    # the generator holds each value for one step: an O((omega dt)^2) = 1.6e-4 relative effect
    assert np.ptp(late) / 2 == pytest.approx(expected_amplitude, rel=2e-3)
    assert late.mean() == pytest.approx(QUIET["v_rest"] + offset * r, abs=0.01 * expected_amplitude)


def test_noisy_current_source_mean_and_variance_of_v(sim_):
    mean, stdev, n = 0.05, 0.2, 10
    pop = sim.Population(n, GLIF_cond_exp(**QUIET))
    sim.NoisyCurrentSource(mean=mean, stdev=stdev, dt=DT, start=0.0, stop=2000.0).inject_into(pop)
    pop.record("v")
    sim.run(1100.0)
    t, v, _ = signal(pop, "v")
    late = v[t >= 100.0]
    tau, r = QUIET["tau_m"], QUIET["tau_m"] / QUIET["cm"]
    # V samples form an AR(1) process: V_k+1 - V_inf = a (V_k - V_inf) + (1 - a) R xi_k, a = exp(-dt / tau)
    a = math.exp(-DT / tau)
    expected_std = stdev * r * math.sqrt((1 - a) / (1 + a))          # 0.80 mV
    # ~10 cells x 1000 ms / 20 ms independent samples: ~3 % error on the std, 0.05 mV on the mean
    assert late.std() == pytest.approx(expected_std, rel=0.15)
    assert late.mean() == pytest.approx(QUIET["v_rest"] + mean * r, abs=0.3)
    assert np.corrcoef(late[:, 0], late[:, 1])[0, 1] < 0.3, "each cell gets its own noise"


def test_spike_source_poisson_count_and_one_psc_per_spike(sim_):
    rate, duration, n, weight, tau = 100.0, 500.0, 10, 0.05, 2.0
    src = sim.Population(n, sim.SpikeSourcePoisson(rate=rate, start=0.0, duration=duration))
    pop = sim.Population(n, GLIF_curr_exp(**dict(QUIET, tau_syn_E=tau)))
    sim.Projection(src, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
    src.record("spikes")
    pop.record("isyn_exc")
    sim.run(duration + 20.0)
    counts = np.array([len(st) for st in spike_times(src)])
    expected = rate * duration / 1000.0 * n                          # 500 spikes
    assert abs(counts.sum() - expected) < 5 * math.sqrt(expected), counts.sum()
    _, x, _ = signal(pop, "isyn_exc")
    # an exponential PSC adds `weight` in the arrival step and only decays otherwise
    jumps = (x[1:] - x[:-1] * math.exp(-DT / tau)) / weight
    np.testing.assert_allclose(jumps, np.rint(jumps), atol=1e-9, err_msg="whole numbers of PSCs per step")
    np.testing.assert_array_equal(np.rint(jumps).sum(axis=0), counts, err_msg="one PSC per source spike")


# --- recording and files --------------------------------------------------------------------


@pytest.mark.parametrize("celltype", [GLIF_curr_alpha, GLIF_cond_alpha], ids=["curr_alpha", "cond_alpha"])
def test_record_everything_write_data_and_read_back(sim_, celltype, tmp_path):
    pop = sim.Population(3, celltype(i_offset=0.4))
    pop.record(celltype.recordable)
    sim.run(100.0)
    path = tmp_path / "glif.pkl"
    pop.write_data(PickleIO(str(path)))
    written = pop.get_data().segments[0]
    read = PickleIO(str(path)).read_block().segments[0]
    assert sum(len(st) for st in written.spiketrains) > 3, "non-trivial: the cells spike"
    for st_w, st_r in zip(written.spiketrains, read.spiketrains):
        np.testing.assert_array_equal(st_r.magnitude, st_w.magnitude)
    expected_units = {name: celltype.units[name] for name in celltype.recordable if name != "spikes"}
    assert {sig.name: str(sig.units.dimensionality) for sig in read.analogsignals} == expected_units
    for name in expected_units:
        w, r = written.filter(name=name)[0], read.filter(name=name)[0]
        np.testing.assert_array_equal(r.magnitude, w.magnitude, err_msg=name)
