"""The N-port GLIF models (several receptor ports, each with its own time constant) in NEST and in
the numpy reference: PSC/PSG shape and peak per port against the closed form, independent ports,
per-port reversal potentials, the two implementations against each other, and the PyNN types.

Closed forms (s = time since the spike's arrival, w its weight, tau = tau_syn_k):
exponential ``w exp(-s / tau)``; alpha ``w (s / tau) exp(1 - s / tau)``, peak ``w`` at ``s = tau``.
The PSP of a current port (distinct rates a = 1/tau_m, b = 1/tau): exp
``w (exp(-b s) - exp(-a s)) / (C (a - b))``; alpha ``(w e / (tau C)) (exp(-a s) - exp(-b s) + (a - b) s
exp(-b s)) / (a - b)**2``. Tolerances: 1e-12 relative where both sides apply exact propagators
(every synaptic state); V of the current flavours differs by rounding only (1e-9 mV allowed), V of
the conductance flavours is integrated by NEST's RKF45 at its default tolerance 1e-6 (1e-5 mV allowed;
both derived in pynn_support.V_TOL). Runtime: about 20 s.
"""
import math

import numpy as np
import pytest

nest = pytest.importorskip("nest")
import glif_pynn.nest as glif_nest  # noqa: E402
from glif_pynn import model_sources  # noqa: E402
from glif_pynn.parameters import default_parameters, nest_values, states_for  # noqa: E402
from glif_pynn.reference.engine import Network  # noqa: E402
from pynn_support import assert_reference_matches_nest, nest_recorders  # noqa: E402

PORTS = 4
TAU_SYN = (5.5, 8.5, 2.8, 5.8)           # BMTK's default for Allen V1 cells: multiples of dt
DT, ARRIVAL = 0.1, 2.0                   # a spike emitted at 1.0 ms with delay 1.0 ms arrives at 2.0 ms
FLAVOURS = ("curr_exp", "curr_alpha", "cond_exp", "cond_alpha")
NEST_MODEL = {f: model_sources.model_name(n, PORTS) for n, f in model_sources.FLAVOURS.items()}
#: A cell that never fires; C = 0.1 nF, tau_m = 10 ms (a rate distinct from every port's).
QUIET = dict(cm=0.1, tau_m=10.0, v_rest=-70.0, v_thresh=100.0, delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0)


def kind(flavour):
    return "current" if flavour.startswith("curr") else "conductance"


def cell_params(flavour, **extra):
    params = dict(default_parameters(kind(flavour), PORTS), **QUIET,
                  **{f"tau_syn_{k}": tau for k, tau in enumerate(TAU_SYN, 1)})
    params.update(extra)
    return params


def weight(flavour, k):
    """nA (current: alternating signs) or uS (conductance: positive)."""
    return 0.05 * k * (-1) ** k if kind(flavour) == "current" else 0.002 * k


def closed_form_psc(flavour, w, tau, s):
    if flavour.endswith("alpha"):
        s = np.maximum(s, 0.0)
        return w * (s / tau) * np.exp(1.0 - s / tau)
    return np.where(s > -1e-9, w * np.exp(-np.maximum(s, 0.0) / tau), 0.0)   # the jump is in the sample at arrival


def closed_form_psp(flavour, w, tau, s, cm, tau_m):
    a, b, s = 1.0 / tau_m, 1.0 / tau, np.maximum(s, 0.0)
    if flavour.endswith("alpha"):
        return w * math.e / (tau * cm) * (np.exp(-a * s) - np.exp(-b * s) + (a - b) * s * np.exp(-b * s)) / (a - b) ** 2
    return w * (np.exp(-b * s) - np.exp(-a * s)) / (cm * (a - b))


