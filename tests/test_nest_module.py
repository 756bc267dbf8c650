"""The NESTML GLIF models in NEST (raw PyNEST), each against a closed form.

NEST units throughout (mV, ms, pA, pF, nS). A multimeter with interval h records,
at time k h, the state after step k; V_m starts at E_L.
"""
import math

import numpy as np
import pytest

nest = pytest.importorskip("nest")
import glif_pynn.nest as glif_nest  # noqa: E402

CURRENT_MODELS = ("glif_psc_exp_neuron", "glif_psc_alpha_neuron")
COND_MODELS = ("glif_cond_exp_neuron", "glif_cond_alpha_neuron")
ALL_MODELS = CURRENT_MODELS + COND_MODELS
#: A plain leaky neuron: no after-spike currents, no threshold jump, reset to E_L.
BASE = dict(C_m=250.0, g_L=25.0, E_L=-70.0, V_th=-55.0, asc_amp1=0.0, asc_amp2=0.0, th_spike_add=0.0,
            voltage_reset_fraction=0.0, voltage_reset_add=0.0)


def fresh_kernel(resolution=0.1):
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = resolution
    glif_nest.install()


def simulate(model, params, t_stop, record=("V_m",), resolution=0.1, inputs=()):
    """Run one neuron; return (recorded events dict, spike times)."""
    fresh_kernel(resolution)
    neuron = nest.Create(model, params=dict({"V_m": params["E_L"]}, **params))
    meter = nest.Create("multimeter", params={"interval": resolution, "record_from": list(record)})
    spikes = nest.Create("spike_recorder")
    nest.Connect(meter, neuron)
    nest.Connect(neuron, spikes)
    for source, syn_spec in inputs:
        nest.Connect(nest.Create(*source), neuron, syn_spec=syn_spec)
    nest.Simulate(t_stop)
    return meter.events, spikes.events["times"]


def lif_v(t, p, i_e):
    """V(t) of V' = (I_e - g (V - E_L)) / C from V(0) = E_L."""
    tau = p["C_m"] / p["g_L"]
    return p["E_L"] + i_e / p["g_L"] * -np.expm1(-t / tau)


@pytest.mark.parametrize("model", ALL_MODELS)
@pytest.mark.parametrize("resolution", [0.1, 0.01])
def test_subthreshold_v_under_constant_current(model, resolution):
    i_e = 300.0   # pA; the steady state E_L + I/g = -58 mV is below V_th = -55 mV
    params = dict(BASE, I_e=i_e)
    ev, spikes = simulate(model, params, 50.0, resolution=resolution)
    expected = lif_v(ev["times"], params, i_e)
    assert len(spikes) == 0
    assert ev["V_m"][-1] - params["E_L"] > 11.0, "non-trivial: V must rise by most of I/g = 12 mV"
    # current flavours: exact propagators, so rounding only; conductance flavours: GSL RKF45 at 1e-6
    tol = 1e-9 if model in CURRENT_MODELS else 1e-5
    np.testing.assert_allclose(ev["V_m"], expected, rtol=0, atol=tol, err_msg=f"{model} V(t) vs closed form")


