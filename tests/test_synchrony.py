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


def test_a_fixed_phase_lag_gives_its_cosine_and_a_wave_is_coherent_not_synchronous():
    t = np.linspace(0.0, 1000.0, 400)                        # ms
    drift = 2 * np.pi * 0.04 * t                             # 40 Hz
    lagged = np.column_stack([drift, drift + 0.5, drift + 1.0])
    np.testing.assert_allclose(sy.neighbour_coherence(lagged)[:2], math.cos(0.5), rtol=0, atol=1e-12)
    # a travelling wave over 100 cells: neighbours 3.6 degrees apart (C = cos(2 pi / 100) = 0.998 >= 0.99),
    # the ring's phases spread evenly over the circle (R = 0)
    wave = drift[:, None] + 2 * np.pi * np.arange(100)[None, :] / 100
    ring = sy.classify_ring(wave)
    assert ring.coherent.all() and ring.global_order < 1e-9 and ring.state == "coherent", ring.state
    # a splay: neighbours a quarter period apart (C = 0) is incoherent although every phase is locked
    assert sy.classify_ring(drift[:, None] + np.pi / 2 * np.arange(100)[None, :]).state == "incoherent"


def test_small_domains_of_both_kinds_are_fragmented():
    """Blocks of 5 synchronous cells between blocks of 5 drifting ones: each domain 5 % of the ring, below
    min_fraction = 10 %, and long enough to survive the filter (2 (100 // 40) + 1 = 5 cells)."""
    t = np.linspace(0.0, 2000.0, 800)
    rng = np.random.default_rng(2)
    rates = rng.uniform(0.02, 0.06, 100)                     # spikes per ms: each drifting cell its own
    in_step = (np.arange(100) // 5) % 2 == 0
    phases = 2 * np.pi * np.where(in_step, 0.04, rates)[None, :] * t[:, None]
    ring = sy.classify_ring(phases)
    np.testing.assert_array_equal(ring.coherent, in_step)
    assert ring.state == "fragmented" and ring.n_coherent_domains == 10 and ring.largest_coherent == 0.05


def test_phase_velocity_of_a_steady_40_hz_cell():
    t = np.array([10.0, 60.0, 110.0])                        # ms
    phases = 2 * np.pi * 0.04 * t[:, None]                   # 0.04 cycles per ms
    assert sy.phase_velocity(phases, t).magnitude[0] == pytest.approx(2 * np.pi * 40.0)       # rad/s
    assert sy.phase_velocity(phases, t * pq.ms).units == pq.rad / pq.s


good_trains = [np.arange(0.0, 100.0, 10.0), np.arange(3.0, 100.0, 12.0)]


@pytest.mark.parametrize("call, message", [
    (lambda: sy.omega_profile(neo.SpikeTrain([1, 2, 3] * pq.ms, t_stop=10 * pq.ms), 0, 10),
     "item 0 of the spike trains is a single time"),
    (lambda: sy.spike_phases(good_trains, []), "times must be a non-empty 1-D array"),
    (lambda: sy.spike_phases(good_trains, [5.0, float("nan")]), "1 non-finite"),
    (lambda: sy.spike_phases(good_trains, [5.0] * pq.mV), "times must be times"),
    (lambda: sy.local_order_parameter(np.zeros(5), 1), r"phases must be a \(times x cells\) array"),
    (lambda: sy.classify_ring(np.zeros(5)), r"phases must be a \(times x cells\) array"),
    (lambda: sy.neighbour_coherence(np.zeros(5)), r"phases must be a \(times x cells\) array"),
    (lambda: sy.classify_ring(np.full((5, 40), np.nan)), "phases hold NaN"),
    (lambda: sy.classify_ring(np.zeros((0, 40))), r"at least one of each, got shape \(0, 40\)"),
    (lambda: sy.classify_ring(np.zeros((5, 2))), "a ring needs at least 3 cells, got 2"),
    (lambda: sy.classify_ring(np.zeros((5, 40)), smoothing=1.7), "smoothing must be an integer"),
    (lambda: sy.order_parameter([[np.nan, 0.0]]), "phases hold NaN"),
    (lambda: sy.phase_velocity(np.zeros((3, 2)), [1.0, np.nan, 3.0]), "1 non-finite"),
    (lambda: sy.phase_velocity(np.zeros((3, 2)), [1.0, 5.0, 3.0]), "increasing sample times"),
    (lambda: sy.majority_filter(np.arange(10) < 5, -1), r"half_width must be an integer in \[0, 4\]"),
    (lambda: sy.majority_filter(np.arange(10) < 5, 20), r"half_width must be an integer in \[0, 4\]"),
    (lambda: sy.classify_populations([1.0, 0.5], threshold=2), r"threshold must be in \(0, 1\]"),
    (lambda: sy.classify_populations([1.0, 0.5], spread=-1), r"spread must be in \[0, 1\]"),
    (lambda: sy.classify_populations([1.0, 0.5], asynchronous=0), r"asynchronous must be in \(0, 1\)"),
])
def test_bad_input_is_refused_naming_the_problem(call, message):
    """Each of these used to crash inside numpy or return silent nonsense ('incoherent' for NaN phases, one
    'cell' per spike of a single train, a filter with a negative width)."""
    with pytest.raises(ValueError, match=message):
        call()


def test_a_pair_firing_together_inside_the_incoherent_half_does_not_split_it():
    """Cells 150 and 151 share a train: in step with each other, so coherent before the majority filter
    (over 2 (200 // 40) + 1 = 11 cells), which absorbs the pair into its incoherent domain."""
    n, duration = 200, 6000.0
    shared, pair = poisson_trains(2, 40.0, duration, seed=7)
    independent = poisson_trains(n // 2, 40.0, duration, seed=8)
    independent[50] = independent[51] = pair
    phases = sy.spike_phases([shared] * (n // 2) + independent, np.linspace(0.0, duration - 1.0, 1500))
    ring = sy.classify_ring(phases)
    assert ring.neighbour[150] == pytest.approx(1.0), "the pair is in step"
    np.testing.assert_array_equal(ring.coherent, np.arange(n) < n // 2)
    assert ring.n_coherent_domains == 1 and ring.state == "chimera"
