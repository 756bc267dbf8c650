"""Convergence of V(t) as the time step shrinks, against the closed-form solution.

Protocol (GLIF3, after-spike currents and reset to V_reset): the neuron starts far
above threshold, so that it spikes in the first step at every resolution; the spike
starts two after-spike currents, V is held for t_ref = 1 ms (a multiple of every h
used) and then relaxes under a constant current (dc_generator) below rheobase, with
no further spike. From t0 = h + t_ref on, V(t) is known in closed form, so the error
of each implementation at t = 20 ms can be measured for h from 1 ms to 0.01 ms, and
its order read off as the slope of log(error) against log(h). The NESTML current
flavours use exact propagators (error at rounding level, no order); NEST's glif_psc
holds the mean after-spike current of each step constant in the voltage update.
"""
from __future__ import annotations

import math

import numpy as np

RESOLUTIONS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
C_M, G, E_L, V_TH, V_RESET = 58.72, 9.43, -78.85, -51.68, -70.0   # pF, nS, mV
I_DC = 150.0                    # pA: with the after-spike currents V stays below threshold
ASC = (-20.0, 60.0)             # pA, after-spike current values at the end of the refractory period
K = (0.3, 0.05)                 # 1/ms
T_REF = 1.0
T_END = 20.0


def exact_v(t: float, h: float) -> float:
    """V(t) for t >= t0 = h + T_REF."""
    a, s = G / C_M, t - h - T_REF
    v = E_L + (V_RESET - E_L) * math.exp(-a * s) + I_DC / G * -math.expm1(-a * s)
    return v + sum(i0 / C_M * (math.exp(-k * s) - math.exp(-a * s)) / (a - k) for i0, k in zip(ASC, K))


def _simulate(model: str, h: float) -> tuple[float, float]:
    import nest

    import glif_pynn.nest as glif_nest
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = h
    glif_nest.install()
    if model == "glif_psc":
        params = {"C_m": C_M, "g": G, "E_L": E_L, "V_m": 0.0, "V_th": V_TH, "V_reset": V_RESET, "t_ref": T_REF,
                  "after_spike_currents": True, "asc_decay": list(K), "asc_amps": list(ASC), "asc_r": [1.0, 1.0]}
    else:   # the same cell through the refractory jump rescaling of glif_pynn.convert
        params = {"C_m": C_M, "g_L": G, "E_L": E_L, "V_m": 0.0, "V_th": V_TH, "t_ref": T_REF,
                  "voltage_reset_fraction": 0.0, "voltage_reset_add": V_RESET - E_L, "th_spike_add": 0.0,
                  "asc_decay1": K[0], "asc_decay2": K[1], "asc_r1": 1.0, "asc_r2": 1.0,
                  "asc_amp1": ASC[0] * math.exp(K[0] * T_REF), "asc_amp2": ASC[1] * math.exp(K[1] * T_REF)}
    neuron = nest.Create(model, params=params)
    nest.Connect(nest.Create("dc_generator", params={"amplitude": I_DC}), neuron, syn_spec={"delay": h})
    meter = nest.Create("multimeter", params={"interval": h, "record_from": ["V_m"]})
    spikes = nest.Create("spike_recorder")
    nest.Connect(meter, neuron)
    nest.Connect(neuron, spikes)
    nest.Simulate(T_END)
    assert list(spikes.events["times"]) == [h], f"{model} at h={h}: exactly one spike, in the first step"
    times, v = meter.events["times"], meter.events["V_m"]
    last = int(np.argmax(times))     # the multimeter's last sample, at T_END - h
    return float(times[last]), float(v[last])


MODELS = ("glif_psc_exp_neuron", "glif_psc_alpha_neuron", "glif_cond_exp_neuron", "glif_psc")


def run(progress=None) -> list[dict]:
    """Error of V(T_END) for each model and resolution."""
    rows = []
    for model in MODELS:
        for h in RESOLUTIONS:
            t, v = _simulate(model, h)
            error = abs(v - exact_v(t, h))
            rows.append({"model": model, "resolution_ms": h, "abs_error_mV": error})
        if progress:
            progress(f"convergence: {model}")
    return rows


def observed_order(rows: list[dict], model: str) -> float:
    """Least-squares slope of log(error) against log(h), over errors above rounding (1e-12 mV)."""
    pts = [(math.log(r["resolution_ms"]), math.log(r["abs_error_mV"])) for r in rows
           if r["model"] == model and r["abs_error_mV"] > 1e-12]
    if len(pts) < 3:
        return float("nan")
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


if __name__ == "__main__":
    result = run(progress=print)
    for row in result:
        print(row)
    for model in MODELS:
        print(model, "order", observed_order(result, model))
