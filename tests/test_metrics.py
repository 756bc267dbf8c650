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
