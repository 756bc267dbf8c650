"""The numpy reference engine (glif_pynn.reference) against closed forms.

PyNN units throughout (mV, ms, nA, nF, uS). A recording sample k holds the state
after step k - 1, at time k dt (sample 0: the initial state). Every assert states
its tolerance; every trace is first checked to move (non-triviality guard).
"""
import math

import numpy as np
import pytest

from glif_pynn.reference.engine import Network
from glif_pynn.reference.neurons import coupling, coupling2, steps
from glif_pynn.reference.sources import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource

FLAVOURS = ("curr_exp", "curr_alpha", "cond_exp", "cond_alpha")
#: A plain leaky cell: no after-spike currents, no threshold jump, reset to v_rest.
LIF = dict(cm=0.25, tau_m=10.0, v_rest=-70.0, v_thresh=-55.0, delta_asc1=0.0, delta_asc2=0.0,
           delta_theta=0.0, f_v=0.0, delta_v=0.0)
NO_SPIKE = dict(LIF, v_thresh=500.0)


def one_cell(flavour, dt=0.1, record=("v",), **params):
    net = Network(dt, seed=1)
    cell = net.create(flavour, 1, **params)
    net.record(cell, list(record))
    return net, cell


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("dt", [0.1, 0.05, 0.01])
def test_subthreshold_v_under_constant_current_is_the_closed_form(flavour, dt):
    current, t_stop = 0.3, 30.0
    net, cell = one_cell(flavour, dt, i_offset=current, **NO_SPIKE)
    net.run(t_stop)
    data = net.get_recording(cell)
    t, v = data["times"], data["v"][:, 0]
    expected = LIF["v_rest"] + current * LIF["tau_m"] / LIF["cm"] * -np.expm1(-t / LIF["tau_m"])
    assert v[-1] - v[0] > 5.0, "non-trivial: V must rise by several mV"
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-9, err_msg=f"V(t) of {flavour} at dt={dt}")


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("dt", [0.1, 0.05, 0.02])
def test_first_spike_within_one_step_after_the_analytic_crossing(flavour, dt):
    current = 0.5
    net, cell = one_cell(flavour, dt, record=("spikes",), i_offset=current, **LIF)
    net.run(60.0)
    spike_times = net.get_recording(cell)["spikes"][1]
    rise = current * LIF["tau_m"] / LIF["cm"]
    crossing = -LIF["tau_m"] * math.log(1.0 - (LIF["v_thresh"] - LIF["v_rest"]) / rise)
    assert len(spike_times) >= 2 and crossing > 10 * dt, "non-trivial: repeated firing, late crossing"
    first = spike_times[0]
    assert crossing <= first < crossing + dt + 1e-12, \
        f"{flavour}, dt={dt}: first spike {first} ms not in [{crossing}, {crossing + dt}) (one step)"
    # with reset to v_rest and no adaptation, every interval is the same whole number of steps
    np.testing.assert_allclose(np.diff(spike_times), first, atol=1e-9, err_msg="regular firing")


