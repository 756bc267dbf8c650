"""glif_pynn.synchrony against constructed spike trains whose answer is known (about 2 s)."""
import math

import neo
import numpy as np
import pytest
import quantities as pq

from glif_pynn import synchrony as sy


def poisson_trains(n, rate_hz, duration_ms, seed):
    """n independent Poisson trains (ms), each with a spike at 0 and at the end so that
    every cell has a phase over the whole run."""
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(n):
        count = rng.poisson(rate_hz * duration_ms / 1000.0)
        trains.append(np.concatenate([[0.0], np.sort(rng.uniform(0.0, duration_ms, count)), [duration_ms]]))
    return trains


def test_spike_phase_is_linear_between_spikes():
    train = np.array([0.0, 10.0, 30.0])
    phases = sy.spike_phases([train], [0.0, 5.0, 10.0, 20.0, 29.0])[:, 0]
    expected = 2 * np.pi * np.array([0.0, 0.5, 1.0, 1.5, 1.95])
    np.testing.assert_allclose(phases, expected, rtol=0, atol=1e-12, err_msg="phase = 2 pi (k + fraction of the ISI)")


def test_inputs_with_units_match_plain_ms():
    ms = [np.array([1.0, 20.0, 41.0]), np.array([3.0, 22.0, 40.0])]
    trains = [neo.SpikeTrain(ms[0] / 1000.0, t_stop=0.05, units="s"), ms[1] * pq.ms]
    with_units = sy.spike_phases(trains, np.array([5.0, 30.0]) * pq.ms)
    np.testing.assert_allclose(with_units, sy.spike_phases(ms, [5.0, 30.0]), rtol=1e-14, atol=1e-14,
                               err_msg="seconds and ms give the same phases")


def test_no_phase_outside_a_cells_spikes_is_an_error_naming_the_cell():
    trains = [np.array([0.0, 10.0, 20.0]), np.array([5.0, 15.0])]
    assert sy.phase_window(trains) == (5.0, 15.0)
    with pytest.raises(ValueError, match="cell 1 has no phase"):
        sy.spike_phases(trains, [2.0])
    with pytest.raises(ValueError, match=r"cells \[1\] fire fewer than 2 spikes"):
        sy.phase_window([np.array([0.0, 10.0]), np.array([3.0])])
    with pytest.raises(ValueError, match="units of time"):
        sy.as_trains([np.array([1.0, 2.0]) * pq.mV])


def test_omega_is_two_pi_count_over_time():
    trains = [np.arange(0.0, 1000.0, 25.0), np.array([100.0, 600.0]), np.array([])]
    omega = sy.omega_profile(trains, 0.0 * pq.ms, 1.0 * pq.s)
    assert omega.units == pq.rad / pq.s
    np.testing.assert_allclose(omega.magnitude, [2 * np.pi * 40, 2 * np.pi * 2, 0.0], rtol=1e-12,
                               err_msg="40 and 2 spikes in 1 s; a silent cell is 0")
    with pytest.raises(ValueError, match="t_stop"):
        sy.omega_profile(trains, 500.0, 100.0)


def test_fully_synchronous_trains_give_order_parameter_one():
    shared = poisson_trains(1, 40.0, 5000.0, seed=1)[0]
    assert len(shared) > 100, "the shared train has spikes"
    phases = sy.spike_phases([shared] * 50, np.linspace(0.0, 4999.0, 300))
    assert np.ptp(phases) > 100, "the phases move"
    np.testing.assert_allclose(sy.order_parameter(phases), 1.0, rtol=0, atol=1e-12, err_msg="identical phases: R = 1")
    np.testing.assert_allclose(sy.local_order_parameter(phases, 5), 1.0, rtol=0, atol=1e-12, err_msg="Z = 1")
    ring = sy.classify_ring(phases)
    assert ring.state == "synchronous" and ring.coherent.all(), ring
    assert sy.classify_populations([1.0, 1.0]) == "synchronous"


