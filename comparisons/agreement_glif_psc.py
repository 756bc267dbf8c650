"""NESTML GLIF (glif_psc_alpha_neuron) against NEST's hand-written glif_psc, GLIF1 to GLIF4.

Both models sit in one kernel and receive the same generators; the NEST parameters
come from :func:`glif_pynn.convert.to_nest_glif`, which maps the refractory jump
convention exactly. What remains is what cannot be mapped (docs/model.md, "Differences
from NEST's glif_psc and glif_cond"): NEST's reset from the start-of-step voltage (GLIF2/4, f_v > 0) and its
O(h^2) voltage update with after-spike currents (GLIF3/4).
"""
from __future__ import annotations

import numpy as np

from comparisons.protocols import DURATION, PROTOCOLS
from glif_pynn.convert import to_nest_glif
from glif_pynn.metrics import coincidence_factor, matched_spike_differences, rmse
from glif_pynn.parameters import default_parameters, nest_values

TAU_REFRAC = 4.0   # a multiple of every resolution used, as the converter requires


def glif_levels() -> dict:
    """GLIF1-4 configurations derived from the package defaults (Allen fit, see parameters.py)."""
    base = dict(default_parameters("current"), tau_refrac=TAU_REFRAC)
    no_asc = dict(delta_asc1=0.0, delta_asc2=0.0)
    no_r = dict(delta_theta=0.0, f_v=0.0, delta_v=0.0)
    return {"GLIF1": dict(base, **no_asc, **no_r), "GLIF2": dict(base, **no_asc),
            "GLIF3": dict(base, **no_r), "GLIF4": dict(base)}


def run_pair(params: dict, protocol, resolution: float):
    """Simulate both models; return (spikes ours, spikes NEST, V ours, V NEST)."""
    import nest
    import glif_pynn.nest as glif_nest
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = resolution
    glif_nest.install()
    ours = nest.Create("glif_psc_alpha_neuron", params=dict(nest_values(params), V_m=params["v_rest"]))
    theirs = nest.Create("glif_psc", params=to_nest_glif(params))
    ports = {ours.global_id: {"exc": 0, "inh": 0}, theirs.global_id: {"exc": 1, "inh": 2}}
    generators = [(nest.Create(model, params=p), syn) for model, p, syn in protocol()]
    out = []
    for neuron in (ours, theirs):
        for gen, syn in generators:
            spec = None if syn is None else {"weight": syn[1], "delay": 1.0,
                                             "receptor_type": ports[neuron.global_id][syn[0]]}
            nest.Connect(gen, neuron, syn_spec=spec)
        rec = nest.Create("spike_recorder")
        meter = nest.Create("multimeter", params={"interval": resolution, "record_from": ["V_m"]})
        nest.Connect(neuron, rec)
        nest.Connect(meter, neuron)
        out.append((rec, meter))
    nest.Simulate(DURATION)
    (r0, m0), (r1, m1) = out
    return r0.events["times"], r1.events["times"], m0.events["V_m"], m1.events["V_m"]


def pair_metrics(ours, theirs, v_ours, v_theirs, peer: str) -> dict:
    """Spike counts, coincidence factor (2 ms), spike-time differences and V RMSE of one pair of runs;
    ``peer`` names NEST's model in the key of its spike count."""
    diff = np.abs(matched_spike_differences(ours, theirs))
    return {"spikes_nestml": int(len(ours)), f"spikes_{peer}": int(len(theirs)),
            "coincidence_factor_2ms": coincidence_factor(ours, theirs, DURATION, 2.0),
            "max_abs_spike_dt_ms": float(diff.max()) if len(diff) else 0.0,
            "mean_abs_spike_dt_ms": float(diff.mean()) if len(diff) else 0.0,
            "v_rmse_mV": rmse(v_ours, v_theirs)}


def run(resolutions=(0.1, 0.01), progress=None) -> list[dict]:
    """All levels x protocols x resolutions; one row of metrics each."""
    rows = []
    for level, params in glif_levels().items():
        for name, protocol in PROTOCOLS.items():
            for h in resolutions:
                ours, theirs, v0, v1 = run_pair(params, protocol, h)
                rows.append({"level": level, "protocol": name, "resolution_ms": h,
                             **pair_metrics(ours, theirs, v0, v1, "glif_psc")})
                if progress:
                    progress(f"{level} / {name} / h={h}")
    return rows


if __name__ == "__main__":
    for row in run(progress=print):
        print(row)
