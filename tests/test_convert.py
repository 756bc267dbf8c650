"""The converter to and from NEST's glif_psc, checked by simulating both models in one kernel."""
import numpy as np
import pytest

from comparisons.agreement_glif_psc import run_pair
from glif_pynn.convert import from_nest_glif, to_nest_glif
from glif_pynn.parameters import default_parameters

pytest.importorskip("nest")


def test_round_trip_is_exact():
    params = dict(default_parameters("current"), tau_refrac=3.75)
    back = from_nest_glif(to_nest_glif(params))
    assert "i_offset" not in back, "glif_psc has no constant current"
    for name, value in params.items():
        if name == "i_offset":
            continue
        assert back[name] == pytest.approx(value, rel=1e-14, abs=1e-14), name


def test_i_offset_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="dc_generator"):
        to_nest_glif({"i_offset": 0.1})


def test_zero_refractory_period_is_refused_with_the_fix():
    """NEST's glif_psc and glif_cond refuse t_ref = 0 ('must be strictly positive')."""
    with pytest.raises(ValueError, match="t_ref > 0"):
        to_nest_glif({"tau_refrac": 0.0})


def test_glif5_maps_the_voltage_dependent_threshold_unchanged():
    """theta_v is held during the refractory period in both models: no exp(b t_ref) rescaling."""
    params = dict(default_parameters("current"), tau_refrac=3.75, a_theta_v=0.005, b_theta_v=0.09)
    nest = to_nest_glif(params)
    assert nest["adapting_threshold"] and nest["spike_dependent_threshold"] and nest["after_spike_currents"], \
        "glif_psc accepts adapting_threshold only as GLIF5"
    assert (nest["th_voltage_index"], nest["th_voltage_decay"]) == (0.005, 0.09)
    back = from_nest_glif(nest)
    for name, value in params.items():
        if name != "i_offset":
            assert back[name] == pytest.approx(value, rel=1e-14, abs=1e-14), name


def steps_protocol():
    return [("step_current_generator", {"amplitude_times": [50.0, 400.0, 700.0],
                                        "amplitude_values": [350.0, 500.0, 280.0]}, None)]


def spike_times_of_both(params, resolution=0.1):
    """1 s of the same current steps into the NESTML model and glif_psc(to_nest_glif(params))."""
    ours, theirs, _, _ = run_pair(params, steps_protocol, resolution)
    return ours, theirs


def test_glif2_with_refractory_jumps_maps_exactly():
    """Threshold jump applied at the end of NEST's refractory period == rescaled jump at the spike
    (t_ref a multiple of the resolution, as the converter requires)."""
    params = dict(default_parameters("current"), tau_refrac=4.0, f_v=0.0, delta_v=-5.0, delta_asc1=0.0,
                  delta_asc2=0.0, delta_theta=3.0, b_theta=0.05)
    ours, theirs = spike_times_of_both(params)
    assert len(theirs) > 20
    np.testing.assert_array_equal(ours, theirs)


def test_glif4_defaults_agree_up_to_differences_of_order_h():
    """GLIF4: NEST resets V from the start-of-step voltage and integrates V to O(h^2) with after-spike
    currents, both errors of order h in the spike times, which do not accumulate (each reset starts
    from the same rule). So at h = 0.01 ms and h / 5 the spikes pair up, no pair lies more than
    0.01 ms apart (one step of the coarser grid; a drift would grow over the 34 spikes), and the mean
    shift shrinks with h (first order: by 5; at least by 2 allows for the quantisation to steps)."""
    params = dict(default_parameters("current"), tau_refrac=3.75)
    shifts = []
    for h in (0.01, 0.002):
        ours, theirs = spike_times_of_both(params, resolution=h)
        assert len(theirs) > 20
        assert len(ours) == len(theirs), f"h = {h} ms: {len(ours)} against {len(theirs)} spikes"
        shifts.append(np.abs(ours - theirs))
        assert shifts[-1].max() <= 0.01 + 1e-9, f"h = {h} ms: a spike {shifts[-1].max():.3g} ms apart"
    coarse, fine = shifts
    assert coarse.mean() > 0, "non-trivial: the models differ at h = 0.01 ms"
    assert fine.mean() <= 0.5 * coarse.mean(), f"mean shift {coarse.mean():.3g} -> {fine.mean():.3g} ms"


def _nest_status(model, params):
    import nest
    nest.ResetKernel()
    cell = nest.Create(model, params=params)
    return {key: np.asarray(value) for key, value in cell.get().items()}


def test_the_defaults_of_from_nest_glif_are_nest_s():
    """NEST_GLIF_DEFAULTS is what NEST reports, and every key from_nest_glif reads is a glif_psc/glif_cond key."""
    import nest
    from glif_pynn.convert import NEST_GLIF_DEFAULTS, NEST_GLIF_KEYS
    for model, defaults in NEST_GLIF_DEFAULTS.items():
        theirs = nest.GetDefaults(model)
        for key, value in defaults.items():
            np.testing.assert_allclose(theirs[key], value, rtol=1e-12, err_msg=f"{model} {key}")
        assert NEST_GLIF_KEYS[model] <= set(theirs), f"{model}: {sorted(NEST_GLIF_KEYS[model] - set(theirs))}"


@pytest.mark.parametrize("model, partial", [
    ("glif_psc", {}),
    ("glif_psc", {"E_L": -70.0, "C_m": 80.0}),                 # V_reset and V_th stay NEST's absolute defaults
    ("glif_psc", {"E_L": -70.0, "t_ref": 2.0, "after_spike_currents": True}),
    ("glif_psc", {"E_L": -70.0, "spike_dependent_threshold": True, "after_spike_currents": True}),
    ("glif_psc", {"spike_dependent_threshold": True, "after_spike_currents": True, "adapting_threshold": True}),
    ("glif_cond", {"g_m": 5.0, "tau_syn": [1.0, 3.0, 4.0], "E_rev": [0.0, -80.0, -70.0]}),
    ("glif_cond", {"E_L": -72.0}),
])
def test_a_partial_dictionary_is_the_cell_nest_makes_of_it(model, partial):
    """from_nest_glif fills a partial dictionary as NEST does: converted back, it is the cell NEST creates
    (t_ref 3.75 ms, not 0; V_reset -78.85 mV, not E_L; NEST's jump sizes when a mechanism is on)."""
    conductance = model == "glif_cond"
    theirs = _nest_status(model, partial)
    ports = len(theirs["tau_syn"])
    ours = to_nest_glif(from_nest_glif(partial, ports=ports, conductance=conductance), conductance=conductance,
                        ports=ports)
    reset = () if partial.get("spike_dependent_threshold") else ("V_reset",)   # else: the fraction and add
    for key in ("C_m", "g_m" if conductance else "g", "E_L", "V_th", "t_ref", "tau_syn") + reset + \
            (("E_rev",) if conductance else ()):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
    if partial.get("after_spike_currents"):
        for key in ("asc_amps", "asc_decay", "asc_r"):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
    if partial.get("spike_dependent_threshold"):
        for key in ("th_spike_add", "th_spike_decay", "voltage_reset_fraction", "voltage_reset_add"):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
    if partial.get("adapting_threshold"):
        for key in ("th_voltage_index", "th_voltage_decay"):
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
