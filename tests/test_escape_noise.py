"""Escape noise (``lambda0``, ``delta_u``) on pyNN.nest and on the numpy reference backend.

The rule (DESIGN.md §1): a cell that is not refractory spikes in a step with probability
``p = 1 - exp(-lambda dt)``, ``lambda = lambda0 exp((V - v_thresh - theta - theta_v) / delta_u)``,
V taken at the end of the step. The two backends draw from different generators, so they are
compared in distribution: two-sample tests at the significance level ALPHA, each of which
must also reject a deliberately wrong ``delta_u`` on one side (the tests can fail).

Frozen V: with no input, no after-spike currents and a reset that leaves V where it is
(``f_v = 1``, ``delta_v = 0``), V stays at ``v_rest`` to the last bit, so every step is the
same Bernoulli trial: the count is binomial and the interspike intervals, in steps, are
geometric with parameter p. Neither backend draws one number per step (docs/guide/stochastic.md,
"How the draws are arranged"): the NESTML model thins one budget per cell with the bound
``max(lambda0 dt, lambda dt)``; the reference splits the trial at a bound ``R >= BOUND_FLOOR``
into candidates drawn ahead and a draw for the excess above R. The frozen cases put V below the threshold,
above it, and far below it with ``lambda0 dt > 1``, so that every branch of both arrangements is
what decides the spikes in one of them.
"""
import importlib
import math

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("pyNN.nest")

ALPHA = 1e-3            # significance level of every statistical test here
DT = 0.1
BACKENDS = ("nest", "reference")
#: V frozen at v_rest, 5 mV below the threshold: lambda = 200 Hz * exp(-5 / 2) = 16.4 Hz
FROZEN = dict(v_rest=-60.0, v_thresh=-55.0, i_offset=0.0, f_v=1.0, delta_v=0.0, delta_asc1=0.0, delta_asc2=0.0,
              delta_theta=0.0, tau_refrac=0.0, lambda0=200.0, delta_u=2.0)
#: a cell with after-spike currents, threshold adaptation and a refractory period, driven above its rheobase
DRIVEN = dict(i_offset=0.3, tau_refrac=2.0, lambda0=20.0, delta_u=2.0)


def backend(name):
    if name == "nest":
        import pyNN.nest as sim
        import glif_pynn.nest as cells
        return sim, cells
    sim = importlib.import_module("glif_pynn.reference")
    return sim, sim


def spike_trains(name, n, duration, seed=1, celltype="GLIF_curr_exp", **params):
    """Spike times (ms) of ``n`` cells of one type and parameter set, simulated for ``duration`` ms."""
    sim, cells = backend(name)
    sim.setup(timestep=DT, min_delay=DT, rng_seed=seed)
    population = sim.Population(n, getattr(cells, celltype)(**params))
    population.record("spikes")
    sim.run(duration)
    trains = [st.rescale("ms").magnitude for st in population.get_data("spikes").segments[0].spiketrains]
    sim.end()
    return trains


def assert_binomial(count: int, trials: int, p: float, what: str) -> None:
    """``count`` spikes in ``trials`` Bernoulli steps of probability ``p``: within 4 sd of the binomial mean."""
    sd = math.sqrt(trials * p * (1 - p))
    assert abs(count - trials * p) < 4 * sd, f"{what}: {count} spikes, expected {trials * p:.0f} +- {sd:.0f} (4 sd)"


def step_probability(params) -> float:
    rate_hz = params["lambda0"] * math.exp((params["v_rest"] - params["v_thresh"]) / params["delta_u"])
    return -math.expm1(-rate_hz * DT * 1e-3)


def isis_in_steps(trains, duration: float, horizon: float):
    """Intervals (in steps) from time 0 and from each spike to the next spike, for the starts at least
    ``horizon`` ms before the end of the run; an interval that the end cuts is returned as its lower bound
    (it is longer than ``horizon``). Taking every interval instead would miss just the long ones that the
    end cuts, and bias the law towards short intervals."""
    out = []
    for st in trains:
        starts = np.concatenate([[0.0], st])
        ends = np.concatenate([st, [duration + DT]])          # no next spike: longer than the run allows
        keep = starts <= duration - horizon
        out.append(ends[keep] - starts[keep])
    return np.concatenate(out) / DT


def geometric_fit_pvalue(steps: np.ndarray, p: float, bins: int = 40) -> float:
    """Chi-square goodness of fit of whole-step intervals to the geometric law with parameter ``p``.

    Bins of about equal probability (fewer where the law is concentrated on few values). A
    Kolmogorov-Smirnov test does not apply to a discrete law: with ~1e5 intervals on a few
    values it rejects the right law."""
    edges = np.unique(stats.geom.ppf(np.linspace(0.0, 1.0, bins + 1)[1:-1], p))    # each bin's last value
    observed = np.histogram(steps, np.concatenate([[0.5], edges + 0.5, [np.inf]]))[0]
    expected = steps.size * np.diff(np.concatenate([[0.0], stats.geom.cdf(edges, p), [1.0]]))
    return stats.chisquare(observed, expected).pvalue