def _states(net, cell):
    return net.get_recording(cell)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_each_state_jumps_at_a_spike_exactly_as_the_reset_rule_says(flavour):
    dt, current = 0.1, 0.6
    p = dict(LIF, k_asc1=0.05, k_asc2=0.3, f_asc1=0.7, f_asc2=0.4, delta_asc1=-0.03, delta_asc2=0.02,
             f_v=0.3, delta_v=4.0, b_theta=0.1, delta_theta=2.5, i_offset=current)
    net, cell = one_cell(flavour, dt, record=("v", "theta", "i_asc1", "i_asc2", "spikes"), **p)
    init = dict(i_asc1=0.05, i_asc2=-0.02, theta=1.0)
    net.initialize(cell, **init)
    net.run(40.0)
    data = _states(net, cell)
    spike_t = data["spikes"][1]
    assert len(spike_t) >= 2, "non-trivial: the cell must fire"
    k = int(round(spike_t[0] / dt))           # sample k: state after the spike step, reset applied
    t_pre = data["times"][k]                  # all states propagated to t_pre, then reset
    i1 = init["i_asc1"] * math.exp(-p["k_asc1"] * t_pre)
    i2 = init["i_asc2"] * math.exp(-p["k_asc2"] * t_pre)
    theta = init["theta"] * math.exp(-p["b_theta"] * t_pre)
    # V just before the reset, one exact step from sample k - 1 (constant drive plus two decaying currents)
    t_prev, v_prev, a = data["times"][k - 1], data["v"][k - 1, 0], 1.0 / p["tau_m"]
    v_pre = p["v_rest"] + math.exp(-a * dt) * (v_prev - p["v_rest"]) \
        + current * p["tau_m"] / p["cm"] * -math.expm1(-a * dt)
    for i0, rate in ((init["i_asc1"], p["k_asc1"]), (init["i_asc2"], p["k_asc2"])):
        start = i0 * math.exp(-rate * t_prev)
        v_pre += start * (math.exp(-rate * dt) - math.exp(-a * dt)) / ((a - rate) * p["cm"])
    assert v_pre > p["v_thresh"] + theta, "the closed form must cross the threshold in that step"
    expected = {"i_asc1": p["f_asc1"] * i1 + p["delta_asc1"], "i_asc2": p["f_asc2"] * i2 + p["delta_asc2"],
                "theta": theta + p["delta_theta"],
                "v": p["v_rest"] + p["f_v"] * (v_pre - p["v_rest"]) - p["delta_v"]}
    for name, value in expected.items():
        got = data[name][k, 0]
        assert abs(got - data[name][k - 1, 0]) > 1e-3, f"non-trivial: {name} must jump"
        np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-12, err_msg=f"{flavour}: {name} after reset")


@pytest.mark.parametrize("flavour", ["curr_exp", "cond_alpha"])
def test_theta_and_after_spike_currents_decay_at_their_rates(flavour):
    p = dict(NO_SPIKE, k_asc1=0.02, k_asc2=0.5, b_theta=0.07)
    net, cell = one_cell(flavour, 0.1, record=("theta", "i_asc1", "i_asc2"), **p)
    init = dict(i_asc1=0.2, i_asc2=-0.1, theta=3.0)
    net.initialize(cell, **init)
    net.run(20.0)
    data = _states(net, cell)
    t = data["times"]
    for name, rate in (("i_asc1", p["k_asc1"]), ("i_asc2", p["k_asc2"]), ("theta", p["b_theta"])):
        trace = data[name][:, 0]
        assert abs(trace[-1]) < 0.7 * abs(trace[0]), f"non-trivial: {name} must decay"
        np.testing.assert_allclose(trace, init[name] * np.exp(-rate * t), rtol=1e-12, atol=0,
                                   err_msg=f"{name} decays at its rate")


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("dt, tau_refrac, held", [(0.1, 2.0, 20), (0.01, 3.75, 375), (0.1, 0.35, 4),
                                                  (0.1, 0.0, 0)])
def test_refractory_period_holds_v_for_whole_steps(flavour, dt, tau_refrac, held):
    assert steps(tau_refrac, dt) == held
    p = dict(LIF, tau_refrac=tau_refrac, i_offset=2.0, b_theta=0.2, delta_theta=1.0, f_v=0.0, delta_v=5.0)
    net, cell = one_cell(flavour, dt, record=("v", "theta", "spikes"), **p)
    net.run(15.0)
    data = _states(net, cell)
    v, theta, spikes = data["v"][:, 0], data["theta"][:, 0], data["spikes"][1]
    assert len(spikes) >= 2, "non-trivial: repeated firing"
    k = int(round(spikes[0] / dt))
    v_reset = p["v_rest"] - p["delta_v"]
    assert v[k] == v_reset, "V is reset in the spike step"
    np.testing.assert_array_equal(v[k:k + held + 1], v_reset, err_msg=f"V held for {held} steps (exactly)")
    assert v[k + held + 1] != v_reset, f"V integrates again after {held} steps"
    assert np.all(np.diff(theta[k:k + held + 1]) < 0), "theta keeps decaying while V is held"
    isi_steps = np.round(np.diff(spikes) / dt)
    assert isi_steps.min() >= held + 1, "no spike during the refractory period"


@pytest.mark.parametrize("flavour, syn", [("curr_exp", "isyn"), ("curr_alpha", "isyn"), ("cond_exp", "gsyn"),
                                          ("cond_alpha", "gsyn")])
