"""Allen Cell Types Database GLIF configurations (and NEST glif_psc dictionaries) as PyNN parameters.

Expected values are derived here from the published JSON values (tests/data/allen/README.md)
with the AllenSDK's rules, in SI units where that makes the check independent of the
converter's unit factors. No NEST is needed.
"""
import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from glif_pynn.allen import CELL_TYPES, describe_config, load_neuron_config
from glif_pynn.convert import from_nest_glif, to_nest_glif
from glif_pynn.parameters import BY_NAME, validate
from glif_pynn.step_response import parse_current

DATA = Path(__file__).resolve().parent / "data" / "allen"
#: GLIF level -> file, and Allen's name of each level (as in the models' published names)
FILES = {1: "464198958_566291893.json", 2: "478888083_566382734.json", 3: "464198958_566291897.json",
         4: "324032509_566283879.json", 5: "323834998_566283540.json"}
NAMES = {1: "LIF", 2: "LIF-R", 3: "LIF-ASC", 4: "LIF-R-ASC", 5: "LIF-R-ASC-A"}
LEVELS = sorted(FILES)
REL = 1e-12     # the converter and these derivations round differently, nothing more


def published(level):
    """(model id, the config dictionary) as stored: one file holds {model_id: config}."""
    (model_id, config), = json.loads((DATA / FILES[level]).read_text()).items()
    return model_id, config


def converted(config, **kwargs):
    return load_neuron_config(config, **kwargs)[1]


@pytest.mark.parametrize("level", LEVELS)
def test_every_level_converts_and_the_level_is_detected(level):
    model_id, config = published(level)
    described = describe_config(DATA / FILES[level])
    assert (described.level, described.name) == (level, NAMES[level])
    assert described.model_id == model_id == FILES[level].split("_")[1].removesuffix(".json")
    assert described.cell_type == "GLIF_curr_exp", "Allen's GLIFs are current-based"
    assert described.dt == pytest.approx(config["dt"] * 1e3, rel=REL)
    assert f"GLIF{level} ({NAMES[level]})" in described.summary()
    validate(described.parameters, "current")
    bare = describe_config(config)            # the same configuration, not wrapped in its id
    assert bare.parameters == described.parameters and bare.model_id is None


@pytest.mark.parametrize("level", LEVELS)
def test_membrane_parameters_from_si_units(level):
    _, c = published(level)
    p = converted(c)
    k = c["coeffs"]
    capacitance, conductance = c["C"] * k["C"], k["G"] / c["R_input"]           # F, S
    assert p["cm"] == pytest.approx(capacitance / 1e-9, rel=REL)                 # nF
    assert p["tau_m"] == pytest.approx(capacitance / conductance / 1e-3, rel=REL)  # ms
    assert p["v_rest"] == pytest.approx((c["El_reference"] + c["El"]) / 1e-3, rel=REL)
    assert p["v_thresh"] == pytest.approx((c["El_reference"] + c["th_inf"] * k["th_inf"]) / 1e-3, rel=REL)
    assert p["tau_refrac"] == pytest.approx(c["spike_cut_length"] * c["dt"] / 1e-3, rel=REL)
    # plausibility of the units for a mouse cortical cell, independent of the formulas
    assert 0.01 < p["cm"] < 1 and 1 < p["tau_m"] < 100 and -95 < p["v_rest"] < -55
    assert 5 < p["v_thresh"] - p["v_rest"] < 60 and 0 < p["tau_refrac"] < 10


