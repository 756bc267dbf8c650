"""The NESTML model (pyNN.nest) against the numpy reference (glif_pynn.reference), same PyNN script.

For each cell type and protocol one PyNN function builds and runs the same network on
both backends; reported are the number of spikes, whether every spike falls in the same
step, and the largest ``|V difference|``. Protocols: current steps and a ramp
(StepCurrentSource), excitatory and inhibitory spike input including simultaneous
arrivals, Poisson-driven single neurons (trains drawn once with numpy, so that both
backends get the same spikes), and a 1,000-neuron random network with delays driven by
fixed spike sources (1 s for the current types, 300 ms for the conductance types).
"""
from __future__ import annotations

import numpy as np

from comparisons.protocols import DURATION

CELL_TYPES = ("GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp", "GLIF_cond_alpha")


def _trains(rng, n, rate_hz, t_stop):
    return [np.unique(np.round(rng.uniform(0.1, t_stop, rng.poisson(rate_hz * t_stop / 1000.0)), 1)) for _ in range(n)]


def _single(sim, cells, cell_type, protocol):
    sim.setup(timestep=0.1, min_delay=0.1)
    conductance = cell_type.startswith("GLIF_cond")
    w_exc, w_inh = (0.02, 0.03) if conductance else (0.08, -0.06)
    neuron = sim.Population(1, getattr(cells, cell_type)(tau_refrac=2.0))
    rng = np.random.default_rng(3)
    if protocol == "current steps":
        sim.StepCurrentSource(times=[100.0, 300.0, 550.0, 800.0], amplitudes=[0.3, 0.45, 0.28, 0.0]).inject_into(neuron)
    elif protocol == "current ramp":
        times = np.round(np.arange(100.0, 900.0, 1.0), 1)
        sim.StepCurrentSource(times=times, amplitudes=np.linspace(0.15, 0.6, len(times))).inject_into(neuron)
    else:
        rate_exc, rate_inh = (900.0, 300.0) if protocol == "spike input" else (2000.0, 800.0)
        exc, inh = _trains(rng, 1, rate_exc, DURATION)[0], _trains(rng, 1, rate_inh, DURATION)[0]
        if protocol == "spike input":
            inh = np.unique(np.concatenate([inh, exc[::10]]))     # simultaneous arrivals
        for times, weight, receptor in ((exc, w_exc, "excitatory"), (inh, w_inh, "inhibitory")):
            source = sim.Population(1, sim.SpikeSourceArray(spike_times=times))
            sim.Projection(source, neuron, sim.AllToAllConnector(), sim.StaticSynapse(weight=weight, delay=1.0),
                           receptor_type=receptor)
        # from 50 ms, away from pyNN.nest's lost first steps (docs/guide/reference-backend.md), which the reference reproduces
        sim.DCSource(amplitude=0.15, start=50.0).inject_into(neuron)
    neuron.record(["spikes", "v"])
    sim.run(DURATION)
    seg = neuron.get_data().segments[0]
    result = (seg.spiketrains[0].magnitude.copy(), seg.analogsignals[0].magnitude[:, 0].copy())
    sim.end()
    return result


def _network(sim, cells, cell_type):
    t_stop = 300.0 if cell_type.startswith("GLIF_cond") else DURATION
    conductance = cell_type.startswith("GLIF_cond")
    sim.setup(timestep=0.1, min_delay=0.1)
    rng = np.random.default_rng(11)
    pop = sim.Population(1000, getattr(cells, cell_type)(tau_refrac=2.0))
    drive = sim.Population(100, sim.SpikeSourceArray(spike_times=[sim.Sequence(t) for t in _trains(rng, 100, 20.0, t_stop)]))
    conn = rng.random((100, 1000)) < 0.1
    pre, post = np.nonzero(conn)
    w = 0.01 if conductance else 0.15
    sim.Projection(drive, pop, sim.FromListConnector([(int(i), int(j), w, 1.0) for i, j in zip(pre, post)]),
                   sim.StaticSynapse(), receptor_type="excitatory")
    rec = rng.random((1000, 1000)) < 0.02
    pre, post = np.nonzero(rec)
    delays = np.round(rng.uniform(0.1, 5.0, len(pre)), 1)
    exc = pre < 800
    for mask, receptor, weight in ((exc, "excitatory", 0.003 if conductance else 0.05),
                                   (~exc, "inhibitory", 0.005 if conductance else -0.1)):
        sim.Projection(pop, pop, sim.FromListConnector([(int(i), int(j), weight, float(d)) for i, j, d in
                                                         zip(pre[mask], post[mask], delays[mask])]),
                       sim.StaticSynapse(), receptor_type=receptor)
    pop.record("spikes")
    sim.run(t_stop)
    trains = pop.get_data().segments[0].spiketrains
    pairs = sorted((int(st.annotations["source_index"]), int(round(t / 0.1))) for st in trains for t in st.magnitude)
    sim.end()
    return pairs


def _backends():
    import pyNN.nest as nest_sim

    import glif_pynn.nest as nest_cells
    import glif_pynn.reference as ref_sim
    return (nest_sim, nest_cells), (ref_sim, ref_sim)


def run(progress=None) -> list[dict]:
    (nest_sim, nest_cells), (ref_sim, ref_cells) = _backends()
    rows = []
    for cell_type in CELL_TYPES:
        for protocol in ("current steps", "current ramp", "spike input", "Poisson drive"):
            (s_nest, v_nest), (s_ref, v_ref) = (_single(nest_sim, nest_cells, cell_type, protocol),
                                                _single(ref_sim, ref_cells, cell_type, protocol))
            same = len(s_nest) == len(s_ref) and np.array_equal(np.round(s_nest / 0.1), np.round(s_ref / 0.1))
            rows.append({"cell_type": cell_type, "protocol": protocol, "spikes_nest": int(len(s_nest)),
                         "spikes_reference": int(len(s_ref)), "same_spike_steps": bool(same),
                         "max_abs_dv_mV": float(np.max(np.abs(v_nest - v_ref)))})
        a, b = _network(nest_sim, nest_cells, cell_type), _network(ref_sim, ref_cells, cell_type)
        rows.append({"cell_type": cell_type, "protocol": "1000-neuron network", "spikes_nest": len(a),
                     "spikes_reference": len(b), "same_spike_steps": a == b, "max_abs_dv_mV": float("nan")})
        if progress:
            progress(f"reference agreement: {cell_type}")
    return rows


if __name__ == "__main__":
    for row in run(progress=print):
        print(row)
