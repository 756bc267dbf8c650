"""Input handling of glif_pynn.fit: bad input is a ValueError that names the problem and writes nothing;
spike detection; reading any neo file with channels chosen by name or units. Runtime ~10 s (one
GLIF1 fit through the command line)."""
import json

import neo
import numpy as np
import pytest
import quantities as pq
from fit_support import recordings

from glif_pynn import cli
from glif_pynn.fit import fit, read_recording
from glif_pynn.fit.data import detect_spikes, sweep_from_segment

DT = 0.1


def segment(n=5000, dt=DT, current_units="nA", v_units="mV", v=None, current=None, names=("current", "v"),
            v_dt=None, spikes=None):
    """A quiet sweep (V noise around -70 mV, no spikes unless given) in neo form."""
    rng = np.random.default_rng(0)
    current = 0.01 * rng.standard_normal(n) if current is None else current
    v = -70.0 + 0.5 * rng.standard_normal(n) if v is None else v
    seg = neo.Segment()
    seg.analogsignals += [
        neo.AnalogSignal(current, units=current_units, sampling_period=dt * pq.ms, name=names[0]),
        neo.AnalogSignal(v, units=v_units, sampling_period=(v_dt or dt) * pq.ms, name=names[1])]
    if spikes is not None:
        seg.spiketrains.append(neo.SpikeTrain(spikes, units="ms", t_stop=max([n * dt, *np.add(spikes, 1.0)])))
    return seg