@pytest.mark.parametrize("dt", [0.1, 0.05])
def test_psc_peak_equals_the_weight_at_the_expected_time(flavour, syn, dt):
    w_exc, w_inh, delay, t_spike, tau = 0.3, 0.2, 1.5, 2.0, 2.0
    net = Network(dt)
    cell = net.create(flavour, 1, tau_syn_E=tau, tau_syn_I=tau, **NO_SPIKE)
    src = net.create_spike_source_array([[t_spike]])
    net.connect(src, cell, 0, 0, w_exc, delay, receptor="excitatory")
    net.connect(src, cell, 0, 0, w_inh, delay, receptor="inhibitory")
    net.record(cell, [f"{syn}_exc", f"{syn}_inh"])
    net.run(20.0)
    data = net.get_recording(cell)
    arrival = t_spike + delay
    t = data["times"]
    for channel, w in (("exc", w_exc), ("inh", w_inh)):
        trace = data[f"{syn}_{channel}"][:, 0]
        if syn == "isyn" and channel == "inh":
            assert trace.min() < 0, "isyn_inh is recorded negative, as in PyNN"
            trace = -trace
        k = int(np.argmax(trace))
        assert trace.max() > 0 and np.all(trace[t < arrival - 1e-9] == 0), "non-trivial, and nothing early"
        if flavour.endswith("exp"):
            expected = np.where(t >= arrival - 1e-9, w * np.exp(-(t - arrival) / tau), 0.0)
            peak_time = arrival
        else:
            s = np.maximum(t - arrival, 0.0)
            expected = w * s / tau * np.exp(1.0 - s / tau)
            peak_time = arrival + tau
        np.testing.assert_allclose(trace, expected, rtol=1e-12, atol=1e-15, err_msg=f"{channel} PSC shape")
        np.testing.assert_allclose(trace[k], w, rtol=1e-12, err_msg=f"{channel} peak equals the weight")
        assert abs(t[k] - peak_time) < 1e-9, f"{channel} peak at {t[k]}, expected {peak_time}"


def test_degenerate_tau_syn_equal_to_tau_m_is_exact():
    """V - v_rest = w t exp(-t / tau) / C (exp) and w e t^2 exp(-t / tau) / (2 tau C) (alpha)."""
    tau, w, arrival = 10.0, 0.5, 2.0
    for flavour in ("curr_exp", "curr_alpha"):
        net = Network(0.1)
        cell = net.create(flavour, 1, tau_syn_E=tau, **dict(NO_SPIKE, tau_m=tau))
        src = net.create_spike_source_array([[1.0]])
        net.connect(src, cell, 0, 0, w, 1.0)
        net.record(cell, ["v"])
        net.run(60.0)
        data = net.get_recording(cell)
        s = np.maximum(data["times"] - arrival, 0.0)
        if flavour == "curr_exp":
            expected = w * s * np.exp(-s / tau) / LIF["cm"]
        else:
            expected = w * math.e / tau * s ** 2 / 2 * np.exp(-s / tau) / LIF["cm"]
        rise = data["v"][:, 0] - LIF["v_rest"]
        assert rise.max() > 1.0, "non-trivial PSP"
        np.testing.assert_allclose(rise, expected, rtol=1e-12, atol=1e-13, err_msg=f"{flavour}, tau_syn = tau_m")


@pytest.mark.parametrize("flavour", ["curr_exp", "curr_alpha"])
def test_degenerate_k_asc_equal_to_one_over_tau_m_is_exact(flavour):
    tau, i0 = 8.0, 0.05
    net, cell = one_cell(flavour, 0.1, k_asc1=1.0 / tau, **dict(NO_SPIKE, tau_m=tau))
    net.initialize(cell, i_asc1=i0)
    net.run(50.0)
    data = net.get_recording(cell)
    t = data["times"]
    rise = data["v"][:, 0] - LIF["v_rest"]
    assert rise.max() > 0.5, "non-trivial"
    np.testing.assert_allclose(rise, i0 * t * np.exp(-t / tau) / LIF["cm"], rtol=1e-12, atol=1e-13,
                               err_msg="k_asc1 = 1 / tau_m")