def run_nest(flavour, cells, spikes, t_stop=40.0):
    """``cells``: PyNN parameter dicts; ``spikes``: (cell, port, weight) sent at 1.0 ms with delay 1.0 ms.
    Returns (times, {state: array[time, cell]}) in PyNN units, sampled every step from dt."""
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = DT
    glif_nest.install()
    ids = nest.Create(NEST_MODEL[flavour], len(cells), params=[dict(nest_values(p), V_m=p["v_rest"]) for p in cells])
    generator = nest.Create("spike_generator", params={"spike_times": [1.0]})
    for cell, port, w in spikes:
        nest.Connect(generator, ids[cell], syn_spec={"weight": 1e3 * w, "delay": 1.0, "receptor_type": port})
    states = states_for(kind(flavour), PORTS)
    meter = nest.Create("multimeter", params={"interval": DT, "record_from": [s.nest_name for s in states]})
    nest.Connect(meter, ids)
    nest.Simulate(t_stop)
    events = meter.events
    order = np.lexsort((events["senders"], events["times"]))
    times = np.unique(events["times"])
    return times, {s.name: (events[s.nest_name][order] * s.from_nest).reshape(len(times), len(cells))
                   for s in states}


def run_reference(flavour, cells, spikes, t_stop=40.0):
    """As :func:`run_nest`, on the numpy engine (samples from dt, as NEST's multimeter)."""
    net = Network(DT)
    names = sorted(cells[0])
    pop = net.create(flavour, len(cells), ports=PORTS, **{n: np.array([c[n] for c in cells]) for n in names})
    source = net.create_spike_source_array([[1.0]])
    for cell, port, w in spikes:
        net.connect(source, pop, 0, cell, w, 1.0, receptor=f"syn{port}")
    states = [s.name for s in states_for(kind(flavour), PORTS)]
    net.record(pop, states)
    net.run(t_stop)
    data = net.get_recording(pop)
    return data["times"][1:], {name: data[name][1:] for name in states}


RUNNERS = {"nest": run_nest, "reference": run_reference}


@pytest.mark.parametrize("backend", list(RUNNERS))
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_each_port_has_its_own_psc_shape_and_peak_and_leaves_the_others_alone(flavour, backend):
    """Cell k gets one spike on port k (the last cell gets all four): the port's state follows the closed
    form with its own tau_syn_k (peak w at s = tau_k for alpha, w at arrival for exp); every other port
    stays exactly 0; the V responses of the current flavours add up (superposition across ports)."""
    cells = [cell_params(flavour) for _ in range(PORTS + 1)]
    spikes = [(k - 1, k, weight(flavour, k)) for k in range(1, PORTS + 1)]
    spikes += [(PORTS, k, weight(flavour, k)) for k in range(1, PORTS + 1)]
    times, data = RUNNERS[backend](flavour, cells, spikes)
    syn = "isyn" if kind(flavour) == "current" else "gsyn"
    s = times - ARRIVAL
    for k, tau in enumerate(TAU_SYN, 1):
        w, trace = weight(flavour, k), data[f"{syn}_{k}"]
        expected = closed_form_psc(flavour, w, tau, s)
        assert np.abs(trace[:, k - 1]).max() > 0.5 * abs(w), "non-trivial: the port's state moves"
        np.testing.assert_allclose(trace[:, k - 1], expected, rtol=1e-12, atol=1e-14 * abs(w),
                                   err_msg=f"{backend} {flavour} port {k}: closed form")
        np.testing.assert_allclose(trace[:, PORTS], expected, rtol=1e-12, atol=1e-14 * abs(w),
                                   err_msg=f"{backend} {flavour} port {k} with all four ports active")
        peak = int(np.argmax(np.abs(trace[:, k - 1])))
        peak_time = tau if flavour.endswith("alpha") else 0.0     # exp: the sample at arrival
        assert times[peak] - ARRIVAL == pytest.approx(peak_time, abs=1e-9), f"{backend} {flavour} port {k}: peak time"
        assert trace[peak, k - 1] == pytest.approx(w, rel=1e-12), f"{backend} {flavour} port {k}: peak = weight"
        others = [j - 1 for j in range(1, PORTS + 1) if j != k]
        assert np.all(data[f"{syn}_{k}"][:, others] == 0.0), f"{backend} {flavour}: port {k} moved by other ports"
    if kind(flavour) == "current":
        v = data["v"] - QUIET["v_rest"]
        for k, tau in enumerate(TAU_SYN, 1):
            expected = closed_form_psp(flavour, weight(flavour, k), tau, s, QUIET["cm"], QUIET["tau_m"])
            assert np.abs(v[:, k - 1]).max() > 1e-2, "non-trivial: the PSP is visible"
            np.testing.assert_allclose(v[:, k - 1], expected, rtol=0, atol=1e-12,
                                       err_msg=f"{backend} {flavour} port {k}: PSP closed form (mV)")
        np.testing.assert_allclose(v[:, PORTS], v[:, :PORTS].sum(axis=1), rtol=0, atol=1e-12,
                                   err_msg=f"{backend} {flavour}: the four ports' PSPs superpose")


