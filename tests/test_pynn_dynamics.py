"""Dynamics of the GLIF types on pyNN.nest against closed forms: V, first spike, jumps, synaptic responses, connectors.

Every test calls ``sim.setup()`` afresh (the ``sim_`` fixture in conftest.py); units and tolerances
are described in pynn_support.py.
"""
import math

import numpy as np
import pytest

sim = pytest.importorskip("pyNN.nest")
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

from glif_pynn import parameters as table  # noqa: E402
from glif_pynn.nest import GLIF_cond_exp, GLIF_curr_exp  # noqa: E402
from pynn_support import DT, ALL_TYPES, TYPE_IDS, QUIET, v_tolerance, signal, spike_times  # noqa: E402


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