def test_coupling_functions_against_high_precision_closed_forms():
    """coupling and coupling2 (the NESTML internals' forms) near and far from a == b, and on both
    sides of coupling2's switch from series to closed form at |x| = 0.1."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    a, h = 0.1, 0.1
    offsets = [0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 0.1 - 1e-12, 0.1 + 1e-12, 0.5, 3.0, -0.05, -0.1 - 1e-12, -2.0,
               500.0, 1000.0]     # 1000: beyond expm1's overflow (tau_syn < dt / 700), NaN in the NESTML form
    for x in offsets:
        b = a + x / h
        A, B, H = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(h)
        one = mpmath.quad(lambda s: mpmath.exp(-A * (H - s)) * mpmath.exp(-B * s), [0, H])
        two = mpmath.quad(lambda s: mpmath.exp(-A * (H - s)) * s * mpmath.exp(-B * s), [0, H])
        np.testing.assert_allclose(coupling(a, b, h), float(one), rtol=1e-14, err_msg=f"coupling, x = {x}")
        np.testing.assert_allclose(coupling2(a, b, h), float(two), rtol=1e-13, err_msg=f"coupling2, x = {x}")


@pytest.mark.parametrize("flavour, channel, target", [("cond_exp", "gsyn_exc", "e_rev_E"),
                                                      ("cond_alpha", "gsyn_inh", "e_rev_I")])
def test_v_tends_to_the_reversal_potential_under_a_strong_conductance(flavour, channel, target):
    p = dict(NO_SPIKE, tau_syn_E=1e4, tau_syn_I=1e4, e_rev_E=0.0, e_rev_I=-85.0)
    net, cell = one_cell(flavour, 0.1, record=("v", channel), **p)
    net.initialize(cell, **{channel: 2.0})       # 2 uS against g_L = 0.025 uS
    net.run(5.0)
    data = net.get_recording(cell)
    g, v = data[channel][-1, 0], data["v"][-1, 0]
    g_l = p["cm"] / p["tau_m"]
    v_inf = (g_l * p["v_rest"] + g * p[target]) / (g_l + g)
    # g changes slowly (tau_syn = 1e4 ms), so V lags V_inf by tau_eff dV_inf/dt (first order; the
    # next order is ~1e-10 mV). initialize sets g alone: g' = -g / tau for exp, and for alpha, from
    # g'(0) = 0, g(t) = g0 (1 + t / tau) exp(-t / tau), so g' = -g0 (t / tau^2) exp(-t / tau)
    t, tau = data["times"][-1], 1e4
    dg_dt = -g / tau if flavour == "cond_exp" else -2.0 * t / tau ** 2 * np.exp(-t / tau)
    lag = p["cm"] / (g_l + g) * g_l * (p[target] - p["v_rest"]) / (g_l + g) ** 2 * -dg_dt
    assert abs(v - p["v_rest"]) > 10.0, "non-trivial: V must move"
    assert abs(v - (v_inf + lag)) < 1e-8, f"V = {v} mV, quasi-steady state {v_inf + lag} mV"
    assert abs(v - p[target]) < 1.0, "close to the reversal potential"


@pytest.mark.parametrize("flavour", ["cond_exp", "cond_alpha"])
@pytest.mark.parametrize("dt", [0.1, 0.5])
def test_conductance_integrator_error_per_step_below_1e_8_mv(flavour, dt):
    """One step of 30 cells from random states against scipy's DOP853 at tolerance 1e-13: within the
    1e-8 mV per step that glif_pynn.reference.quadrature's panel rule is designed for."""
    integrate = pytest.importorskip("scipy.integrate")
    rng = np.random.default_rng(7)
    n = 30
    p = dict(NO_SPIKE, tau_syn_E=rng.uniform(0.3, 5.0, n), tau_syn_I=rng.uniform(0.3, 8.0, n),
             k_asc1=0.05, k_asc2=0.8, i_offset=rng.uniform(-0.2, 0.5, n), e_rev_E=0.0, e_rev_I=-85.0)
    net = Network(dt)
    cells = net.create(flavour, n, **p)
    state = dict(v=rng.uniform(-80, -40, n), gsyn_exc=rng.uniform(0, 0.5, n) * rng.random(n) ** 2,
                 gsyn_inh=rng.uniform(0, 1.0, n) * rng.random(n) ** 2, i_asc1=rng.uniform(-0.2, 0.2, n),
                 i_asc2=rng.uniform(-0.2, 0.2, n))
    state["gsyn_exc"][:3] = [1.0, 3.0, 8.0]     # stiff cases: several panels
    if flavour == "cond_alpha":
        state.update(d_exc=rng.uniform(0, 0.3, n), d_inh=rng.uniform(0, 0.3, n))
    net.initialize(cells, **state)
    net.run_steps(1)
    got = cells.group.state["v"]
    g_l = p["cm"] / p["tau_m"]
    for i in range(n):
        def rhs(_, y):
            v, ge, gi, de, di, a1, a2 = y
            te, ti = p["tau_syn_E"][i], p["tau_syn_I"][i]
            dv = (p["i_offset"][i] + a1 + a2 - g_l * (v - p["v_rest"]) + ge * (p["e_rev_E"] - v)
                  + gi * (p["e_rev_I"] - v)) / p["cm"]
            if flavour == "cond_alpha":   # g = (g0 + t d0) exp(-t / tau): g' = d - g / tau, d' = -d / tau
                return [dv, de - ge / te, di - gi / ti, -de / te, -di / ti, -p["k_asc1"] * a1, -p["k_asc2"] * a2]
            return [dv, -ge / te, -gi / ti, 0.0, 0.0, -p["k_asc1"] * a1, -p["k_asc2"] * a2]
        y0 = [state["v"][i], state["gsyn_exc"][i], state["gsyn_inh"][i], state.get("d_exc", np.zeros(n))[i],
              state.get("d_inh", np.zeros(n))[i], state["i_asc1"][i], state["i_asc2"][i]]
        fine = integrate.solve_ivp(rhs, (0, dt), y0, method="DOP853", rtol=1e-13, atol=1e-13).y[0, -1]
        assert abs(fine - y0[0]) > 1e-3, "non-trivial: V moves in the step"
        assert abs(got[i] - fine) < 1e-8, f"cell {i}: error {got[i] - fine:.3g} mV in one step"