#: frozen cases: V 5 mV below the threshold (p = 0.0016); 3 mV above it, where the NESTML model's bound is
#: lambda dt and the reference decides most spikes by its excess draws (p = 0.086); 10 mV below with
#: lambda0 dt = 2, where the bound of both is lambda0 dt and a fraction of the candidates spike (p = 0.0134).
#: Durations give 1.6e4-1.7e5 spikes in 200 cells.
FROZEN_CASES = {"below the threshold": ({}, 5000.0),
                "above the threshold": ({"v_rest": -52.0}, 1000.0),
                "lambda0 dt > 1": ({"v_rest": -65.0, "lambda0": 20000.0}, 5000.0)}


@pytest.mark.parametrize("case", FROZEN_CASES)
@pytest.mark.parametrize("name", BACKENDS)
def test_frozen_v_fires_at_the_bernoulli_rate_with_geometric_intervals(name, case):
    params, duration = dict(FROZEN, **FROZEN_CASES[case][0]), FROZEN_CASES[case][1]
    n = 200
    trains = spike_trains(name, n, duration, **params)
    p = step_probability(params)
    trials = n * round(duration / DT)
    count = sum(len(st) for st in trains)
    assert count > 1000, "non-trivial: the cells fire"
    assert_binomial(count, trials, p, case)
    # intervals in whole steps (spikes are stamped at the end of a step): geometric from 1 step on; the
    # horizon, 20 mean intervals, is what a start needs for its interval to end within the run but with
    # chance exp(-20); a longer one still lands in the last bin of the test
    horizon = 20.0 * DT / p
    assert horizon < duration / 2
    steps = np.rint(isis_in_steps(trains, duration, horizon))
    assert steps.min() >= 1
    assert geometric_fit_pvalue(steps, p) > ALPHA, "ISIs are geometric with parameter p"
    # the same test rejects a geometric law whose p is 10 % off: it has the power to fail
    assert geometric_fit_pvalue(steps, 1.1 * p) < ALPHA


@pytest.mark.parametrize("name", BACKENDS)
def test_frozen_v_with_a_refractory_period(name):
    """After each spike a cell is refractory for R steps, with no escape spike; then every step is the same
    Bernoulli trial again. So the intervals are R steps plus a geometric number of steps (at least R + 1),
    and the count is binomial over the steps that were not refractory."""
    refractory = 10
    params = dict(FROZEN, v_rest=-52.0, tau_refrac=refractory * DT)       # 3 mV above: p = 0.086
    n, duration = 200, 1000.0
    trains = spike_trains(name, n, duration, **params)
    p, steps = step_probability(params), round(duration / DT)
    spike_steps = [np.rint(st / DT).astype(int) for st in trains]        # stamped at the end of their step
    count = sum(len(k) for k in spike_steps)
    tested = n * steps - sum(np.minimum(refractory, steps - k).sum() for k in spike_steps)
    assert count > 1000, "non-trivial: the cells fire"
    assert_binomial(count, tested, p, f"{tested} steps not refractory")
    horizon = (refractory + 20.0 / p) * DT          # as in isis_in_steps: intervals from spikes this far from the end
    intervals = np.concatenate([np.diff(np.append(k, steps + 1))[k <= steps - horizon / DT] for k in spike_steps])
    assert intervals.min() == refractory + 1, "the first step after the refractory period may fire, none before"
    assert geometric_fit_pvalue(intervals - refractory, p) > ALPHA, "then the intervals are geometric"
    assert geometric_fit_pvalue(intervals - refractory, 1.1 * p) < ALPHA


@pytest.mark.parametrize("name", BACKENDS)
def test_the_hazard_is_taken_at_the_end_of_the_step(name):
    """A 2 nA step lifts V from 1 mV below the threshold to about 2.3 mV above it within the first step. With
    delta_u = 0.1 mV the hazard at the end of that step is lambda0 dt e^23 = 1e6 (a spike is certain); at its
    start it would be lambda0 dt e^-10 = 5e-9 (for 1000 cells together a chance of 5e-6)."""
    params = dict(FROZEN, v_rest=-56.0, i_offset=2.0, delta_u=0.1, lambda0=1.0)
    trains = spike_trains(name, 1000, 2 * DT, **params)
    assert all(len(st) and st[0] == pytest.approx(DT) for st in trains), "every cell fires in the first step"


