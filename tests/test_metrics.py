import numpy as np
import pytest

from glif_pynn.metrics import coincidence_factor, matched_spike_differences, rmse


def test_identical_trains_have_gamma_one():
    t = np.arange(10.0, 1000.0, 37.0)
    assert coincidence_factor(t, t, 1000.0) == pytest.approx(1.0)


def test_independent_poisson_trains_are_near_chance():
    rng = np.random.default_rng(1)
    gammas = [coincidence_factor(np.sort(rng.uniform(0, 1e5, 1000)), np.sort(rng.uniform(0, 1e5, 1000)), 1e5)
              for _ in range(20)]
    assert abs(np.mean(gammas)) < 0.03


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
    assert got == pytest.approx(closed, abs=2e-3), f"shift {shift} ms"
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
