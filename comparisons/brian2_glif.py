"""Brian2 running the same GLIF equations (GLIF_curr_exp), against the numpy reference.

Brian2 (:data:`REQUIREMENT`) cannot be imported with numpy >= 2.4 (its ``Quantity`` wraps
``numpy.ndarray.ptp``, which numpy 2.4 removed; fixed in Brian2 after 2.9.0, brian-team/brian2
PR #1705), so it runs in its own environment ``.venv-brian2`` with ``numpy<2.4``
(:mod:`comparisons.brian2_env`, ``make brian2``); the optional extra ``compare`` pins the same.

The model (:func:`glif_group`) is DESIGN.md section 1's current-based exponential-synapse
GLIF, written as Brian2 equations and integrated by Brian2's own ``method='exact'``
(sympy solves the coupled linear system of V, theta, both after-spike currents and both
synaptic currents symbolically; nothing is hand-written). Parameters come in PyNN names
and units (``glif_pynn.parameters``) and become Brian2 quantities (mV, ms, nA, nF).

How Brian2's schedule maps onto the reference's step (DESIGN.md section 1)
------------------------------------------------------------------------------
Brian2's step at clock time ``t = n dt`` runs, in its default schedule, ``groups`` (the
state updater: every state from ``n dt`` to ``(n + 1) dt``), ``thresholds``
(``v > v_thresh + theta`` on the new values; spike generators emit here), ``synapses``
(``on_pre`` of the spikes whose delay has elapsed: ``I_syn += w``) and ``resets``. The
reference's step ``n`` covers the same interval with propagate, receive, threshold,
reset. The order of receive and threshold/reset differs but cannot matter: the threshold
and the reset do not read the synaptic currents and the synapses do not read what the
reset writes. What differs, and how it is handled:

* **Spike time stamps.** Brian2 stamps a spike found in step ``n`` with the start of the
  step, ``n dt``; the reference (and NEST) with its end, ``(n + 1) dt``. Compared here are
  step indices: a Brian2 time ``t`` is step ``t / dt``, a reference time ``t`` is step
  ``t / dt - 1``.
* **Spike input.** For the same reason a SpikeGeneratorGroup spike given at ``t`` is
  emitted in step ``t / dt``, a reference spike-array spike at ``t`` in step ``t / dt - 1``.
  The generator gets the reference's times minus ``dt``; delays are then the same on both
  sides (``round(d / dt)`` steps, halves up on both): an event emitted in step ``m`` with
  delay ``D`` is added to ``I_syn`` after the propagation of step ``m + D`` and acts on V
  from step ``m + D + 1`` on. Neuron-to-neuron connections need no shift at all.
* **Refractory count.** Brian2 computes ``not_refractory = timestep(t - lastspike) >=
  timestep(refractory)`` with ``timestep(x) = floor(x / dt + 1e-3)``: a spike in step ``n``
  holds V in steps ``n + 1 .. n + R_b - 1``, i.e. ``R_b - 1`` steps, ``R_b`` floored where
  NEST rounds (0.35 ms at 0.1 ms: Brian2 holds 2 steps, NEST 4; 2 ms: 19 and 20). DESIGN
  holds V for ``R = round(tau_refrac / dt)`` steps (steps ``n + 1 .. n + R``), so the group
  gets ``refractory = (R + 1) dt``, with ``R`` from :func:`glif_pynn.reference.neurons.steps`.
  Only V is marked ``(unless refractory)``; Brian2 adds ``and not_refractory`` to the
  threshold, as the reference masks cells that are refractory at the start of the step.
* **i_offset steps.** ``I_e`` is a per-neuron constant changed between runs (both sides),
  so the new value acts from the first step after the change, exactly.
* **Coinciding rates.** sympy's solution assumes distinct eigenvalues: V's coupling to a
  current decaying at ``r`` divides by ``1 / tau_m - r``. At ``r == 1 / tau_m`` (``tau_m = 10
  ms`` with the default ``k_asc2``, ``tau_syn == tau_m``) Brian2's V is NaN; close to it
  digits are lost. The reference (``expm1`` divided differences) is exact there;
  :func:`glif_group` refuses such parameters (:data:`RATE_GAP`).

What remains is rounding: Brian2's sympy solution has other (mathematically equal)
formulas for the propagators than the reference's, evaluated in SI units. Measured V
differences are below 1e-12 mV (:func:`agreement`), spike steps identical.

Brian2's generated update of V when refractory is ``(v + X) - X``, not exactly ``v``, but
it writes V only when ``not_refractory`` (a conditional write), so V is held exactly.

Speed (:func:`performance`) is measured in fresh processes, as comparisons/performance.py
does, on isolated neurons driven by i_offset uniform in 0.2-0.4 nA drawn with the seed of
``glif_pynn.reference.bench`` (the same cells as its isolated benchmark, which gives the
reference's figure for the ratio). Brian2 updates all six states of every cell every
step; the reference skips terms that are exactly zero for the whole run (here the
synaptic currents and the refractory countdown). Measured once with cpp_standalone at
1e5 cells: dropping the two synaptic states from the equations takes Brian2 from ~5.5-6
to ~2 ns per update, dropping ``(unless refractory)`` changes little.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from glif_pynn.parameters import BY_NAME, CURRENT, default_parameters, validate
from glif_pynn.reference.neurons import steps

REQUIREMENT = "brian2==2.9.0"
ROOT = Path(__file__).resolve().parent.parent
DT = 0.1               # ms
DURATION = 1000.0      # ms

#: PyNN unit -> (Brian2 unit name for equations, Brian2 unit name for values)
_UNITS = {"nF": ("farad", "nF"), "ms": ("second", "ms"), "mV": ("volt", "mV"), "nA": ("amp", "nA"),
          "1/ms": ("hertz", "kHz"), "": ("1", None)}
#: PyNN name -> Brian2 identifier where the PyNN name is taken (``cm`` is Brian2's centimetre)
_NAMES = {"cm": "C_m"}
#: parameters that are not constants of the equations (GLIF5's theta_v and escape noise: refused when on)
_SPECIAL = ("i_offset", "tau_refrac", "a_theta_v", "b_theta_v", "lambda0", "delta_u")

EQUATIONS = """
dv/dt = (I_e + I_syn_exc - I_syn_inh + I_asc1 + I_asc2) / C_m - (v - v_rest) / tau_m : volt (unless refractory)
dtheta/dt = -b_theta * theta : volt
dI_asc1/dt = -k_asc1 * I_asc1 : amp
dI_asc2/dt = -k_asc2 * I_asc2 : amp
dI_syn_exc/dt = -I_syn_exc / tau_syn_E : amp
dI_syn_inh/dt = -I_syn_inh / tau_syn_I : amp
I_e : amp (constant)
"""
THRESHOLD = "v > v_thresh + theta"
RESET = """
I_asc1 = f_asc1 * I_asc1 + delta_asc1
I_asc2 = f_asc2 * I_asc2 + delta_asc2
v = v_rest + f_v * (v - v_rest) - delta_v
theta += delta_theta
"""
#: recorded states: reference name -> (Brian2 variable, Brian2 unit name, sign)
STATES = {"v": ("v", "mV", 1.0), "theta": ("theta", "mV", 1.0), "i_asc1": ("I_asc1", "nA", 1.0),
          "i_asc2": ("I_asc2", "nA", 1.0), "isyn_exc": ("I_syn_exc", "nA", 1.0),
          # the reference reports inhibition negative, as PyNN does; Brian2 holds the magnitude
          "isyn_inh": ("I_syn_inh", "nA", -1.0)}


def brian2_module():
    """Import Brian2, turning an unusable installation into an ImportError that says why."""
    try:
        import brian2
    except ImportError as exc:
        raise ImportError(f"Brian2 is not installed here ({REQUIREMENT}); `make brian2` creates .venv-brian2, "
                          "where it is") from exc
    except AttributeError as exc:     # brian2 2.9.0 under numpy >= 2.4: numpy.ndarray.ptp is gone
        raise ImportError(f"Brian2 cannot be imported with numpy {np.__version__} ({exc}); Brian2 2.9.0 "
                          "needs numpy < 2.4: use .venv-brian2 (`make brian2`)") from exc
    return brian2


def refractory_period(tau_refrac, dt: float):
    """The ``refractory`` time (ms) that makes Brian2 hold V for DESIGN's ``round(tau_refrac / dt)`` steps.

    Brian2 holds V for ``timestep(refractory) - 1`` steps (see the module docstring), so
    the answer is ``(R + 1) dt`` with ``R`` counted as NEST counts it.
    """
    return (steps(tau_refrac, dt) + 1) * dt


#: smallest relative gap between 1/tau_m and a current's decay rate that glif_group accepts
RATE_GAP = 1e-6


def _check_distinct_rates(values: Mapping[str, object]) -> None:
    """Refuse rates that Brian2's exact solution cannot handle.

    sympy solves the system for distinct eigenvalues: V's coupling to a current decaying at
    rate ``r`` is ``(exp(-r dt) - exp(-dt / tau_m)) / (1 / tau_m - r)`` in Brian2's code, NaN when
    ``r == 1 / tau_m`` (e.g. ``tau_m = 10 ms`` with the default ``k_asc2 = 0.1 /ms``, or
    ``tau_syn_E == tau_m``) and losing digits as the rates approach: measured against the
    reference (which uses ``expm1`` divided differences, exact at coinciding rates), V differs
    by ~4.5e-13 mV divided by the relative gap (4.5e-7 mV at 1e-6, 2.9e-10 mV at 1e-3).
    """
    a_m = 1.0 / np.asarray(values["tau_m"], float)
    for name, rate in (("k_asc1", values["k_asc1"]), ("k_asc2", values["k_asc2"]),
                       ("1/tau_syn_E", 1.0 / np.asarray(values["tau_syn_E"], float)),
                       ("1/tau_syn_I", 1.0 / np.asarray(values["tau_syn_I"], float))):
        rate = np.asarray(rate, float)
        gap = np.abs(rate - a_m) / np.maximum(rate, a_m)
        if np.any(gap < RATE_GAP):
            raise ValueError(f"{name} and 1/tau_m coincide (relative gap {float(np.min(gap)):.1e} < {RATE_GAP:g}): "
                             "Brian2's exact solution divides by their difference (NaN when equal); the numpy "
                             "reference and the NESTML models handle this case")


def glif_group(n: int, params: Optional[Mapping[str, object]] = None, dt: float = DT, *, clock=None,
               name: Optional[str] = None, method: str = "exact", brian2_refractory: bool = False):
    """``n`` GLIF_curr_exp neurons as a Brian2 NeuronGroup.

    Parameters
    ----------
    n : int
        Number of neurons.
    params : mapping, optional
        PyNN names and units (``glif_pynn.parameters``), scalars or length-``n`` arrays;
        missing ones take the table's defaults. Validated. Scalars become constants of the
        generated code; arrays become per-neuron ``(constant)`` parameters. ``i_offset`` is
        always the per-neuron parameter ``I_e`` (set ``group.I_e`` between runs to step it).
        Default: all defaults (GLIF4 with ``i_offset = 0``).
    dt : float
        Time step (ms); it fixes the refractory count (:func:`refractory_period`). Default: 0.1.
    clock : brian2.Clock, optional
        The clock (its dt must be ``dt``). Default: a new Clock of ``dt``.
    method : str
        Brian2's integration method. Default: ``'exact'``, which Brian2 accepts for this
        coupled linear system.
    brian2_refractory : bool
        Give ``tau_refrac`` to Brian2 as it is, so that Brian2's own count applies
        (``floor(tau_refrac / dt + 1e-3) - 1`` held steps) instead of DESIGN's; only to
        quantify the difference. Default: False.

    Returns
    -------
    brian2.NeuronGroup
        States ``v``, ``theta``, ``I_asc1``, ``I_asc2``, ``I_syn_exc``, ``I_syn_inh``
        (inhibition as a magnitude: connect inhibitory synapses with ``I_syn_inh_post += w``,
        ``w > 0``); V starts at ``v_rest``, the others at 0.

    Raises
    ------
    ValueError
        For GLIF5 (``a_theta_v != 0``) and escape noise (``delta_u != 0``), which this
        Brian2 model does not have, for a
        current decay rate within a relative :data:`RATE_GAP` of ``1 / tau_m`` (Brian2's
        exact solution is NaN or imprecise there: :func:`_check_distinct_rates`), and for
        invalid parameters (``glif_pynn.parameters.validate``).
    """
    b2 = brian2_module()
    values = default_parameters(CURRENT)
    given = dict(params or {})
    validate(given, CURRENT)
    values.update(given)
    if np.any(np.asarray(values["a_theta_v"]) != 0):
        raise ValueError("the Brian2 GLIF has no voltage-dependent threshold (GLIF5): a_theta_v must be 0")
    if np.any(np.asarray(values["delta_u"]) != 0):
        raise ValueError("the Brian2 GLIF has a hard threshold, no escape noise: delta_u must be 0")
    _check_distinct_rates(values)
    if clock is None:
        clock = b2.Clock(dt=dt * b2.ms)
    elif abs(float(clock.dt / b2.ms) - dt) > 1e-12 * dt:
        raise ValueError(f"the clock's dt ({clock.dt}) is not dt = {dt} ms")
    namespace, per_neuron = {}, {}
    for pynn_name, value in values.items():
        if pynn_name in _SPECIAL:
            continue
        unit_name = _UNITS[BY_NAME[pynn_name].unit][1]
        quantity = np.asarray(value, float) * (getattr(b2, unit_name) if unit_name else 1.0)
        target = per_neuron if np.ndim(value) else namespace
        target[_NAMES.get(pynn_name, pynn_name)] = (quantity, BY_NAME[pynn_name].unit)
    refractory = np.asarray(values["tau_refrac"], float) if brian2_refractory \
        else refractory_period(values["tau_refrac"], dt)
    equations = EQUATIONS
    if np.ndim(refractory):
        equations += "\nrefractory_period : second (constant)"
        per_neuron["refractory_period"] = (np.asarray(refractory) * b2.ms, "ms")
        refractory_arg = "refractory_period"
    else:
        refractory_arg = float(refractory) * b2.ms
    for brian_name, (_, unit) in per_neuron.items():
        if brian_name != "refractory_period":
            equations += f"\n{brian_name} : {_UNITS[unit][0]} (constant)"
    group = b2.NeuronGroup(int(n), equations, threshold=THRESHOLD, reset=RESET, refractory=refractory_arg,
                           method=method, clock=clock, namespace={k: q for k, (q, _) in namespace.items()},
                           name=name or "glif*")
    for brian_name, (quantity, _) in per_neuron.items():
        setattr(group, brian_name, quantity)
    group.I_e = np.broadcast_to(np.asarray(values["i_offset"], float), (int(n),)) * b2.nA
    group.v = np.broadcast_to(np.asarray(values["v_rest"], float), (int(n),)) * b2.mV
    return group


@contextlib.contextmanager
def _codegen_target(b2, target: str):
    """Brian2's code-generation target for the runtime device, restored afterwards."""
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        yield
    finally:
        b2.prefs.codegen.target = old