@pytest.mark.parametrize("level", LEVELS)
def test_after_spike_currents_are_rescaled_over_the_spike_cut(level):
    _, c = published(level)
    p = converted(c)
    if c["AScurrent_dynamics_method"]["name"] == "none":
        assert level in (1, 2)
        for j in (1, 2):
            assert (p[f"delta_asc{j}"], p[f"f_asc{j}"], p[f"k_asc{j}"]) == (0.0, 1.0, BY_NAME[f"k_asc{j}"].default)
        return
    t_cut = c["spike_cut_length"] * c["dt"]                                      # s
    for j in (1, 2):
        k = 1 / c["asc_tau_array"][j - 1]                                        # 1/s
        amplitude = c["asc_amp_array"][j - 1] * c["coeffs"]["asc_amp_array"][j - 1]   # A
        assert p[f"k_asc{j}"] == pytest.approx(k * 1e-3, rel=REL)
        assert p[f"f_asc{j}"] == c["AScurrent_reset_method"]["params"]["r"][j - 1]
        assert p[f"delta_asc{j}"] == pytest.approx(amplitude / 1e-9 * math.exp(k * t_cut), rel=REL)
        # the jump decays over tau_refrac to exactly Allen's amplitude at the end of the cut
        end_of_cut = p[f"delta_asc{j}"] * math.exp(-p[f"k_asc{j}"] * p["tau_refrac"])
        assert end_of_cut == pytest.approx(amplitude / 1e-9, rel=REL)
        assert abs(end_of_cut) < abs(p[f"delta_asc{j}"]), "the rescaling enlarges the jump"


@pytest.mark.parametrize("level", LEVELS)
def test_voltage_reset_gives_allens_reset_value(level):
    _, c = published(level)
    p = converted(c)
    for v_rel in (0.01, 0.02, 0.03):          # V before reset, volts above El_reference
        method = c["voltage_reset_method"]
        allen = 0.0 if method["name"] == "zero" else method["params"]["a"] * v_rel + method["params"]["b"]
        v_abs = (c["El_reference"] + v_rel) * 1e3
        ours = p["v_rest"] + p["f_v"] * (v_abs - p["v_rest"]) - p["delta_v"]
        assert ours == pytest.approx((c["El_reference"] + allen) * 1e3, rel=REL)
    if level in (1, 3):
        assert p["f_v"] == 0 and p["delta_v"] == 0, "reset to rest"


def test_a_nonzero_el_shifts_rest_but_neither_threshold_nor_the_reset_rules():
    _, c = published(4)
    shifted = copy.deepcopy(c)
    shifted["El"] = shifted["init_voltage"] = 0.002
    p, q = converted(c), converted(shifted)
    assert q["v_rest"] == pytest.approx(p["v_rest"] + 2.0, rel=REL)
    assert q["v_thresh"] == p["v_thresh"], "th_inf is relative to El_reference"
    a, b = c["voltage_reset_method"]["params"]["a"], c["voltage_reset_method"]["params"]["b"]
    v_abs = (c["El_reference"] + 0.025) * 1e3
    ours = q["v_rest"] + q["f_v"] * (v_abs - q["v_rest"]) - q["delta_v"]
    assert ours == pytest.approx((c["El_reference"] + a * 0.025 + b) * 1e3, rel=REL)
    shifted["voltage_reset_method"] = {"name": "zero", "params": {}}
    shifted["threshold_dynamics_method"] = shifted["threshold_reset_method"] = {"name": "inf", "params": {}}
    z = converted(shifted)
    assert z["v_rest"] - z["delta_v"] == pytest.approx(c["El_reference"] * 1e3, rel=REL), "zero: V <- El_reference"


@pytest.mark.parametrize("level", LEVELS)
def test_spike_threshold_is_rescaled_over_the_spike_cut(level):
    _, c = published(level)
    p = converted(c)
    if level in (1, 3):
        assert p["delta_theta"] == 0 and p["a_theta_v"] == 0
        return
    reset = c["threshold_reset_method"]["params"]
    t_cut = c["spike_cut_length"] * c["dt"]
    assert p["b_theta"] == pytest.approx(reset["b_spike"] * 1e-3, rel=REL)
    assert p["delta_theta"] == pytest.approx(reset["a_spike"] / 1e-3 * math.exp(reset["b_spike"] * t_cut), rel=REL)
    end_of_cut = p["delta_theta"] * math.exp(-p["b_theta"] * p["tau_refrac"])
    assert end_of_cut == pytest.approx(reset["a_spike"] * 1e3, rel=REL)
    dynamics = c["threshold_dynamics_method"]["params"]
    if level == 5:
        assert p["a_theta_v"] == pytest.approx(dynamics["a_voltage"] * c["coeffs"]["a"] * 1e-3, rel=REL)
        assert p["b_theta_v"] == pytest.approx(dynamics["b_voltage"] * c["coeffs"]["b"] * 1e-3, rel=REL)
        assert p["a_theta_v"] > 0
    else:
        assert p["a_theta_v"] == 0


