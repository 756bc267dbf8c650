"""The NESTML conductance model (glif_cond_alpha_neuron) against NEST's hand-written glif_cond.

What is mapped exactly must agree to rounding; what is not (comparisons/agreement_glif_cond.py,
module docstring) must show up with the size its cause predicts. Every tolerance below names
the value measured on this machine's kind (NEST 3.10.0 wheel, NESTML 9.0.0) and its cause.
"""
import numpy as np
import pytest

pytest.importorskip("nest")
from comparisons import agreement_glif_cond as study  # noqa: E402
from comparisons.protocols import poisson_drive, spike_input  # noqa: E402
from glif_pynn.convert import to_nest_glif  # noqa: E402
from glif_pynn.metrics import rmse  # noqa: E402


def held_steps(times: np.ndarray, spikes: np.ndarray, t_ref: float, h: float) -> np.ndarray:
    """Steps t in [spike, spike + t_ref - h]: where our theta_s decays while NEST's waits for the jump."""
    mask = np.zeros(len(times), bool)
    for s in spikes:
        mask |= (times > s - h / 2) & (times < s + t_ref - h / 2)
    return mask


@pytest.mark.parametrize("h", [0.1, 0.01])
@pytest.mark.parametrize("protocol", [spike_input, poisson_drive])
def test_glif1_with_conductance_input_fires_at_identical_times(protocol, h):
    """GLIF1 leaves only the solvers to differ: NEST's RK45 error in g (6e-9 nS at h = 0.1 ms;
    the NESTML model propagates g exactly) moves V by at most 2e-8 mV (RMSE measured 5-7e-9 mV at
    0.1 ms, ~1e-13 at 0.01 ms). A spike can move only if V ends a step within 2e-8 mV of the
    threshold, which did not happen in any protocol: identical times are required. The V bound,
    1e-7 mV, is 15x the measurement and far below what a wrong port, sign or alpha normalisation
    does (mV)."""
    params = study.glif_levels()["GLIF1"]
    ours, theirs, e0, e1 = study.run_pair(params, protocol, h, record=("V_m", "g_exc", "g_inh"),
                                          nest_record=("V_m", "g_1", "g_2"))
    assert len(theirs) >= 20, "non-trivial: glif_cond fires repeatedly"
    assert e0["g_exc"].max() > 1.0 and e0["g_inh"].max() > 1.0, "non-trivial: both conductances are driven (nS)"
    assert len(ours) == len(theirs), f"{len(ours)} spikes here, {len(theirs)} in glif_cond"
    np.testing.assert_array_equal(ours, theirs, err_msg="GLIF1 spike times differ from glif_cond")
    v_rmse = rmse(e0["V_m"], e1["V_m"])
    assert v_rmse < 1e-7, f"V RMSE {v_rmse:g} mV"


def test_alpha_conductance_peaks_at_the_weight_on_ports_1_and_2():
    """Peak = weight (nS) at t = tau_syn in both models, port 1 excitatory, port 2 inhibitory
    (positive weight for NEST, negative for the NESTML model). tau_syn = 2 ms is a whole number of
    steps, so the peak is sampled: exact to rounding here; NEST's RK45 g is off by 6e-9 nS
    (measured), hence 1e-7."""
    import nest
    params = study.glif_levels()["GLIF1"]
    h, weight, arrival = 0.1, 2.5, 11.0
    ours, theirs = study._create_pair(params, h)
    source = nest.Create("spike_generator", params={"spike_times": [arrival - 1.0]})
    for receptor in ("exc", "inh"):
        study._connect_spikes(source, ours, theirs, receptor, weight)
    meters = []
    for neuron, rec in ((ours, ["g_exc", "g_inh"]), (theirs, ["g_1", "g_2"])):
        meters.append(nest.Create("multimeter", params={"interval": h, "record_from": rec}))
        nest.Connect(meters[-1], neuron)
    nest.Simulate(30.0)
    e0, e1 = meters[0].events, meters[1].events
    at_peak = int(np.argmin(np.abs(e0["times"] - (arrival + params["tau_syn_E"]))))
    for mine, nests in (("g_exc", "g_1"), ("g_inh", "g_2")):
        assert int(np.argmax(e0[mine])) == at_peak and int(np.argmax(e1[nests])) == at_peak
        assert e0[mine][at_peak] == pytest.approx(weight, abs=1e-12), mine
        assert e1[nests][at_peak] == pytest.approx(weight, abs=1e-7), nests
        np.testing.assert_allclose(e0[mine], e1[nests], rtol=0, atol=1e-7, err_msg=f"{mine} vs {nests}")