# -- protocols: one description, run by both simulators ------------------------------------------
def _bernoulli_trains(rng: np.random.Generator, n_sources: int, rate_hz: float, n_steps: int,
                      dt: float) -> list:
    """Per source, the emission steps of a Poisson-like train: each step spikes with probability
    ``rate dt`` (at most one spike per step and source, as a Brian2 SpikeGeneratorGroup requires)."""
    hits = rng.random((n_sources, n_steps)) < rate_hz * dt * 1e-3
    return [np.flatnonzero(row) for row in hits]


def protocols(dt: float = DT, duration: float = DURATION, seed: int = 5) -> list[dict]:
    """The agreement protocols: GLIF4 default parameters, 1 s each.

    Every protocol is a dict: ``name``, ``n`` neurons, ``params`` (PyNN), ``i_offset``
    segments ``[(start step, nA per neuron), ...]``, input ``trains`` (emission steps per
    source) with each source's ``target`` neuron, ``weight`` (nA, negative inhibits) and
    ``delay`` (ms), optional ``recurrent`` connections ``(pre, post, weight, delay)``;
    ``show_misalignment`` marks the protocol on which :func:`agreement` quantifies the alignments.
    """
    rng = np.random.default_rng(seed)
    n_steps = int(steps(duration, dt))

    def at(t_ms):
        return int(steps(t_ms, dt))

    def poisson_input(n, exc_hz, inh_hz, w_exc, w_inh, per_neuron=5):
        trains, targets, weights = [], [], []
        for j in range(n):
            for rate, w in ((exc_hz, w_exc), (inh_hz, -w_inh)):
                trains += _bernoulli_trains(rng, per_neuron, rate / per_neuron, n_steps, dt)
                targets += [j] * per_neuron
                weights += [w] * per_neuron
        return trains, np.array(targets), np.array(weights)

    out = [{"name": "i_offset steps", "n": 1, "params": {},
            "i_offset": [(0, 0.2), (at(100.0), 0.3), (at(300.0), 0.45), (at(550.0), 0.28), (at(800.0), 0.0)],
            "trains": [], "target": np.zeros(0, int), "weight": np.zeros(0), "delay": 1.0}]
    trains, target, weight = poisson_input(3, 2000.0, 800.0, 0.08, 0.06)
    out.append({"name": "Poisson-like spike input, delay 1 ms", "n": 3, "params": {},
                "i_offset": [(0, np.array([0.1, 0.15, 0.2]))], "trains": trains, "target": target,
                "weight": weight, "delay": 1.0})
    # tau_refrac = 2.05 ms: 20.499999999999996 steps in floating point, 21 as NEST counts
    trains, target, weight = poisson_input(3, 2000.0, 800.0, 0.08, 0.06)
    out.append({"name": "spike input + i_offset steps, tau_refrac 2.05 ms", "n": 3,
                "params": {"tau_refrac": 2.05},
                "i_offset": [(0, np.array([0.1, 0.15, 0.2])), (at(400.0), np.array([0.3, 0.35, 0.4])),
                             (at(700.0), np.array([0.0, 0.05, 0.1]))],
                "trains": trains, "target": target, "weight": weight, "delay": 1.0, "show_misalignment": True})
    n = 100
    trains, target, weight = poisson_input(n, 1000.0, 0.0, 0.08, 0.0, per_neuron=1)
    keep = weight != 0
    pre, post = np.nonzero(rng.random((n, n)) < 0.1)
    inhibitory = pre >= 80
    out.append({"name": "100-neuron recurrent network, delays 0.1-5 ms, tau_refrac 2 ms", "n": n,
                "params": {"tau_refrac": 2.0}, "i_offset": [(0, rng.uniform(0.15, 0.3, n))],
                "trains": [t for t, k in zip(trains, keep) if k], "target": target[keep], "weight": weight[keep],
                "delay": 1.0,
                "recurrent": (pre, post, np.where(inhibitory, -0.1, 0.05),
                              np.round(rng.uniform(0.1, 5.0, len(pre)), 1))})
    for p in out:
        p["n_steps"] = n_steps
    return out