def test_spike_arrives_after_the_delay_and_neuron_spikes_are_relayed():
    dt = 0.1
    net = Network(dt)
    driver = net.create("curr_exp", 1, i_offset=1.0, **LIF)
    target = net.create("curr_exp", 1, **NO_SPIKE)
    src = net.create_spike_source_array([[3.0]])
    net.connect(src, target, 0, 0, 0.2, 0.7)
    net.connect(driver, target, 0, 0, -0.1, 2.3)
    net.record(driver, ["spikes"])
    net.record(target, ["isyn_exc", "isyn_inh"])
    net.run(12.0)
    fired = net.get_recording(driver)["spikes"][1]
    data = net.get_recording(target)
    t = data["times"]
    first_exc = t[np.argmax(data["isyn_exc"][:, 0] > 0)]
    first_inh = t[np.argmax(data["isyn_inh"][:, 0] < 0)]       # recorded negative, as in PyNN
    assert len(fired) >= 1, "non-trivial: the driver fires"
    assert abs(first_exc - 3.7) < 1e-9, f"source spike at 3.0 + delay 0.7 arrives at {first_exc}"
    assert abs(first_inh - (fired[0] + 2.3)) < 1e-9, f"neuron spike at {fired[0]} + 2.3 arrives at {first_inh}"


def test_current_sources_act_from_their_start_step():
    dt = 0.1
    net = Network(dt, seed=3)
    cells = net.create("curr_exp", 4, **NO_SPIKE)
    net.inject(DCSource(0.2, start=1.0, stop=2.0), cells, [0])
    net.inject(StepCurrentSource([0.5, 1.5], [0.1, 0.0]), cells, [1])
    net.inject(ACSource(amplitude=0.1, offset=0.05, frequency=100.0, phase=30.0, start=1.0), cells, [2])
    net.inject(NoisyCurrentSource(mean=0.1, stdev=0.05, dt=0.5, start=1.0, stop=3.0), cells, [3])
    net.record(cells, ["v"])
    net.run(4.0)
    v = net.get_recording(cells)["v"]
    a = math.exp(-dt / LIF["tau_m"])
    used = (v[1:] - LIF["v_rest"] - a * (v[:-1] - LIF["v_rest"])) / (LIF["tau_m"] / LIF["cm"] * (1 - a))
    n = np.arange(len(used))
    np.testing.assert_allclose(used[:, 0], np.where((n >= 10) & (n < 20), 0.2, 0), atol=1e-9, err_msg="DC")
    np.testing.assert_allclose(used[:, 1], np.where((n >= 5) & (n < 15), 0.1, 0), atol=1e-9, err_msg="step")
    # PyNN's phase is the phase at start (1.0 ms): 30 degrees there, whatever the start
    ac = np.where(n >= 10, 0.05 + 0.1 * np.sin(2 * np.pi * 0.1 * (n * dt - 1.0) + np.pi / 6), 0)
    np.testing.assert_allclose(used[:, 2], ac, atol=1e-9, err_msg="AC: value at t = n dt used in step n")
    noise = used[:, 3]
    assert np.all(np.abs(noise[:10]) < 1e-9) and np.all(np.abs(noise[30:]) < 1e-9), "noise only in [1, 3)"
    blocks = noise[10:30].reshape(4, 5)
    np.testing.assert_allclose(blocks, blocks[:, :1] * np.ones(5), atol=1e-9, err_msg="held for dt = 0.5 ms")
    assert len(np.unique(np.round(blocks[:, 0], 9))) == 4, "a new value every 0.5 ms"