@pytest.mark.parametrize("h", [0.1, 0.01])
def test_glif2_refractory_jump_mapping_is_exact(h):
    """GLIF2 with f_v = 0, so that NEST's reset from the start-of-step voltage drops out: what is
    left is NEST's threshold jump at the end of the refractory period, which the converter maps by
    exp(b t_ref). Same spike times; theta_s equals NEST's threshold_spike at every step outside
    [spike, spike + t_ref - h] (measured: 2.6e-14 mV at 0.1 ms, 5.6e-14 at 0.01 ms, rounding accumulated over the
    exp products; bound 1e-12).
    Unmapped, the jump would be off by delta_theta (1 - exp(-b t_ref)) = 0.013 mV."""
    params = dict(study.glif_levels()["GLIF2"], f_v=0.0)
    assert abs(to_nest_glif(params, conductance=True)["th_spike_add"] - params["delta_theta"]) > 1e-3, \
        "non-trivial: the refractory rescaling changes the jump"
    ours, theirs, e0, e1 = study.run_pair(params, spike_input, h, record=("V_m", "theta_s"),
                                          nest_record=("V_m", "threshold_spike"))
    assert len(theirs) >= 20, "non-trivial: glif_cond fires repeatedly"
    np.testing.assert_array_equal(ours, theirs, err_msg="GLIF2 (f_v = 0) spike times differ from glif_cond")
    free = ~held_steps(e0["times"], ours, params["tau_refrac"], h)
    assert e0["theta_s"][free].max() > 0.3, "non-trivial: theta_s has jumped"
    np.testing.assert_allclose(e0["theta_s"][free], e1["threshold_spike"][free], rtol=0, atol=1e-12,
                               err_msg="theta_s vs glif_cond's threshold_spike outside the refractory periods")
    # V: held at the same reset value, otherwise only the solver differs (as in GLIF1)
    np.testing.assert_allclose(e0["V_m"], e1["V_m"], rtol=0, atol=1e-7)


@pytest.mark.parametrize("h, tolerance", [(0.1, 1e-5), (0.01, 1e-8)])
def test_glif3_after_spike_current_enters_v_one_step_late(h, tolerance):
    """glif_cond integrates V with the previous step's mean after-spike current (cpp 126 vs 679):
    in the first step after the refractory period NEST's V is higher by -A/G (1 - exp(-h G/C)),
    A = our mean after-spike current over that step (NEST still uses the pre-spike mean, 0).
    Measured against that closed form: 3.0e-6 mV at 0.1 ms and 3e-9 at 0.01 ms, the O(h^3) effect
    of A decaying within the step, which the closed form ignores; hence 1e-5 and 1e-8. The offset
    itself is 0.24 mV at 0.1 ms and first order in h. Before the first spike the models agree to
    rounding (dc input, no conductances: 2e-13 mV measured), and while V is held exactly."""
    lag = study.asc_lag_offset(h)
    assert lag["measured_mV"] > 0.2 * h, "non-trivial: the lag moves V by ~2.4 h mV"
    assert abs(lag["measured_mV"] - lag["predicted_mV"]) < tolerance, lag
    assert lag["max_abs_dv_before_spike_mV"] < 1e-11, lag
    assert lag["max_abs_dv_while_held_mV"] == 0.0, lag


def test_study_rows_agree_and_converge():
    """The whole study at both steps (~10 s). Measured (NEST 3.10.0): equal spike counts and
    Gamma = 1.000 in all 32 rows; GLIF1 exact everywhere; for GLIF2-4 under current input (where
    every spike is shifted by the first-order causes) mean |dt| falls by a factor 0.05-0.09 from
    h = 0.1 to 0.01 ms. Required: equal counts, Gamma >= 0.99, GLIF1 exact, and a factor at most
    0.2 (first-order convergence onto each other, with margin)."""
    rows = study.run()
    assert len(rows) == 32 and all(row["model"] == "glif_cond_alpha_neuron" for row in rows)
    for row in rows:
        label = f"{row['level']} / {row['protocol']} / h={row['resolution_ms']}"
        assert row["spikes_glif_cond"] >= 20, label
        assert row["spikes_nestml"] == row["spikes_glif_cond"], label
        assert row["coincidence_factor_2ms"] >= 0.99, label
        if row["level"] == "GLIF1":
            assert row["max_abs_spike_dt_ms"] == 0.0, label
    by_key = {(r["level"], r["protocol"], r["resolution_ms"]): r for r in rows}
    for level in ("GLIF2", "GLIF3", "GLIF4"):
        for protocol in ("current steps", "current ramp"):
            coarse = by_key[level, protocol, 0.1]["mean_abs_spike_dt_ms"]
            fine = by_key[level, protocol, 0.01]["mean_abs_spike_dt_ms"]
            assert coarse > 0.1, f"non-trivial: {level} / {protocol} differs at h = 0.1 ms"
            assert fine <= 0.2 * coarse, f"{level} / {protocol}: mean |dt| {coarse:g} -> {fine:g} ms"
    text = study.markdown(rows)
    assert text.startswith("## NESTML GLIF_cond vs NEST glif_cond (GLIF1-4)\n")
    assert text.count("\n| GLIF") == 32


def test_conductance_weights_follow_the_driving_force_at_v_typical():
    params = study.glif_levels()["GLIF1"]
    assert study.conductance_weight(80.0, "exc", params) == pytest.approx(80.0 / 65.0)
    assert study.conductance_weight(-60.0, "inh", params) == pytest.approx(60.0 / 20.0)
