"""The last stage: tune the threshold parameters on spike timing with differential evolution.

V determines the membrane, the after-spike currents and the reset (:mod:`~glif_pynn.fit.subthreshold`,
:mod:`~glif_pynn.fit.stages`); it only brackets the threshold. So the optimiser tunes what shapes
spike timing and V does not pin down: ``v_thresh`` (every level), ``delta_theta`` and ``b_theta``
(levels 2, 4, 5), ``a_theta_v`` and ``b_theta_v`` (level 5), in bounds around the staged estimates,
which also seed the population. ``scipy.optimize.differential_evolution`` evaluates each generation
as one call of :class:`~glif_pynn.fit.objective.SpikeTimingObjective` (``vectorized=True``), seeded; it
stops after ``generations`` or when the population agrees within :data:`STOP_SPREAD`. The staged
estimate is kept unless a candidate beats it.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from scipy.optimize import differential_evolution

from glif_pynn.fit.objective import SpikeTimingObjective, Tuned
from glif_pynn.fit.stages import B_BOUNDS

#: Candidates per generation (about; scipy rounds to a multiple of the dimension).
POPULATION = 24
#: Generations (scipy's maxiter) by default.
GENERATIONS = 30
#: Stop when the population's training Gammas spread (standard deviation) by less than this: about one
#: coincidence in 500 spikes.
STOP_SPREAD = 2e-3
#: Half-width of the threshold search (mV).
THRESHOLD_RANGE = 4.0


def tuned_parameters(level: int, staged: dict) -> list[Tuned]:
    """What the optimiser tunes at ``level``, with bounds around the staged estimates ``staged``."""
    thr = staged["v_thresh"]
    out = [Tuned("v_thresh", thr - THRESHOLD_RANGE, thr + THRESHOLD_RANGE)]
    if level in (2, 4, 5):
        d = staged["delta_theta"]
        out.append(Tuned("delta_theta", min(0.0, 2 * d), max(0.0, 2 * d) + 2.0))
        b = staged["b_theta"]
        out.append(Tuned("b_theta", max(B_BOUNDS[0], b / 4), min(B_BOUNDS[1], 4 * b), log=True))
    if level == 5:
        a = staged["a_theta_v"]
        out.append(Tuned("a_theta_v", a - 2 * abs(a) - 1e-3, a + 2 * abs(a) + 1e-3))
        bv = staged["b_theta_v"]
        out.append(Tuned("b_theta_v", max(B_BOUNDS[0], bv / 4), min(B_BOUNDS[1], 4 * bv), log=True))
    return out


def optimise(objective: SpikeTimingObjective, staged: dict, *, seed: int = 0, generations: int = GENERATIONS,
             population: int = POPULATION, progress: Optional[Callable[[str], None]] = None) -> tuple[dict, dict]:
    """Tune ``objective.tuned`` from the staged estimates; return (tuned values, optimiser summary)."""
    say = progress or (lambda line: None)
    tuned = objective.tuned
    x0 = np.array([t.to_search(np.clip(staged[t.name], t.low, t.high)) for t in tuned])
    bounds = [t.bounds for t in tuned]
    generation = [0]

    def report(intermediate_result) -> None:
        generation[0] += 1
        say(f"generation {generation[0]}/{generations}: best training Gamma {-intermediate_result.fun:.4f} "
            f"({objective.evaluations} candidate evaluations)")

    start_cost = float(objective(x0[:, None])[0])
    res = differential_evolution(objective, bounds, x0=x0, seed=seed, vectorized=True, updating="deferred",
                                 popsize=max(2, int(np.ceil(population / len(tuned)))), maxiter=generations,
                                 polish=False, tol=0.0, atol=STOP_SPREAD, init="latinhypercube", callback=report)
    best = res.x if res.fun <= start_cost else x0
    values = {t.name: float(t.from_search(v)) for t, v in zip(tuned, best)}
    # the Gammas without the tie-break penalty toward the staged estimate, which is part of the cost
    staged_gamma = -start_cost + float(objective.tie_penalty(x0)[0])
    tuned_gamma = float(-min(res.fun, start_cost) + objective.tie_penalty(best)[0])
    summary = {"optimiser": "scipy.optimize.differential_evolution (vectorized, seeded)", "seed": seed,
               "generations": int(res.nit), "candidate_evaluations": objective.evaluations,
               "staged_training_gamma": staged_gamma, "tuned_training_gamma": tuned_gamma,
               "tuned": [t.name for t in tuned]}
    return values, summary