@pytest.mark.parametrize("make, message", [
    (lambda: segment(names=("I", "v")), "no AnalogSignal named 'current'"),
    (lambda: segment(names=("current", "Vm")), "no AnalogSignal named 'v'"),
    (lambda: segment(current_units="dimensionless"), "'current' has no units"),
    (lambda: segment(v_units="dimensionless"), "'v' has no units"),
    (lambda: segment(current_units="mV"), "not a current"),
    (lambda: segment(v_units="nA"), "not a voltage"),
    (lambda: segment(v=np.r_[-70.0 * np.ones(100), np.nan, -70.0 * np.ones(4899)]), "NaN"),
    (lambda: segment(v=np.full(5000, np.inf)), "NaN or infinite"),
    (lambda: segment(v_dt=0.05), "sampled every 0.1 ms and 'v' every 0.05 ms"),
    (lambda: segment(v=-70.0 * np.ones(4000)), "'current' has 5000 samples and 'v' 4000"),
    (lambda: segment(n=1000), "too short"),
    (lambda: segment(dt=0.5), "0.2 ms or finer"),
    (lambda: segment(spikes=[100.0, 600.0]), "outside the recording"),
])
def test_bad_sweep_is_a_value_error_naming_the_problem(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit([make()], 1)


def test_multichannel_signal_is_refused():
    seg = segment()
    seg.analogsignals[1] = neo.AnalogSignal(np.full((5000, 2), -70.0), units="mV", sampling_period=DT * pq.ms, name="v")
    with pytest.raises(ValueError, match="2 channels"):
        fit([seg], 1)


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_no_spikes_where_the_level_needs_them(level):
    with pytest.raises(ValueError, match=f"no spikes in the training sweeps: GLIF{level}"):
        fit([segment()], level)


def test_too_few_spikes_for_the_reset_and_adaptation():
    with pytest.raises(ValueError, match="only 3 spikes .* GLIF4 .* at least 20"):
        fit([segment(spikes=[100.0, 200.0, 300.0])], 4)


@pytest.mark.parametrize("level", [0, 6, "3", 2.5, True])
def test_unknown_level(level):
    with pytest.raises(ValueError, match="level must be 1, 2, 3, 4 or 5"):
        fit([segment()], level)


def test_sweeps_of_different_sampling_are_refused():
    with pytest.raises(ValueError, match="different periods"):
        fit([segment(), segment(dt=0.05, n=10000)], 1)
    with pytest.raises(ValueError, match="test sweeps are sampled every 0.05 ms"):
        fit([segment(spikes=np.arange(10.0, 500.0, 40.0))], 1, test=[segment(dt=0.05, n=10000)])


def test_not_a_segment():
    with pytest.raises(ValueError, match="expected a neo Block or a list of neo Segments"):
        fit(np.zeros(10), 1)
    with pytest.raises(ValueError, match="not a neo Segment"):
        fit([np.zeros(10)], 1)


def test_detect_spikes_marks_the_sample_after_the_5_percent_rise():
    """Spikes at samples 1000 and 3000: V rises by 5, 20, 40, 10 mV per sample, then falls back. The
    fastest rise is 40 mV per sample; 5 % of it is 2, first reached from sample 999 to 1000, so sample 999 is
    the threshold sample and 1000 the spike's first sample."""
    v = np.full(5000, -65.0)
    for start in (999, 2999):
        v[start + 1:start + 5] = [-60.0, -40.0, 0.0, 10.0]
        v[start + 5:start + 20] = np.linspace(0.0, -75.0, 15)
    np.testing.assert_array_equal(detect_spikes(v, DT), [1000, 3000])
    assert len(detect_spikes(v, DT, level=20.0)) == 0, "no crossing of +20 mV"
    sweep = sweep_from_segment(segment(v=v))
    np.testing.assert_array_equal(sweep.spikes, [1000, 3000], err_msg="found in V when the segment has no train")
    sweep = sweep_from_segment(segment(v=v, spikes=[50.0, 300.0]))
    np.testing.assert_array_equal(sweep.spikes, [500, 3000], err_msg="the segment's train wins")


def test_units_are_converted():
    seg = segment(current=np.full(5000, 150.0), current_units="pA", v=np.full(5000, -0.07), v_units="V")
    sweep = sweep_from_segment(seg)
    np.testing.assert_allclose(sweep.current, 0.15, rtol=1e-12, err_msg="pA -> nA")
    np.testing.assert_allclose(sweep.v, -70.0, rtol=1e-12, err_msg="V -> mV")


def write_block(path, segments):
    block = neo.Block()
    block.segments += segments
    neo.io.PickleIO(str(path)).write_block(block)
    return path


def test_read_recording_chooses_channels_by_name_then_units(tmp_path):
    path = write_block(tmp_path / "r.pkl", [segment(names=("I_inj", "Vm"), current_units="pA")])
    seg, = read_recording(path)
    assert {s.name for s in seg.analogsignals} == {"current", "v"}, "the one current and the one voltage signal"
    two = segment()
    two.analogsignals.append(neo.AnalogSignal(np.zeros(5000), units="mV", sampling_period=DT * pq.ms, name="v2"))
    two.analogsignals[1].name = "v1"
    with pytest.raises(ValueError, match="several v signals .*'v1', 'v2'"):
        read_recording(write_block(tmp_path / "two.pkl", [two]))
    seg, = read_recording(tmp_path / "two.pkl", v="v2")
    assert [s.name for s in seg.analogsignals] == ["current", "v1", "v"]
    with pytest.raises(ValueError, match="does not exist"):
        read_recording(tmp_path / "missing.pkl")


def test_command_writes_nothing_for_bad_input(tmp_path, capsys):
    bad = write_block(tmp_path / "bad.pkl", [segment(v=np.r_[np.nan, -70.0 * np.ones(4999)])])
    out = tmp_path / "out"
    assert cli.main(["fit", str(bad), "--level", "1", "--output", str(out)]) == 1
    assert "NaN" in capsys.readouterr().err
    assert not out.exists(), "nothing is written for bad input"
    assert list(tmp_path.iterdir()) == [bad], "no temporary files left behind"


def test_command_fits_and_writes_every_output(tmp_path):
    training, test = recordings()[1]
    out = tmp_path / "fit"
    args = ["fit", str(write_block(tmp_path / "train.pkl", training)), "--test",
            str(write_block(tmp_path / "test.pkl", test)), "--level", "1", "--output", str(out), "--generations", "2"]
    assert cli.main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fit.png", "neuron_config.json", "parameters.json", "report.md"]
    saved = json.loads((out / "parameters.json").read_text())
    assert saved["level"] == 1 and saved["scores"]["test"]["gamma"] >= 0.95
    assert "| `v_thresh` | mV |" in (out / "report.md").read_text()
    assert (out / "fit.png").stat().st_size > 10_000