@pytest.mark.parametrize("name", BACKENDS)
def test_lambda0_per_cell(name):
    """lambda0 alternating 100 and 400 Hz in one population: each group fires at its own Bernoulli rate."""
    n, duration = 200, 5000.0
    lambda0 = np.where(np.arange(n) % 2 == 0, 100.0, 400.0)
    trains = spike_trains(name, n, duration, **dict(FROZEN, lambda0=lambda0))
    counts = np.array([len(st) for st in trains])
    for value in (100.0, 400.0):
        p = step_probability(dict(FROZEN, lambda0=value))
        trials = (lambda0 == value).sum() * round(duration / DT)
        assert_binomial(counts[lambda0 == value].sum(), trials, p, f"lambda0 {value} Hz")


@pytest.mark.parametrize("name", BACKENDS)
def test_lambda0_switched_on_after_a_run_at_zero_far_above_the_threshold(name):
    """lambda0 = 0 with V 5 mV above a very sharp threshold (delta_u = 0.005 mV: e^1000 overflows): no spike.
    Switched on to 20 Hz, the hazard is certain and the cells fire on every step. NEST computed 0 x inf = NaN
    there, which spoiled the escape budget for good: the cells stayed silent."""
    sim, cells = backend(name)
    sim.setup(timestep=DT, min_delay=DT, rng_seed=1)
    population = sim.Population(10, cells.GLIF_curr_exp(**dict(FROZEN, v_rest=-50.0, delta_u=0.005, lambda0=0.0)))
    population.record("spikes")
    sim.run(10.0)
    population.set(lambda0=20.0)
    sim.run(10.0)
    trains = [st.magnitude for st in population.get_data().segments[0].spiketrains]
    sim.end()
    for st in trains:
        assert not np.any(st <= 10.0), "lambda0 = 0: no spike"
        # every step after the change (pyNN.nest applies a change one min_delay later)
        assert len(st) >= 99 and np.allclose(np.diff(st), DT), st


def _compare(a_trains, b_trains, duration):
    """p-values of two-sample tests: pooled ISIs (KS), per-cell rates (KS), per-cell ISI CVs (KS)."""
    def cvs(trains):
        values = [np.std(np.diff(st)) / np.mean(np.diff(st)) for st in trains if len(st) > 5]
        return np.array(values)
    isis = [np.concatenate([np.diff(st) for st in trains]) for trains in (a_trains, b_trains)]
    rates = [np.array([len(st) for st in trains]) / (duration / 1000.0) for trains in (a_trains, b_trains)]
    assert min(len(x) for x in isis) > 1000, "non-trivial: many intervals on each side"
    return {"isi": stats.ks_2samp(*isis).pvalue, "rate": stats.ks_2samp(*rates).pvalue,
            "cv": stats.ks_2samp(cvs(a_trains), cvs(b_trains)).pvalue}


@pytest.fixture(scope="module")
def driven_runs():
    n, duration = 200, 3000.0
    return {"n": n, "duration": duration,
            "nest": spike_trains("nest", n, duration, seed=3, **DRIVEN),
            "reference": spike_trains("reference", n, duration, seed=4, **DRIVEN),
            "reference, wrong delta_u": spike_trains("reference", n, duration, seed=4,
                                                     **dict(DRIVEN, delta_u=1.25 * DRIVEN["delta_u"]))}


def test_backends_agree_in_distribution(driven_runs):
    pvalues = _compare(driven_runs["nest"], driven_runs["reference"], driven_runs["duration"])
    for what, pvalue in pvalues.items():
        assert pvalue > ALPHA, f"NEST and the reference differ in their {what} distribution (p = {pvalue:.2g})"


def test_a_wrong_delta_u_on_one_side_is_detected(driven_runs):
    pvalues = _compare(driven_runs["nest"], driven_runs["reference, wrong delta_u"], driven_runs["duration"])
    assert min(pvalues.values()) < ALPHA, f"a 25 % larger delta_u went unnoticed: {pvalues}"


#: more configurations compared in distribution, each with a change on the reference side that the same tests
#: must detect: GLIF5, whose theta_v enters the hazard (left out), and a conductance-based type (delta_u 25 % off)
MORE_DRIVEN = {"GLIF5": ("GLIF_curr_exp", dict(i_offset=0.4, tau_refrac=2.0, lambda0=20.0, delta_u=2.0,
                                               a_theta_v=0.005, b_theta_v=0.1), {"a_theta_v": 0.0}),
               "conductance-based": ("GLIF_cond_exp", DRIVEN, {"delta_u": 1.25 * DRIVEN["delta_u"]})}