@pytest.mark.parametrize("backend", list(RUNNERS))
@pytest.mark.parametrize("flavour", ["cond_exp", "cond_alpha"])
def test_each_conductance_port_drives_v_towards_its_own_reversal_potential(flavour, backend):
    """e_rev_1 = v_rest: a conductance on port 1 leaves V at rest (NEST exactly: every RKF45 stage has
    dV/dt = 0; the reference's quadrature formula to rounding, a few ulps of 70 mV: 1e-12 mV allowed).
    e_rev_2 = 0 mV and e_rev_3 = -90 mV: V rises with port 2 and falls with port 3 (v_rest = -70 mV), and
    never moves the other way by more than that rounding (on an Intel Xeon the reference's V at rest crept
    up by one ulp, 1.4e-14 mV, per step before the input: 2e-13 mV after 15 steps; not on an AMD EPYC)."""
    e_rev = {"e_rev_1": QUIET["v_rest"], "e_rev_2": 0.0, "e_rev_3": -90.0, "e_rev_4": -50.0}
    cells = [cell_params(flavour, **e_rev) for _ in range(3)]
    times, data = RUNNERS[backend](flavour, cells, [(k - 1, k, 0.01) for k in (1, 2, 3)])
    v = data["v"] - QUIET["v_rest"]
    assert data["gsyn_1"][:, 0].max() > 0.005, "non-trivial: port 1's conductance opens"
    assert np.abs(v[:, 0]).max() <= 1e-12, f"{backend} {flavour}: port 1 (e_rev_1 = v_rest) moved V"
    assert v[:, 1].max() > 0.5 and v[:, 1].min() >= -1e-12, f"{backend} {flavour}: port 2 (0 mV) depolarises"
    assert v[:, 2].min() < -0.1 and v[:, 2].max() <= 1e-12, f"{backend} {flavour}: port 3 (-90 mV) hyperpolarises"


def _random_input(rng, flavour, t_stop):
    """Per port: spike times on the grid and one weight (current: either sign; conductance: >= 0)."""
    scale = 0.06 if kind(flavour) == "current" else 0.003
    signs = (1, -1, 1, -1) if kind(flavour) == "current" else (1, 1, 1, 1)
    return [(np.unique(np.round(rng.uniform(1, t_stop, 150) / DT) * DT), scale * sign)
            for sign in signs]


