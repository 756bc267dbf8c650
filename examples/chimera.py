"""Chimera states in GLIF networks: coherent and incoherent domains among identical cells.

The source document's first "future work". Two set-ups of identical GLIF1 (LIF) cells,
``GLIF_curr_alpha`` with a supra-threshold drive, coupled by excitatory alpha currents
(the model of Olmi, Politi & Torcini 2010, EPL 92:60007, mapped onto GLIF parameters in
:mod:`glif_pynn.chimera`):

* a ring of N cells, each coupled to its R = r N nearest neighbours on each side,
  started half synchronised;
* two populations, all-to-all within (g_self) and more weakly between (g_cross), started
  at random: one synchronises fully while the other stays partially synchronised (a
  "breathing chimera").

Both run in one simulation (independent networks). After a transient the run is
classified in windows (:mod:`glif_pynn.synchrony`: neighbour phase coherence for the ring,
the Kuramoto order parameter of each population). The figure shows, for the ring, the
space-time raster, the mean phase velocity profile omega_i = 2 pi n_i / T and the local
order parameter over space and time; for the two populations, the raster, the omega of
each cell and the order parameter of each population against time.

    python examples/chimera.py [--backend nest|reference] [--output PATH] [--duration MS]
        [--seed N] [--ring-n N] [--ring-range R] [--ring-g G] [--n N] [--g-self G] [--g-cross G]
"""
from __future__ import annotations

import sys
from dataclasses import replace
from typing import Optional

import numpy as np

from _backend import load_backend, main_process, parser, pyplot, save
from glif_pynn import chimera, synchrony

RASTER_MS = 250.0       # the rasters show the last 250 ms