@pytest.mark.parametrize("model", CURRENT_MODELS)
def test_subthreshold_v_with_after_spike_currents(model):
    """V under two decaying after-spike currents: the coupling terms of the propagator."""
    p = dict(BASE, asc_decay1=0.05, asc_decay2=0.5, I_asc1=100.0, I_asc2=-40.0)
    ev, _ = simulate(model, p, 100.0)
    t = ev["times"]
    a = p["g_L"] / p["C_m"]
    expected = p["E_L"] + sum(i0 / p["C_m"] * (np.exp(-k * t) - np.exp(-a * t)) / (a - k)
                              for i0, k in ((100.0, 0.05), (-40.0, 0.5)))
    assert np.ptp(ev["V_m"]) > 1.0
    np.testing.assert_allclose(ev["V_m"], expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("model", CURRENT_MODELS)
@pytest.mark.parametrize("k_factor", [1.0, 1.0 + 1e-9])
def test_degenerate_rate_equal_to_membrane_rate(model, k_factor):
    """asc_decay == g_L / C_m: V(t) = E_L + I0 t exp(-a t) / C (and its neighbour) stays exact."""
    p = dict(BASE, I_asc1=100.0)
    a = p["g_L"] / p["C_m"]
    p["asc_decay1"] = a * k_factor
    ev, _ = simulate(model, p, 100.0)
    t = ev["times"]
    expected = p["E_L"] + 100.0 * t * np.exp(-a * t) / p["C_m"]
    assert np.all(np.isfinite(ev["V_m"]))
    # the neighbour differs from the degenerate closed form by O(1e-9) relative
    np.testing.assert_allclose(ev["V_m"] - p["E_L"], expected - p["E_L"], rtol=1e-8, atol=0)


@pytest.mark.parametrize("model", ALL_MODELS)
@pytest.mark.parametrize("resolution", [0.1, 0.01])
def test_first_spike_time_under_constant_current(model, resolution):
    i_e = 500.0
    params = dict(BASE, I_e=i_e)
    _, spikes = simulate(model, params, 100.0, resolution=resolution)
    tau = params["C_m"] / params["g_L"]
    t_cross = -tau * math.log(1 - (params["V_th"] - params["E_L"]) * params["g_L"] / i_e)
    assert len(spikes) > 1
    # the crossing happens inside the step that ends at the spike time
    assert spikes[0] - resolution - 1e-12 < t_cross <= spikes[0] + 1e-12, (spikes[0], t_cross)


@pytest.mark.parametrize("model", ALL_MODELS)
def test_rheobase(model):
    rheobase = BASE["g_L"] * (BASE["V_th"] - BASE["E_L"])
    _, below = simulate(model, dict(BASE, I_e=rheobase * 0.999), 1000.0)
    _, above = simulate(model, dict(BASE, I_e=rheobase * 1.001), 1000.0)
    assert len(below) == 0, "0.1 % below rheobase G (V_th - E_L) must never fire"
    assert len(above) > 0, "0.1 % above rheobase must fire"


def one_step_propagation(p, prev, h, i_total):
    """The exact one-step propagation of (V, theta, I_asc1, I_asc2) from `prev`, closed form."""
    a = p["g_L"] / p["C_m"]
    v = p["E_L"] + (prev["V_m"] - p["E_L"]) * math.exp(-a * h) + i_total / p["g_L"] * -math.expm1(-a * h)
    for j in (1, 2):
        k = p[f"asc_decay{j}"]
        v += prev[f"I_asc{j}"] / p["C_m"] * (math.exp(-k * h) - math.exp(-a * h)) / (a - k)
    return {"V_m": v, "theta_s": prev["theta_s"] * math.exp(-p["th_spike_decay"] * h),
            "I_asc1": prev["I_asc1"] * math.exp(-p["asc_decay1"] * h),
            "I_asc2": prev["I_asc2"] * math.exp(-p["asc_decay2"] * h)}


@pytest.mark.parametrize("model", CURRENT_MODELS)
def test_jump_of_every_state_at_a_spike(model):
    p = dict(BASE, I_e=600.0, asc_decay1=0.003, asc_decay2=0.2, asc_r1=0.8, asc_r2=0.5, asc_amp1=-10.0,
             asc_amp2=-150.0, voltage_reset_fraction=0.3, voltage_reset_add=5.0, th_spike_decay=0.05,
             th_spike_add=2.0)
    record = ("V_m", "theta_s", "I_asc1", "I_asc2")
    ev, spikes = simulate(model, p, 200.0, record=record)
    assert len(spikes) >= 3
    h = 0.1
    for t_spike in spikes[1:3]:   # the second and third spike, with non-zero states before them
        k = int(round(t_spike / h)) - 1           # index of the record at t_spike
        prev = {name: ev[name][k - 1] for name in record}
        assert abs(prev["I_asc1"]) > 0 and prev["theta_s"] > 0
        pre = one_step_propagation(p, prev, h, p["I_e"])
        assert pre["V_m"] > p["V_th"] + pre["theta_s"], "the propagated V must cross threshold"
        expected = {"V_m": p["E_L"] + p["voltage_reset_fraction"] * (pre["V_m"] - p["E_L"]) + p["voltage_reset_add"],
                    "theta_s": pre["theta_s"] + p["th_spike_add"],
                    "I_asc1": p["asc_r1"] * pre["I_asc1"] + p["asc_amp1"],
                    "I_asc2": p["asc_r2"] * pre["I_asc2"] + p["asc_amp2"]}
        for name in record:
            assert ev[name][k] == pytest.approx(expected[name], abs=1e-9), f"{name} after the spike at {t_spike}"


@pytest.mark.parametrize("model", ALL_MODELS)
def test_theta_and_after_spike_currents_decay_at_their_rates(model):
    p = dict(BASE, asc_decay1=0.02, asc_decay2=0.3, th_spike_decay=0.07, theta_s=4.0, I_asc1=-50.0, I_asc2=20.0,
             V_th=1000.0)
    ev, _ = simulate(model, p, 30.0, record=("theta_s", "I_asc1", "I_asc2"))
    t = ev["times"]
    for name, x0, rate in (("theta_s", 4.0, 0.07), ("I_asc1", -50.0, 0.02), ("I_asc2", 20.0, 0.3)):
        np.testing.assert_allclose(ev[name], x0 * np.exp(-rate * t), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("model", ALL_MODELS)
@pytest.mark.parametrize("resolution, t_ref, n_steps", [(0.1, 2.0, 20), (0.01, 3.75, 375)])
def test_refractory_period_holds_v_for_exactly_n_steps(model, resolution, t_ref, n_steps):
    p = dict(BASE, I_e=1000.0, t_ref=t_ref, voltage_reset_add=-2.0)
    ev, spikes = simulate(model, p, 30.0, resolution=resolution)
    assert len(spikes) >= 2
    k = int(round(spikes[0] / resolution)) - 1
    v = ev["V_m"]
    reset = p["E_L"] + p["voltage_reset_add"]
    assert v[k] == reset
    held = v[k + 1:k + 1 + n_steps]
    assert np.all(held == reset), f"V must be held for {n_steps} steps"
    assert v[k + 1 + n_steps] > reset, "and integrate again in the next step"


def psc_input(weight, t_spike=10.0):
    return (("spike_generator", 1, {"spike_times": [t_spike]}), {"weight": weight, "delay": 1.0})


@pytest.mark.parametrize("weight, state", [(35.0, "I_syn_exc"), (-35.0, "I_syn_inh")])
def test_exp_psc_shape_and_peak(weight, state):
    p = dict(BASE, tau_syn_exc=3.0, tau_syn_inh=3.0)
    ev, _ = simulate("glif_psc_exp_neuron", p, 40.0, record=(state,), inputs=[psc_input(weight)])
    t, i = ev["times"], ev[state]
    onset = 11.0   # spike at 10 ms, delay 1 ms: added at the end of the step ending at 11 ms
    after = t >= onset - 1e-9
    np.testing.assert_array_equal(i[~after], 0.0)
    np.testing.assert_allclose(i[after], abs(weight) * np.exp(-(t[after] - onset) / 3.0), rtol=1e-12)


@pytest.mark.parametrize("model, state, unit_state", [("glif_psc_alpha_neuron", "I_syn", None),
                                                      ("glif_cond_alpha_neuron", "g", None)])
@pytest.mark.parametrize("sign", [1, -1])
def test_alpha_shape_and_peak_equals_weight(model, state, unit_state, sign):
    tau = 2.0
    weight = 7.5 * sign
    name = f"{state}_{'exc' if sign > 0 else 'inh'}"
    p = dict(BASE, tau_syn_exc=tau, tau_syn_inh=tau, V_th=1000.0)
    ev, _ = simulate(model, p, 40.0, record=(name,), inputs=[psc_input(weight)])
    t, x = ev["times"], ev[name]
    onset = 11.0
    s = np.clip(t - onset, 0, None)
    expected = abs(weight) * s / tau * np.exp(1 - s / tau)
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-12)
    assert x.max() == pytest.approx(abs(weight), rel=1e-12)
    assert t[np.argmax(x)] == pytest.approx(onset + tau)


@pytest.mark.parametrize("model", COND_MODELS)
@pytest.mark.parametrize("channel", ["exc", "inh"])
def test_v_tends_to_reversal_potential_under_strong_conductance(model, channel):
    g = 1e5   # nS, 4000 times g_L, held constant by a very long time constant
    p = dict(BASE, V_th=1000.0, E_rev_exc=-10.0, E_rev_inh=-90.0, tau_syn_exc=1e9, tau_syn_inh=1e9)
    p[f"g_{channel}"] = g
    ev, _ = simulate(model, p, 20.0)
    e_rev = p[f"E_rev_{channel}"]
    v_inf = (p["g_L"] * p["E_L"] + g * e_rev) / (p["g_L"] + g)
    assert abs(v_inf - e_rev) < 0.02
    assert ev["V_m"][-1] == pytest.approx(v_inf, abs=1e-4)


def test_current_models_use_no_gsl():
    """The current flavours are solved with exact propagators: their generated C++ uses no ODE solver."""
    from glif_pynn.build import ensure_module
    src = ensure_module().parent / "src"
    for name in ("glif_psc_exp_neuron", "glif_psc_alpha_neuron"):
        code = (src / f"{name}.cpp").read_text() + (src / f"{name}.h").read_text()
        assert "gsl_odeiv" not in code and "#include <gsl" not in code, name
    assert "gsl_odeiv" in (src / "glif_cond_exp_neuron.cpp").read_text(), "non-trivial: the check must see GSL"


def test_install_is_idempotent_and_survives_reset_kernel():
    fresh_kernel()
    glif_nest.install()   # a second call is a no-op
    nest.Create("glif_psc_alpha_neuron")
    nest.ResetKernel()    # unloads the module
    assert "glif_psc_alpha_neuron" not in nest.node_models
    glif_nest.install()
    assert all(name in nest.node_models for name in ALL_MODELS)


def test_install_after_nodes_exist_names_the_fix():
    nest.ResetKernel()
    nest.Create("iaf_psc_alpha")
    with pytest.raises(RuntimeError, match="before any node is created"):
        glif_nest.install()


@pytest.mark.parametrize("model", ALL_MODELS)
@pytest.mark.parametrize("bad", [{"C_m": -1.0}, {"g_L": 0.0}, {"tau_syn_exc": 0.0}, {"asc_r1": 1.5},
                                 {"voltage_reset_fraction": -0.1}, {"th_spike_decay": 0.0}, {"Delta_V": -1.0},
                                 {"lambda_0": -1.0}])
def test_nestml_guards_reject_invalid_parameters_and_change_nothing(model, bad):
    """The [[...]] guards of the NESTML models: NEST itself refuses invalid values, and a refused set_status
    leaves every value as it was, also those given with it (NESTML's code wrote them before its checks; the
    build rolls them back)."""
    fresh_kernel()
    neuron = nest.Create(model)
    names = [list(bad)[0], "V_th", "V_m", "I_e"]
    before = neuron.get(names)
    with pytest.raises(nest.NESTError, match=list(bad)[0]):
        neuron.set(dict(bad, V_th=-40.0, V_m=-60.0, I_e=100.0))
    assert neuron.get(names) == before
    neuron.set(V_th=-40.0)
    assert neuron.get("V_th") == -40.0, "a valid set after a refused one works"


def test_tiny_alpha_time_constant_stays_finite_regression_coupling2_overflow():
    """tau_syn below h / 700 made expm1 overflow in the alpha propagator (V became NaN)."""
    p = dict(BASE, tau_syn_exc=1e-4, tau_syn_inh=1e-4, I_e=100.0)
    ev, _ = simulate("glif_psc_alpha_neuron", p, 5.0, inputs=[psc_input(50.0, t_spike=1.0)])
    assert np.all(np.isfinite(ev["V_m"]))
    np.testing.assert_allclose(ev["V_m"][:9], lif_v(ev["times"][:9], p, 100.0), rtol=0, atol=1e-9)


def _weights_not_kept_by_unit_round_trip():
    """Weights w with (0.001 * w) * 1000 != w: NESTML's own unit conversion would not apply them exactly."""
    candidates = [round(0.1 * k, 1) for k in range(1, 1000)]
    found = [w for w in candidates if (0.001 * w) * 1000.0 != w]
    assert len(found) >= 2, "no test weights that NESTML's conversion would change"
    return found[:2]


@pytest.mark.parametrize("model, states", [("glif_psc_exp_neuron", ("I_syn_exc", "I_syn_inh")),
                                           ("glif_cond_exp_neuron", ("g_exc", "g_inh"))])
@pytest.mark.parametrize("weight", _weights_not_kept_by_unit_round_trip())
def test_a_spike_adds_exactly_its_weight(model, states, weight):
    """The step of arrival records the jump itself (the state starts at 0): it must be |w| to the last bit."""
    p = dict(BASE, V_th=1000.0)
    for state, signed in zip(states, (weight, -weight)):
        ev, _ = simulate(model, p, 20.0, record=(state,), inputs=[psc_input(signed)])
        assert ev[state].max() == weight, f"{state}: {ev[state].max()!r} != {weight!r}"