@pytest.mark.parametrize("config", MORE_DRIVEN)
def test_backends_agree_in_distribution_for_glif5_and_conductances(config):
    celltype, params, wrong = MORE_DRIVEN[config]
    n, duration = 300, 2000.0
    nest_run = spike_trains("nest", n, duration, seed=3, celltype=celltype, **params)
    for reference_params, agree in ((params, True), (dict(params, **wrong), False)):
        pvalues = _compare(nest_run, spike_trains("reference", n, duration, seed=4, celltype=celltype,
                                                  **reference_params), duration)
        if agree:
            assert min(pvalues.values()) > ALPHA, f"{config}: NEST and the reference differ: {pvalues}"
        else:
            assert min(pvalues.values()) < ALPHA, f"{config}: {wrong} on the reference went unnoticed: {pvalues}"


@pytest.mark.parametrize("name", BACKENDS)
def test_the_same_seed_reproduces_a_run_and_another_seed_does_not(name):
    runs = [spike_trains(name, 20, 500.0, seed=seed, **DRIVEN) for seed in (7, 7, 8)]
    assert sum(len(st) for st in runs[0]) > 100
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1])), "same seed, same spikes"
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[2])), "another seed, other spikes"


@pytest.mark.parametrize("name", BACKENDS)
def test_isi_cv_grows_with_delta_u_from_zero_towards_one(name):
    """Constant input, GLIF1 cells: a hard threshold fires like a clock (CV 0); softer thresholds fire
    more irregularly, towards a Poisson process (CV 1)."""
    softness = (0.0, 0.5, 2.0, 8.0, 32.0)
    per = 20
    glif1 = dict(delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, f_v=0.0, delta_v=0.0, tau_refrac=0.0,
                 i_offset=0.3, lambda0=20.0)
    trains = spike_trains(name, per * len(softness), 2000.0, seed=5, delta_u=np.repeat(softness, per), **glif1)
    cv = []
    for k in range(len(softness)):
        isis = np.concatenate([np.diff(st[st > 100.0]) for st in trains[k * per:(k + 1) * per]])
        assert len(isis) > 100, f"delta_u = {softness[k]}: too few intervals"
        cv.append(np.std(isis) / np.mean(isis))
    assert cv[0] < 1e-9, f"the hard threshold fires regularly, CV {cv[0]}"
    assert all(b > a for a, b in zip(cv, cv[1:])), f"CV not increasing with delta_u: {cv}"
    assert 0.5 < cv[-1] < 1.1, f"the softest threshold approaches a Poisson process: CV {cv[-1]}"


@pytest.mark.parametrize("name", BACKENDS)
def test_lambda0_is_ignored_with_the_hard_threshold(name):
    """delta_u = 0 is the deterministic model whatever lambda0 is: the same spikes to the bit."""
    base = dict(i_offset=0.3, tau_refrac=2.0)
    hard = spike_trains(name, 5, 500.0, seed=1, **base)
    with_lambda = spike_trains(name, 5, 500.0, seed=2, lambda0=500.0, delta_u=0.0, **base)
    assert sum(len(st) for st in hard) > 10
    assert all(np.array_equal(a, b) for a, b in zip(hard, with_lambda))


@pytest.mark.parametrize("above_mV", [1.0, 3.0])
@pytest.mark.parametrize("name", BACKENDS)
def test_hard_and_soft_cells_of_one_population_keep_their_own_rules(name, above_mV):
    """A population whose cells alternate delta_u = 0 and delta_u > 0, with V frozen above the threshold:
    each hard cell fires on every step, as a clock; the soft cells fire at the Bernoulli rate. The
    reference decides the soft cells 1 mV above by part 1 of its draws alone (lambda dt < R), 3 mV above
    mostly by part 2."""
    params = dict(FROZEN, v_rest=FROZEN["v_thresh"] + above_mV)
    n, duration = 200, 1000.0
    soft = np.arange(n) % 2 == 1
    trains = spike_trains(name, n, duration, **dict(params, delta_u=np.where(soft, params["delta_u"], 0.0)))
    steps = round(duration / DT)
    counts = np.array([len(st) for st in trains])
    assert np.all(counts[~soft] == steps), "a hard cell above its threshold fires on every step"
    p = step_probability(params)
    trials = soft.sum() * steps
    assert_binomial(counts[soft].sum(), trials, p, "soft cells")


@pytest.mark.parametrize("bad, match", [({"lambda0": -1.0}, "lambda0"), ({"delta_u": -0.5}, "delta_u"),
                                        ({"delta_u": float("nan")}, "delta_u"), ({"delta_u": 500.0}, "implausibly"),
                                        ({"lambda0": 1e7}, "implausibly")])
def test_invalid_escape_noise_parameters_are_refused(bad, match):
    from glif_pynn.standardmodels import GLIF_curr_exp
    with pytest.raises(ValueError, match=match):
        GLIF_curr_exp(**bad)
