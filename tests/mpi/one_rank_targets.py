"""A projection whose targets all live on one MPI rank, built between two runs.

Usage: python one_rank_targets.py OUTPUT.json  (under mpirun -np 2)

NEST enters its exchange of connection targets (a collective MPI call) at the next run on
every rank that called nest.Connect since the last one. The fast path used to skip
nest.Connect on a rank that holds no target of the projection, and the second run hung.
Rank 0 writes the number of connections of each projection and the spikes of the target.
"""
import json
import sys

import pyNN.nest as sim

import glif_pynn.nest as glif
from glif_pynn.nest import projections

output = sys.argv[1]
sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
sources = sim.Population(6, sim.SpikeSourceArray(spike_times=[[2.0 + k] for k in range(6)]))
cells = sim.Population(4, glif.GLIF_curr_exp())
cells.record("spikes")
sim.run(1.0)                                   # a first exchange of targets
one = sim.Projection(sources, cells[0:1], sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=0.5))
# one cell onto itself without autapses: no connection, and the only cell of both sides lives on one rank
none = sim.Projection(cells[0:1], cells[0:1], sim.AllToAllConnector(allow_self_connections=False))
sim.run(20.0)                                  # hung here on the rank without targets
spikes = cells.get_data("spikes").segments[0].spiketrains
sizes = [one.size(gather=True), none.size(gather=True)]
if sim.rank() == 0:
    with open(output, "w") as handle:
        json.dump({"processes": sim.num_processes(), "sizes": sizes,
                   "paths": [projections.construction_path(one), projections.construction_path(none)],
                   "spikes": {int(st.annotations["source_index"]): [float(t) for t in st.magnitude]
                              for st in spikes}}, handle)
sim.end()
