"""Run one GLIF model of a given module build under a fixed protocol; write every recorded state.

Usage: python run_model.py LIBRARY MODEL OUTPUT.npz WEIGHTS [ROUND_TRIP]

LIBRARY is a glifmodule.so (path with or without .so); MODEL a NEST model name in it. Twenty cells
(ten plain, ten GLIF5 with escape noise) get a dc_generator, a step_current_generator and
excitatory and inhibitory spike trains, have a refractory period and fire; half way, five cells get
another capacitance and refractory period; every recordable and the spike times are written. WEIGHTS
"exact" uses weights w for which NESTML's unit conversion ``(u * (0.001 * w)) * 1000.`` equals
``u * w`` exactly; "any" uses others. ROUND_TRIP "round-trip" hands NEST the weights after the round
trip ``(0.001 * w) * 1000.`` computed here, which is what the unedited code applies when the unit
factor u is 1 (the exp models).
"""
import sys

import nest
import numpy as np

library, model, output, weights = sys.argv[1:5]
round_trip = len(sys.argv) > 5 and sys.argv[5] == "round-trip"
nest.ResetKernel()
nest.set_verbosity("M_ERROR")
nest.set(resolution=0.1, rng_seed=7)
nest.Install(library[:-3] if library.endswith(".so") else library)

N = 20
common = {"t_ref": 2.0, "asc_amp1": -9.0, "asc_amp2": -180.0, "th_spike_add": 0.4, "th_spike_decay": 0.01,
          "voltage_reset_fraction": 0.2, "voltage_reset_add": 18.5}
cells = nest.Create(model, N, params=common)
cells[N // 2:].set({"th_voltage_index": 0.005, "Delta_V": 1.0, "lambda_0": 500.0})   # GLIF5, escape noise
ports = [name for name in nest.GetDefaults(model)["receptor_types"]] if nest.GetDefaults(model).get(
    "receptor_types") else []
nest.Connect(nest.Create("dc_generator", params={"amplitude": 150.0}), cells)
nest.Connect(nest.Create("step_current_generator", params={"amplitude_times": [50.0, 150.0],
                                                           "amplitude_values": [120.0, -40.0]}), cells)
draw = np.random.default_rng(3)
conductance = model.startswith("glif_cond")
if weights == "exact":
    # w = 1000 times a power of two: 0.001 * w is then that power of two exactly, so NESTML's (u * (0.001 * w)) * 1000. and the
    # edited u * w are the same single rounding of u * w, for any unit factor u (e / tau_syn on alpha ports).
    candidates = (1000.0 / 1024 if conductance else 125.0) * 2.0 ** np.arange(-1, 3)     # nS or pA
    assert np.all(np.log2(0.001 * candidates) % 1 == 0) and np.all(1000.0 * (0.001 * candidates) == candidates)
else:
    candidates = draw.uniform(20.0, 400.0, 50) * (0.01 if conductance else 1.0)
    assert np.any((0.001 * candidates) * 1000.0 != candidates), "some weights must change in the round trip"
# Each port of each cell hears one generator, whose spikes fall in distinct steps, so no two weights
# share a step: NESTML's code converts the sum NEST delivers, and handing the edited module the
# round-tripped single weights then reproduces it exactly.
port_count = len(ports) if ports else 2
slots = draw.permutation(N * port_count)[:40]
for slot in slots:
    cell, port = divmod(int(slot), port_count)
    times = np.unique(np.round(draw.uniform(1.0, 299.0, 15), 1))
    generator = nest.Create("spike_generator", params={"spike_times": times})
    w = float(draw.choice(candidates))
    if round_trip:
        w = (0.001 * w) * 1000.0
    if ports:       # N-port model: receptor types 1..N, either sign on current ports
        sign = 1.0 if conductance else float(draw.choice([1.0, -1.0]))
        syn_spec = {"weight": sign * w, "delay": 1.0, "receptor_type": port + 1}
    else:           # port 0 excitatory (positive weights), port 1 inhibitory (negative)
        syn_spec = {"weight": w if port == 0 else -w, "delay": 1.0}
    nest.Connect(generator, cells[cell], syn_spec=syn_spec)
recordables = nest.GetDefaults(model)["recordables"]
meter = nest.Create("multimeter", params={"record_from": recordables, "interval": 0.1})
nest.Connect(meter, cells)
recorder = nest.Create("spike_recorder")
nest.Connect(cells, recorder)
# Between two Run calls of one Prepare a quarter of the cells get another C_m and t_ref: set_status, not
# pre_run_hook, recomputes their internals, and the edited module's cells must follow (shared internals).
nest.Prepare()
nest.Run(150.0)
cells[:N // 4].set({"C_m": 1.5 * cells[0].get("C_m"), "t_ref": 3.0})
nest.Run(150.0)
nest.Cleanup()
events = meter.events
order = np.lexsort((events["senders"], events["times"]))
spikes = recorder.events
spike_order = np.lexsort((spikes["senders"], spikes["times"]))
np.savez(output, spike_senders=spikes["senders"][spike_order], spike_times=spikes["times"][spike_order],
         **{name: np.asarray(events[name])[order] for name in recordables})