def test_coefficients_multiply_their_parameters():
    _, c = published(5)
    scaled = copy.deepcopy(c)
    scaled["coeffs"].update(C=1.5, G=0.8, a=2.0, b=0.5, th_inf=1.1, asc_amp_array=[0.5, 3.0])
    p, q = converted(c), converted(scaled)
    base = c["coeffs"]
    assert q["cm"] == pytest.approx(p["cm"] * 1.5 / base["C"], rel=REL)
    assert q["tau_m"] == pytest.approx(p["tau_m"] * (1.5 / base["C"]) / (0.8 / base["G"]), rel=REL)
    assert q["v_thresh"] - q["v_rest"] == pytest.approx((p["v_thresh"] - p["v_rest"]) * 1.1 / base["th_inf"],
                                                        rel=1e-9)
    for j, factor in ((1, 0.5), (2, 3.0)):
        assert q[f"delta_asc{j}"] == pytest.approx(p[f"delta_asc{j}"] * factor / base["asc_amp_array"][j - 1],
                                                   rel=REL)
    assert q["a_theta_v"] == pytest.approx(p["a_theta_v"] * 2.0 / base["a"], rel=REL)
    assert q["b_theta_v"] == pytest.approx(p["b_theta_v"] * 0.5 / base["b"], rel=REL)
    assert q["delta_theta"] == p["delta_theta"], "a_spike has no coefficient"


@pytest.mark.parametrize("cell_type", sorted(CELL_TYPES))
def test_any_cell_type_can_be_chosen(cell_type):
    chosen, params = load_neuron_config(DATA / FILES[4], cell_type=cell_type)
    assert chosen == cell_type
    validate(params, CELL_TYPES[cell_type])


def broken(level, change):
    _, c = published(level)
    c = copy.deepcopy(c)
    change(c)
    return c


@pytest.mark.parametrize("change, message", [
    (lambda c: c["threshold_dynamics_method"].update(name="adapt_standard"),
     "threshold_dynamics_method 'adapt_standard' cannot be converted"),
    (lambda c: c["voltage_dynamics_method"].update(name="quadratic_i_of_v"), "voltage_dynamics_method"),
    (lambda c: c.pop("R_input"), "missing key 'R_input'"),
    (lambda c: c["voltage_reset_method"]["params"].pop("b"), "missing key 'voltage_reset_method.params.b'"),
    (lambda c: c.update(C=float("nan")), "C is nan"),
    (lambda c: c["asc_amp_array"].__setitem__(1, float("nan")), r"asc_amp_array\[1\] is nan"),
    (lambda c: c["threshold_reset_method"]["params"].update(b_spike=1.0), "one decay rate"),
    (lambda c: c.update(init_AScurrents=[1e-11, 0.0]), "init_AScurrents"),
    (lambda c: c.update(init_voltage=0.005), "init_voltage"),
    (lambda c: c["AScurrent_reset_method"].update(name="none"), "AScurrent_dynamics_method 'exp' with"),
    (lambda c: c["threshold_reset_method"].update(name="inf", params={}), "threshold_dynamics_method 'spike_comp"),
    (lambda c: c["voltage_reset_method"]["params"].update(a=1.2), "voltage_reset_method.params.a = 1.2"),
    (lambda c: c.update(spike_cut_length=2.5), "spike_cut_length"),
    (lambda c: c["coeffs"].update(G=-1.0), "coeffs.G = -1 must be positive"),
    (lambda c: c["coeffs"].update(C=-1.0), "cannot be expressed: GLIF parameter cm = -0.09"),
    # the AllenSDK reads d['El'] as well; the published files all have it
    (lambda c: c.pop("El"), "missing key 'El'"),
    # malformed structure: a method's params and the coefficients are dictionaries
    (lambda c: c["threshold_reset_method"].update(params=[1, 2]),
     r"threshold_reset_method.params = \[1, 2\] must be a dictionary"),
    (lambda c: c.update(coeffs=[1, 2]), r"coeffs = \[1, 2\] must be a dictionary"),
    (lambda c: c.update(C=10 ** 400), "C is an integer too large"),
    # a threshold at or below rest fires at rest
    (lambda c: c.update(th_inf=-0.02), r"th_inf = -0.02 V times coeffs.th_inf = 1.128.*at or below rest"),
    (lambda c: c["coeffs"].update(th_inf=0.0), r"coeffs.th_inf = 0 gives a threshold of 0 V, at or below rest"),
    (lambda c: c.update(El=0.04, init_voltage=0.04), r"at or below rest \(El = 0.04 V"),
    # times in the wrong unit (Allen's are in s), refused before any exp(k t_ref) can overflow
    (lambda c: c.update(dt=0.05), r"dt = 0.05 s is implausibly long .*more than 0.001 s.*seconds"),
    (lambda c: c.update(dt=0.0), "dt = 0 must be positive"),
    (lambda c: c.update(spike_cut_length=1e9), r"spike_cut_length = 1e\+09 steps .*\(more than 100 ms"),
    (lambda c: c.update(asc_tau_array=[t * 1e3 for t in c["asc_tau_array"]]),
     r"asc_tau_array\[0\] = 333.333 s is implausibly long \(more than 10 s.*seconds"),
    (lambda c: c.update(asc_tau_array=[1e-9, 0.01]), r"asc_tau_array\[0\] = 1e-09 s over the spike cut of 5.5 ms"
                                                     r".*beyond the float range"),
    (lambda c: [c[key]["params"].update(b_spike=1e9) for key in ("threshold_dynamics_method",
                                                                 "threshold_reset_method")],
     r"threshold_reset_method.params.b_spike = 1e\+09 1/s over the spike cut .*beyond the float range"),
])
def test_bad_configurations_are_refused_naming_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        load_neuron_config(broken(4, change))


