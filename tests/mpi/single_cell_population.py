"""Populations of one cell on several MPI ranks.

Usage: python single_cell_population.py OUTPUT.json  (under mpirun -np 2, and on one process)

On a rank that does not hold a population's only cell, pyNN.nest 0.13 failed in the Population's own
initialize() (a 0-d mask of local cells) and, once that passed, in get_data() (the indices of no local
cells). The hooks of glif_pynn.nest mend both; rank 0 writes what it gathered, for comparison with one
process.

Under MPI pyNN.nest also took V at t = 0 (which NEST does not record) from the wrong cell: the cell's index
among this rank's cells, in the initial values of the whole population.
"""
import json
import sys

import numpy as np
import pyNN.nest as sim
from pyNN.random import NumpyRNG, RandomDistribution

import glif_pynn.nest as glif

output = sys.argv[1]
sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
source = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0, 5.0]))
cell = sim.Population(1, glif.GLIF_curr_exp(i_offset=0.25))
cell.initialize(v=-60.0)
cell.set(tau_refrac=3.0)
other = sim.Population(1, glif.GLIF_curr_exp(i_offset=0.3))     # the next node: on the other rank
targets = sim.Population(3, glif.GLIF_curr_exp())
# V at t = 0 (pyNN.nest adds it from the initial values): drawn at random, and given as an array
at_rest = dict(v_rest=-70.0, tau_m=20.0, v_thresh=-40.0)             # no input: V only relaxes
started = sim.Population(5, glif.GLIF_curr_exp(**at_rest))
started.initialize(v=RandomDistribution("uniform", (-70.0, -55.0), rng=NumpyRNG(seed=3, parallel_safe=True)))
given = sim.Population(5, glif.GLIF_curr_exp(**at_rest))
given.initialize(v=np.linspace(-70.0, -60.0, 5))
started.record("v")
given.record("v")
cell.record(["spikes", "v"])
targets.record("spikes")
other.record("spikes")
sim.Projection(source, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=0.5))
sim.Projection(cell, targets, sim.AllToAllConnector(), sim.StaticSynapse(weight=5.0, delay=0.5))
sim.run(50.0)
recorded = cell.get_data().segments[0]
received = targets.get_data("spikes").segments[0]
other_spikes = other.get_data("spikes").segments[0].spiketrains      # gathered on rank 0 only
tau_refrac = cell.get("tau_refrac", gather=True)
view_tau_refrac = targets[1:2].get("tau_refrac", gather=True)      # a view of one cell: no local cell on a rank
first_samples = {}
for population in (started, given):
    signal = population.get_data("v").segments[0].filter(name="v")[0]
    first_samples[population.label] = signal.magnitude[:2, np.argsort(signal.array_annotations["channel_index"])]
if sim.rank() == 0:
    v = recorded.filter(name="v")[0]
    with open(output, "w") as handle:
        json.dump({"processes": sim.num_processes(), "tau_refrac": float(tau_refrac), "view_tau_refrac": float(view_tau_refrac),
                   "spikes": [[float(t) for t in st.magnitude] for st in recorded.spiketrains],
                   "v": [float(x) for x in v.magnitude[:, 0]],
                   "other": [float(t) for t in other_spikes[0].magnitude],
                   "local": [cell.local_size, other.local_size],
                   "first_samples": {label: v.tolist() for label, v in first_samples.items()},
                   "targets": {int(st.annotations["source_index"]): [float(t) for t in st.magnitude]
                               for st in received.spiketrains}}, handle)
sim.end()
