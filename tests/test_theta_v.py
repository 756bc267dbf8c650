"""GLIF5's voltage-dependent threshold theta_v on both backends, against closed forms.

``theta_v' = a_theta_v (V - v_rest) - b_theta_v theta_v``; the threshold is
``v_thresh + theta + theta_v``; theta_v is not reset at a spike and is held with V during
the refractory period. Below threshold the whole cell is a linear system, so every state at
time t is ``expm(M t) x0``: scipy's matrix exponential is the reference here, independent
of the divided-difference propagators (``glif_pynn.reference.propagators`` and the NESTML
functions ``chain3``/``chain4``) that both implementations use.

PyNN units (mV, ms, nA, nF) on the reference side; NEST runs the NESTML models through the
names and scale factors of ``glif_pynn.parameters``. Sample k is the state at k dt.
"""
import math

import numpy as np
import pytest
from scipy.linalg import expm

from glif_pynn.parameters import BY_NAME, STATE_BY_NAME, nest_values
from glif_pynn.reference.engine import Network

FLAVOURS = ("curr_exp", "curr_alpha", "cond_exp", "cond_alpha")
NEST_MODELS = {"curr_exp": "glif_psc_exp_neuron", "curr_alpha": "glif_psc_alpha_neuron",
               "cond_exp": "glif_cond_exp_neuron", "cond_alpha": "glif_cond_alpha_neuron"}
#: |computed - expm| allowed (mV): exact propagators (current flavours, and the reference's
#: quadrature, 1e-8 mV per step) versus NEST's GSL RKF45 at its default tolerance 1e-6.
TOL = {("reference", "curr"): 1e-9, ("reference", "cond"): 1e-8, ("nest", "curr"): 1e-9, ("nest", "cond"): 1e-5}

LIF = dict(cm=0.25, tau_m=10.0, v_rest=-70.0, v_thresh=500.0, delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0,
           f_v=0.0, delta_v=0.0)
#: Rate sets (1/ms) covering both branches of the propagators: distinct rates (series
#: and recursion), b_theta_v == 1/tau_m, everything equal, and a synapse faster than 1/dt.
RATES = {
    "distinct": dict(tau_syn_E=2.0, tau_syn_I=5.0, k_asc1=0.05, k_asc2=0.5, b_theta_v=0.2),
    "b_theta_v == 1/tau_m": dict(tau_syn_E=2.0, tau_syn_I=5.0, k_asc1=0.05, k_asc2=0.5, b_theta_v=0.1),
    "all rates equal": dict(tau_m=2.0, cm=0.05, tau_syn_E=2.0, tau_syn_I=2.0, k_asc1=0.5, k_asc2=0.5,
                            b_theta_v=0.5),
    "fast synapse": dict(tau_syn_E=0.05, tau_syn_I=0.3, k_asc1=0.05, k_asc2=0.5, b_theta_v=0.2),
}
INITIAL = dict(v=-67.0, theta_v=1.5, i_asc1=0.08, i_asc2=-0.05)


