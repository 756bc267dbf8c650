"""Chimera states in GLIF networks: phase diagrams on the numpy reference, checks on pyNN.nest.

Set-ups, parameter mapping and measures: :mod:`glif_pynn.chimera`, :mod:`glif_pynn.synchrony`
(docs/guide/chimera.md). Every network of a study runs in one simulation
(:func:`glif_pynn.chimera.run_batch`: one Population, one network per set of views), so
a whole phase diagram costs about one simulation of its cells.

Studies (sizes in :data:`FULL` and :data:`QUICK`):

* the chimera points (:data:`~glif_pynn.chimera.RING_CHIMERA`,
  :data:`~glif_pynn.chimera.TWO_CHIMERA`) and (full mode) one contrasting point of each
  set-up, with 5 seeds, on pyNN.nest and on the reference: persistent chimeras per
  backend, and whether the two backends give the same spikes;
* the ring's phase diagram over coupling g x range r, on the reference;
* the two populations' phase diagram over g_self x g_cross, on the reference;
* the GLIF mechanisms (:data:`~glif_pynn.chimera.MECHANISMS`) along one row of each
  diagram, on the reference.

A point's state is the state of the last window of most of its seeds; "persistent
chimera" counts the seeds whose every window (after the 2 s transient) is a chimera.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from glif_pynn import chimera

SEEDS_CHECK = 5
RING_CONTRAST = replace(chimera.RING_CHIMERA, g=0.1)            # synchronises (see the diagram)
TWO_CONTRAST = replace(chimera.TWO_CHIMERA, g_self=0.2, g_cross=0.1)
# Durations in ms; variant rows: the ring's g at the chimera point's range, g_cross at its g_self.
# The full study takes about 16 min on 2 loaded cores (the diagrams 4-5 min each, the checks 2 min).
FULL = {"check_ms": 10000.0, "diagram_ms": 6000.0, "seeds": 3, "variant_seeds": 2, "contrasts": True,
        "ring_grid": {"g": (0.05, 0.1, 0.2, 0.3, 0.4), "coupling_range": (0.05, 0.1, 0.2, 0.3, 0.4)},
        "two_grid": {"g_self": (0.05, 0.1, 0.15, 0.2, 0.3), "ratio": (0.1, 0.3, 0.5, 0.7, 0.9)},
        "variant_ring_g": (0.15, 0.2, 0.3, 0.4), "variant_two_g_cross": (0.02, 0.05, 0.08)}
QUICK = {"check_ms": 6000.0, "diagram_ms": 6000.0, "seeds": 2, "variant_seeds": 1, "contrasts": False,
         "ring_grid": {"g": (0.1, 0.2, 0.4), "coupling_range": (0.05, 0.2, 0.4)},
         "two_grid": {"g_self": (0.05, 0.1, 0.2), "ratio": (0.2, 0.5, 0.8)},
         "variant_ring_g": (0.2,), "variant_two_g_cross": (0.05,)}
RING_STATES = ("chimera", "synchronous", "coherent", "fragmented", "incoherent")
TWO_STATES = ("chimera", "synchronous", "generalised chimera", "partial synchrony", "asynchronous")


def _backend(name: str):
    if name == "nest":
        import pyNN.nest as sim
        import glif_pynn.nest as cells
        return sim, cells
    import glif_pynn.reference as sim
    return sim, sim


def _analyse(setup, trains, duration: float) -> dict:
    transient, windows = chimera.schedule(duration)
    if isinstance(setup, chimera.Ring):
        run = chimera.analyse_ring(trains, transient, duration, windows)
    else:
        run = chimera.analyse_two_populations(trains, setup.n, transient, duration, windows)
    # the summary's "state" classifies the whole window at once, which for a run that changes state
    # (fragmented, then synchronous) can read 'chimera'; the rows name it as such, next to the last window's
    row = {("whole_window_state" if key == "state" else key): value for key, value in run.summary.items()}
    return {**row, "final_state": run.states[-1], "persistent_chimera": run.persistent_chimera}


def simulate(backend: str, runs: list, duration: float) -> tuple[list, list, float]:
    """Run ``runs`` ((setup, seed) pairs) in one simulation; (rows, spike trains, wall s)."""
    sim, cells = _backend(backend)
    started = time.monotonic()
    trains = chimera.run_batch(sim, cells, runs, duration)
    wall = time.monotonic() - started
    rows = [{"setup": type(setup).__name__, **asdict(setup), "seed": seed, **_analyse(setup, tr, duration)}
            for (setup, seed), tr in zip(runs, trains)]
    return rows, trains, wall


def _same_spikes(a, b, dt: float = 0.1) -> bool:
    """Every cell fires in the same time steps (NEST's and the reference's float spike times
    differ in the last bits: 5.7e-14 ms)."""
    steps = [[np.rint(np.asarray(st.rescale("ms").magnitude) / dt).astype(np.int64) for st in trains]
             for trains in (a, b)]
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(*steps))


def _points(rows: list, keys: tuple) -> list:
    """Rows per parameter point: seeds, persistent chimeras, the most common final state."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    out = []
    for key, group in groups.items():
        states = Counter(r["final_state"] for r in group)
        out.append({**dict(zip(keys, key)), "seeds": len(group),
                    "persistent_chimeras": sum(r["persistent_chimera"] for r in group),
                    "state": states.most_common(1)[0][0], "final_states": dict(states)})
    return out