def _segments(protocol: dict) -> list[tuple[int, int, object]]:
    """(first step, number of steps, i_offset) for each i_offset segment that starts within the run."""
    segments = [(s, amp) for s, amp in protocol["i_offset"] if s < protocol["n_steps"]]
    starts = [s for s, _ in segments] + [protocol["n_steps"]]
    return [(starts[k], starts[k + 1] - starts[k], amp) for k, (_, amp) in enumerate(segments)]


def run_reference(protocol: dict, dt: float = DT) -> dict:
    """The protocol on the numpy reference engine: ``spikes`` (neuron, step) pairs and the states
    (samples x neurons, sample k = the state at k dt)."""
    from glif_pynn.reference.engine import Network
    net = Network(dt)
    n = protocol["n"]
    cells = net.create("curr_exp", n, **protocol["params"])
    if protocol["trains"]:
        # a spike emitted in step k is stamped (k + 1) dt: give the time as (k + 1) / (1 / dt)
        times = [(np.asarray(t) + 1) / round(1 / dt) for t in protocol["trains"]]
        sources = net.create_spike_source_array(times)
        net.connect(sources, cells, np.arange(len(times)), protocol["target"], protocol["weight"], protocol["delay"])
    if protocol.get("recurrent") is not None:
        pre, post, weight, delay = protocol["recurrent"]
        net.connect(cells, cells, pre, post, weight, delay)
    net.record(cells, ["spikes"] + list(STATES))
    for _, count, amp in _segments(protocol):
        cells.group.set_parameters(i_offset=np.broadcast_to(np.asarray(amp, float), (n,)).copy())
        net.run_steps(count)
    data = net.get_recording(cells)
    ids, times = data["spikes"]
    spikes = sorted(zip(ids.tolist(), (np.rint(times / dt).astype(int) - 1).tolist()))
    return {"spikes": spikes, **{name: data[name][:protocol["n_steps"]] for name in STATES}}


