"""glif-pynn against BMTK's PointNet (NEST ``glif_psc``) on the same SONATA network: agreement and speed.

The network is :mod:`comparisons.bmtk_network`'s (GLIF1-5 cells, four receptor ports, virtual Poisson
input), built by BMTK's NetworkBuilder. For each time step, BMTK runs it (in its own process) and
``glif_pynn.sonata.run`` runs the same files on pyNN.nest and on the numpy reference. Reported per dt:

* GLIF1/3 cells (recurrently connected): the number of spikes not in the same step as BMTK's (GLIF1 exact;
  GLIF3 exact but for crossings decided within NEST's second-order error in V, which integrates the
  after-spike currents with their mean over the step held constant);
* GLIF2/4/5 cells (same input, no output): per-cell rate differences, the mean shift of the spikes that
  have a partner within 1 ms in the other raster, and the spikes without one. NEST resets V from the
  voltage at the start of the crossing step (DESIGN §1), a first-order difference: the shift scales with dt;
* the reference against pyNN.nest (identical rasters expected);
* wall-clock seconds to build and to run, for each simulator (one process each, after an untimed warm-up
  run of each; BMTK's build includes importing BMTK).

``run(output_dir, quick, progress)`` returns the results and writes ``sonata_bmtk.json`` and
``sonata_bmtk.png`` into ``output_dir``. At dt = 0.1 ms some Allen refractory periods (4.15 ms) are not
whole numbers of steps, where the refractory jump mapping is inexact; the dt-convergence uses 0.05 and below.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from comparisons import bmtk_network

WINDOW_MS = 1.0


def matched_shifts(reference: tuple, other: tuple, cells: np.ndarray, window: float = WINDOW_MS) -> tuple:
    """(``|t - nearest partner|`` of each spike of ``reference`` within ``window`` ms, number without one), over
    ``cells``; rasters are (node ids, times in ms)."""
    shifts, unmatched = [], 0
    for cell in cells:
        a, b = reference[1][reference[0] == cell], other[1][other[0] == cell]
        if not len(a):
            continue
        nearest = np.min(np.abs(a[:, None] - b[None, :]), axis=1) if len(b) else np.full(len(a), np.inf)
        shifts.append(nearest[nearest <= window])
        unmatched += int(np.sum(nearest > window))
    return (np.concatenate(shifts) if shifts else np.zeros(0)), unmatched


def compare(reference: tuple, other: tuple, levels: np.ndarray, dt: float, duration: float) -> dict:
    """Agreement of two rasters, by GLIF level group (see the module docstring)."""
    exact = np.flatnonzero(np.isin(levels, (1, 3)))
    others = np.flatnonzero(np.isin(levels, (2, 4, 5)))

    def steps(raster, cells):
        keep = np.isin(raster[0], cells)
        return sorted(zip(raster[0][keep].tolist(), np.round(raster[1][keep] / dt).astype(int).tolist()))

    a, b = steps(reference, exact), steps(other, exact)
    common = len(set(a) & set(b))
    counts = [np.bincount(r[0], minlength=len(levels))[others] for r in (reference, other)]
    shifts, unmatched = matched_shifts(reference, other, others)
    return {"dt_ms": dt, "glif13_spikes": len(a), "glif13_spikes_not_in_the_same_step": len(a) + len(b) - 2 * common,
            "glif245_spikes": int(counts[0].sum()),
            "glif245_rate_difference_mean_hz": float(np.mean(np.abs(counts[0] - counts[1])) * 1e3 / duration),
            "glif245_rate_difference_max_hz": float(np.max(np.abs(counts[0] - counts[1])) * 1e3 / duration),
            "glif245_mean_shift_ms": float(shifts.mean()) if len(shifts) else 0.0,
            "glif245_shifted_fraction": float(np.mean(shifts > 1e-9)) if len(shifts) else 0.0,
            "glif245_unmatched_spikes": unmatched}


def run(output_dir: Path, quick: bool = False, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Build the network with BMTK, run it on BMTK, pyNN.nest and the reference at several dt; compare."""
    from glif_pynn import sonata

    say = progress or (lambda line: None)
    output_dir = Path(output_dir)
    n_per_type, dts, duration = (30, (0.05, 0.025), 1000.0) if quick else (150, (0.1, 0.05, 0.025, 0.01), 1000.0)
    directory = output_dir / "sonata_network"
    say(f"building the SONATA network with BMTK's NetworkBuilder ({7 * n_per_type} cells) in {directory}")
    started = time.perf_counter()
    bmtk_network.build_network(directory, n_per_type=n_per_type, duration=duration)
    build_network_s = time.perf_counter() - started
    levels = bmtk_network.node_levels(directory)
    say("warm-up runs (10 ms; not timed): imports and file caches")
    bmtk_network.run_bmtk(bmtk_network.write_configs(directory, 10.0, dts[0], output="warmup_bmtk"))
    sonata.run(bmtk_network.write_configs(directory, 10.0, dts[0], output="warmup_nest"), backend="nest")
    rows = []
    for dt in dts:
        rasters, timing = {}, {}
        for simulator in ("bmtk", "nest", "reference"):
            if simulator == "reference" and dt < 0.05 and not quick:
                continue                   # the numpy reference at the finest steps: time, not information
            say(f"dt = {dt} ms: {simulator}")
            config = bmtk_network.write_configs(directory, duration, dt, output=f"{simulator}_{dt}")
            if simulator == "bmtk":
                times = bmtk_network.run_bmtk(config)
                timing[simulator] = {"build_s": times["build_s"], "run_s": times["run_s"]}
            else:
                summary = sonata.run(config, backend=simulator)
                timing[simulator] = {"build_s": summary["build_s"], "run_s": summary["run_s"]}
            rasters[simulator] = bmtk_network.read_spikes(directory / f"{simulator}_{dt}" / "spikes.h5")
        row = dict(compare(rasters["bmtk"], rasters["nest"], levels, dt, duration), timing=timing)
        if "reference" in rasters:
            ref = compare(rasters["nest"], rasters["reference"], levels, dt, duration)
            row["reference_vs_nest_identical"] = bool(
                np.array_equal(rasters["nest"][0], rasters["reference"][0])
                and np.array_equal(np.round(rasters["nest"][1] / dt), np.round(rasters["reference"][1] / dt)))
            row["reference_vs_nest"] = ref
        rows.append(row)
        say(f"dt = {dt} ms: GLIF1/3 spikes not in BMTK's steps {row['glif13_spikes_not_in_the_same_step']} of "
            f"{row['glif13_spikes']}; GLIF2/4/5 mean shift {row['glif245_mean_shift_ms']:.4f} ms")
    result = {"cells": int(len(levels)), "inputs": int(140 * n_per_type // 30), "duration_ms": duration,
              "build_network_s": build_network_s, "rows": rows}
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "sonata_bmtk.json").write_text(json.dumps(result, indent=1))
    result["figure"] = str(_figure(rows, output_dir / "sonata_bmtk.png"))
    return result


