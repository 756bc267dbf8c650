"""NESTML GLIF with alpha conductances (glif_cond_alpha_neuron) against NEST's hand-written glif_cond, GLIF1-4.

Both models sit in one kernel and receive the same generators; the NEST parameters come
from :func:`glif_pynn.convert.to_nest_glif` with ``conductance=True``. NEST has no
exponential-conductance GLIF, so ``glif_cond_exp_neuron`` has no counterpart here.

What NEST 3.10's ``glif_cond`` does (``models/glif_cond.cpp`` and ``glif_cond.h`` at tag
v3.10, commit acca9704; the header is byte-identical to the one in the pip wheel), and how it
compares with DESIGN §1, measured with this module's protocols:

* **Same as here, mapped exactly.** Alpha conductances normalised to peak = weight (nS) at
  t = tau_syn (cpp 593: ``dg += w e / tau_syn``; h 388-391), one port per (tau_syn, E_rev)
  pair, numbered from 1 (cpp 770, 784): the converter's ``tau_syn``/``E_rev`` lists make
  port 1 excitatory and port 2 inhibitory. Spikes act from the step after their arrival and
  the continuous current is read for the next step (cpp 755, 758), V is held for
  ``round(t_ref / h)`` steps (cpp 613, 744), the threshold is tested on the new V (cpp 698),
  and the conductances keep evolving while V is held. The after-spike-current and threshold
  jumps come at the end of the refractory period (cpp 708, 725); the converter's
  ``exp(k t_ref)``/``exp(b t_ref)`` rescaling maps that exactly, as for ``glif_psc``:
  GLIF2 with ``f_v = 0`` fires at identical times, with ``theta_s`` equal to NEST's
  ``threshold_spike`` to 6e-14 mV (tests/test_agreement_glif_cond.py).
* **Weights.** NEST adds the weight to port 2 as it comes (cpp 784): inhibition needs a
  *positive* weight there (a negative one is a negative conductance, silently). The NESTML
  model takes inhibitory spikes with negative weight on port 0, as PyNN's ``IF_cond_*`` do.
* **Solver, negligible.** NEST integrates V and the conductances with GSL rkf45, absolute
  tolerance 1e-3, relative 0 (cpp 535, 602); the NESTML model uses rkf45 at 1e-6/1e-6 but
  replaces the conductances by their exact propagated values after each step. At these step
  sizes neither solver subdivides a step (setting the NESTML tolerances to NEST's changes
  nothing), so what differs is NEST's RK45 truncation error in g: 6e-9 nS at h = 0.1 ms,
  giving V differences of 2e-8 mV (RMSE 5-7e-9 mV) at 0.1 ms and 4e-13 mV at 0.01 ms (order
  h^5). GLIF1 fires at identical times in every protocol.
* **Reset from the start-of-step voltage** (cpp 721, GLIF2/4, ``f_v > 0``), as in
  ``glif_psc``: the reset differs by ``f_v`` times one step's rise of V; first order in h.
* **After-spike currents one step late** (GLIF3/4; new in ``glif_cond``, ``glif_psc`` has no
  such lag). The GSL step (cpp 641) integrates V with ``ASCurrents_sum_`` (cpp 126), and the
  mean over the step is recomputed only afterwards (cpp 679): V in step k sees the mean
  after-spike current of step k-1. After a spike the jump therefore enters V one step after
  the refractory period ends, and the first free step is integrated with the pre-spike
  current: V comes out higher by ``-dI / G (1 - exp(-h G / C))``, dI being the jump (-142 pA
  after 4 ms for the default GLIF3 cell): +0.239 mV at h = 0.1 ms, +0.024 mV at 0.01 ms,
  matching that prediction to 3e-6 mV (:func:`asc_lag_offset`; the rest is the current's decay
  within the step, O(h^3)). Later steps see the current delayed by h: an O(h) error where
  ``glif_psc``'s is O(h^2). It is what makes the GLIF3 rows of :func:`run` differ.
* **No effect.** While refractory, NEST's right-hand side uses ``V_reset`` in the synaptic
  current (cpp 113-114) but sets dV/dt = 0 (cpp 126), so nothing follows from it. NEST
  refuses ``t_ref <= 0`` (cpp 302, as ``glif_psc`` does), so the package default
  ``tau_refrac = 0`` has no NEST counterpart; the levels here use 4 ms.

Synaptic weights: :mod:`comparisons.protocols` gives PSC amplitudes in pA for the current
flavours. An alpha conductance of peak g drives a peak current of about g ``|E_rev - V|``, so a
weight w (pA) becomes ``|w| / |E_rev - V_TYPICAL|`` nS, V_TYPICAL = -65 mV being the middle
of rest (-78.85 mV) and threshold (-51.68 mV): 80 pA -> 1.23 nS excitatory (E_rev 0 mV),
60 pA -> 3.0 nS inhibitory (E_rev -85 mV).
"""
from __future__ import annotations