def run_brian2(protocol: dict, dt: float = DT, target: str = "numpy", shift_input: bool = True,
               brian2_refractory: bool = False) -> dict:
    """The protocol on Brian2's runtime device (code-generation ``target``), same output as
    :func:`run_reference`. ``shift_input=False`` gives the spike generator the reference's
    spike times unshifted and ``brian2_refractory=True`` Brian2's own refractory count
    (:func:`glif_group`): both only to quantify what the alignment removes."""
    b2 = brian2_module()
    n = protocol["n"]
    clock = b2.Clock(dt=dt * b2.ms)
    cells = glif_group(n, protocol["params"], dt, clock=clock, brian2_refractory=brian2_refractory)
    objects = [cells]
    trains, weight = protocol["trains"], np.asarray(protocol["weight"], float)
    if trains:
        ids = np.concatenate([np.full(len(t), k) for k, t in enumerate(trains)])
        # the reference's emission step k is Brian2's step k: time k dt (module docstring)
        emission = np.concatenate(trains) + (0 if shift_input else 1)
        generator = b2.SpikeGeneratorGroup(len(trains), ids, emission * dt * b2.ms, clock=clock)
        objects.append(generator)
        objects += _synapses(b2, generator, cells, np.arange(len(trains)), protocol["target"], weight,
                             np.full(len(trains), protocol["delay"]), clock)
    if protocol.get("recurrent") is not None:
        pre, post, w, delay = protocol["recurrent"]
        objects += _synapses(b2, cells, cells, pre, post, np.asarray(w, float), np.asarray(delay, float), clock)
    state_monitor = b2.StateMonitor(cells, [v for v, _, _ in STATES.values()], record=True, clock=clock)
    spike_monitor = b2.SpikeMonitor(cells)
    net = b2.Network(*objects, state_monitor, spike_monitor)
    with _codegen_target(b2, target):
        for first, count, amp in _segments(protocol):
            cells.I_e = np.broadcast_to(np.asarray(amp, float), (n,)) * b2.nA
            net.run(count * dt * b2.ms)
            if int(clock.timestep[:]) != first + count:
                raise RuntimeError(f"Brian2 ran to step {int(clock.timestep[:])}, not {first + count}")
    spikes = sorted(zip(np.asarray(spike_monitor.i).tolist(),
                        np.rint(np.asarray(spike_monitor.t / b2.ms) / dt).astype(int).tolist()))
    out = {"spikes": spikes}
    for name, (variable, unit, sign) in STATES.items():
        out[name] = sign * np.asarray(getattr(state_monitor, variable) / getattr(b2, unit)).T
    return out