@pytest.mark.parametrize("glif5", [False, True], ids=["glif4", "glif5"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_nest_and_reference_agree_with_four_ports(flavour, glif5):
    """One cell, all four ports driven (weights of both signs on current ports; e_rev 0, -85, 0, -70 mV),
    a DC drive, refractoriness: every spike in the same step, V within 1e-6 mV (current) / 1e-3 mV
    (conductance, NEST's RKF45), every port's state within 1e-9 relative."""
    t_stop, rng = 500.0, np.random.default_rng(15)
    params = cell_params(flavour, v_thresh=-55.0, tau_refrac=2.0, i_offset=0.2, delta_asc1=-0.01, delta_theta=0.5,
                         f_v=0.3, cm=0.06, tau_m=8.0)
    if kind(flavour) == "conductance":
        params.update(e_rev_1=0.0, e_rev_2=-85.0, e_rev_3=0.0, e_rev_4=-70.0)
    if glif5:
        params.update(a_theta_v=0.01, b_theta_v=0.1)
    inputs = _random_input(rng, flavour, t_stop)

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = DT
    glif_nest.install()
    cell = nest.Create(NEST_MODEL[flavour], params=dict(nest_values(params), V_m=params["v_rest"]))
    for port, (times, w) in enumerate(inputs, 1):
        nest.Connect(nest.Create("spike_generator", params={"spike_times": times}), cell,
                     syn_spec={"weight": 1e3 * w, "delay": 1.0, "receptor_type": port})
    states = states_for(kind(flavour), PORTS)
    meter, recorder = nest_recorders(cell, states, DT)
    nest.Simulate(t_stop)

    net = Network(DT)
    ref = net.create(flavour, 1, ports=PORTS, **params)
    sources = net.create_spike_source_array([times for times, _ in inputs])
    for port, (_, w) in enumerate(inputs, 1):
        net.connect(sources, ref, port - 1, 0, w, 1.0, receptor=port)
    net.record(ref, [s.name for s in states] + ["spikes"])
    net.run(t_stop)
    data = net.get_recording(ref)

    t_nest = recorder.events["times"]
    assert len(t_nest) >= 10, "non-trivial: the cell fires repeatedly"
    np.testing.assert_array_equal(np.round(data["spikes"][1] / DT), np.round(t_nest / DT),
                                  err_msg=f"{flavour}: every spike in the same step")
    moving = ["v"] + (["theta_v"] if glif5 else [])
    moving += [s.name for s in states if s.name.startswith(("isyn_", "gsyn_"))]
    assert_reference_matches_nest(data, meter, states, kind(flavour), f"{flavour} glif5={glif5}", moving)


def test_pynn_types_map_receptor_names_to_nest_ports_and_agree_with_the_reference():
    """``GLIF_curr_alpha_4ports`` on pyNN.nest: receptor_type "synK" is NEST receptor type K; the same
    script on the reference backend gives the same spikes and isyn_k traces."""
    import glif_pynn.reference as ref_sim
    import pyNN.nest as nest_sim

    def script(sim, celltypes):
        sim.setup(timestep=DT, min_delay=DT)
        cells = sim.Population(3, celltypes.GLIF_curr_alpha_4ports(**{f"tau_syn_{k}": t for k, t in enumerate(TAU_SYN, 1)},
                                                                    i_offset=[0.15, 0.2, 0.25], tau_refrac=2.0))
        source = sim.Population(2, sim.SpikeSourceArray(spike_times=[sim.Sequence([5.0, 20.0, 40.0]),
                                                                     sim.Sequence([10.0, 30.0])]))
        projections = [sim.Projection(source, cells, sim.AllToAllConnector(),
                                      sim.StaticSynapse(weight=0.1 * (-1) ** k, delay=1.0 + 0.5 * k),
                                      receptor_type=f"syn{k}") for k in range(1, PORTS + 1)]
        cells.record(["spikes", "v"] + [f"isyn_{k}" for k in range(1, PORTS + 1)])
        sim.run(80.0)
        return cells.get_data().segments[0], projections

    nest_data, projections = script(nest_sim, glif_nest)
    for k, projection in enumerate(projections, 1):
        # a connection stores the receptor type's buffer index, k - 1 (NESTML numbers the types from 1)
        assert set(projection.nest_connections.get("receptor")) == {k - 1}, f"syn{k} -> NEST receptor type {k}"
    ref_data, _ = script(ref_sim, ref_sim)
    spikes = [np.asarray(st.rescale("ms")) for st in nest_data.spiketrains]
    assert sum(len(s) for s in spikes) > 5, "non-trivial: the cells fire"
    for a, b in zip(spikes, ref_data.spiketrains):
        np.testing.assert_allclose(np.asarray(b.rescale("ms")), a, atol=1e-9, err_msg="same spike times")
    for k in range(1, PORTS + 1):
        ours = np.asarray(ref_data.filter(name=f"isyn_{k}")[0])
        theirs = np.asarray(nest_data.filter(name=f"isyn_{k}")[0])
        assert np.abs(theirs).max() > 0.05, f"non-trivial: isyn_{k} moves"
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15, err_msg=f"isyn_{k} (nA)")


@pytest.mark.parametrize("flavour", ["curr_alpha", "cond_exp"])
def test_port_parameters_set_through_pynn_act_on_both_backends(flavour):
    """``Population.set(tau_syn_2=...)`` on an N-port type, before the run: get() returns it and port 2's
    PSC (PSG) follows the closed form with the new time constant, on pyNN.nest and on the reference."""
    import glif_pynn.reference as ref_sim
    import pyNN.nest as nest_sim
    celltype, state = f"GLIF_{flavour}_4ports", ("isyn_2" if kind(flavour) == "current" else "gsyn_2")
    tau, w = 3.3, weight(flavour, 2) * (-1 if kind(flavour) == "current" else 1)

    def script(sim, celltypes):
        sim.setup(timestep=DT, min_delay=DT)
        cells = sim.Population(1, getattr(celltypes, celltype)(**QUIET))
        cells.set(tau_syn_2=tau)
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        sim.Projection(source, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=w, delay=1.0),
                       receptor_type="syn2")
        cells.record(state)
        sim.run(20.0)
        signal = cells.get_data().segments[0].filter(name=state)[0]
        got = (cells.get("tau_syn_2"), np.asarray(signal.times.rescale("ms")), np.asarray(signal)[:, 0])
        sim.end()
        return got

    for sim, celltypes in ((nest_sim, glif_nest), (ref_sim, ref_sim)):
        value, t, x = script(sim, celltypes)
        assert value == pytest.approx(tau), f"{sim.__name__}: get() after set()"
        assert np.abs(x).max() > 0.5 * abs(w), "non-trivial: the PSC arrives"
        np.testing.assert_allclose(x, closed_form_psc(flavour, w, tau, t - ARRIVAL), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{sim.__name__}: port 2 with tau_syn_2 = {tau} ms")


def test_wrong_receptors_and_parameters_are_refused():
    import glif_pynn.reference as ref_sim
    from pyNN.errors import ConnectionError as PyNNConnectionError

    ref_sim.setup(timestep=DT)
    cells = ref_sim.Population(2, ref_sim.GLIF_cond_exp_4ports())
    source = ref_sim.Population(1, ref_sim.SpikeSourceArray(spike_times=[1.0]))
    with pytest.raises(PyNNConnectionError, match="syn1', 'syn2', 'syn3', 'syn4"):
        ref_sim.Projection(source, cells, ref_sim.AllToAllConnector(), ref_sim.StaticSynapse(weight=0.01),
                           receptor_type="excitatory")
    with pytest.raises(PyNNConnectionError, match="Weights must be positive for conductance-based"):
        ref_sim.Projection(source, cells, ref_sim.AllToAllConnector(), ref_sim.StaticSynapse(weight=-0.01),
                           receptor_type="syn2")
    with pytest.raises(ValueError, match=r"tau_syn_3 = 0 ms is out of range"):
        ref_sim.GLIF_curr_exp_4ports(tau_syn_3=0.0)
    with pytest.raises(ValueError, match="conductance weights must be >= 0"):
        net = Network(DT)
        net.connect(net.create_spike_source_array([[1.0]]), net.create("cond_alpha", 1, ports=3), 0, 0, -1.0, 1.0,
                    receptor="syn3")
    with pytest.raises(ValueError, match="receptor 'syn5' is not a port of this 3-port population"):
        net = Network(DT)
        net.connect(net.create_spike_source_array([[1.0]]), net.create("curr_exp", 1, ports=3), 0, 0, 1.0, 1.0,
                    receptor="syn5")
    with pytest.raises(ValueError, match="integer >= 2"):
        ref_sim.with_ports(ref_sim.GLIF_curr_exp, 1)
    built = model_sources.port_counts()
    missing = max(built) + 1
    with pytest.raises(ValueError, match=f"{model_sources.PORTS_ENV}=.*{missing}"):
        glif_nest.with_ports(glif_nest.GLIF_curr_exp, missing)


def test_any_port_count_on_the_reference():
    """Seven ports on the reference: each port's own time constant, as for four."""
    net = Network(DT)
    taus = np.linspace(1.0, 7.0, 7)
    pop = net.create("curr_exp", 1, ports=7, **{f"tau_syn_{k}": t for k, t in enumerate(taus, 1)}, **QUIET)
    source = net.create_spike_source_array([[1.0]])
    for k in range(1, 8):
        net.connect(source, pop, 0, 0, 0.1, 1.0, receptor=k)
    net.record(pop, [f"isyn_{k}" for k in range(1, 8)])
    net.run(20.0)
    data = net.get_recording(pop)
    s = data["times"] - ARRIVAL
    for k, tau in enumerate(taus, 1):
        np.testing.assert_allclose(data[f"isyn_{k}"][:, 0], closed_form_psc("curr_exp", 0.1, tau, s), rtol=1e-12,
                                   atol=1e-15, err_msg=f"port {k} of 7")


def test_every_rendered_model_has_its_ports_and_the_escape_noise_lines():
    """The template renders each port into every part of an N-port model, and every model keeps the
    escape-noise lines of the hand-written originals, character for character."""
    escape = ["lambda_0 real = 0                   [[lambda_0 >= 0]]",
              "Delta_V mV = 0 mV                   [[Delta_V >= 0 mV]]",
              "escape_noise_on boolean = Delta_V > 0 mV",
              "lambda_0_h real = 0.001 * lambda_0 * (h_step / 1 ms)",
              "escape_budget real = -1",
              "lambda_h real = lambda_0_h * exp(min((V_m - V_th - theta_s - theta_v) / Delta_V, 700.0))",
              "escape_budget -= lambda_h",
              "elif escape_budget < lambda_0_h:",
              "fire = escape_budget < lambda_0_h * exp((V_m - V_th - theta_s - theta_v) / Delta_V)",
              "escape_budget -= lambda_0_h"]
    for spec in model_sources.model_specs((3,)):
        text = model_sources.render(spec)
        assert f"model {spec.name}:" in text
        for line in escape:
            assert text.count(line) == 1, f"{spec.name}: {line!r}"
        if spec.ports is None:
            assert "exc_spikes <- excitatory spike" in text and "inh_spikes <- inhibitory spike" in text
            continue
        for k in range(1, 4):
            assert f"spikes_{k} <- spike\n" in text and f"onReceive(spikes_{k}):" in text, f"{spec.name} port {k}"
            assert f"[[tau_syn_{k} > 0 ms]]" in text
            if spec.flavour.startswith("psc"):
                assert f"+ P_V_{k} * I_syn_{k}" in text and f"+ P_tv_{k} * I_syn_{k}" in text
                assert f"P_{k} real = exp(-h_step / tau_syn_{k})" in text
            else:
                assert f"g_{k} * (E_rev_{k} - V_m)" in text and f"E_rev_{k} mV = 0 mV" in text
        assert "spikes_4" not in text


def test_n_port_types_pickle_from_every_module_that_makes_them():
    """Each N-port class names the module that made it as its __module__; pickle looks the name up there,
    which failed for pyNN.nest's and the simulator-neutral types (the reference's already resolved)."""
    import pickle

    from glif_pynn import standardmodels
    made = [glif_nest.GLIF_curr_alpha_4ports, glif_nest.with_ports(glif_nest.GLIF_cond_exp, 4),
            standardmodels.with_ports(standardmodels.GLIF_curr_exp, 3)]
    for cell_type in made:
        assert pickle.loads(pickle.dumps(cell_type)) is cell_type, cell_type.__module__
        assert type(pickle.loads(pickle.dumps(cell_type()))) is cell_type
    with pytest.raises(AttributeError, match="module 'glif_pynn.nest.cells' has no attribute 'GLIF_nothing_4ports'"):
        import glif_pynn.nest.cells as cells
        cells.GLIF_nothing_4ports