def check_points(duration: float, say: Callable[[str], None], contrasts: bool = True) -> tuple[dict, list]:
    """The chimera points (and, with ``contrasts``, one other point of each set-up), 5 seeds
    each, on both backends; (result, the pyNN.nest spike trains of seed 0 of the two chimera
    points)."""
    setups = [chimera.RING_CHIMERA, chimera.TWO_CHIMERA] + ([RING_CONTRAST, TWO_CONTRAST] if contrasts else [])
    runs = [(setup, seed) for setup in setups for seed in range(SEEDS_CHECK)]
    result = {}
    trains = {}
    for backend in ("reference", "nest"):
        rows, trains[backend], wall = simulate(backend, runs, duration)
        result[backend] = {"rows": rows, "wall_s": wall}
        say(f"      {backend}: {len(runs)} networks, {duration / 1000:g} s simulated, {wall:.0f} s wall")
    result["same_spikes"] = [_same_spikes(a, b) for a, b in zip(trains["reference"], trains["nest"])]
    result["duration_ms"] = duration
    for backend in ("reference", "nest"):
        result[backend]["points"] = _points(result[backend]["rows"],
                                            ("setup", "g", "coupling_range", "g_self", "g_cross"))
    return result, [trains["nest"][0], trains["nest"][SEEDS_CHECK]]


def ring_diagram(grid: dict, seeds: int, duration: float) -> dict:
    runs = [(replace(chimera.RING_CHIMERA, g=g, coupling_range=r), seed)
            for g in grid["g"] for r in grid["coupling_range"] for seed in range(seeds)]
    rows, _, wall = simulate("reference", runs, duration)
    return {"grid": grid, "seeds": seeds, "duration_ms": duration, "wall_s": wall, "cells": len(runs) * runs[0][0].n,
            "points": _points(rows, ("g", "coupling_range")), "rows": rows}


def two_diagram(grid: dict, seeds: int, duration: float) -> dict:
    runs = [(replace(chimera.TWO_CHIMERA, g_self=gs, g_cross=round(gs * q, 6)), seed)
            for gs in grid["g_self"] for q in grid["ratio"] for seed in range(seeds)]
    rows, _, wall = simulate("reference", runs, duration)
    for row in rows:
        row["ratio"] = round(row["g_cross"] / row["g_self"], 6)
    return {"grid": grid, "seeds": seeds, "duration_ms": duration, "wall_s": wall,
            "cells": 2 * len(runs) * runs[0][0].n,
            "points": _points(rows, ("g_self", "ratio")), "rows": rows}


def variants(ring_g: tuple, two_g_cross: tuple, seeds: int, duration: float) -> dict:
    runs = [(replace(chimera.RING_CHIMERA, g=g, mechanism=m), seed)
            for m in chimera.MECHANISMS for g in ring_g for seed in range(seeds)]
    runs += [(replace(chimera.TWO_CHIMERA, g_cross=gc, mechanism=m), seed)
             for m in chimera.MECHANISMS for gc in two_g_cross for seed in range(seeds)]
    rows, _, wall = simulate("reference", runs, duration)
    ring = _points([r for r in rows if r["setup"] == "Ring"], ("mechanism", "g"))
    two = _points([r for r in rows if r["setup"] == "TwoPopulations"], ("mechanism", "g_cross"))
    rates = {m: float(np.mean([r["rate_hz"] for r in rows if r["setup"] == "Ring" and r["mechanism"] == m]))
             for m in chimera.MECHANISMS}
    return {"seeds": seeds, "duration_ms": duration, "wall_s": wall, "ring": ring, "two": two,
            "ring_rate_hz": rates, "mechanisms": {m: dict(v) for m, v in chimera.MECHANISMS.items()}}