def _synapses(b2, source, cells, pre, post, weight, delay, clock) -> list:
    """Excitatory (``I_syn_exc += w``) and inhibitory (``I_syn_inh += |w|``) Synapses, per-synapse delays."""
    out = []
    for kind, mask in (("exc", weight > 0), ("inh", weight < 0)):
        if not mask.any():
            continue
        syn = b2.Synapses(source, cells, "w : amp (constant)", on_pre=f"I_syn_{kind}_post += w", clock=clock)
        syn.connect(i=np.asarray(pre)[mask], j=np.asarray(post)[mask])
        syn.w = np.abs(weight[mask]) * b2.nA
        syn.delay = np.broadcast_to(delay, weight.shape)[mask] * b2.ms
        out.append(syn)
    return out


def compare(ours: dict, theirs: dict, dt: float = DT) -> dict:
    """Spike counts, identical-step fraction, largest spike-time difference, largest ``|dV|``."""
    a, b = ours["spikes"], theirs["spikes"]
    same = len(set(a) & set(b))
    by_neuron_a, by_neuron_b = {}, {}
    for j, s in a:
        by_neuron_a.setdefault(j, []).append(s)
    for j, s in b:
        by_neuron_b.setdefault(j, []).append(s)
    worst = 0
    for j in set(by_neuron_a) | set(by_neuron_b):
        x, y = by_neuron_a.get(j, []), by_neuron_b.get(j, [])
        k = min(len(x), len(y))
        if k:
            worst = max(worst, int(np.max(np.abs(np.subtract(x[:k], y[:k])))))
    return {"spikes_brian2": len(a), "spikes_reference": len(b),
            "same_step_fraction": same / max(len(a), len(b), 1),
            "max_abs_spike_dt_ms": worst * dt,
            "max_abs_dv_mV": float(np.max(np.abs(ours["v"] - theirs["v"]))),
            "max_abs_dtheta_mV": float(np.max(np.abs(ours["theta"] - theirs["theta"]))),
            "max_abs_di_nA": max(float(np.max(np.abs(ours[k] - theirs[k])))
                                 for k in ("i_asc1", "i_asc2", "isyn_exc", "isyn_inh"))}