import math

import numpy as np

from comparisons import agreement_glif_psc
from comparisons.agreement_glif_psc import pair_metrics
from comparisons.protocols import DURATION, PROTOCOLS
from comparisons.tables import markdown_table
from glif_pynn.convert import to_nest_glif
from glif_pynn.parameters import default_parameters, nest_values

MODEL = "glif_cond_alpha_neuron"
V_TYPICAL = -65.0   # mV, midway between rest and threshold: where the driving force is taken
#: NEST glif_cond receptor ports (1-based; tau_syn/E_rev as listed by to_nest_glif) and ours (sign picks the buffer)
NEST_PORTS = {"exc": 1, "inh": 2}


def glif_levels() -> dict:
    """GLIF1-4 as in :func:`comparisons.agreement_glif_psc.glif_levels`, with the reversal potentials."""
    base = default_parameters("conductance")
    return {level: dict(base, **params) for level, params in agreement_glif_psc.glif_levels().items()}


def conductance_weight(weight_pA: float, receptor: str, params: dict) -> float:
    """Peak conductance (nS, positive) with about the effect of a PSC of ``weight_pA`` at V_TYPICAL."""
    e_rev = params["e_rev_E"] if receptor == "exc" else params["e_rev_I"]
    return abs(weight_pA) / abs(e_rev - V_TYPICAL)


def _create_pair(params: dict, resolution: float):
    import nest
    import glif_pynn.nest as glif_nest
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = resolution
    glif_nest.install()
    ours = nest.Create(MODEL, params=dict(nest_values(params), V_m=params["v_rest"]))
    theirs = nest.Create("glif_cond", params=to_nest_glif(params, conductance=True))
    return ours, theirs


def _connect_spikes(generator, ours, theirs, receptor: str, weight_nS: float, delay: float = 1.0) -> None:
    """One spike source to both models: NESTML port 0 (inhibition: negative weight), NEST port 1 or 2."""
    import nest
    sign = -1.0 if receptor == "inh" else 1.0
    nest.Connect(generator, ours, syn_spec={"weight": sign * weight_nS, "delay": delay, "receptor_type": 0})
    nest.Connect(generator, theirs, syn_spec={"weight": weight_nS, "delay": delay,
                                              "receptor_type": NEST_PORTS[receptor]})


def run_pair(params: dict, protocol, resolution: float, record=("V_m",), nest_record=("V_m",)):
    """Simulate both models for DURATION; return (spikes ours, spikes NEST, events ours, events NEST)."""
    import nest
    ours, theirs = _create_pair(params, resolution)
    for model, p, syn in protocol():
        gen = nest.Create(model, params=p)
        if syn is None:
            nest.Connect(gen, ours)
            nest.Connect(gen, theirs)
        else:
            _connect_spikes(gen, ours, theirs, syn[0], conductance_weight(syn[1], syn[0], params))
    out = []
    for neuron, rec in ((ours, record), (theirs, nest_record)):
        spikes = nest.Create("spike_recorder")
        meter = nest.Create("multimeter", params={"interval": resolution, "record_from": list(rec)})
        nest.Connect(neuron, spikes)
        nest.Connect(meter, neuron)
        out.append((spikes, meter))
    nest.Simulate(DURATION)
    (r0, m0), (r1, m1) = out
    return r0.events["times"], r1.events["times"], m0.events, m1.events


