"""Escape noise: irregular firing where the deterministic GLIF is too regular (the source document's challenge).

A hard threshold under constant input fires like a clock: the coefficient of variation (CV)
of the interspike intervals is 0. With escape noise (``delta_u > 0``) a cell spikes in each
step with probability ``1 - exp(-lambda dt)``, ``lambda = lambda0 exp((V - threshold) /
delta_u)``. This script gives ``N_PER`` GLIF1 cells (no after-spike currents, no threshold
adaptation, reset to v_rest, 2 ms refractory period) each value of ``delta_u`` in
``DELTA_U`` (one population with ``delta_u`` per cell), once under a constant current and
once under a fluctuating one (``NoisyCurrentSource``, one per cell), and plots:

* the ISI CV against ``delta_u`` for both drives (Elephant's ``isi`` and ``cv``; cells with
  fewer than 5 spikes are left out);
* ISI histograms of the deterministic cells and of the most irregular ones, side by side.

    python examples/irregular_firing.py [--backend nest|reference] [--output PATH] [--duration MS] [--seed N]

Both backends draw from generators seeded by ``setup(rng_seed=...)``: NEST from its
per-virtual-process generators, the reference from a numpy Generator. Their streams
differ, so the runs agree in distribution, not spike for spike.
"""
from __future__ import annotations

import sys
from typing import Optional

import numpy as np

from _backend import load_backend, main_process, parser, pyplot, save

DELTA_U = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)    # mV
N_PER = 40                                         # cells per delta_u
LAMBDA0 = 20.0                                     # Hz: the intensity at the threshold
GLIF1 = dict(delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, f_v=0.0, delta_v=0.0, tau_refrac=2.0)
CONSTANT_NA = 0.3                                  # nA: above the rheobase (0.256 nA for the defaults)
NOISE_MEAN_NA, NOISE_STD_NA = 0.2, 0.1             # nA: below the rheobase on average, fluctuating


def isi_cvs(trains, t_start: float, t_stop: float, min_spikes: int = 5) -> np.ndarray:
    """CV of the interspike intervals of each train (Elephant), NaN for trains with too few spikes."""
    from elephant.statistics import cv, isi
    from neo import SpikeTrain

    out = np.full(len(trains), np.nan)
    for index, times in enumerate(trains):
        times = np.asarray(times)
        times = times[(times >= t_start) & (times < t_stop)]
        if times.size >= min_spikes:
            out[index] = cv(isi(SpikeTrain(times, t_start=t_start, t_stop=t_stop, units="ms")))
    return out


def run(sim, cells, drive: str, duration: float, seed: int) -> list[np.ndarray]:
    """Spike times (ms) of every cell: ``N_PER`` cells per entry of ``DELTA_U``, in that order."""
    sim.setup(timestep=0.1, min_delay=0.1, rng_seed=seed)
    delta_u = np.repeat(DELTA_U, N_PER)
    offset = CONSTANT_NA if drive == "constant" else 0.0
    population = sim.Population(delta_u.size, cells.GLIF_curr_exp(i_offset=offset, delta_u=delta_u, lambda0=LAMBDA0,
                                                                   **GLIF1), label="cells")
    if drive == "fluctuating":
        for cell in population:
            source = sim.NoisyCurrentSource(mean=NOISE_MEAN_NA, stdev=NOISE_STD_NA, dt=1.0, start=0.0, stop=duration)
            source.inject_into([cell])
    population.record("spikes")
    sim.run(duration)
    trains = [st.rescale("ms").magnitude for st in population.get_data("spikes").segments[0].spiketrains]
    sim.end()
    return trains


def summarise(trains, duration: float) -> dict:
    """Per delta_u: the mean rate (Hz), the median ISI CV and all ISIs (ms), from 100 ms on."""
    start = min(100.0, duration / 10)
    rows = []
    for k, du in enumerate(DELTA_U):
        group = trains[k * N_PER:(k + 1) * N_PER]
        counts = [np.count_nonzero(st >= start) for st in group]
        cvs = isi_cvs(group, start, duration)
        isis = np.concatenate([np.diff(st[st >= start]) for st in group])
        rows.append({"delta_u": du, "rate": float(np.mean(counts)) / ((duration - start) / 1000.0),
                     "cv": float(np.nanmedian(cvs)) if np.isfinite(cvs).any() else float("nan"), "isis": isis})
    return {"rows": rows}


def main(argv=None) -> Optional[dict]:
    args = parser("irregular_firing", __doc__.splitlines()[0], duration=3000.0)
    args.add_argument("--seed", type=int, default=1, help="rng_seed given to setup() (default: %(default)s)")
    args = args.parse_args(argv)
    sim, cells = load_backend(args.backend)
    results = {}
    for drive in ("constant", "fluctuating"):
        trains = run(sim, cells, drive, args.duration, args.seed)
        if not main_process(sim):       # under MPI: rank 0 has the gathered data
            continue
        results[drive] = summarise(trains, args.duration)
        for row in results[drive]["rows"]:
            print(f"{drive} input, delta_u = {row['delta_u']:g} mV: rate {row['rate']:.1f} Hz, ISI CV {row['cv']:.3f}")

    if not main_process(sim):
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    for drive, marker in (("constant", "o-"), ("fluctuating", "s-")):
        rows = results[drive]["rows"]
        axes[0].plot([max(r["delta_u"], 0.1) for r in rows], [r["cv"] for r in rows], marker, label=f"{drive} input")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("delta_u (mV; 0 drawn at 0.1)")
    axes[0].set_ylabel("median ISI CV")
    axes[0].axhline(1.0, color="grey", lw=0.8, ls=":")
    axes[0].set_title(f"ISI CV against the softness ({args.backend})", fontsize=10)
    axes[0].legend(fontsize=8)
    for ax, drive in zip(axes[1:], ("constant", "fluctuating")):
        rows = results[drive]["rows"]
        bins = np.linspace(0, np.percentile(np.concatenate([rows[0]["isis"], rows[-1]["isis"]]), 99) + 1, 60)
        for row, colour in ((rows[0], "k"), (rows[-1], "tab:red")):
            ax.hist(row["isis"], bins=bins, histtype="step", density=True, color=colour,
                    label=f"delta_u = {row['delta_u']:g} mV (CV {row['cv']:.2f})")
        ax.set_xlabel("interspike interval (ms)")
        ax.set_title(f"ISI histograms, {drive} input", fontsize=10)
        ax.legend(fontsize=8)
    axes[1].set_ylabel("density")
    fig.tight_layout()
    save(fig, args.output)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