def agreement(dt: float = DT, duration: float = DURATION, targets: Sequence[str] = ("numpy",),
              misaligned: bool = True, progress: Optional[Callable[[str], None]] = None) -> list[dict]:
    """Brian2 (runtime device, each code-generation target) against the numpy reference, per protocol.

    With ``misaligned``, two more rows for the protocol with input and a refractory period
    (numpy target): Brian2 with the spike generator at the reference's times (no ``-dt``
    shift), and with Brian2's own refractory count: what each alignment removes."""
    rows = []
    variants = [(target, "aligned", {}) for target in targets]
    for protocol in protocols(dt, duration):
        reference = run_reference(protocol, dt)
        extra = [("numpy", "generator times not shifted", {"shift_input": False}),
                 ("numpy", "Brian2's refractory count", {"brian2_refractory": True})] \
            if misaligned and protocol.get("show_misalignment") else []
        for target, alignment, options in variants + extra:
            row = {"protocol": protocol["name"], "neurons": protocol["n"], "target": target, "alignment": alignment,
                   **compare(run_brian2(protocol, dt, target, **options), reference, dt)}
            rows.append(row)
            if progress:
                progress(f"{protocol['name']} ({target}, {alignment}): {row['spikes_brian2']}/"
                         f"{row['spikes_reference']} spikes, same steps {row['same_step_fraction']:.3f}, "
                         f"max |dV| {row['max_abs_dv_mV']:.2e} mV")
    return rows
