"""NEST 3.10's MPI target-exchange bug through PyNN: eleven GLIF cells and spike sources.

Usage: mpirun -np 2 python pynn_repro.py OUTPUT.json

Seven GLIF_curr_exp cells that never fire (threshold 500 mV) receive one spike of 1 nA from some of
four spike sources (FromListConnector), then a second projection connects the silent cells among
themselves with 1000 nA. Rank 0 writes each cell's largest excitatory synaptic current and the value
it must have: the number of spike-source connections it receives (nA), since no silent cell fires.
pyNN.nest's own construction path queries the connections after the first projection (an exchange
of targets); on an unpatched kernel with compressed spikes the next exchange then delivers a source's
spike through 1000 nA synapses. Found by a random search over small PyNN networks.
"""
import json
import sys

import numpy as np
import pyNN.nest as sim

from glif_pynn.nest import GLIF_curr_exp

output = sys.argv[1]
sim.setup(timestep=0.1, min_delay=1.0)
QUIET = dict(v_thresh=500.0, delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, tau_m=1e4, cm=1.0)
silent = sim.Population(7, GLIF_curr_exp(**QUIET))
sources = sim.Population(4, sim.SpikeSourceArray(spike_times=[2.0]))
first = [(0, 0), (0, 1), (0, 2), (1, 2), (1, 5), (2, 3), (3, 2), (3, 5), (3, 6)]
sim.Projection(sources, silent, sim.FromListConnector([(a, b, 1.0, 1.0) for a, b in first]),
               receptor_type="excitatory")
second = [(0, 2), (1, 3), (2, 0), (2, 3), (2, 6), (3, 5), (3, 6), (5, 0)]
sim.Projection(silent, silent, sim.FromListConnector([(a, b, 1000.0, 1.0) for a, b in second]),
               receptor_type="excitatory")
silent.record("isyn_exc")
sim.run(4.0)
signal = silent.get_data("isyn_exc").segments[0].analogsignals[0]
if sim.rank() == 0:
    order = np.argsort(signal.array_annotations["channel_index"])
    expected = np.zeros(silent.size)
    for _, post in first:
        expected[post] += 1.0
    with open(output, "w") as stream:
        json.dump({"peak_nA": np.asarray(signal.magnitude).max(axis=0)[order].tolist(),
                   "expected_nA": expected.tolist(), "processes": sim.num_processes()}, stream)
sim.end()
