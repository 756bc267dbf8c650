"""``fit``: a GLIF model (levels 1-5) from current-clamp sweeps, in stages, then a spike-timing optimiser.

1. data: neo sweeps -> arrays in mV, nA, ms; spikes (:mod:`~glif_pynn.fit.data`);
2. membrane and after-spike currents by linear regression between spikes, and the spike cut
   (:mod:`~glif_pynn.fit.subthreshold`);
3. threshold, spike-induced threshold, theta_v and reset rule from V at the spikes
   (:mod:`~glif_pynn.fit.stages`);
4. the threshold parameters tuned on spike timing, candidates evaluated in one vectorised engine run
   per generation (:mod:`~glif_pynn.fit.objective`, :mod:`~glif_pynn.fit.optimise`);
5. scores on the training and test sweeps (:mod:`~glif_pynn.fit.scores`).
"""
from __future__ import annotations

import math
import time
from numbers import Integral, Real
from typing import Callable, Optional

from glif_pynn.fit.data import MIN_CURRENT_RANGE_NA, SPIKE_LEVEL_MV, as_sweeps
from glif_pynn.fit.objective import CHUNK_MS, SpikeTimingObjective
from glif_pynn.fit.optimise import GENERATIONS, POPULATION, optimise, tuned_parameters
from glif_pynn.fit.result import LEVEL_NAMES, FitResult
from glif_pynn.fit.scores import score, simulate
from glif_pynn.fit.stages import fit_reset, fit_threshold, spike_voltages
from glif_pynn.fit.subthreshold import Recording, fit_subthreshold
from glif_pynn.parameters import BY_NAME, CONDUCTANCE, CURRENT, validate

CELL_TYPES = {"GLIF_curr_exp": CURRENT, "GLIF_curr_alpha": CURRENT, "GLIF_cond_exp": CONDUCTANCE,
              "GLIF_cond_alpha": CONDUCTANCE}
#: Fewest training spikes per level (the threshold needs spikes; reset and adaptation need more).
MIN_SPIKES = {1: 5, 2: 20, 3: 20, 4: 20, 5: 30}


def fit(sweeps, level: int, *, test=None, seed: int = 0, cell_type: str = "GLIF_curr_exp",
        generations: int = GENERATIONS, population: int = POPULATION, chunk_ms: float = CHUNK_MS,
        spike_level: float = SPIKE_LEVEL_MV, progress: Optional[Callable[[str], None]] = None) -> FitResult:
    """Fit GLIF ``level`` (1-5) to current-clamp sweeps.

    Parameters
    ----------
    sweeps : neo Block or list of neo Segments
        Training sweeps, each with an AnalogSignal ``"current"`` (any current unit) and ``"v"`` (any voltage
        unit) of the same sampling and length; any stimulus (steps, ramps, noise). Spikes come from the
        segment's spike train or are found in V (:mod:`glif_pynn.fit.data`).
    level : int
        1 LIF, 2 LIF-R, 3 LIF-ASC, 4 LIF-R-ASC, 5 LIF-R-ASC-A (Teeter et al. 2018).
    test : neo Block or list of neo Segments, optional
        Held-out sweeps, scored but never fitted.
    seed : int
        Seed of the optimiser. Default: 0 (the same data and seed give the same result).
    cell_type : str
        PyNN cell type of the result. Default: ``GLIF_curr_exp`` (the fit does not see synapses, which keep
        their defaults).
    generations, population : int
        Differential-evolution generations and candidates per generation. Defaults: 30 and 24.
    chunk_ms : float
        Length of the chunks the optimiser simulates (:mod:`glif_pynn.fit.objective`). Default: 1000.
    spike_level : float
        mV; V crossing it upwards is a spike, where a segment has no spike train. Default: -20.
    progress : callable, optional
        Called with a line of text at each stage and generation.

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        Naming the problem: an unknown level or cell type; a sweep without ``current`` or ``v``, without
        units, with NaN, with signals of different sampling or length, too short; too few spikes for the level.
    """
    say = progress or (lambda line: None)
    _check_arguments(level, cell_type, seed, generations, population, chunk_ms, spike_level)
    level = int(level)
    timings, clock = {}, time.monotonic()
    training = as_sweeps(sweeps, "training", spike_level)
    spread = max(float(s.current.max()) for s in training) - min(float(s.current.min()) for s in training)
    if spread < MIN_CURRENT_RANGE_NA:
        raise ValueError(f"the injected current varies by only {spread:.3g} nA over all training sweeps, too little "
                         "to identify the membrane; is 'current' the injected current, and are its units right "
                         "(a current in nA labelled pA is 1000 times too small)?")
    held_out = as_sweeps(test, "test", spike_level) if test is not None else []
    if held_out and abs(held_out[0].dt - training[0].dt) > 1e-9 * training[0].dt:
        raise ValueError(f"test sweeps are sampled every {held_out[0].dt:g} ms, training sweeps every "
                         f"{training[0].dt:g} ms; resample them to one")
    n_spikes = sum(len(s.spikes) for s in training)
    if n_spikes < MIN_SPIKES[level]:
        found = "no spikes" if n_spikes == 0 else f"only {n_spikes} spikes"
        what = "threshold" if level == 1 else "threshold, reset and spike-triggered mechanisms"
        raise ValueError(f"{found} in the training sweeps: GLIF{level} ({LEVEL_NAMES[level]}) needs at least "
                         f"{MIN_SPIKES[level]} to estimate its {what} (spikes are taken from each segment's spike "
                         f"train, or found where V crosses {spike_level:g} mV upwards)")
    dt = training[0].dt
    say(f"GLIF{level} ({LEVEL_NAMES[level]}): {len(training)} training sweeps ({n_spikes} spikes, "
        f"{sum(s.duration for s in training) / 1e3:.1f} s at {dt:g} ms), {len(held_out)} test sweeps")
    timings["data"], clock = time.monotonic() - clock, time.monotonic()
    rec = Recording(training)
    dyn = fit_subthreshold(rec, 2 if level >= 3 else 0, progress=say)
    timings["membrane and spike cut"], clock = time.monotonic() - clock, time.monotonic()
    sv = spike_voltages(rec, dyn)
    if len(sv.spike) < MIN_SPIKES[level]:
        raise ValueError(f"only {len(sv.spike)} spikes are preceded by {2:g} ms of subthreshold V; GLIF{level} needs "
                         f"{MIN_SPIKES[level]}")
    staged = _parameters(level, dyn, fit_threshold(rec, dyn, sv, level), fit_reset(dyn, sv, level), dt)
    _validate_fitted(staged, cell_type, "the staged estimate")
    say("staged estimate: " + ", ".join(f"{k} {v:.4g}" for k, v in staged.items()))
    timings["threshold and reset"], clock = time.monotonic() - clock, time.monotonic()
    tuned = tuned_parameters(level, staged)
    objective = SpikeTimingObjective(rec, dyn, staged, tuned, chunk_ms=chunk_ms,
                                     anchor=[t.to_search(min(max(staged[t.name], t.low), t.high)) for t in tuned])
    say(f"optimising {', '.join(t.name for t in tuned)}: {len(objective.first)} chunks per candidate")
    values, summary = optimise(objective, staged, seed=seed, generations=generations, population=population,
                               progress=say)
    params = dict(staged, **values)
    _validate_fitted(params, cell_type, "the tuned parameters")
    timings["optimiser"], clock = time.monotonic() - clock, time.monotonic()
    runs = simulate(params, [s.current for s in training + held_out], dt, record_v=[len(training) if held_out else 0])
    scores = {"training": score(params, training, runs[:len(training)]),
              "test": score(params, held_out, runs[len(training):]) if held_out else None}
    timings["scores"] = time.monotonic() - clock
    result = FitResult(cell_type, level, params, scores, dt, staged, summary, timings, training, held_out, runs)
    say(result.summary())
    return result