def markdown(result: dict) -> str:
    """The report section of a :func:`run` result: its agreement and speed tables and its figure, as Markdown."""
    lines = ["## A SONATA network: glif-pynn against BMTK's PointNet (comparisons/sonata_bmtk.py)", "",
             "The same SONATA files (GLIF1-5 cells, four receptor ports, virtual Poisson input) run by BMTK "
             "(NEST glif_psc) and by glif_pynn.sonata on pyNN.nest and on the numpy reference, per time step.", "",
             "| dt (ms) | GLIF1/3 spikes not in BMTK's step | GLIF2/4/5 mean spike shift (ms) | GLIF2/4/5 spikes without a "
             "partner within 1 ms | GLIF2/4/5 rate difference, mean / max (Hz) | reference = pyNN.nest |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        same = {True: "identical", False: "differs", None: "not run"}[r.get("reference_vs_nest_identical")]
        lines.append(f"| {r['dt_ms']:g} | {r['glif13_spikes_not_in_the_same_step']} of {r['glif13_spikes']} | "
                     f"{r['glif245_mean_shift_ms']:.4f} | {r['glif245_unmatched_spikes']} of {r['glif245_spikes']} | "
                     f"{r['glif245_rate_difference_mean_hz']:.2f} / {r['glif245_rate_difference_max_hz']:.0f} | {same} |")
    lines += ["", "| dt (ms) | " + " | ".join(f"{n}: build / run (s)" for n in ("BMTK PointNet", "glif-pynn pyNN.nest",
                                                                                "glif-pynn reference")) + " |",
              "|---|---|---|---|"]
    for r in result["rows"]:
        cells = [f"{r['timing'][k]['build_s']:.1f} / {r['timing'][k]['run_s']:.1f}" if k in r["timing"] else "-"
                 for k in ("bmtk", "nest", "reference")]
        lines.append(f"| {r['dt_ms']:g} | " + " | ".join(cells) + " |")
    lines += ["", "![SONATA network against BMTK](sonata_bmtk.png)", ""]
    return "\n".join(lines)


def _figure(rows: list, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    dts = np.array([r["dt_ms"] for r in rows])
    shifts = np.array([r["glif245_mean_shift_ms"] for r in rows])
    left.loglog(dts, shifts, "o-", label="GLIF2/4/5: mean spike shift vs BMTK")
    left.loglog(dts, shifts[-1] * dts / dts[-1], "k:", label="first order (slope 1)")
    left.set_xlabel("dt (ms)")
    left.set_ylabel("ms")
    left.legend(fontsize=8)
    left.set_title("glif-pynn vs BMTK/glif_psc: GLIF2/4/5 spike times")
    row = next((r for r in rows if r["dt_ms"] == 0.05), rows[0])
    names = [name for name in ("bmtk", "nest", "reference") if name in row["timing"]]
    build = [row["timing"][n]["build_s"] for n in names]
    simulate = [row["timing"][n]["run_s"] for n in names]
    labels = {"bmtk": "BMTK PointNet\n(glif_psc)", "nest": "glif-pynn\npyNN.nest", "reference": "glif-pynn\nreference"}
    right.bar(range(len(names)), build, label="build")
    right.bar(range(len(names)), simulate, bottom=build, label="simulate")
    right.set_xticks(range(len(names)), [labels[n] for n in names])
    right.set_ylabel(f"wall-clock s (dt = {row['dt_ms']} ms)")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":   # pragma: no cover
    import sys
    print(json.dumps(run(Path(sys.argv[1]), quick="--quick" in sys.argv, progress=print), indent=1))
