"""One GLIF neuron (NESTML model, raw PyNEST) under a current step: spike times and a figure."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from glif_pynn.parameters import PARAMETERS, default_parameters


def nest_parameters(pynn_values: dict) -> dict:
    """NESTML parameter values for PyNN-named values (units and names from the parameter table)."""
    table = {p.name: p for p in PARAMETERS}
    out = {table[name].nest_name: value * table[name].nest_scale
           for name, value in pynn_values.items() if table[name].nest_name}
    out["g_L"] = 1e3 * pynn_values["cm"] / pynn_values["tau_m"]
    return out


def run_demo(output: str = "results/demo.png", amplitude_nA: float = 0.3, duration_ms: float = 1000.0) -> np.ndarray:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nest

    import glif_pynn.nest as glif_nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.resolution = 0.1
    glif_nest.install()
    values = default_parameters("current")
    neuron = nest.Create("glif_psc_exp_neuron", params=nest_parameters(values))
    step = nest.Create("step_current_generator", params={
        "amplitude_times": [0.2 * duration_ms, 0.8 * duration_ms], "amplitude_values": [amplitude_nA * 1e3, 0.0]})
    meter = nest.Create("multimeter", params={"interval": 0.1, "record_from": ["V_m", "theta_s", "I_asc1", "I_asc2"]})
    spikes = nest.Create("spike_recorder")
    nest.Connect(step, neuron)
    nest.Connect(meter, neuron)
    nest.Connect(neuron, spikes)
    nest.Simulate(duration_ms)

    times = spikes.events["times"]
    print(f"GLIF_curr_exp (NESTML, defaults of {__package__}.parameters) under a {amplitude_nA} nA step "
          f"from {0.2 * duration_ms:g} to {0.8 * duration_ms:g} ms: {len(times)} spikes")
    print("spike times (ms):", " ".join(f"{t:.1f}" for t in times))

    ev = meter.events
    t = ev["times"]
    fig, (ax_v, ax_i) = plt.subplots(2, 1, sharex=True, figsize=(8, 6))
    ax_v.plot(t, ev["V_m"], lw=0.8, label="V")
    ax_v.plot(t, values["v_thresh"] + ev["theta_s"], lw=0.8, label=r"threshold $\Theta_\infty + \Theta_s$")
    ax_v.set_ylabel("mV")
    ax_v.legend(loc="upper right")
    ax_v.set_title("GLIF neuron with reset under a current step")
    ax_i.plot(t, ev["I_asc1"] * 1e-3, lw=0.8, label="after-spike current 1")
    ax_i.plot(t, ev["I_asc2"] * 1e-3, lw=0.8, label="after-spike current 2")
    ax_i.set_ylabel("nA")
    ax_i.set_xlabel("time (ms)")
    ax_i.legend(loc="lower right")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    print(f"figure: {output}")
    return times