def test_a_published_model_with_a_negative_reset_fraction_is_refused():
    """Model 489931668 (GLIF2) resets with a = -0.094: neither this model nor NEST's glif_psc expresses it."""
    with pytest.raises(ValueError, match=r"voltage_reset_method.params.a = -0.0941.*\[0, 1\]"):
        load_neuron_config(DATA / "488501071_489931668.json")


def test_nan_in_a_json_file_and_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(broken(5, lambda c: c.update(th_inf=float("nan")))))
    with pytest.raises(ValueError, match="th_inf is nan"):
        load_neuron_config(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_neuron_config(path)


def test_coeffs_may_be_left_out_as_in_the_allensdk():
    _, c = published(1)
    p = converted(broken(1, lambda c: c.pop("coeffs")))
    assert p["v_thresh"] == pytest.approx((c["El_reference"] + c["th_inf"]) * 1e3, rel=REL), "coefficients 1"
    assert converted(broken(1, lambda c: c.update(coeffs=None))) == p


def test_a_file_that_is_not_json_text_and_refusals_of_a_file_name_the_file(tmp_path):
    pickled = tmp_path / "sweeps.pkl"
    pickled.write_bytes(b"\x80\x04\x95\x00\x00garbage")
    with pytest.raises(ValueError, match=r"sweeps\.pkl is not a JSON text file \(byte 0x80 at 0 .*binary file"):
        load_neuron_config(pickled)
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"nested\.json cannot be read as JSON"):
        load_neuron_config(nested)
    model_id, config = published(4)
    dt_ms = tmp_path / "dt_ms.json"
    dt_ms.write_text(json.dumps({model_id: dict(config, dt=0.05)}))
    with pytest.raises(ValueError, match=r"dt_ms\.json: Allen neuron_config: dt = 0.05 s is implausibly long"):
        load_neuron_config(dt_ms)


def test_bad_nest_dictionaries_are_value_errors_naming_the_key():
    with pytest.raises(ValueError, match=r"not a number: C_m = None"):
        load_neuron_config({"C_m": None, "g": 10.0})
    with pytest.raises(ValueError, match=r"NEST glif_psc dictionary cannot be expressed: a value overflows"):
        load_neuron_config({"C_m": 60.0, "g": 10.0, "t_ref": 1e5, "after_spike_currents": True,
                            "asc_amps": [1.0, 1.0], "asc_decay": [1.0, 1.0]})


