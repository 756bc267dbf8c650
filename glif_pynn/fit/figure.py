"""The figure of a fit: data vs model V and spikes, rasters of every sweep, f-I curves."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np


def plot_fit(result, path: Path, seconds: float = 1.0) -> Path:
    """Three panels (see :meth:`glif_pynn.fit.FitResult.figure`); returns ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glif_pynn.fit.scores import simulate
    shown = result.test or result.training
    role = "test" if result.test else "training"
    dt = result.dt
    sweeps = result.training + result.test
    first_index = len(result.training) if result.test else 0
    runs = result.runs
    if len(runs) != len(sweeps) or runs[first_index]["v"] is None:
        runs = simulate(result.parameters, [s.current for s in sweeps], dt, record_v=[first_index])
    first = runs[first_index]
    fig = plt.figure(figsize=(10, 8))
    grid = fig.add_gridspec(3, 2, height_ratios=[1.3, 1, 1])
    ax = fig.add_subplot(grid[0, :])
    n = min(shown[0].n, int(round(seconds * 1000 / dt)))
    t = np.arange(n) * dt
    ax.plot(t, shown[0].v[:n], color="0.5", lw=0.6, label="recorded V")
    ax.plot(t, first["v"][:n], color="C3", lw=0.8, label=f"{result.name} V (runs freely)")
    top = max(float(np.max(shown[0].v[:n])), result.parameters["v_thresh"]) + 2
    data_t, model_t = shown[0].spike_times, first["spikes"] * dt
    ax.vlines(data_t[data_t < n * dt], top, top + 3, color="k", lw=1, label="recorded spikes")
    ax.vlines(model_t[model_t < n * dt], top + 4, top + 7, color="C3", lw=1, label="model spikes")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("V (mV)")
    ax.set_title(f"{role} sweep 0: Gamma {result.scores[role]['gamma_per_sweep'][0]:.2f}")
    ax.legend(loc="lower right", fontsize=7, ncol=2)
    ax = fig.add_subplot(grid[1, :])
    span = min(s.duration for s in sweeps)
    for k, (s, r) in enumerate(zip(sweeps, runs)):
        ax.vlines(s.spike_times[s.spike_times < span], 2 * k, 2 * k + 0.8, color="k", lw=0.6)
        model = r["spikes"] * dt
        ax.vlines(model[model < span], 2 * k + 0.9, 2 * k + 1.7, color="C3", lw=0.6)
    ax.axhline(2 * len(result.training) - 0.15, color="0.7", lw=0.5)
    ax.set_yticks([2 * k + 0.85 for k in range(len(sweeps))])
    ax.set_yticklabels([f"{'train' if k < len(result.training) else 'test'} {k}" for k in range(len(sweeps))],
                       fontsize=6)
    ax.set_xlabel("time (ms)")
    ax.set_title("spikes: recorded (black) and model (red), every sweep")
    ax = fig.add_subplot(grid[2, 0])
    for group, marker, label in ((result.training, "o", "training"), (result.test, "s", "test")):
        if not group:
            continue
        offset = 0 if group is result.training else len(result.training)
        mean = [float(np.mean(s.current)) for s in group]
        ax.plot(mean, [len(s.spikes) / s.duration * 1e3 for s in group], marker, color="k", mfc="none",
                label=f"recorded ({label})")
        ax.plot(mean, [len(runs[offset + k]["spikes"]) / s.duration * 1e3 for k, s in enumerate(group)], marker,
                color="C3", ms=4, label=f"model ({label})")
    ax.set_xlabel("mean injected current (nA)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title("f-I: rate against the sweep's mean current")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[2, 1])
    ax.axis("off")
    text = "\n".join(textwrap.fill(line, 60, subsequent_indent="    ") for line in result.summary().splitlines())
    ax.text(0, 1, text, va="top", fontsize=7, family="monospace")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
