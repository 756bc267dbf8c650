"""The recordings of examples/fit_hodgkin_huxley.py: NEST's hh_cond_exp_traub under an OU current, cached,
with spikes found in V (glif_pynn.fit.data.detect_spikes) just before NEST's own spike times. ~5 s."""
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nest")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import fit_hodgkin_huxley as example  # noqa: E402

from glif_pynn.fit.data import detect_spikes  # noqa: E402


def test_recordings_are_cached_and_spikes_are_found_where_nest_fires(tmp_path, monkeypatch):
    monkeypatch.setenv("GLIF_PYNN_CACHE_DIR", str(tmp_path))
    current, v, nest_spikes = example.record_hh(0.0, 150.0, 7, 3000.0)
    assert len(current) == len(v) == 60000, "3 s at 0.05 ms"
    assert len(nest_spikes) >= 10, "non-trivial: the cell fires"
    # the OU current: mean 0 pA, sd 150 pA; with 3 ms correlation 3 s hold ~1000 independent values (sd/sqrt(1000))
    assert abs(np.mean(current)) < 4 * 0.15 / np.sqrt(1000)
    assert np.std(current) == pytest.approx(0.15, rel=0.15)
    cached = list((tmp_path / "recordings").iterdir())
    assert len(cached) == 1
    again = example.record_hh(0.0, 150.0, 7, 3000.0)
    for a, b in zip(again, (current, v, nest_spikes)):
        np.testing.assert_array_equal(a, b, err_msg="the second call reads the cache")
    found = detect_spikes(v, example.DT) * example.DT
    assert len(found) == len(nest_spikes), "one detected spike per NEST spike"
    lead = nest_spikes - found
    # NEST stamps the spike near the peak; the detected threshold sample precedes it by the upstroke
    assert np.all((lead > 0) & (lead < 1.0)), f"threshold 0-1 ms before NEST's spike time (0.3-0.45 seen): {lead}"


#: one fitted level, as fit_hodgkin_huxley.study reports it
ROW = {"level": 5, "name": "GLIF5 (LIF-R-ASC-A)", "test_gamma": 0.77, "test_gamma_per_sweep": [0.7, 0.84],
       "training_gamma": 0.78, "test_explained_variance": 0.87, "test_v_rmse_mV": 0.9, "test_spikes_model": 60,
       "test_spikes_data": 64, "fit_seconds": 100.0}


def study_result(**changes) -> dict:
    """A made-up result of fit_hodgkin_huxley.study with ROW as its one level (median stimulus sd 150 pA)."""
    return dict({"rows": [ROW], "best_level": 5, "best_test_gamma": 0.77, "goal": 0.8, "quick": False,
                 "sweep_ms": 1e4, "stimuli_pA": [[0.0, 150.0], [40.0, 120.0], [0.0, 200.0]]}, **changes)


def test_report_section_states_the_goal_and_the_published_figures():
    from comparisons.fitting import markdown
    result = study_result()
    text = markdown(result)
    assert "| GLIF5 (LIF-R-ASC-A) | 0.770 | 0.780 | 0.870 | 0.90 | 60 / 64 | 100 |" in text
    assert "not reached (GLIF5, 0.770; per held-out sweep, in the order of the stimuli: 0.70, 0.84)" in text
    assert "Jolivet" in text and "96 %" in text and "![fitting](fit_hodgkin_huxley.png)" in text
    assert "3 training sweeps and 3 held-out sweeps (other noise seeds) of 10 s." in text, "one of each per stimulus"
    assert "6 training sweeps (2 noise seeds per stimulus) and 3 held-out sweeps" in markdown(
        study_result(training_sweeps=6, test_sweeps=3))
    result.update(best_test_gamma=0.85, rows=[dict(ROW, test_gamma=0.85)])
    assert "Goal Gamma >= 0.8 for the best level on held-out sweeps: reached" in markdown(result)


def test_the_cell_against_itself_agrees_exactly_without_noise_and_less_with_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GLIF_PYNN_CACHE_DIR", str(tmp_path))
    itself = example.self_agreement([(0.0, 150.0)], 7, 2000.0, noise_pA=(0.0, 40.0), repeats=2)
    assert itself["noise_pA"] == [0.0, 40.0] and len(itself["gamma_per_sweep"]) == 2
    assert itself["gamma_sem"][0] == 0.0 and itself["gamma_sem"][1] > 0, "two draws of the noise differ"
    # the same input gives the same spikes: Gamma is 1 up to the rounding of its formula
    assert itself["gamma"][0] == pytest.approx(1.0, abs=1e-12)
    # an extra 40 pA (sd) beside 150 pA moves spikes: over 10 s, 20 pA alone brought Gamma to 0.6
    assert itself["gamma"][1] < 0.99


def test_equivalent_noise_interpolates_the_falling_curve():
    curve = {"noise_pA": [0.0, 5.0, 10.0], "gamma": [1.0, 0.9, 0.7]}
    assert example.equivalent_noise(curve, 0.8) == pytest.approx(7.5)      # halfway from 0.9 to 0.7
    assert example.equivalent_noise(curve, 0.95) == pytest.approx(2.5)
    assert example.equivalent_noise(curve, 1.0) == 0.0
    assert np.isnan(example.equivalent_noise(curve, 0.6)), "below the noisiest point measured"


def test_report_section_places_the_best_level_and_the_goal_on_the_cells_own_curve():
    from comparisons.fitting import markdown
    result = study_result(self_agreement={"noise_pA": [0.0, 10.0], "gamma": [1.0, 0.75], "gamma_sem": [0.0, 0.01],
                                          "repeats": 3, "best_level_noise_pA": 9.2, "goal_noise_pA": 8.0})
    text = markdown(result)
    assert "| extra input sd (pA) | 0 | 10 |\n|---|---|---|\n| Gamma | 1.000 | 0.750 +- 0.010 |" in text
    assert ("GLIF5's 0.770 is what the cell scores against itself with 9.2 pA of extra input noise (6% of the "
            "stimuli's median sd, 150 pA); the goal of 0.8 corresponds to 8.0 pA.") in text
    from comparisons.summary import _fitting
    assert "(goal 0.8; published threshold models 0.7-0.8); the cell scores as much against itself with 9 pA of " \
           "extra input noise (the goal: 8 pA); GLIF5 fit 100 s" in _fitting(result), "the README's headline row"
    del result["self_agreement"]
    assert "against itself" not in markdown(result), "a fitting.json from before the measurement has no such part"
    assert "against itself" not in _fitting(result)