def system(flavour, p, i_const):
    """(M, x0, names) of the linear system x' = M x, x = (u = V - v_rest, theta_v, currents..., 1)."""
    names = ["u", "theta_v", "i_asc1", "i_asc2"]
    alpha = flavour.endswith("alpha")
    if flavour.startswith("curr"):
        names += ["isyn_exc", "isyn_inh"] + (["d_exc", "d_inh"] if alpha else [])
    names.append("one")
    k = {n: i for i, n in enumerate(names)}
    m = np.zeros((len(names), len(names)))
    m[k["u"], k["u"]] = -1.0 / p["tau_m"]
    m[k["u"], k["one"]] = i_const / p["cm"]
    m[k["theta_v"], k["u"]] = p["a_theta_v"]
    m[k["theta_v"], k["theta_v"]] = -p["b_theta_v"]
    for j in ("1", "2"):
        m[k["u"], k["i_asc" + j]] = 1.0 / p["cm"]
        m[k["i_asc" + j], k["i_asc" + j]] = -p["k_asc" + j]
    if flavour.startswith("curr"):
        for syn, tau, sign in (("exc", p["tau_syn_E"], 1.0), ("inh", p["tau_syn_I"], -1.0)):
            name = "isyn_" + syn
            m[k["u"], k[name]] = sign / p["cm"]      # isyn_inh held as a magnitude, subtracted
            m[k[name], k[name]] = -1.0 / tau
            if alpha:
                m[k[name], k["d_" + syn]] = 1.0
                m[k["d_" + syn], k["d_" + syn]] = -1.0 / tau
    x0 = np.zeros(len(names))
    x0[k["u"]] = INITIAL["v"] - p["v_rest"]
    x0[k["theta_v"]], x0[k["i_asc1"]], x0[k["i_asc2"]] = INITIAL["theta_v"], INITIAL["i_asc1"], INITIAL["i_asc2"]
    x0[k["one"]] = 1.0
    if flavour.startswith("curr"):
        x0[k["isyn_exc"]], x0[k["isyn_inh"]] = 0.3, 0.2
        if alpha:
            x0[k["d_exc"]], x0[k["d_inh"]] = 0.1, 0.05
    return m, x0, k


def initial_states(flavour):
    """The initial state in PyNN names and signs (isyn_inh negative, as PyNN records it)."""
    init = dict(INITIAL)
    if flavour.startswith("curr"):
        init.update(isyn_exc=0.3, isyn_inh=-0.2)
        if flavour.endswith("alpha"):
            init.update(d_exc=0.1, d_inh=0.05)
    return init


def run_reference(flavour, params, init, t_stop, dt, record=("v", "theta_v")):
    net = Network(dt)
    cell = net.create(flavour, 1, **params)
    net.initialize(cell, **init)
    net.record(cell, list(record) + ["spikes"])
    net.run(t_stop)
    data = net.get_recording(cell)
    return data["times"], {name: data[name][:, 0] for name in record}, data["spikes"][1]


def run_nest(flavour, params, init, t_stop, dt, record=("v", "theta_v")):
    nest = pytest.importorskip("nest")
    import glif_pynn.nest as glif_nest
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = dt
    glif_nest.install()
    values = dict(nest_values(params), V_m=params["v_rest"])
    for name, value in init.items():
        if name in STATE_BY_NAME:
            state = STATE_BY_NAME[name]
            values[state.nest_name] = value / state.from_nest
        else:       # alpha derivative states: nA/ms -> pA/ms
            values["dI_syn_" + name[2:]] = 1e3 * value
    cell = nest.Create(NEST_MODELS[flavour], params=values)
    meter = nest.Create("multimeter", params={"interval": dt,
                                              "record_from": [STATE_BY_NAME[n].nest_name for n in record]})
    spikes = nest.Create("spike_recorder")
    nest.Connect(meter, cell)
    nest.Connect(cell, spikes)
    nest.Simulate(t_stop)
    ev = meter.events
    times = np.r_[0.0, ev["times"]]
    traces = {n: np.r_[init.get(n, params["v_rest"] if n == "v" else 0.0),
                       ev[STATE_BY_NAME[n].nest_name] * STATE_BY_NAME[n].from_nest] for n in record}
    return times, traces, spikes.events["times"]