def run(output_dir, quick: bool = False, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Every study; writes chimera_phase_diagram.png, chimera_variants.png and chimera.png
    (the example's figure for the chimera points on pyNN.nest, seed 0) into ``output_dir``
    and returns a JSON-ready dict."""
    say = progress or print
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    size = QUICK if quick else FULL
    started = time.monotonic()
    result = {"quick": quick, "load_average_at_start": "%.2f %.2f %.2f" % os.getloadavg()}
    say("      chimera points on the reference and on pyNN.nest")
    result["check"], nest_trains = check_points(size["check_ms"], say, size["contrasts"])
    say("      ring phase diagram (reference)")
    result["ring"] = ring_diagram(size["ring_grid"], size["seeds"], size["diagram_ms"])
    say(f"      {len(result['ring']['rows'])} networks in {result['ring']['wall_s']:.0f} s; two-population diagram")
    result["two"] = two_diagram(size["two_grid"], size["seeds"], size["diagram_ms"])
    say(f"      {len(result['two']['rows'])} networks in {result['two']['wall_s']:.0f} s; GLIF mechanisms")
    result["variants"] = variants(size["variant_ring_g"], size["variant_two_g_cross"], size["variant_seeds"],
                                  size["diagram_ms"])
    say(f"      {result['variants']['seeds']} seeds in {result['variants']['wall_s']:.0f} s")
    result["wall_s"] = time.monotonic() - started
    from comparisons.chimera_figures import diagram_figure, example_figure, variants_figure
    diagram_figure(result, out / "chimera_phase_diagram.png")
    variants_figure(result["variants"], out / "chimera_variants.png")
    example_figure(nest_trains, size["check_ms"], out / "chimera.png")
    return result


def _count(points: list, state: str) -> int:
    """The points where most seeds (more than half) end in ``state``; a tie of states is not counted."""
    return sum(2 * p["final_states"].get(state, 0) > p["seeds"] for p in points)


def _chimera_range(points: list, mechanism: str, key: str) -> str:
    """The values of ``key`` where at least half the seeds of ``mechanism`` are persistent chimeras."""
    values = sorted(p[key] for p in points
                    if p["mechanism"] == mechanism and 2 * p["persistent_chimeras"] >= p["seeds"])
    return ", ".join(f"{v:g}" for v in values) if values else "none"


def _total(points: list, mechanism: str) -> str:
    """Persistent chimeras / runs over every point of one mechanism."""
    mine = [p for p in points if p["mechanism"] == mechanism]
    return f"{sum(p['persistent_chimeras'] for p in mine)}/{sum(p['seeds'] for p in mine)}"


def markdown(result: dict) -> str:
    """The report section."""
    from comparisons.tables import markdown_table as _table
    check, ring, two, var = result["check"], result["ring"], result["two"], result["variants"]
    seconds = check["duration_ms"] / 1000
    rows = []
    for backend in ("reference", "nest"):
        for p in check[backend]["points"]:
            where = (f"g = {p['g']:g}, r = {p['coupling_range']:g}" if p["setup"] == "Ring"
                     else f"g_self = {p['g_self']:g}, g_cross = {p['g_cross']:g}")
            rows.append({"setup": p["setup"], "where": where, "backend": backend,
                         "chimeras": f"{p['persistent_chimeras']}/{p['seeds']}",
                         "states": ", ".join(f"{k} x{v}" for k, v in sorted(p["final_states"].items()))})
    same = sum(check["same_spikes"])
    lines = [
        "## Chimera states (examples/chimera.py, comparisons/chimera.py)", "",
        "Identical GLIF1 (LIF) cells, `GLIF_curr_alpha`, with the supra-threshold drive and alpha pulses of Olmi, "
        "Politi & Torcini (2010, EPL 92:60007): a = 1.3, alpha = 9, tau_m = 20 ms (mapping in docs/guide/chimera.md). "
        f"A ring of {chimera.RING_CHIMERA.n} cells (R = r N neighbours on each side, started half synchronised) and "
        f"two populations of {chimera.TWO_CHIMERA.n} (all-to-all within and between, started at random). After a "
        f"{chimera.TRANSIENT / 1000:g} s transient each run is classified in windows of {chimera.WINDOW / 1000:g} s "
        "(glif_pynn.synchrony); a *persistent chimera* is a run whose every window is a chimera.", "",
        "What is reproduced from Olmi et al. is the *kind* of state they report for two populations: the breathing "
        "chimera (one population fully synchronised, the other partially, its order parameter oscillating) and "
        "generalised chimeras (both partial, to different degrees). Their (g_s, g_c) diagram could not be read on "
        "this machine (only the abstract and introduction), so the diagram below is compared with the published "
        "one by kind of state, not by the position of its boundaries. The ring is this study's own set-up (their "
        "LIF on a ring with R nearest neighbours), not a published figure.", "",
        f"**Chimera points and contrasts on both backends** ({SEEDS_CHECK} seeds, {seconds:g} s simulated; "
        f"reference {check['reference']['wall_s']:.0f} s, pyNN.nest {check['nest']['wall_s']:.0f} s wall for all "
        f"{len(check['same_spikes'])} networks in one simulation each). Every cell fired in the same time steps on "
        f"both backends in {same} of {len(check['same_spikes'])} networks.", "",
        _table(rows, [("setup", "set-up", "s"), ("where", "parameters", "s"), ("backend", "backend", "s"),
                      ("chimeras", "persistent chimeras", "s"), ("states", "state of the last window", "s")]), "",
        "![chimera](chimera.png)", "",
        f"**Phase diagrams** (numpy reference, {ring['seeds']} seeds per point, {ring['duration_ms'] / 1000:g} s): "
        f"the ring over coupling g x range r ({len(ring['rows'])} networks, {ring['cells']} cells, "
        f"{ring['wall_s']:.0f} s wall), "
        f"the two populations over g_self x g_cross ({len(two['rows'])} networks, {two['cells']} cells, "
        f"{two['wall_s']:.0f} s). Most seeds end in a chimera at {_count(ring['points'], 'chimera')} of "
        f"{len(ring['points'])} points of the ring; two populations: chimera at {_count(two['points'], 'chimera')} "
        f"of {len(two['points'])}, generalised chimera at {_count(two['points'], 'generalised chimera')}.", "",
        "![phase diagrams](chimera_phase_diagram.png)", "",
        f"**GLIF mechanisms** ({var['seeds']} seeds, {var['wall_s']:.0f} s wall): after-spike current jumps of "
        "-0.02 and threshold jumps of +0.02 (model units), both decaying in 50 ms. Persistent chimeras per "
        "mechanism along the ring's g (r = 0.2) and the two populations' g_cross (g_self = 0.1):", "",
        _table([{"mechanism": m,
                 "ring": ", ".join(f"{p['g']:g}: {p['persistent_chimeras']}/{p['seeds']}"
                                   for p in sorted(var["ring"], key=lambda p: p["g"]) if p["mechanism"] == m),
                 "two": ", ".join(f"{p['g_cross']:g}: {p['persistent_chimeras']}/{p['seeds']}"
                                  for p in sorted(var["two"], key=lambda p: p["g_cross"]) if p["mechanism"] == m),
                 "all": _total(var["ring"] + var["two"], m),
                 "rate": var["ring_rate_hz"][m]} for m in chimera.MECHANISMS],
               [("mechanism", "mechanism", "s"), ("ring", "ring, g: chimeras", "s"),
                ("two", "two populations, g_cross: chimeras", "s"), ("all", "all runs", "s"),
                ("rate", "ring rate (Hz)", ".1f")]), "",
        "![GLIF mechanisms](chimera_variants.png)", "",
        "Where the ring (r = 0.2) is a persistent chimera in at least half the seeds, per mechanism: " +
        "; ".join(f"{m} g = {_chimera_range(var['ring'], m, 'g')} ({var['ring_rate_hz'][m]:.1f} Hz)"
                  for m in chimera.MECHANISMS) +
        ". Both mechanisms lower the rate (they act as a weaker drive); the rows show whether the chimera "
        "band moves with it.", "",
        f"Whole study: {result['wall_s']:.0f} s wall (load average at the start "
        f"{result['load_average_at_start']}).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse
    import json
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--quick", action="store_true")
    cli.add_argument("--output", default="results/chimera")
    args = cli.parse_args()
    outcome = run(args.output, args.quick)
    (Path(args.output) / "chimera.json").write_text(json.dumps(outcome, indent=1))
    (Path(args.output) / "chimera.md").write_text(markdown(outcome))
    print(markdown(outcome))