def test_noise_source_statistics_and_independence():
    net = Network(0.1, seed=11)
    cells = net.create("curr_exp", 2000, **NO_SPIKE)
    net.inject(NoisyCurrentSource(mean=0.3, stdev=0.2), cells)
    net.run_steps(1)
    values = net.i_stim.copy()
    assert abs(values.mean() - 0.3) < 5 * 0.2 / math.sqrt(2000), "mean within 5 standard errors"
    assert abs(values.std() - 0.2) < 0.02, "stdev within 10 %"


def test_poisson_sources_rate_and_seeding():
    def run(seed):
        net = Network(0.1, seed=seed)
        src = net.create_poisson_source(200, rate=np.r_[np.full(100, 20.0), np.full(100, 5.0)],
                                        start=100.0, duration=400.0)
        net.record(src, ["spikes"])
        net.run(600.0)
        return net.get_recording(src)["spikes"]
    ids, times = run(5)
    assert times.min() > 100.0 and times.max() <= 500.0 + 1e-9, "spikes only in (start, start + duration]"
    counts = np.bincount(ids, minlength=200)
    for rows, rate in ((slice(0, 100), 20.0), (slice(100, 200), 5.0)):
        expected = rate * 0.4 * 100
        assert abs(counts[rows].sum() - expected) < 5 * math.sqrt(expected), f"{rate} Hz within 5 sigma"
    again = run(5)
    np.testing.assert_array_equal(again[1], times, err_msg="same seed, same spikes")
    assert not np.array_equal(run(6)[1], times), "another seed, other spikes"


def test_invalid_input_is_rejected():
    net = Network(0.1)
    with pytest.raises(ValueError, match="tau_m"):
        net.create("curr_exp", 2, tau_m=-1.0)
    with pytest.raises(ValueError, match="flavour"):
        net.create("curr_gauss", 2)
    with pytest.raises(KeyError):
        net.create("curr_exp", 2, e_rev_E=0.0)       # a conductance parameter
    cells = net.create("curr_exp", 2)
    src = net.create_spike_source_array([[1.0]])
    with pytest.raises(ValueError, match="delay"):
        net.connect(src, cells, 0, 0, 0.1, 0.04)
    with pytest.raises(ValueError, match="excitatory"):
        net.connect(src, cells, 0, 0, -0.1, 1.0, receptor="excitatory")
    with pytest.raises(ValueError, match="gsyn_exc"):
        net.record(cells, ["gsyn_exc"])
    with pytest.raises(ValueError, match="> 0"):
        net.create_spike_source_array([[0.0]])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_heterogeneous_group_equals_cells_run_one_by_one(flavour):
    """Per-neuron parameter arrays, shared input: each cell's trace is the one it has alone (bitwise)."""
    rng = np.random.default_rng(5)
    n = 4
    params = dict(tau_m=rng.uniform(5, 20, n), cm=rng.uniform(0.1, 0.3, n), tau_refrac=[0.0, 1.0, 2.5, 0.3],
                  tau_syn_E=rng.uniform(1, 5, n), k_asc2=rng.uniform(0.05, 0.5, n), i_offset=rng.uniform(0.3, 1, n),
                  delta_theta=rng.uniform(0, 2, n))
    w = 0.3 if flavour.startswith("curr") else 0.01
    spikes = [np.arange(1.0, 100.0, 3.7).round(1)]

    def simulate(cell_params, size):
        net = Network(0.1)
        cells = net.create(flavour, size, **cell_params)
        src = net.create_spike_source_array(spikes)
        net.connect(src, cells, 0, np.arange(size), w, 1.5)
        net.inject(StepCurrentSource([20.0, 60.0], [0.2, -0.1]), cells)
        net.record(cells, ["v", "spikes"])
        net.run(100.0)
        return net.get_recording(cells)

    together = simulate(params, n)
    assert len(together["spikes"][0]) > 10, "non-trivial: the cells fire"
    # current flavours: bitwise; conductance flavours: the quadrature's panel count is chosen per
    # group and its node sum is a BLAS dot product, so allow rounding differences
    tol = 0.0 if flavour.startswith("curr") else 1e-11
    for i in range(n):
        alone = simulate({k: np.asarray(v)[i] for k, v in params.items()}, 1)
        np.testing.assert_allclose(together["v"][:, i], alone["v"][:, 0], rtol=0, atol=tol, err_msg=f"cell {i}: V")
        np.testing.assert_array_equal(together["spikes"][1][together["spikes"][0] == i], alone["spikes"][1],
                                      err_msg=f"cell {i}: spikes")


