import numpy as np
import pytest

from glif_pynn.metrics import coincidence_factor, matched_spike_differences, rmse


def test_identical_trains_have_gamma_one():
    t = np.arange(10.0, 1000.0, 37.0)
    assert coincidence_factor(t, t, 1000.0) == pytest.approx(1.0)


def test_hand_counted_coincidences_give_kistler_s_gamma():
    # 10-11 and 30-30 coincide within 2 ms, 20-23.5 and 40-100 do not: N_coinc = 2. The model's rate is
    # nu = 4 / 200 ms, chance expects 2 nu 2 ms 4 = 0.32 coincidences, N = 1 - 2 nu 2 ms = 0.92:
    # Gamma = (2 - 0.32) / (0.92 (4 + 4) / 2) = 1.68 / 3.68
    gamma = coincidence_factor(np.array([11.0, 23.5, 30.0, 100.0]), np.array([10.0, 20.0, 30.0, 40.0]), 200.0)
    assert gamma == pytest.approx(1.68 / 3.68, rel=1e-12)


def test_independent_poisson_trains_are_near_chance():
    # 1000 spikes each in 1e5 ms: about 2 nu 2 ms 1000 = 40 chance coincidences, a count of variance
    # about 40, so one Gamma has a standard deviation of sqrt(40) / (0.96 * 1000) = 0.0066 and the mean
    # of 20 one of 0.0015. Each spike counted once lowers the mean count to 1000 (1 - exp(-0.04)) = 39.2,
    # a bias of -0.8 / 960 = -0.0008. Bound: the bias and 4 standard errors.
    rng = np.random.default_rng(1)
    gammas = [coincidence_factor(np.sort(rng.uniform(0, 1e5, 1000)), np.sort(rng.uniform(0, 1e5, 1000)), 1e5)
              for _ in range(20)]
    assert abs(np.mean(gammas)) < 0.0008 + 4 * 0.0015


def test_shifted_train_outside_window_is_not_coincident():
    t = np.arange(10.0, 1000.0, 50.0)
    assert coincidence_factor(t + 3.0, t, 1000.0, window=2.0) < 0.0
    assert coincidence_factor(t + 1.5, t, 1000.0, window=2.0) == pytest.approx(1.0)


def test_differences_and_rmse():
    np.testing.assert_array_equal(matched_spike_differences([1.0, 2.5, 4.0], [1.0, 2.0]), [0.0, 0.5])
    assert rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))


# Teeter et al. (2018) explained variance, against closed forms. For well separated spikes (period P >> sigma)
# smoothed with a unit-area Gaussian g, over a duration T with n spikes per train: E[x y] per unit time is
# (n / T) g*g(d) = (n / T) exp(-d^2 / (4 sigma^2)) / (2 sigma sqrt(pi)) for trains shifted by d, and the mean
# rate is n / T; with 1 ms bins the rates are per bin. EV = 2 cov / (var x + var y).
def _periodic_ev(shift, sigma=10.0, period=200.0, duration=20_000.0):
    from glif_pynn.metrics import explained_variance, smoothed_train
    t = np.arange(100.0, duration - 100.0, period)
    a, b = smoothed_train(t, duration, sigma), smoothed_train(t + shift, duration, sigma)
    mean = len(t) / duration                       # spikes per 1 ms bin
    peak = 1.0 / (2 * sigma * np.sqrt(np.pi))      # (g*g)(0), per bin
    closed = (mean * peak * np.exp(-shift ** 2 / (4 * sigma ** 2)) - mean ** 2) / (mean * peak - mean ** 2)
    return explained_variance(a, b), closed


@pytest.mark.parametrize("shift", [0.0, 5.0, 10.0, 20.0, 50.0])
def test_explained_variance_of_shifted_trains_matches_the_closed_form(shift):
    got, closed = _periodic_ev(shift)
    # the 1 ms binning and the sampled Gaussian: relative error below 1e-3 for sigma = 10 bins
    assert got == pytest.approx(closed, rel=1e-3, abs=1e-4), f"shift {shift} ms"
    assert (shift == 0.0) == (got == 1.0), "1 exactly for identical trains only"


def test_explained_variance_extremes():
    from glif_pynn.metrics import explained_variance, smoothed_train, spike_train_explained_variance
    t = np.arange(50.0, 1000.0, 100.0)
    a = smoothed_train(t, 1000.0)
    assert explained_variance(a, smoothed_train([], 1000.0)) == 0.0, "an empty train explains nothing"
    assert explained_variance(a, -a) == pytest.approx(-1.0), "anticorrelated"
    repeats = [t, t + 1.0, t - 1.0]
    ev = spike_train_explained_variance([t], repeats, 1000.0)
    assert 0.99 < ev["model"] < 1.0 and ev["data"] is not None
    assert ev["ratio"] == pytest.approx(ev["model"] / ev["data"])
    single = spike_train_explained_variance([t], [t], 1000.0)
    assert single == {"model": 1.0, "data": None, "ratio": None}, "no repeats: no data self-consistency"


def test_coincidences_are_a_maximum_matching():
    """Data 12 and 15 against model 10 and 13.5 (window 2 ms): both pair up (12-10, 15-13.5); taking the
    nearest model spike for 12 (13.5) left 15 without one, and Gamma fell to about 0.5."""
    from glif_pynn.metrics import _count_coincidences
    assert _count_coincidences(np.array([10.0, 13.5]), np.array([12.0, 15.0]), 2.0) == 2
    # against an exhaustive maximum matching (scipy) on dense random trains
    from scipy.optimize import linear_sum_assignment
    rng = np.random.default_rng(3)
    for _ in range(300):
        a, b = np.sort(rng.uniform(0, 40, rng.integers(1, 12))), np.sort(rng.uniform(0, 40, rng.integers(1, 12)))
        within = np.abs(a[:, None] - b[None, :]) <= 2.0
        rows, cols = linear_sum_assignment(-within.astype(float))
        assert _count_coincidences(a, b, 2.0) == int(within[rows, cols].sum()), (a, b)


@pytest.mark.parametrize("spikes", [250, 251, 400])
def test_gamma_is_undefined_where_the_model_fires_at_or_beyond_one_per_double_window(spikes):
    """At 1 / (2 window) = 250 Hz the normaliser 1 - 2 nu window is 0 (it used to divide by zero) and
    beyond it negative (a model with no coincidence scored 37 at 251 Hz)."""
    model = np.linspace(1.0, 499.0, spikes) if spikes > 250 else np.linspace(0.0, 996.0, spikes)
    duration = 500.0 if spikes > 250 else 1000.0
    assert np.isnan(coincidence_factor(model, np.linspace(520.0, 980.0, 20), duration))