def test_neither_allen_nor_nest_ambiguous_and_unknown_cell_type_are_refused():
    with pytest.raises(ValueError, match="neither an Allen neuron_config"):
        load_neuron_config({"tau_m": 10.0})
    with pytest.raises(ValueError, match="ambiguous"):
        load_neuron_config(broken(1, lambda c: c.update(C_m=50.0)))
    with pytest.raises(ValueError, match="unknown cell type"):
        load_neuron_config(DATA / FILES[1], cell_type="IF_curr_exp")


def test_harmlessly_ignored_keys_warn_and_fitting_options_do_not(recwarn):
    load_neuron_config(DATA / FILES[5])
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)], "published files load silently"
    with pytest.warns(UserWarning, match="mystery_key"):
        load_neuron_config(broken(5, lambda c: c.update(mystery_key=1)))
    with pytest.warns(UserWarning, match="a_voltage"):
        load_neuron_config(broken(4, lambda c: c["threshold_dynamics_method"]["params"].update(a_voltage=2.0)))


def glif5_parameters():
    return dict(converted(DATA / FILES[5]), tau_syn_E=1.5, tau_syn_I=4.0)


def test_glif5_round_trips_through_nest_glif_psc():
    params = glif5_parameters()
    nest = to_nest_glif(params)
    assert (nest["adapting_threshold"], nest["spike_dependent_threshold"], nest["after_spike_currents"]) == \
        (True, True, True), "NEST's GLIF5 needs all three mechanisms"
    assert (nest["th_voltage_index"], nest["th_voltage_decay"]) == (params["a_theta_v"], params["b_theta_v"])
    back = from_nest_glif(nest)
    for name, value in params.items():
        assert back[name] == pytest.approx(value, rel=1e-13, abs=1e-15), name
    described = describe_config(nest)
    assert (described.level, described.source, described.cell_type) == (5, "NEST glif_psc", "GLIF_curr_alpha")
    assert described.parameters == back


def test_a_voltage_dependent_threshold_alone_still_gives_nest_glif5():
    params = dict(glif5_parameters(), delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, f_v=0.0, delta_v=3.0)
    nest = to_nest_glif(params)
    assert nest["adapting_threshold"] and nest["spike_dependent_threshold"] and nest["after_spike_currents"]
    back = from_nest_glif(nest)
    for name, value in params.items():
        assert back[name] == pytest.approx(value, rel=1e-13, abs=1e-15), name


def test_nest_dictionaries_glif5_defaults_glif4_and_glif_cond():
    minimal = {"spike_dependent_threshold": True, "after_spike_currents": True, "adapting_threshold": True,
               "asc_amps": [-10.0, -200.0], "C_m": 60.0, "g": 10.0}
    p = from_nest_glif(minimal)
    assert (p["a_theta_v"], p["b_theta_v"]) == (0.005, 0.09), "glif_psc's own GLIF5 defaults"
    glif4 = to_nest_glif(converted(DATA / FILES[4]))
    assert not glif4["adapting_threshold"] and from_nest_glif(glif4)["a_theta_v"] == 0
    assert describe_config(glif4).level == 4
    cond = to_nest_glif(glif5_parameters(), conductance=True)
    assert "g_m" in cond and "g" not in cond, "glif_cond's membrane conductance is g_m"
    assert describe_config(cond).cell_type == "GLIF_cond_alpha"
    assert describe_config(cond).parameters["tau_m"] == pytest.approx(glif5_parameters()["tau_m"], rel=1e-14)
    with pytest.warns(UserWarning, match="E_rev ignored"):
        assert "e_rev_E" not in load_neuron_config(cond, cell_type="GLIF_curr_exp")[1]


@pytest.mark.parametrize("text, nA", [("0.2nA", 0.2), ("200pA", 0.2), ("0.2", 0.2), ("1 uA", 1000.0),
                                      ("-50 pA", -0.05), (".5e-1nA", 0.05)])
def test_current_parsing(text, nA):
    assert parse_current(text) == pytest.approx(nA, rel=1e-12)


