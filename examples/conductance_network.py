"""Figure 2 of the source document: a conductance-based GLIF network driven by Gaussian noise.

80 excitatory and 20 inhibitory GLIF_cond_exp cells, randomly connected
(FixedProbabilityConnector, p = 0.1) with random synaptic weights, each cell receiving
its own Gaussian noise current (NoisyCurrentSource) on top of a constant mean. The
figure shows the membrane potential of three cells, the spike raster, the population
rate and the distribution of single-cell firing rates.

    python examples/conductance_network.py [--backend nest|reference] [--output PATH] [--duration MS]
"""
from __future__ import annotations

import sys
from typing import Optional

import numpy as np

from _backend import load_backend, main_process, parser, pyplot, save

N_EXC, N_INH = 80, 20
CONNECTION_PROBABILITY = 0.1
W_EXC, W_INH = 0.002, 0.008          # mean peak conductances, uS
NOISE_MEAN, NOISE_STDEV = 0.24, 0.12  # nA; the mean alone is just below rheobase
SEED = 20260611


def main(argv=None) -> Optional[dict]:
    args = parser("conductance_network", __doc__.splitlines()[0], duration=1000.0).parse_args(argv)
    sim, cells = load_backend(args.backend)
    from pyNN.random import NumpyRNG, RandomDistribution

    sim.setup(timestep=0.1, min_delay=1.0)
    rng = NumpyRNG(seed=SEED)
    cell_type = cells.GLIF_cond_exp(tau_refrac=2.0, tau_syn_E=3.0, tau_syn_I=6.0)
    exc = sim.Population(N_EXC, cell_type, label="excitatory")
    inh = sim.Population(N_INH, cell_type, label="inhibitory")
    network = exc + inh
    network.initialize(v=RandomDistribution("uniform", (-78.0, -55.0), rng=rng))

    connector = sim.FixedProbabilityConnector(CONNECTION_PROBABILITY, allow_self_connections=False, rng=rng)
    for source, receptor, mean in ((exc, "excitatory", W_EXC), (inh, "inhibitory", W_INH)):
        weights = RandomDistribution("uniform", (0.5 * mean, 1.5 * mean), rng=rng)
        delays = RandomDistribution("uniform", (1.0, 3.0), rng=rng)
        sim.Projection(source, network, connector, sim.StaticSynapse(weight=weights, delay=delays),
                       receptor_type=receptor, label=f"{source.label} -> all")
    noise = sim.NoisyCurrentSource(mean=NOISE_MEAN, stdev=NOISE_STDEV, dt=1.0, start=0.0, stop=args.duration)
    noise.inject_into(network)

    network.record("spikes")
    network[[0, 1, N_EXC]].record("v")
    sim.run(args.duration)

    segment = network.get_data().segments[0]
    if not main_process(sim):           # under MPI: rank 0 has the gathered data
        sim.end()
        return None
    trains = [st.rescale("ms").magnitude for st in segment.spiketrains]
    rates = np.array([len(st) for st in trains]) / (args.duration / 1000.0)
    v = segment.filter(name="v")[0]
    print(f"GLIF_cond_exp network on {args.backend}: {N_EXC} exc + {N_INH} inh cells, "
          f"{sum(len(st) for st in trains)} spikes in {args.duration:g} ms")
    print(f"mean rate {rates.mean():.1f} Hz (exc {rates[:N_EXC].mean():.1f}, inh {rates[N_EXC:].mean():.1f})")

    plt = pyplot()
    fig = plt.figure(figsize=(9, 8))
    grid = fig.add_gridspec(4, 3, height_ratios=[2, 3, 1.3, 1.6])
    ax_v = fig.add_subplot(grid[0, :])
    ax_raster = fig.add_subplot(grid[1, :], sharex=ax_v)
    ax_rate = fig.add_subplot(grid[2, :], sharex=ax_v)
    ax_hist = fig.add_subplot(grid[3, 1])
    t = v.times.rescale("ms").magnitude
    for column, label in zip(range(v.shape[1]), ("exc 0", "exc 1", "inh 0")):
        ax_v.plot(t, v.magnitude[:, column], lw=0.6, label=label)
    ax_v.set_ylabel("V (mV)")
    ax_v.legend(loc="upper right", fontsize=7, ncol=3)
    ax_v.set_title(f"Conductance-based GLIF network with Gaussian noise ({args.backend})")
    for index, st in enumerate(trains):
        ax_raster.plot(st, np.full_like(st, index), "|", ms=2, color="tab:blue" if index < N_EXC else "tab:red")
    ax_raster.set_ylabel("cell (exc blue, inh red)")
    bin_ms = 5.0
    edges = np.arange(0.0, args.duration + bin_ms, bin_ms)
    counts, _ = np.histogram(np.concatenate(trains) if trains else [], bins=edges)
    ax_rate.plot(edges[:-1] + bin_ms / 2, counts / len(trains) / (bin_ms / 1000.0), lw=0.8, color="k")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.set_xlabel("time (ms)")
    ax_hist.hist([rates[:N_EXC], rates[N_EXC:]], bins=15, label=["exc", "inh"], color=["tab:blue", "tab:red"])
    ax_hist.set_xlabel("firing rate (Hz)")
    ax_hist.set_ylabel("cells")
    ax_hist.legend(fontsize=7)
    fig.tight_layout()
    save(fig, args.output)
    sim.end()
    return {"rates": rates, "spiketrains": trains}


if __name__ == "__main__":
    main(sys.argv[1:])
