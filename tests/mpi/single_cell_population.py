"""Populations of one cell on several MPI ranks.

Usage: python single_cell_population.py OUTPUT.json  (under mpirun -np 2, and on one process)

On a rank that does not hold a population's only cell, pyNN.nest 0.13 failed in the Population's own
initialize() (a 0-d mask of local cells) and, once that passed, in get_data() (the indices of no local
cells). The hooks of glif_pynn.nest mend both; rank 0 writes what it gathered, for comparison with one
process.
"""
import json
import sys

import pyNN.nest as sim

import glif_pynn.nest as glif

output = sys.argv[1]
sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
source = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0, 5.0]))
cell = sim.Population(1, glif.GLIF_curr_exp(i_offset=0.25))
cell.initialize(v=-60.0)
cell.set(tau_refrac=3.0)
other = sim.Population(1, glif.GLIF_curr_exp(i_offset=0.3))     # the next node: on the other rank
targets = sim.Population(3, glif.GLIF_curr_exp())
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
if sim.rank() == 0:
    v = recorded.filter(name="v")[0]
    with open(output, "w") as handle:
        json.dump({"processes": sim.num_processes(), "tau_refrac": float(tau_refrac), "view_tau_refrac": float(view_tau_refrac),
                   "spikes": [[float(t) for t in st.magnitude] for st in recorded.spiketrains],
                   "v": [float(x) for x in v.magnitude[:, 0]],
                   "other": [float(t) for t in other_spikes[0].magnitude],
                   "local": [cell.local_size, other.local_size],
                   "targets": {int(st.annotations["source_index"]): [float(t) for t in st.magnitude]
                               for st in received.spiketrains}}, handle)
sim.end()