def asc_lag_offset(resolution: float, amplitude: float = 300.0, duration: float = 40.0) -> dict:
    """GLIF3 under a dc step: V(NEST) - V(NESTML) in the first step after the first refractory period.

    Returns the measured difference and the prediction ``-A / G (1 - exp(-h G / C))``, A being
    the NESTML model's mean after-spike current over that step (NEST integrates it with the
    pre-spike mean, 0), and the largest ``|dV|`` before the first spike and while V is held.
    """
    import nest
    params = glif_levels()["GLIF3"]
    ours, theirs = _create_pair(params, resolution)
    dc = nest.Create("dc_generator", params={"amplitude": amplitude})
    meters = []
    for neuron, rec in ((ours, ["V_m", "I_asc1", "I_asc2"]), (theirs, ["V_m"])):
        nest.Connect(dc, neuron)
        meter = nest.Create("multimeter", params={"interval": resolution, "record_from": rec})
        nest.Connect(meter, neuron)
        meters.append(meter)
    spikes = nest.Create("spike_recorder")
    nest.Connect(ours, spikes)
    nest.Simulate(duration)
    e0, e1 = meters[0].events, meters[1].events
    dv = e1["V_m"] - e0["V_m"]
    first = int(np.searchsorted(e0["times"], spikes.events["times"][0] - resolution / 2))
    held = int(round(params["tau_refrac"] / resolution))
    free = first + held + 1                    # the first step V is integrated again
    g_nS = 1e3 * params["cm"] / params["tau_m"]
    c_pF = 1e3 * params["cm"]
    mean_asc = sum(e0[f"I_asc{j}"][free - 1] * (1 - math.exp(-params[f"k_asc{j}"] * resolution))
                   / (params[f"k_asc{j}"] * resolution) for j in (1, 2))
    return {"resolution_ms": resolution, "measured_mV": float(dv[free]),
            "predicted_mV": float(-mean_asc / g_nS * (1 - math.exp(-resolution * g_nS / c_pF))),
            "max_abs_dv_before_spike_mV": float(np.abs(dv[:first]).max()),
            "max_abs_dv_while_held_mV": float(np.abs(dv[first + 1:free]).max())}


def run(resolutions=(0.1, 0.01), progress=None) -> list[dict]:
    """All levels x protocols x resolutions; one row of metrics each."""
    rows = []
    for level, params in glif_levels().items():
        for name, protocol in PROTOCOLS.items():
            for h in resolutions:
                ours, theirs, e0, e1 = run_pair(params, protocol, h)
                rows.append({"model": MODEL, "level": level, "protocol": name, "resolution_ms": h,
                             **pair_metrics(ours, theirs, e0["V_m"], e1["V_m"], "glif_cond")})
                if progress:
                    progress(f"{level} / {name} / h={h}")
    return rows


def markdown(rows: list[dict]) -> str:
    """The report section: heading, method, table."""
    columns = [("level", "level", "s"), ("protocol", "protocol", "s"), ("resolution_ms", "h (ms)", "g"),
               ("spikes_nestml", "spikes NESTML", "d"), ("spikes_glif_cond", "spikes glif_cond", "d"),
               ("coincidence_factor_2ms", "Gamma", ".3f"), ("max_abs_spike_dt_ms", r"max \|dt\| (ms)", ".3g"),
               ("mean_abs_spike_dt_ms", r"mean \|dt\| (ms)", ".3g"), ("v_rmse_mV", "V RMSE (mV)", ".3g")]
    lines = ["## NESTML GLIF_cond vs NEST glif_cond (GLIF1-4)", "",
             f"`{MODEL}` and NEST's `glif_cond` (parameters from `glif_pynn.convert.to_nest_glif(conductance=True)`, "
             "t_ref = 4 ms) in one kernel with the same generators, 1 s per protocol, spike weights converted from pA "
             f"to nS at V = {V_TYPICAL:g} mV; coincidence factor with a 2 ms window, spike-time differences over "
             "matched spikes, V RMSE over the whole run. GLIF2/4 differ by NEST's reset from the start-of-step "
             "voltage, GLIF3/4 by its after-spike current entering V one step late (see "
             "comparisons/agreement_glif_cond.py).", "", markdown_table(rows, columns)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    results = run(progress=print)
    print(markdown(results))
    for h in (0.1, 0.01):
        print(asc_lag_offset(h))