def test_reset_reproduces_the_first_run():
    net = Network(0.1)
    cells = net.create("cond_alpha", 3, i_offset=[0.2, 0.3, 0.4], tau_refrac=2.0)
    src = net.create_spike_source_array([[5.0, 15.0, 40.0]])
    net.connect(src, cells, 0, [0, 1, 2], 0.01, 1.0)
    net.inject(DCSource(0.1, start=10.0, stop=30.0), cells)
    net.record(cells, ["v", "gsyn_exc"])
    net.run(60.0)
    first = net.get_recording(cells)
    net.reset()
    assert net.t == 0.0
    net.record(cells, ["v", "gsyn_exc"])       # a new recording from t = 0
    net.run(60.0)
    second = net.get_recording(cells)
    assert np.ptp(first["v"]) > 1.0, "non-trivial"
    for name in ("v", "gsyn_exc"):
        np.testing.assert_array_equal(second[name], first[name], err_msg=f"{name} after reset")


# -- the PyNN backend (import glif_pynn.reference as sim) -----------------------------------------
def test_pynn_backend_runs_resets_and_reports_what_it_does_not_support():
    import glif_pynn.reference as sim
    sim.setup(timestep=0.1, rng_seed=4)
    cells = sim.Population(3, sim.GLIF_curr_alpha(i_offset=[0.2, 0.3, 0.4], tau_refrac=2.0), label="cells")
    noise = sim.Population(20, sim.SpikeSourcePoisson(rate=40.0))
    sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.5), sim.StaticSynapse(weight=0.05, delay=1.0),
                   receptor_type="excitatory")
    step = sim.DCSource(amplitude=0.1, start=10.0, stop=30.0)
    step.inject_into(cells)
    cells.record(["v", "spikes"])
    sim.run(50.0)
    first = cells.get_data().segments[0]
    assert sim.get_current_time() == 50.0 and sim.num_processes() == 1
    v = first.filter(name="v")[0]
    assert v.shape == (501, 3) and str(v.units.dimensionality) == "mV", "samples at 0 .. 50 ms, in mV"
    assert sum(len(st) for st in first.spiketrains) > 0, "non-trivial: the cells fire"
    np.testing.assert_allclose(cells.get("i_offset"), [0.2, 0.3, 0.4], err_msg="get")
    cells[1:].set(i_offset=0.6)
    np.testing.assert_allclose(cells.get("i_offset"), [0.2, 0.6, 0.6], err_msg="set through a view")
    step.amplitude = 0.3
    sim.reset()
    sim.run(50.0)
    block = cells.get_data()
    assert len(block.segments) == 2 and block.segments[1].filter(name="v")[0].shape == (501, 3), "a new segment"
    np.testing.assert_allclose(block.segments[1].filter(name="v")[0].magnitude[0], -78.85,
                               err_msg="V back at its initial value (the default v_rest)")
    for name in ("IF_curr_exp", "TsodyksMarkramSynapse"):
        with pytest.raises(NotImplementedError, match=name):
            getattr(sim, name)
    with pytest.raises(NotImplementedError, match="Projection.set"):
        sim.Projection(noise, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0)).set(weight=0.1)
    both = sim.Projection(noise[:5] + cells, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    assert len(both) == 8 * 3, "a Projection from an Assembly"
    sim.end()
