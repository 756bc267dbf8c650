"""Figure 1 of the source document: a single GLIF neuron with reset under a current step.

One GLIF_curr_exp cell with the default parameters (NEST's glif_psc fit to an Allen
Cell Types Database cell, Teeter et al. 2018) receives a current step from 20 % to
80 % of the run. The figure shows V with the threshold v_thresh + theta, the two
after-spike currents and the stimulus; the spike times are printed.

    python examples/single_neuron.py [--backend nest|reference] [--output PATH] [--duration MS]
"""
from __future__ import annotations

import sys
from typing import Optional

import numpy as np

from _backend import load_backend, main_process, parser, pyplot, save


def main(argv=None) -> Optional[np.ndarray]:
    options = parser("single_neuron", __doc__.splitlines()[0], duration=1000.0)
    options.add_argument("--amplitude", type=float, default=0.3, help="current step in nA (default: %(default)s)")
    args = options.parse_args(argv)
    sim, cells = load_backend(args.backend)

    sim.setup(timestep=0.1)
    neuron = sim.Population(1, cells.GLIF_curr_exp(), label="GLIF")
    on, off = 0.2 * args.duration, 0.8 * args.duration
    sim.StepCurrentSource(times=[on, off], amplitudes=[args.amplitude, 0.0]).inject_into(neuron)
    neuron.record(["spikes", "v", "theta", "i_asc1", "i_asc2"])
    sim.run(args.duration)

    segment = neuron.get_data().segments[0]
    v_thresh = neuron.get("v_thresh", gather=True)
    if not main_process(sim):           # under MPI: rank 0 has the gathered data
        sim.end()
        return None
    spikes = segment.spiketrains[0].rescale("ms").magnitude
    trace = {sig.name: sig for sig in segment.analogsignals}
    t = trace["v"].times.rescale("ms").magnitude
    v_thresh = float(v_thresh)
    print(f"GLIF_curr_exp on {args.backend}, {args.amplitude} nA from {on:g} to {off:g} ms: {len(spikes)} spikes")
    print("spike times (ms):", " ".join(f"{s:.1f}" for s in spikes))

    plt = pyplot()
    fig, (ax_v, ax_i, ax_s) = plt.subplots(3, 1, sharex=True, figsize=(8, 7), height_ratios=[3, 2, 1])
    ax_v.plot(t, trace["v"].magnitude[:, 0], lw=0.8, label="V")
    ax_v.plot(t, v_thresh + trace["theta"].magnitude[:, 0], lw=0.8, label=r"threshold $\Theta_\infty + \Theta_s$")
    ax_v.plot(spikes, np.full_like(spikes, v_thresh + 5.0), "|", color="k", ms=8, label="spikes")
    ax_v.set_ylabel("mV")
    ax_v.legend(loc="upper right", fontsize=8)
    ax_v.set_title(f"GLIF neuron with reset under a current step ({args.backend})")
    for name in ("i_asc1", "i_asc2"):
        ax_i.plot(t, trace[name].magnitude[:, 0], lw=0.8, label=f"after-spike current {name[-1]}")
    ax_i.set_ylabel("nA")
    ax_i.legend(loc="lower right", fontsize=8)
    ax_s.plot(t, np.where((t >= on) & (t < off), args.amplitude, 0.0), color="k", lw=0.8)
    ax_s.set_ylabel("stimulus (nA)")
    ax_s.set_xlabel("time (ms)")
    fig.tight_layout()
    save(fig, args.output)
    sim.end()
    return spikes


if __name__ == "__main__":
    main(sys.argv[1:])