@pytest.mark.parametrize("text", ["0.2mV", "abc", "0.2 bogus", ""])
def test_bad_currents_are_refused(text):
    with pytest.raises(ValueError, match="current"):
        parse_current(text)


def run_cli(tmp_path, level, *extra):
    output = tmp_path / f"allen{level}.png"
    result = subprocess.run([sys.executable, "-m", "glif_pynn.cli", "allen", str(DATA / FILES[level]),
                             "--backend", "reference", "--output", str(output), *extra],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and output.stat().st_size > 10_000, "a real figure"
    assert f"GLIF{level} ({NAMES[level]})" in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("spike times (ms):"))
    return [float(s) for s in line.split(":")[1].split()], result.stdout


def test_cli_glif1_fires_at_the_analytic_crossings(tmp_path):
    spikes, out = run_cli(tmp_path, 1, "--step", "200pA", "--duration", "300")
    _, c = published(1)
    dt, start, amplitude = c["dt"] * 1e3, 30.0, 0.2                # ms, ms (duration / 10), nA
    resistance = c["R_input"] / c["coeffs"]["G"] * 1e-6                     # MOhm = mV / nA
    tau = resistance * c["C"] * c["coeffs"]["C"] * 1e9                        # MOhm nF = ms
    gap = c["th_inf"] * c["coeffs"]["th_inf"] * 1e3                # mV from rest (= reset) to threshold
    rise = -tau * math.log(1 - gap / (amplitude * resistance))      # ms from rest to threshold
    assert len(spikes) > 5 and "Hz during the step" in out
    assert spikes[0] - dt - 1e-6 < start + rise <= spikes[0] + 1e-6, (spikes[0], start + rise)
    refractory = c["spike_cut_length"] * dt
    intervals = [b - a for a, b in zip(spikes, spikes[1:])]
    assert all(abs(isi - (refractory + rise)) <= dt + 1e-6 for isi in intervals), intervals


def test_cli_glif4_adapts_and_reports_errors(tmp_path):
    spikes, _ = run_cli(tmp_path, 4, "--step", "0.25", "--duration", "600")
    intervals = [b - a for a, b in zip(spikes, spikes[1:])]
    assert len(intervals) > 3 and intervals[-1] > intervals[0], "spike-frequency adaptation"
    bad = subprocess.run([sys.executable, "-m", "glif_pynn.cli", "allen", str(DATA / "488501071_489931668.json"),
                          "--backend", "reference"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert bad.returncode == 1 and "voltage_reset_method.params.a" in bad.stderr


def test_glif5_threshold_rises_with_the_voltage_dependent_component():
    """Needs theta_v in the reference backend: before the first spike the threshold moves by theta_v only."""
    from glif_pynn.step_response import run_step
    described = describe_config(DATA / FILES[5])
    result = run_step(described.cell_type, described.parameters, 0.1, backend="reference", duration=300.0,
                      dt=described.dt)
    rise = result.threshold - described.parameters["v_thresh"]
    assert abs(rise[result.t < result.start]).max() < 1e-9, "no threshold change at rest"
    first = result.spikes[0] if len(result.spikes) else result.stop
    window = (result.t >= result.start) & (result.t < first)
    assert window.sum() > 100 and (rise[window] >= -1e-9).all(), "theta_v >= 0 while V >= v_rest"
    assert rise[window].max() > 0.1, "theta_v follows the depolarisation"


@pytest.mark.parametrize("setting, message", [
    ({"dt": 0.05}, "Allen neuron_config: dt = 0.05 s is implausibly long"),
    ({"coeffs": [1, 2]}, "coeffs = [1, 2] must be a dictionary"),
])
def test_cli_refuses_a_bad_config_in_one_line_without_a_traceback(tmp_path, setting, message):
    model_id, config = published(5)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({model_id: dict(config, **setting)}))
    result = subprocess.run([sys.executable, "-m", "glif_pynn.cli", "allen", str(path), "--backend", "reference",
                             "--output", str(tmp_path / "allen.png")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("glif-pynn allen: "), result.stderr
    assert message in result.stderr
    assert str(path) in result.stderr, "the message names the file"
    assert not (tmp_path / "allen.png").exists()
