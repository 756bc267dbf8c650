"""A 400-cell recurrent GLIF network with random connectivity, weights, delays and initial V.

Usage: python random_network.py THREADS OUTPUT_PREFIX DRIVE   (optionally under mpirun -np N)
DRIVE: ``arrays`` (SpikeSourceArray only) or ``poisson`` (SpikeSourceArray and SpikeSourcePoisson).

Everything random is drawn by PyNN's parallel-safe NumpyRNG (connectivity, weights, delays,
initial V) or a seeded numpy generator (the spike arrays), so the network is the same however
NEST splits it. SpikeSourcePoisson is drawn by NEST's per-virtual-process generators: its
trains are the same for the same number of virtual processes (2 ranks x 1 thread and 1 process
x 2 threads) but not for 1 x 1. Rank 0 writes OUTPUT_PREFIX.npz: the (cell, spike time) pairs
of all cells, V of 20 cells, the spike count and the number of processes.
"""
import sys

import numpy as np
import pyNN.nest as sim
from pyNN.random import NumpyRNG, RandomDistribution

from glif_pynn.nest import GLIF_cond_exp, GLIF_curr_exp

threads, prefix, drive = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sim.setup(timestep=0.1, min_delay=0.5, threads=threads, rng_seed=12345)
rng = NumpyRNG(seed=20261203, parallel_safe=True)

exc = sim.Population(320, GLIF_curr_exp(tau_refrac=2.0, i_offset=0.25), label="exc")
inh = sim.Population(80, GLIF_cond_exp(tau_refrac=2.0, i_offset=0.25), label="inh")
for pop in (exc, inh):
    pop.initialize(v=RandomDistribution("uniform", (-78.0, -55.0), rng=rng))
cells = exc + inh

draw = np.random.default_rng(11)
trains = [np.round(np.sort(draw.uniform(1.0, 300.0, draw.poisson(10.0 * 0.3))), 1) for _ in range(100)]
arrays = sim.Population(100, sim.SpikeSourceArray(spike_times=[sim.Sequence(t) for t in trains]), label="arrays")
sources = [(arrays, 0.1)]
if drive == "poisson":
    sources.append((sim.Population(100, sim.SpikeSourcePoisson(rate=10.0), label="poisson"), 0.1))
elif drive != "arrays":
    raise SystemExit(f"unknown drive {drive!r}: arrays or poisson")

delays = RandomDistribution("uniform", (0.5, 3.0), rng=rng)
for source, p in sources:
    sim.Projection(source, exc, sim.FixedProbabilityConnector(p, rng=rng),
                   sim.StaticSynapse(weight=RandomDistribution("uniform", (0.05, 0.2), rng=rng), delay=delays),
                   receptor_type="excitatory")
    sim.Projection(source, inh, sim.FixedProbabilityConnector(p, rng=rng),
                   sim.StaticSynapse(weight=RandomDistribution("uniform", (0.002, 0.006), rng=rng), delay=delays),
                   receptor_type="excitatory")
sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.05, rng=rng),
               sim.StaticSynapse(weight=RandomDistribution("uniform", (0.01, 0.04), rng=rng), delay=delays),
               receptor_type="excitatory")
sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.05, rng=rng),
               sim.StaticSynapse(weight=RandomDistribution("uniform", (0.001, 0.003), rng=rng), delay=delays),
               receptor_type="excitatory")
sim.Projection(inh, exc, sim.FixedProbabilityConnector(0.1, rng=rng),
               sim.StaticSynapse(weight=RandomDistribution("uniform", (-0.2, -0.05), rng=rng), delay=delays),
               receptor_type="inhibitory")
sim.Projection(inh, inh, sim.FixedProbabilityConnector(0.1, rng=rng),
               sim.StaticSynapse(weight=RandomDistribution("uniform", (0.002, 0.01), rng=rng), delay=delays),
               receptor_type="inhibitory")

cells.record("spikes")
exc[:20].record("v")
sim.run(300.0)

spikes = cells.get_data("spikes").segments[0].spiketrains
v = exc[:20].get_data("v").segments[0].analogsignals[0]
if sim.rank() == 0:
    offset = {"exc": 0, "inh": exc.size}
    pairs = sorted((offset[st.annotations["source_population"]] + int(st.annotations["source_index"]), float(t))
                   for st in spikes for t in st.magnitude)
    order = np.argsort(v.array_annotations["channel_index"])
    np.savez(f"{prefix}.npz", pairs=np.array(pairs), v=np.asarray(v.magnitude)[:, order],
             count=len(pairs), processes=sim.num_processes())
sim.end()
