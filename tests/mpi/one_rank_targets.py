"""Projections whose targets all live on one MPI rank, built between two runs.

Usage: python one_rank_targets.py OUTPUT.json  (under mpirun -np 2, and on one process)

NEST enters its exchange of connection targets (a collective MPI call) at the next run, or the next
query of connections, on every rank that called nest.Connect since the last one. Here the rank that holds
no target of a projection used to stay out of it:
- the fast path skipped nest.Connect there, and the second run hung;
- PyNN's own path (a plastic synapse) queries NEST after its first column, on the rank with targets
  only: the job aborted (MPI_ERR_TRUNCATE, Tsodyks-Markram) or hung (STDP);
- pyNN.nest's get() of a projection queried only where it has connections (a hang), and failed on a
  rank without any; set() failed there too, and on the other rank PyNEST refused its list of values.
Rank 0 writes the number of connections, the weights read right after construction and after the run,
and the spikes of the targets; every rank writes which path built each projection (OUTPUT.rankN).
"""
import json
import sys

import numpy as np
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
# PyNN's own path, onto the one cell of each rank in turn
depressing = sim.Projection(sources, cells[1:2], sim.AllToAllConnector(),
                            sim.TsodyksMarkramSynapse(weight=3.0, delay=0.5, U=0.5))
stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(), weight=0.5, delay=0.5,
                         weight_dependence=sim.AdditiveWeightDependence(w_max=2.0))
plastic = sim.Projection(sources, cells[2:3], sim.AllToAllConnector(), stdp)
built = (one, none, depressing, plastic)
one.set(weight=1.5)                                     # one value for all: set as one on every rank
plastic.set(weight=np.linspace(0.4, 0.9, 6)[:, None])   # a value per connection: set one at a time
weights_before = [prj.get("weight", format="list", gather=True) for prj in (one, plastic)]
sim.run(20.0)                                  # hung here on the rank without targets
spikes = cells.get_data("spikes").segments[0].spiketrains
sizes = [prj.size(gather=True) for prj in built]
weights_after = [prj.get("weight", format="array", gather=True) for prj in (one, depressing, plastic)]
paths = [projections.construction_path(prj) for prj in built]
with open(f"{output}.rank{sim.rank()}", "w") as handle:          # every rank's own labels
    json.dump(paths, handle)
if sim.rank() == 0:
    with open(output, "w") as handle:
        json.dump({"processes": sim.num_processes(), "sizes": sizes, "paths": paths,
                   "weights_before": [sorted(list(map(float, w)) for w in ws) for ws in weights_before],
                   "weights_after": [w.tolist() for w in weights_after],
                   "spikes": {int(st.annotations["source_index"]): [float(t) for t in st.magnitude]
                              for st in spikes}}, handle)
sim.end()