def _check_arguments(level, cell_type, seed, generations, population, chunk_ms, spike_level) -> None:
    """A ValueError naming the first argument of :func:`fit` that is not what it must be."""
    if isinstance(level, bool) or not isinstance(level, Integral) or level not in LEVEL_NAMES:
        raise ValueError(f"level must be 1, 2, 3, 4 or 5 (Teeter et al. 2018: "
                         f"{', '.join(f'{n} {name}' for n, name in LEVEL_NAMES.items())}), got {level!r}")
    if cell_type not in CELL_TYPES:
        raise ValueError(f"unknown cell type {cell_type!r}; choose one of {', '.join(CELL_TYPES)}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed < 2 ** 32:
        raise ValueError(f"seed must be a whole number from 0 to 2**32 - 1, got {seed!r}")
    for name, value, least in (("generations", generations, 1), ("population", population, 4)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
            raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}")
    if not isinstance(chunk_ms, Real) or not math.isfinite(chunk_ms) or chunk_ms < 100.0:
        raise ValueError(f"chunk_ms must be at least 100 ms (the optimiser simulates the sweeps in chunks of this "
                         f"length), got {chunk_ms!r}")
    if not isinstance(spike_level, Real) or not math.isfinite(spike_level):
        raise ValueError(f"spike_level must be a finite voltage in mV, got {spike_level!r}")


def _validate_fitted(params: dict, cell_type: str, what: str) -> None:
    """The parameter table's validator, its message saying that the data, not the user, gave the value."""
    try:
        validate(params, CELL_TYPES[cell_type])
    except ValueError as err:
        raise ValueError(f"{what} is not a valid GLIF cell: {err} This value was fitted, not given: check the "
                         "units of the sweeps' 'current' (e.g. pA, nA) and 'v' (mV), and that the cell was "
                         "recorded in current clamp.") from err


def _parameters(level: int, dyn, threshold: dict, reset: dict, dt: float) -> dict:
    """Every parameter a neuron_config determines, PyNN names; mechanisms the level lacks keep the values
    :func:`glif_pynn.allen.load_neuron_config` gives them (off)."""
    p = {"cm": dyn.cm, "tau_m": dyn.tau_m, "v_rest": dyn.v_rest, "v_thresh": threshold["v_thresh"],
         "tau_refrac": dyn.hold * dt}
    for j in (1, 2):
        if level >= 3:
            p.update({f"k_asc{j}": dyn.k_asc[j - 1], f"f_asc{j}": 1.0, f"delta_asc{j}": dyn.delta_asc[j - 1]})
        else:
            p.update({f"k_asc{j}": BY_NAME[f"k_asc{j}"].default, f"f_asc{j}": 1.0, f"delta_asc{j}": 0.0})
    p.update(reset)
    p.update({"b_theta": threshold.get("b_theta", BY_NAME["b_theta"].default),
              "delta_theta": threshold.get("delta_theta", 0.0), "a_theta_v": threshold.get("a_theta_v", 0.0),
              "b_theta_v": threshold.get("b_theta_v", BY_NAME["b_theta_v"].default)})
    return {k: float(v) for k, v in p.items()}
