"""``glif-pynn bench fit``: how fast the fit evaluates candidates, and a whole GLIF5 fit.

1. Candidate evaluations per second: the spike-timing objective (:mod:`glif_pynn.fit.objective`) on the
   same chunks, once with all candidates in one vectorised engine run, once with one run per candidate
   (a Python loop, what the vectorised run replaces). The ratio is the speed-up.
2. A whole GLIF5 fit of one cell: ``sweeps`` sweeps of ``seconds`` s at 20 kHz (reference-engine data of
   a known GLIF5 cell under OU currents, 0.5 mV noise on V), the fit's default settings; the time of each
   stage.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np

from glif_pynn.fit.synthetic import glif_recording, ou_current

#: The GLIF5 cell whose recordings the benchmark fits (PyNN units).
CELL = dict(cm=0.08, tau_m=18.0, v_rest=-72.0, v_thresh=-50.0, tau_refrac=2.0, k_asc1=0.03, k_asc2=0.3,
            delta_asc1=-0.02, delta_asc2=0.1, f_v=0.5, delta_v=2.0, delta_theta=2.0, b_theta=0.05,
            a_theta_v=0.004, b_theta_v=0.03)


def recordings(n: int, seconds: float, dt: float = 0.05, seed: int = 0) -> list:
    """``n`` neo Segments of :data:`CELL` under OU currents (means 0.08-0.16 nA, sd 0.15-0.25 nA)."""
    rng = np.random.default_rng(seed)
    currents = [ou_current(seconds * 1e3, dt, rng.uniform(0.08, 0.16), rng.uniform(0.15, 0.25), 3.0,
                           seed=seed + k) for k in range(n)]
    return glif_recording(CELL, currents, dt, 0.5, seed)


def evaluations_per_second(segments: list, candidates: int = 24, seconds: float = 10.0,
                           say: Callable[[str], None] = print) -> dict:
    """Vectorised vs one-run-per-candidate evaluation of the GLIF5 objective on ``seconds`` s of data."""
    from glif_pynn.fit.data import as_sweeps
    from glif_pynn.fit.objective import SpikeTimingObjective
    from glif_pynn.fit.optimise import tuned_parameters
    from glif_pynn.fit.pipeline import _parameters
    from glif_pynn.fit.stages import fit_reset, fit_threshold, spike_voltages
    from glif_pynn.fit.subthreshold import Recording, fit_subthreshold
    sweeps = as_sweeps(segments)
    keep = int(round(seconds * 1e3 / sweeps[0].dt))
    from glif_pynn.fit.data import Sweep
    short = [Sweep(s.current[:keep], s.v[:keep], s.dt, s.spikes[s.spikes < keep], s.name) for s in sweeps[:1]]
    rec = Recording(short)
    dyn = fit_subthreshold(rec, 2)
    sv = spike_voltages(rec, dyn)
    staged = _parameters(5, dyn, fit_threshold(rec, dyn, sv, 5), fit_reset(dyn, sv, 5), rec.dt)
    tuned = tuned_parameters(5, staged)
    objective = SpikeTimingObjective(rec, dyn, staged, tuned)
    rng = np.random.default_rng(1)
    x = np.array([rng.uniform(*t.bounds, candidates) for t in tuned])
    started = time.perf_counter()
    together = objective(x)
    vectorised = time.perf_counter() - started
    say(f"vectorised: {candidates} candidates x {seconds:g} s of data in {vectorised:.1f} s")
    loop_n = max(2, candidates // 4)
    started = time.perf_counter()
    alone = np.array([objective(x[:, [c]])[0] for c in range(loop_n)])
    looped = time.perf_counter() - started
    say(f"one run per candidate: {loop_n} candidates in {looped:.1f} s")
    if not np.allclose(alone, together[:loop_n], atol=1e-12):
        raise AssertionError("the vectorised and the per-candidate runs disagree")
    return {"data_seconds": seconds, "dt_ms": rec.dt, "candidates": candidates, "chunks": len(objective.first),
            "vectorised_per_second": candidates / vectorised, "looped_per_second": loop_n / looped,
            "speed_up": (candidates / vectorised) / (loop_n / looped)}


def whole_fit(segments: list, say: Callable[[str], None] = print) -> dict:
    """A GLIF5 fit with the default settings; seconds per stage and the recovered parameters' errors."""
    from glif_pynn.fit import fit
    started = time.perf_counter()
    def quiet(line: str) -> None:
        if not line.startswith("generation"):
            say(f"  {line}")

    result = fit(segments, 5, progress=quiet)
    total = time.perf_counter() - started
    errors = {k: result.parameters[k] - v for k, v in CELL.items()}
    return {"seconds": total, "stages": result.timings, "training_gamma": result.scores["training"]["gamma"],
            "errors": errors, "generations": result.optimiser["generations"],
            "candidate_evaluations": result.optimiser["candidate_evaluations"]}


def run(sweeps: int = 10, seconds: float = 10.0, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Both benchmarks; figures as a dict (see the module docstring)."""
    import os
    say = progress or print
    load = "%.2f %.2f %.2f" % os.getloadavg()
    say(f"making {sweeps} recordings of {seconds:g} s at 20 kHz (reference engine, GLIF5 cell)")
    started = time.perf_counter()
    segments = recordings(sweeps, seconds)
    made = time.perf_counter() - started
    say(f"  done in {made:.0f} s; candidate evaluations, vectorised against one run per candidate")
    rates = evaluations_per_second(segments, say=say)
    say(f"whole GLIF5 fit: {sweeps} sweeps x {seconds:g} s")
    whole = whole_fit(segments, say=say)
    return {"load_average_at_start": load, "cores": os.cpu_count(), "recordings_seconds": made,
            "sweeps": sweeps, "sweep_seconds": seconds,
            "evaluations": rates, "whole_fit": whole}


def format_report(result: dict) -> str:
    e, w = result["evaluations"], result["whole_fit"]
    lines = [f"glif-pynn bench fit ({result['cores']} cores, load average at start {result['load_average_at_start']})",
             f"candidate evaluations of {e['data_seconds']:g} s of 20 kHz data ({e['chunks']} chunks each):",
             f"  vectorised (one engine run, {e['candidates']} candidates): {e['vectorised_per_second']:.2f} per s",
             f"  one engine run per candidate:                  {e['looped_per_second']:.2f} per s",
             f"  speed-up: {e['speed_up']:.1f}x",
             f"whole GLIF5 fit, {result['sweeps']} sweeps of {result['sweep_seconds']:g} s: {w['seconds']:.0f} s "
             f"({w['generations']} generations, {w['candidate_evaluations']} candidate evaluations, training Gamma "
             f"{w['training_gamma']:.3f})",
             "  " + ", ".join(f"{k} {v:.0f} s" for k, v in w["stages"].items())]
    return "\n".join(lines)
