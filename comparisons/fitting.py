"""Fitting study for ``glif-pynn compare``: GLIF1-5 fitted to NEST's Hodgkin-Huxley neuron.

Runs ``examples/fit_hodgkin_huxley.py`` (recordings of ``hh_cond_exp_traub`` under OU currents, cached;
each level fitted on the training sweeps and scored on held-out ones) and turns its result into a report
section beside the published figures (Jolivet, Lewis & Gerstner 2004: 70-80 % of a detailed model's
spikes within +-2 ms; Brette & Gerstner 2005: AdEx 96 %).
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Callable, Optional

import numpy as np

FIGURE = "fit_hodgkin_huxley.png"


def run(out: Path, quick: bool = False, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Fit GLIF1-5 (``quick``: 3 + 3 sweeps of 5 s, 8 generations); write ``out/fit_hodgkin_huxley.png``; return
    the rows (held-out and training Gamma, explained variance, V RMSE, parameters per level)."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    if str(examples) not in sys.path:
        sys.path.insert(0, str(examples))
    example = importlib.import_module("fit_hodgkin_huxley")
    return example.study(quick=quick, output=Path(out) / FIGURE, progress=progress or print, write_recordings=False)


def markdown(result: dict) -> str:
    """The report section."""
    rows = ["| level | held-out Gamma | training Gamma | held-out explained variance | held-out V RMSE (mV) | "
            "spikes model / recorded (held out) | fit time (s) |", "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        rows.append(f"| {r['name']} | {r['test_gamma']:.3f} | {r['training_gamma']:.3f} | "
                    f"{r['test_explained_variance']:.3f} | {r['test_v_rmse_mV']:.2f} | {r['test_spikes_model']} / "
                    f"{r['test_spikes_data']} | {r['fit_seconds']:.0f} |")
    stimuli = ", ".join(f"({m:g}, {s:g})" for m, s in result["stimuli_pA"])
    best = next(r for r in result["rows"] if r["level"] == result["best_level"])
    per_sweep = ", ".join(f"{g:.2f}" for g in best["test_gamma_per_sweep"])
    reached = "reached" if result["best_test_gamma"] >= result["goal"] else "not reached"
    return "\n".join([
        "## Fitting GLIF1-5 to a Hodgkin-Huxley neuron (examples/fit_hodgkin_huxley.py)", "",
        f"NEST's `hh_cond_exp_traub` (E_L = -65 mV) under Ornstein-Uhlenbeck currents (tau 3 ms; (mean, sd) in pA: "
        f"{stimuli}), V recorded at 0.05 ms; {_sweeps(result)} of {result['sweep_ms'] / 1e3:g} s"
        f"{' (quick run)' if result['quick'] else ''}. "
        "Gamma: coincidence factor within +-2 ms, mean over sweeps, the model running freely.", "",
        *rows, "",
        f"Published: simple threshold models predict 70-80 % of a detailed model's spikes within +-2 ms (Jolivet, "
        f"Lewis & Gerstner 2004); AdEx 96 % (Brette & Gerstner 2005). Goal Gamma >= {result['goal']} for the best "
        f"level on held-out sweeps: {reached} (GLIF{result['best_level']}, {result['best_test_gamma']:.3f}; per "
        f"held-out sweep, in the order of the stimuli: {per_sweep}).", "",
        *_self_agreement(result), f"![fitting]({FIGURE})", ""])


def _sweeps(result: dict) -> str:
    """How many training and held-out sweeps (a fitting.json of before 2026-12-05 had one of each per stimulus)."""
    stimuli = len(result["stimuli_pA"])
    training, test = result.get("training_sweeps", stimuli), result.get("test_sweeps", stimuli)
    seeds = f" ({training // stimuli} noise seeds per stimulus)" if training > stimuli else ""
    return f"{training} training sweeps{seeds} and {test} held-out sweeps (other noise seeds)"


def _self_agreement(result: dict) -> list:
    """How well the cell predicts itself under extra input noise, and where the best level and the goal fall."""
    itself = result.get("self_agreement")
    if itself is None:         # a fitting.json written before the study measured it
        return []
    noise = " | ".join(f"{n:g}" for n in itself["noise_pA"])
    gamma = " | ".join(f"{g:.3f}" + (f" +- {e:.3f}" if e > 0 else "")
                       for g, e in zip(itself["gamma"], itself["gamma_sem"]))
    median_sd = float(np.median([sd for _, sd in result["stimuli_pA"]]))
    return [
        "How far the goal is: the cell against itself. Each held-out sweep is run again with an independent "
        f"Ornstein-Uhlenbeck current (tau 3 ms) added to its input, {itself['repeats']} draws each, and the cell's "
        "spikes are scored against its own spikes without it (Gamma, mean over sweeps and draws +- its standard "
        "error over the draws):", "",
        f"| extra input sd (pA) | {noise} |", "|---" * (len(itself["noise_pA"]) + 1) + "|",
        f"| Gamma | {gamma} |", "",
        f"GLIF{result['best_level']}'s {result['best_test_gamma']:.3f} is what the cell scores against itself with "
        f"{itself['best_level_noise_pA']:.1f} pA of extra input noise ({itself['best_level_noise_pA'] / median_sd:.0%} "
        f"of the stimuli's median sd, {median_sd:g} pA); the goal of {result['goal']} corresponds to "
        f"{itself['goal_noise_pA']:.1f} pA.", ""]
