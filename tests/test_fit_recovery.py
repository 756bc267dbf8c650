"""Parameter recovery: ``glif_pynn.fit.fit`` on reference-engine recordings of known GLIF1-5 cells.

The recordings (tests/fit_support.py): per level three 4 s training sweeps and one 4 s test sweep at
10 kHz, OU currents around the cell's rheobase, 0.5 mV rms noise on V, spike trains in the segments.

Tolerances. The issue fixes C, G and E_L within 2 % and the threshold at rest within 0.5 mV. The
others are derived from the spread of the estimator: the same fits with seeds 0-6 (other stimuli and
noise: ``fit_support.fitted(level, seed)``) gave the standard deviations below; each tolerance is about
5 standard deviations, rounded up. Observed SDs (7 seeds): reset value at the threshold at rest
<= 0.015 mV; f_v <= 0.007; slow after-spike current rate and amplitude <= 0.3 %; fast one: rate
1.5-2.8 %, amplitude 3.0-4.4 % (its decay, 3-5 ms, is hardly longer than the spike cut, so amplitude and
rate trade off); delta_theta 1.0 % (GLIF2), 6.6 % (GLIF4), 1.3 % (GLIF5); b_theta 2.1, 4.9, 2.7 %;
a_theta_v 2.8 %, b_theta_v 3.1 %. GLIF4's threshold jump decays in 10 ms, within few inter-spike
intervals, hence its wider spread. The spike cut was found to the exact step in all 35 fits.
C, G and E_L came within 0.09 %, the threshold within 0.03 mV.

Held-out Gamma >= 0.95 (issue): seed 0 gives 1.000 at every level. Over seeds 0-6, 34 of 35 fits
reached >= 0.95; one GLIF4 fit reached 0.90 with every parameter within the tolerances below (its fast
after-spike current 6 % off): a stretch where V grazes the threshold shifted a few spikes by 3 ms.

Runtime: the recordings (one engine run) and five fits take about 60 s on the project's 2-core machine
under a load of 8, shared with tests/test_fit_backends.py and test_fit_command.py.
"""
import numpy as np
import pytest

from fit_support import TRUE, fitted, recordings

from glif_pynn.allen import describe_config
from glif_pynn.parameters import validate

LEVELS = sorted(TRUE)
#: relative tolerances of the after-spike currents and the threshold history, per level (see above)
RELATIVE = {
    2: {"delta_theta": 0.06, "b_theta": 0.12},
    3: {"k_asc1": 0.02, "delta_asc1": 0.02, "k_asc2": 0.08, "delta_asc2": 0.15},
    4: {"k_asc1": 0.02, "delta_asc1": 0.02, "k_asc2": 0.15, "delta_asc2": 0.25, "delta_theta": 0.35, "b_theta": 0.25},
    5: {"k_asc1": 0.02, "delta_asc1": 0.02, "k_asc2": 0.08, "delta_asc2": 0.15, "delta_theta": 0.07, "b_theta": 0.15,
        "a_theta_v": 0.15, "b_theta_v": 0.16},
}
RESET_TOL_MV, F_V_TOL = 0.1, 0.04


def reset_at_threshold(p):
    """V just after a spike fired at the threshold at rest (mV)."""
    return p["v_rest"] + p["f_v"] * (p["v_thresh"] - p["v_rest"]) - p["delta_v"]


@pytest.mark.parametrize("level", LEVELS)
def test_recordings_exercise_the_level(level):
    """Non-triviality: enough spikes, and every mechanism of the level is on in the true cell."""
    training, test = recordings()[level]
    counts = [len(s.spiketrains[0]) for s in training + test]
    assert min(counts) >= 30, f"GLIF{level}: every sweep fires (spikes per sweep {counts})"
    true = TRUE[level]
    assert (true["delta_asc1"] != 0) == (level >= 3), "after-spike currents on exactly from GLIF3"
    assert (true["delta_theta"] != 0) == (level in (2, 4, 5)), "spike-induced threshold in GLIF2, 4, 5"
    assert (true["a_theta_v"] != 0) == (level == 5), "theta_v in GLIF5 only"