def test_independent_poisson_trains_give_order_parameter_about_one_over_sqrt_n():
    # For N independent phases uniform on the circle, E[N R^2] = 1 exactly and N R^2 is
    # exponentially distributed (variance 1); R follows a Rayleigh law with mean
    # sqrt(pi / (4 N)) and standard deviation sqrt((4 - pi) / (4 N)). The phase of a
    # Poisson train at a fixed time is uniform. Samples 100 ms apart (4 mean ISIs) are
    # close to independent, so each mean over M = 200 samples gets a tolerance of 4
    # standard errors.
    n, m = 400, 200
    trains = poisson_trains(n, 40.0, 21000.0, seed=2)
    phases = sy.spike_phases(trains, 500.0 + 100.0 * np.arange(m))
    r = sy.order_parameter(phases)
    assert np.ptp(r) > 0, "R fluctuates"
    assert abs(np.mean(n * r ** 2) - 1.0) < 4 / math.sqrt(m), np.mean(n * r ** 2)
    expected, sd = math.sqrt(math.pi / (4 * n)), math.sqrt((4 - math.pi) / (4 * n))
    assert abs(r.mean() - expected) < 4 * sd / math.sqrt(m), (r.mean(), expected, 1 / math.sqrt(n))


def test_half_synchronised_ring_is_split_exactly_at_the_boundary():
    n, duration = 200, 10000.0
    shared = poisson_trains(1, 40.0, duration, seed=3)[0]
    independent = poisson_trains(n // 2, 40.0, duration, seed=4)
    for shift in (0, 37):          # the synchronous half at cells 0-99, then at 37-136
        trains = np.roll(np.array([shared] * (n // 2) + independent, dtype=object), shift).tolist()
        phases = sy.spike_phases(trains, np.linspace(0.0, duration - 1.0, 2000))
        ring = sy.classify_ring(phases)
        expected = np.roll(np.arange(n) < n // 2, shift)
        np.testing.assert_array_equal(ring.coherent, expected, err_msg=f"split exactly at the boundary (shift {shift})")
        assert ring.state == "chimera" and ring.n_coherent_domains == 1, ring
        assert ring.largest_coherent == ring.largest_incoherent == 0.5
        z = sy.local_order_parameter(phases, 10).mean(axis=0)
        inside = (np.arange(10, n // 2 - 10) + shift) % n        # windows wholly in the synchronous half
        np.testing.assert_allclose(z[inside], 1.0, rtol=0, atol=1e-12, err_msg="Z = 1 inside the synchronous half")
        outside = (np.arange(n // 2 + 10, n - 10) + shift) % n   # windows wholly in the Poisson half
        assert z[outside].max() < 0.6, "Z low inside the Poisson half"


def test_two_populations_one_synchronous_one_not_is_a_chimera():
    shared = poisson_trains(1, 40.0, 6000.0, seed=5)[0]
    trains = [shared] * 100 + poisson_trains(100, 40.0, 6000.0, seed=6)
    phases = sy.spike_phases(trains, np.linspace(0.0, 5999.0, 500))
    means = [sy.order_parameter(phases, slice(0, 100)).mean(), sy.order_parameter(phases, slice(100, 200)).mean()]
    assert means[0] == pytest.approx(1.0, abs=1e-12) and means[1] < 0.2, means
    assert sy.classify_populations(means) == "chimera"
    assert sy.classify_populations([0.9, 0.6]) == "generalised chimera"
    assert sy.classify_populations([0.1, 0.12]) == "asynchronous"
    assert sy.classify_populations([0.8, 0.85]) == "partial synchrony"
    with pytest.raises(ValueError, match="at least two"):
        sy.classify_populations([0.5])


def test_majority_filter_keeps_a_clean_boundary_and_absorbs_short_runs():
    mask = np.arange(100) < 50
    np.testing.assert_array_equal(sy.majority_filter(mask, 5), mask, err_msg="a clean boundary stays put")
    noisy = mask.copy()
    noisy[[60, 61, 62, 20]] = ~noisy[[60, 61, 62, 20]]
    np.testing.assert_array_equal(sy.majority_filter(noisy, 5), mask, err_msg="runs of <= 5 cells are absorbed")
    with pytest.raises(ValueError, match="half_width"):
        sy.local_order_parameter(np.zeros((3, 10)), 5)