def _raster(ax, trains, t_stop, colours=None):
    for index, st in enumerate(synchrony.as_trains(trains)):
        st = st[st > t_stop - RASTER_MS]
        ax.plot(st, np.full(len(st), index), ",", color="k" if colours is None else colours[index])
    ax.set_xlim(t_stop - RASTER_MS, t_stop)
    ax.set_ylim(-0.5, len(trains) - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("cell")


def draw(ring, ring_trains, ring_run, two, two_trains, two_run, duration, title):
    """The six-panel figure (module docstring)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    start = ring_run.times[0]
    _raster(axes[0, 0], ring_trains, duration)
    axes[0, 0].set_title(f"ring (N = {ring.n}, R = {ring.neighbours}, g = {ring.g:g}): space-time raster", fontsize=9)
    cells = np.arange(ring.n)
    axes[0, 1].plot(cells, ring_run.omega, ".", ms=2, color="0.5", label=r"$2\pi n_i / T$")
    axes[0, 1].plot(cells, ring_run.phase_velocity, "-", lw=0.8, color="k", label="from the phases")
    both = np.concatenate([ring_run.omega, ring_run.phase_velocity])
    low, high = both.min(), both.max()
    pad = max(0.05 * (high - low), 0.5)
    axes[0, 1].fill_between(cells, low - pad, high + pad, where=~ring_run.coherent, color="tab:red", alpha=0.15,
                            lw=0, label="incoherent domain")
    axes[0, 1].set_ylim(low - pad, high + pad)
    axes[0, 1].set_xlabel("cell")
    axes[0, 1].set_ylabel(r"$\omega_i = 2\pi n_i / T$ (rad/s)")
    axes[0, 1].set_title(f"mean phase velocity, {start / 1000:g}-{duration / 1000:g} s", fontsize=9)
    axes[0, 1].legend(fontsize=8, loc="best")
    image = axes[0, 2].imshow(ring_run.local_order.T, aspect="auto", origin="lower", vmin=0, vmax=1, cmap="viridis",
                              extent=[ring_run.times[0], ring_run.times[-1], -0.5, ring.n - 0.5],
                              interpolation="nearest")
    fig.colorbar(image, ax=axes[0, 2], label="local order parameter Z")
    axes[0, 2].set_xlabel("time (ms)")
    axes[0, 2].set_ylabel("cell")
    axes[0, 2].set_title(f"local order parameter (window of {2 * max(1, ring.n // 40) + 1} cells)", fontsize=9)

    colours = ["tab:blue"] * two.n + ["tab:orange"] * two.n
    _raster(axes[1, 0], two_trains, duration, colours)
    axes[1, 0].set_title(f"two populations (N = {two.n} each, g_self = {two.g_self:g}, g_cross = {two.g_cross:g})",
                         fontsize=9)
    for half, label, colour in ((slice(0, two.n), "A", "tab:blue"), (slice(two.n, 2 * two.n), "B", "tab:orange")):
        axes[1, 1].plot(np.arange(two.n), two_run.omega[half], ".", ms=2, color=colour, alpha=0.4)
        axes[1, 1].plot(np.arange(two.n), two_run.phase_velocity[half], "-", lw=0.8, color=colour, label=label)
    axes[1, 1].set_xlabel("cell (within its population)")
    axes[1, 1].set_ylabel(r"$\omega_i$ (rad/s): dots $2\pi n_i / T$, lines from the phases")
    axes[1, 1].legend(fontsize=8)
    axes[1, 1].set_title("mean phase velocity", fontsize=9)
    for row, label, colour in zip(two_run.order, "AB", ("tab:blue", "tab:orange")):
        axes[1, 2].plot(two_run.times, row, lw=0.6, color=colour, label=f"population {label}")
    axes[1, 2].set_ylim(0, 1.02)
    axes[1, 2].set_xlabel("time (ms)")
    axes[1, 2].set_ylabel("Kuramoto order parameter R")
    axes[1, 2].legend(fontsize=8, loc="lower right")
    axes[1, 2].set_title("order parameter of each population", fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def describe(name: str, run) -> str:
    """One line per set-up; tests/test_chimera.py reads it."""
    s = run.summary
    chimeras = sum(state == "chimera" for state in run.states)
    line = (f"{name}: chimera in {chimeras}/{len(run.states)} windows (persistent: "
            f"{'yes' if run.persistent_chimera else 'no'}); windows {', '.join(run.states)}; ")
    if "coherent_fraction" in s:
        return line + (f"coherent {s['coherent_fraction']:.2f}, largest coherent domain {s['largest_coherent']:.2f}, "
                       f"largest incoherent domain {s['largest_incoherent']:.2f}, rate {s['rate_hz']:.1f} Hz")
    return line + (f"R_A {s['order_mean'][0]:.3f}, R_B {s['order_mean'][1]:.3f}, "
                   f"rates {s['rate_hz'][0]:.1f}/{s['rate_hz'][1]:.1f} Hz")


def main(argv=None) -> Optional[dict]:
    cli = parser("chimera", __doc__.splitlines()[0], duration=10000.0)
    ring0, two0 = chimera.RING_CHIMERA, chimera.TWO_CHIMERA
    cli.add_argument("--seed", type=int, default=0, help="seed of the initial voltages (default: %(default)s)")
    cli.add_argument("--ring-n", type=int, default=ring0.n, help="cells on the ring (default: %(default)s)")
    cli.add_argument("--ring-range", type=float, default=ring0.coupling_range,
                     help="coupling range r: R = r N neighbours on each side (default: %(default)s)")
    cli.add_argument("--ring-g", type=float, default=ring0.g, help="ring coupling g (default: %(default)s)")
    cli.add_argument("--n", type=int, default=two0.n, help="cells per population (default: %(default)s)")
    cli.add_argument("--g-self", type=float, default=two0.g_self, help="coupling within (default: %(default)s)")
    cli.add_argument("--g-cross", type=float, default=two0.g_cross, help="coupling between (default: %(default)s)")
    args = cli.parse_args(argv)
    sim, cells = load_backend(args.backend)
    ring = replace(ring0, n=args.ring_n, coupling_range=args.ring_range, g=args.ring_g)
    two = replace(two0, n=args.n, g_self=args.g_self, g_cross=args.g_cross)
    ring_trains, two_trains = chimera.run_batch(sim, cells, [(ring, args.seed), (two, args.seed)], args.duration)
    if not main_process(sim):           # under MPI: rank 0 has the gathered spikes
        return None
    transient, windows = chimera.schedule(args.duration)
    ring_run = chimera.analyse_ring(ring_trains, transient, args.duration, windows)
    two_run = chimera.analyse_two_populations(two_trains, two.n, transient, args.duration, windows)
    print(describe("ring", ring_run))
    print(describe("two populations", two_run))
    fig = draw(ring, ring_trains, ring_run, two, two_trains, two_run, args.duration,
               f"Chimera states in GLIF networks ({args.backend}, seed {args.seed}; classified from "
               f"{transient / 1000:g} s in {windows} window{'s' if windows > 1 else ''})")
    save(fig, args.output)
    return {"ring": ring_run, "two_populations": two_run}


if __name__ == "__main__":
    main(sys.argv[1:])
