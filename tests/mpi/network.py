"""A randomised GLIF network in PyNN, for comparing MPI / thread splits of the same run.

Usage: python network.py THREADS OUTPUT_PREFIX  (optionally under mpirun -np N)

Poisson input is drawn once with a seeded numpy generator and given as spike arrays,
and connectivity and initial values use PyNN's parallel-safe NumpyRNG, so the
network is the same however NEST splits it. Rank 0 writes OUTPUT_PREFIX.npz (spikes
and V gathered from all ranks by get_data) and OUTPUT_PREFIX.pkl (write_data).
"""
import sys

import numpy as np
import pyNN.nest as sim
from neo.io import PickleIO
from pyNN.random import NumpyRNG, RandomDistribution

from glif_pynn.nest import GLIF_cond_exp, GLIF_curr_alpha

threads, prefix = int(sys.argv[1]), sys.argv[2]
sim.setup(timestep=0.1, min_delay=0.5, threads=threads)
rng = NumpyRNG(seed=20261128, parallel_safe=True)

exc = sim.Population(60, GLIF_curr_alpha(tau_refrac=2.0), label="exc")
inh = sim.Population(20, GLIF_cond_exp(tau_refrac=2.0), label="inh")
for pop in (exc, inh):
    pop.initialize(v=RandomDistribution("uniform", (-78.0, -60.0), rng=rng))
cells = exc + inh

draw = np.random.default_rng(7)
trains = [np.round(np.sort(draw.uniform(1.0, 300.0, draw.poisson(0.05 * 300.0))), 1) for _ in range(40)]
poisson = sim.Population(40, sim.SpikeSourceArray(spike_times=[sim.Sequence(t) for t in trains]), label="poisson")

sim.Projection(poisson, exc, sim.FixedProbabilityConnector(0.3, rng=rng),
               sim.StaticSynapse(weight=RandomDistribution("uniform", (0.05, 0.15), rng=rng), delay=1.0),
               receptor_type="excitatory")
sim.Projection(poisson, inh, sim.FixedProbabilityConnector(0.3, rng=rng),
               sim.StaticSynapse(weight=0.004, delay=1.0), receptor_type="excitatory")
sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.1, rng=rng),
               sim.StaticSynapse(weight=0.03, delay=RandomDistribution("uniform", (0.5, 3.0), rng=rng)),
               receptor_type="excitatory")
sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.1, rng=rng),
               sim.StaticSynapse(weight=0.005, delay=RandomDistribution("uniform", (0.5, 3.0), rng=rng)),
               receptor_type="excitatory")
sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.2, rng=rng),
               sim.StaticSynapse(weight=-0.05, delay=0.8), receptor_type="inhibitory")

cells.record("spikes")
exc[:10].record("v")
sim.run(300.0)

spikes = cells.get_data("spikes").segments[0].spiketrains
v = exc[:10].get_data("v").segments[0].analogsignals[0]
exc.write_data(PickleIO(f"{prefix}.pkl"), variables=["spikes", "v"])
if sim.rank() == 0:
    offset = {"exc": 0, "inh": exc.size}     # one index across both populations
    pairs = sorted((offset[st.annotations["source_population"]] + int(st.annotations["source_index"]), float(t))
                   for st in spikes for t in st.magnitude)
    # gathered from several ranks, the columns come in rank order: sort them by cell
    order = np.argsort(v.array_annotations["channel_index"])
    np.savez(f"{prefix}.npz", pairs=np.array(pairs), v=np.asarray(v.magnitude)[:, order],
             channels=np.asarray(v.array_annotations["channel_index"])[order], processes=sim.num_processes())
sim.end()