BACKENDS = {"reference": run_reference, "nest": run_nest}


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("rates", list(RATES))
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_subthreshold_theta_v_and_v_are_the_matrix_exponential(backend, flavour, rates):
    if flavour.startswith("cond") and rates != "distinct":
        pytest.skip("conductance flavours: one rate set (their V has no hand-written propagator)")
    dt, t_stop, i_const = 0.1, 40.0, 0.2
    params = dict(LIF, i_offset=i_const, a_theta_v=0.03, **RATES[rates])
    times, traces, spikes = BACKENDS[backend](flavour, params, initial_states(flavour), t_stop, dt)
    p = {name: params.get(name, BY_NAME[name].default) for name in BY_NAME}
    m, x0, k = system(flavour, p, i_const)
    expected = np.array([expm(m * t) @ x0 for t in times])
    assert len(spikes) == 0
    assert np.ptp(traces["theta_v"]) > 0.1 and np.ptp(traces["v"]) > 1.0, "non-trivial: theta_v and V move"
    tol = TOL[backend, flavour[:4]]
    np.testing.assert_allclose(traces["v"] - p["v_rest"], expected[:, k["u"]], rtol=0, atol=tol,
                               err_msg=f"{backend}/{flavour}/{rates}: V")
    np.testing.assert_allclose(traces["theta_v"], expected[:, k["theta_v"]], rtol=0, atol=tol,
                               err_msg=f"{backend}/{flavour}/{rates}: theta_v")


def step_response(t, p, current):
    """u = V - v_rest and theta_v from rest under a constant current (closed forms)."""
    a, b, rise = 1.0 / p["tau_m"], p["b_theta_v"], current * p["tau_m"] / p["cm"]
    u = rise * -np.expm1(-a * t)
    theta_v = p["a_theta_v"] * rise * (-np.expm1(-b * t) / b - (np.exp(-a * t) - np.exp(-b * t)) / (b - a))
    return u, theta_v


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_current_step_first_spike_and_refractory_hold_follow_the_closed_form(backend, flavour):
    """A GLIF5 cell from rest under a constant current: theta_v rises as the closed form, the
    first spike falls in the first step whose end has V above v_thresh + theta_v, theta_v is
    not reset by the spike and stays constant for exactly round(tau_refrac / dt) steps."""
    dt, current = 0.1, 0.5
    params = dict(LIF, v_thresh=-60.0, i_offset=current, a_theta_v=0.05, b_theta_v=0.08, tau_refrac=2.0)
    times, traces, spikes = BACKENDS[backend](flavour, params, {}, 80.0, dt)
    p = {name: params.get(name, BY_NAME[name].default) for name in BY_NAME}
    u, theta_v = step_response(times, p, current)
    margin = u - (p["v_thresh"] - p["v_rest"]) - theta_v
    first = int(np.argmax(margin > 0))
    assert first > 20 and margin[first] > 1e-4 and margin[first - 1] < -1e-4, "non-trivial and well separated"
    assert len(spikes) >= 2, "non-trivial: repeated firing"
    assert round(spikes[0] / dt) == first, f"{backend}/{flavour}: first spike at step {spikes[0] / dt}, " \
                                           f"closed form {first}"
    tol = TOL[backend, flavour[:4]]
    np.testing.assert_allclose(traces["theta_v"][:first + 1], theta_v[:first + 1], rtol=0, atol=tol)
    assert theta_v[first] > 0.5, "non-trivial: theta_v has risen by the first spike"
    # not reset, then held for R steps (the value at the spike step is repeated R times), then moving again
    held = traces["theta_v"][first:first + 22]
    refractory_steps = round(p["tau_refrac"] / dt)
    np.testing.assert_array_equal(held[1:refractory_steps + 1], held[0])
    assert held[refractory_steps + 1] != held[0]


@pytest.mark.parametrize("flavour", ["curr_exp", "curr_alpha"])
def test_theta_v_off_by_default_leaves_the_glif4_cell_unchanged(flavour):
    """a_theta_v = 0 with a non-zero initial theta_v: theta_v only decays, at b_theta_v."""
    params = dict(LIF, i_offset=0.2)
    times, traces, _ = run_reference(flavour, params, {"theta_v": 2.0}, 20.0, 0.1)
    np.testing.assert_allclose(traces["theta_v"], 2.0 * np.exp(-BY_NAME["b_theta_v"].default * times),
                               rtol=1e-13, atol=0)
    assert BY_NAME["a_theta_v"].default == 0.0 and math.isfinite(BY_NAME["b_theta_v"].default)
