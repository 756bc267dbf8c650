"""The engine's WaveformSource (sampled per-neuron currents, used by glif_pynn.fit): the same V as a
StepCurrentSource with the same values, channels routed per target, and errors for bad shapes. < 1 s."""
import numpy as np
import pytest

from glif_pynn.reference.engine import Network
from glif_pynn.reference.sources import StepCurrentSource, WaveformSource

DT = 0.1


def v_under(sources, n=2, steps=500):
    net = Network(DT)
    pop = net.create("curr_exp", n, tau_refrac=2.0)
    for source, indices in sources:
        net.inject(source, pop, indices)
    net.record(pop, ["v", "spikes"])
    net.run_steps(steps)
    return net.get_recording(pop)


def test_waveform_equals_step_currents_with_the_same_values():
    rng = np.random.default_rng(3)
    values = 0.3 + 0.2 * rng.standard_normal((400, 2))
    wave = v_under([(WaveformSource(values), None)])
    steps = v_under([(StepCurrentSource(np.arange(401) * DT, np.r_[values[:, k], 0.0]), [k]) for k in range(2)])
    assert len(wave["spikes"][0]) >= 4, "non-trivial: the cells fire"
    np.testing.assert_array_equal(wave["v"], steps["v"], err_msg="V, sample by sample")
    # after the last sample the current is 0: V relaxes to v_rest
    assert np.all(np.diff(wave["v"][-50:, 0]) < 0)


def test_channels_route_columns_to_targets():
    values = np.column_stack([np.zeros(300), np.full(300, 0.5)])
    data = v_under([(WaveformSource(values, channel=[1, 0, 1]), None)], n=3, steps=300)
    v = data["v"]
    assert np.ptp(v[:, 1]) == 0.0, "target 1 gets column 0 (no current)"
    np.testing.assert_array_equal(v[:, 0], v[:, 2], err_msg="targets 0 and 2 share column 1")
    assert np.ptp(v[:, 0]) > 1.0


@pytest.mark.parametrize("values, channel, message", [
    (np.array([[np.nan]]), None, "finite"),
    (np.zeros((10, 2)), [0, 2], "out of range"),
    (np.zeros((10, 2)), None, "2 columns for 3 targets"),
    (np.zeros((10, 2)), [0, 1], "2 entries for 3 targets"),
])
def test_bad_waveforms(values, channel, message):
    net = Network(DT)
    pop = net.create("curr_exp", 3)
    with pytest.raises(ValueError, match=message):
        net.inject(WaveformSource(values, channel), pop)
