"""Figure 3 of the source document: coupled spiking GLIF neurons synchronise as the coupling grows.

Twenty GLIF_curr_exp cells, each driven by its own constant current (uniform in
0.29-0.31 nA, so that they fire at slightly different rates) and started from random
membrane potentials, are coupled all-to-all by excitatory synapses of weight w. For
each w the network runs afresh and its synchrony is measured over the second half of
the run, by two measures:

* chi (Golomb & Rinzel 1993): the standard deviation of the population-averaged V over
  the mean standard deviation of single-cell V; about 1/sqrt(N) for independent cells,
  1 for identical traces;
* the spike time tiling coefficient (Cutts & Eglen 2014; Elephant), averaged over all pairs,
  with a +-2 ms window.

The figure plots both against w, with the rasters of the weakest and the strongest coupling.

    python examples/coupled_spiking.py [--backend nest|reference] [--output PATH] [--duration MS]
"""
from __future__ import annotations

import itertools
import sys
from typing import Optional

import numpy as np

from _backend import load_backend, main_process, parser, pyplot, save

N = 20
COUPLINGS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)   # nA per synapse
SEED = 1


def chi(v: np.ndarray) -> float:
    """Golomb-Rinzel synchrony of V sampled as [time, cell]."""
    single = v.var(axis=0).mean()
    return float(np.sqrt(v.mean(axis=1).var() / single)) if single > 0 else float("nan")


def mean_sttc(trains, t_start: float, t_stop: float, window_ms: float = 2.0) -> float:
    """Spike time tiling coefficient averaged over all pairs of cells (Elephant)."""
    import quantities as pq
    from elephant.spike_train_correlation import spike_time_tiling_coefficient
    from neo import SpikeTrain

    spikes = [SpikeTrain(st[(st >= t_start) & (st < t_stop)], t_start=t_start, t_stop=t_stop, units="ms")
              for st in trains]
    values = [spike_time_tiling_coefficient(a, b, dt=window_ms * pq.ms)
              for a, b in itertools.combinations(spikes, 2) if len(a) and len(b)]
    return float(np.mean(values)) if values else float("nan")


def run_once(sim, cells, weight: float, duration: float):
    from pyNN.random import NumpyRNG, RandomDistribution

    sim.setup(timestep=0.1, min_delay=0.5)
    rng = NumpyRNG(seed=SEED)       # the same cells and start for every coupling
    drive = RandomDistribution("uniform", (0.29, 0.31), rng=rng)
    neurons = sim.Population(N, cells.GLIF_curr_exp(i_offset=drive, tau_syn_E=1.0), label="coupled")
    neurons.initialize(v=RandomDistribution("uniform", (-78.0, -52.0), rng=rng))
    if weight > 0:
        sim.Projection(neurons, neurons, sim.AllToAllConnector(allow_self_connections=False),
                       sim.StaticSynapse(weight=weight, delay=0.5), receptor_type="excitatory")
    neurons.record(["spikes", "v"])
    sim.run(duration)
    segment = neurons.get_data().segments[0]
    v = segment.filter(name="v")[0]
    trains = [st.rescale("ms").magnitude for st in segment.spiketrains]
    sim.end()
    return v.times.rescale("ms").magnitude, np.asarray(v.magnitude), trains


def main(argv=None) -> Optional[dict]:
    args = parser("coupled_spiking", __doc__.splitlines()[0], duration=2000.0).parse_args(argv)
    sim, cells = load_backend(args.backend)
    half = args.duration / 2
    results = {"coupling": np.array(COUPLINGS), "chi": [], "sttc": [], "rate": [], "rasters": {}}
    for weight in COUPLINGS:
        t, v, trains = run_once(sim, cells, weight, args.duration)
        if not main_process(sim):       # under MPI: rank 0 has the gathered data
            continue
        late = t >= half
        results["chi"].append(chi(v[late]))
        results["sttc"].append(mean_sttc(trains, half, args.duration))
        results["rate"].append(sum(np.count_nonzero(st >= half) for st in trains) / N / (half / 1000.0))
        results["rasters"][weight] = trains
        print(f"w = {weight:g} nA: chi = {results['chi'][-1]:.3f}, STTC = {results['sttc'][-1]:.3f}, "
              f"rate = {results['rate'][-1]:.1f} Hz")
    if not main_process(sim):
        return None
    for key in ("chi", "sttc", "rate"):
        results[key] = np.array(results[key])

    plt = pyplot()
    fig = plt.figure(figsize=(9, 7))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.1, 1])
    ax = fig.add_subplot(grid[0, :])
    x = np.arange(len(COUPLINGS))
    ax.plot(x, results["chi"], "o-", label=r"$\chi$ (Golomb-Rinzel, from V)")
    ax.plot(x, results["sttc"], "s-", label="mean pairwise STTC (2 ms)")
    ax.axhline(1 / np.sqrt(N), color="grey", lw=0.8, ls=":", label=r"$1/\sqrt{N}$ (independent cells)")
    ax.set_xticks(x, [f"{w:g}" for w in COUPLINGS])
    ax.set_xlabel("coupling weight w (nA per synapse, all-to-all)")
    ax.set_ylabel("synchrony")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Coupled GLIF neurons synchronise as the coupling grows ({args.backend})")
    for column, weight in enumerate((COUPLINGS[0], COUPLINGS[-1])):
        axr = fig.add_subplot(grid[1, column])
        for index, st in enumerate(results["rasters"][weight]):
            axr.plot(st, np.full_like(st, index), "|", ms=3, color="k")
        axr.set_xlim(half, args.duration)
        axr.set_title(f"w = {weight:g} nA", fontsize=9)
        axr.set_xlabel("time (ms)")
        if column == 0:
            axr.set_ylabel("cell")
    fig.tight_layout()
    save(fig, args.output)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