@pytest.mark.parametrize("level", LEVELS)
def test_membrane_and_threshold_within_the_issue_s_tolerances(level):
    result, true = fitted(level), TRUE[level]
    p = result.parameters
    assert result.level == level and result.cell_type == "GLIF_curr_exp"
    validate(p, "current")
    np.testing.assert_allclose(p["cm"], true["cm"], rtol=0.02, err_msg=f"GLIF{level}: C")
    np.testing.assert_allclose(p["cm"] / p["tau_m"], true["cm"] / true["tau_m"], rtol=0.02, err_msg=f"GLIF{level}: G")
    np.testing.assert_allclose(p["v_rest"], true["v_rest"], rtol=0.02, err_msg=f"GLIF{level}: E_L")
    np.testing.assert_allclose(p["v_thresh"], true["v_thresh"], rtol=0, atol=0.5, err_msg=f"GLIF{level}: threshold")


@pytest.mark.parametrize("level", LEVELS)
def test_spike_cut_and_reset_are_recovered(level):
    result, true = fitted(level), TRUE[level]
    p = result.parameters
    assert round(p["tau_refrac"] / result.dt) == round(true["tau_refrac"] / result.dt), \
        f"GLIF{level}: spike cut {p['tau_refrac']} ms, true {true['tau_refrac']} ms"
    np.testing.assert_allclose(reset_at_threshold(p), reset_at_threshold(true), rtol=0, atol=RESET_TOL_MV,
                               err_msg=f"GLIF{level}: V after a spike at the threshold at rest")
    if level in (1, 3):
        assert p["f_v"] == 0.0, "GLIF1 and GLIF3 reset to a constant"
    else:
        np.testing.assert_allclose(p["f_v"], true["f_v"], rtol=0, atol=F_V_TOL, err_msg=f"GLIF{level}: f_v")


@pytest.mark.parametrize("level", LEVELS)
def test_after_spike_currents_and_threshold_history_are_recovered(level):
    result, true = fitted(level), TRUE[level]
    p = result.parameters
    for name, rtol in RELATIVE.get(level, {}).items():
        np.testing.assert_allclose(p[name], true[name], rtol=rtol, err_msg=f"GLIF{level}: {name}")
    off = {"delta_asc1": level < 3, "delta_asc2": level < 3, "delta_theta": level in (1, 3), "a_theta_v": level < 5}
    for name, is_off in off.items():
        if is_off:
            assert p[name] == 0.0, f"GLIF{level} has no {name}"


@pytest.mark.parametrize("level", LEVELS)
def test_held_out_gamma_at_least_0_95(level):
    result = fitted(level)
    test = result.scores["test"]
    assert sum(test["spikes_data"]) >= 30, "non-trivial: the test sweep has spikes"
    assert test["gamma"] >= 0.95, f"GLIF{level}: held-out Gamma {test['gamma']:.3f}"
    assert result.scores["training"]["v_rmse_mV"] < 0.6, "subthreshold V within the 0.5 mV measurement noise"


@pytest.mark.parametrize("level", LEVELS)
def test_neuron_config_round_trip(level, tmp_path):
    """to_neuron_config -> load_neuron_config gives the same parameters (1e-12: SI scaling and exp(+-k t))."""
    result = fitted(level)
    path = result.to_neuron_config(tmp_path / "neuron_config.json")
    config = describe_config(path)
    assert config.level == level, f"written as GLIF{level}, read back as {config.level_text}"
    assert config.cell_type == result.cell_type
    assert set(config.parameters) == set(result.parameters)
    for name, value in result.parameters.items():
        np.testing.assert_allclose(config.parameters[name], value, rtol=1e-12, atol=1e-15, err_msg=name)
