"""Scripts that change things between runs behave on the reference backend as on pyNN.nest.

Each case was found by running the same script on both backends: a recording started after a run,
a SpikeSourceArray given new spike times between runs, sampling intervals and run times that are
not whole steps, and initialize() of a PopulationView. (Parameters and current sources changed
between runs: tests/test_reference_vs_nest.py.)
"""
import numpy as np
import pytest

import glif_pynn.reference as ref_sim

QUIET = dict(cm=0.25, tau_m=20.0, v_rest=-70.0, v_thresh=-50.0, i_offset=0.2, delta_asc1=0.0, delta_asc2=0.0,
             delta_theta=0.0)


def v_signal(pop):
    return pop.get_data("v").segments[0].filter(name="v")[0]


def test_a_recording_started_after_a_run_is_labelled_from_that_time():
    ref_sim.setup(timestep=0.1)
    early, late = (ref_sim.Population(1, ref_sim.GLIF_curr_exp(**QUIET)) for _ in range(2))
    early.record("v")
    ref_sim.run(5.0)
    late.record("v")
    ref_sim.run(5.0)
    whole, tail = v_signal(early), v_signal(late)
    ref_sim.end()
    assert float(tail.t_start.rescale("ms")) == pytest.approx(5.0), "the recording starts at 5 ms"
    assert np.ptp(np.asarray(whole)) > 1.0, "non-trivial: V moves"
    np.testing.assert_array_equal(np.asarray(tail)[:, 0], np.asarray(whole)[50:, 0], err_msg="V from 5 ms on")


def test_spike_times_changed_between_runs_keep_what_was_emitted():
    """pyNN.nest records [1, 2, 4] here: the spikes sent before the change and the new one after it."""
    ref_sim.setup(timestep=0.1)
    source = ref_sim.Population(1, ref_sim.SpikeSourceArray(spike_times=[1.0, 2.0]))
    source.record("spikes")
    ref_sim.run(3.0)
    source.set(spike_times=[0.5, 4.0])
    ref_sim.run(3.0)
    train = source.get_data("spikes").segments[0].spiketrains[0]
    ref_sim.end()
    np.testing.assert_allclose(np.asarray(train.rescale("ms")), [1.0, 2.0, 4.0])


def test_times_that_are_not_whole_steps_are_refused_by_name():
    ref_sim.setup(timestep=0.1)
    pop = ref_sim.Population(1, ref_sim.GLIF_curr_exp(**QUIET))
    with pytest.raises(ValueError, match=r"sampling_interval = 0.25 ms is not a whole number of time steps"):
        pop.record("v", sampling_interval=0.25)
    pop = ref_sim.Population(1, ref_sim.GLIF_curr_exp(**QUIET))
    pop.record("v", sampling_interval=0.3)
    with pytest.raises(ValueError, match=r"cannot run until 2.05 ms: not a whole number of time steps"):
        ref_sim.run(2.05)
    ref_sim.run(2.1)
    signal = v_signal(pop)
    ref_sim.end()
    np.testing.assert_allclose(np.asarray(signal.times.rescale("ms")), np.arange(0.0, 2.11, 0.3), atol=1e-12)


def test_initialize_of_a_view_is_refused_before_anything_changes():
    ref_sim.setup(timestep=0.1)
    pop = ref_sim.Population(3, ref_sim.GLIF_curr_exp(**QUIET))
    with pytest.raises(NotImplementedError, match="initialize the parent Population"):
        pop[1:].initialize(v=-60.0)
    pop.record("v")
    ref_sim.run(0.1)
    v0 = np.asarray(v_signal(pop))[0]
    ref_sim.end()
    np.testing.assert_array_equal(v0, [-70.0] * 3, err_msg="no cell changed")


#: V rises by 0.01 mV per ms from -70 mV (1 nF, 0.01 nA, a leak of 1e5 ms): each sample's value tells its time
RAMP = dict(tau_m=1e5, cm=1.0, i_offset=0.01, v_rest=-70.0, v_thresh=50.0)


@pytest.mark.parametrize("how", ["cleared", "started"])
def test_samples_lie_where_they_are_labelled_after_an_off_grid_clear_or_start(how):
    """A recording cleared or started at 2.5 ms with a sampling interval of 1 ms: samples at 2.5, 3.5, ...,
    where PyNN labels them. They used to be taken at 3, 4, 5 (the multiples of the interval) and labelled
    2.5, 3.5, 4.5."""
    ref_sim.setup(timestep=0.1, min_delay=0.1)
    pop = ref_sim.Population(1, ref_sim.GLIF_curr_exp(**RAMP))
    if how == "cleared":
        pop.record("v", sampling_interval=1.0)
    ref_sim.run(2.5)
    if how == "cleared":
        pop.get_data(clear=True)
    else:
        pop.record("v", sampling_interval=1.0)
    ref_sim.run(3.0)
    signal = v_signal(pop)
    ref_sim.end()
    labels, true = np.asarray(signal.times.rescale("ms")), (np.asarray(signal)[:, 0] + 70.0) / 0.01
    np.testing.assert_allclose(labels, [2.5, 3.5, 4.5, 5.5], atol=1e-12)
    # the leak bends the ramp by t^2 / (2 tau_m) = 1.5e-4 ms at 5.5 ms; a wrong sample is a step (0.1 ms) off or more
    np.testing.assert_allclose(true, labels, atol=1e-3, err_msg="each sample was taken at its label")


def test_get_of_a_homogeneous_parameter_gives_one_value_per_cell_where_asked():
    """PyNN broadcasts a single stored value; a 0-d array was left as it was, so get(simplify=False) gave one
    value for three cells and an Assembly's get three values for five cells."""
    ref_sim.setup(timestep=0.1)
    same = ref_sim.Population(3, ref_sim.GLIF_curr_exp())
    apart = ref_sim.Population(2, ref_sim.GLIF_curr_exp(cm=[0.1, 0.2]))
    default = ref_sim.GLIF_curr_exp.default_parameters["cm"]
    np.testing.assert_array_equal(same.get("cm", simplify=False), [default] * 3)
    assert same.get("cm") == default and np.ndim(same.get("cm")) == 0
    np.testing.assert_array_equal((same + apart).get("cm"), [default] * 3 + [0.1, 0.2])
    np.testing.assert_array_equal(same[1:].get("cm", simplify=False), [default] * 2)
    ref_sim.end()


def test_projections_report_the_delays_they_use_and_default_to_a_static_synapse():
    """A delay of 0.75 ms at dt = 0.1 is used as 8 steps (NEST rounds halves up), and get() says 0.8. A
    Projection without a synapse type takes PyNN's default StaticSynapse, as on pyNN.nest (it raised
    AttributeError)."""
    ref_sim.setup(timestep=0.1, min_delay=0.1)
    source = ref_sim.Population(1, ref_sim.SpikeSourceArray(spike_times=[5.0]))
    cell = ref_sim.Population(1, ref_sim.GLIF_curr_exp(**QUIET))
    projection = ref_sim.Projection(source, cell, ref_sim.AllToAllConnector(),
                                    ref_sim.StaticSynapse(weight=0.1, delay=0.75), receptor_type="excitatory")
    assert projection.get("delay", format="array")[0, 0] == 0.8
    plain = ref_sim.Projection(cell, cell, ref_sim.AllToAllConnector())
    assert len(plain) == 1 and plain.get(["weight", "delay"], format="list")[0][2:] == (0.0, 0.1)
    listed = projection.get(["weight", "delay"], format="list")[0]
    assert listed == (0.0, 0.0, 0.1, 0.8) and all(type(x) is float for x in listed), "floats, as pyNN.nest's"
    ref_sim.end()


def test_a_delay_beyond_the_max_delay_given_to_setup_is_refused():
    """pyNN.nest refuses it (with a misleading error); the reference connected it silently. Without an explicit
    max_delay ('auto', PyNN's default) any delay is taken, on both."""
    ref_sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0)
    cells = ref_sim.Population(2, ref_sim.GLIF_curr_exp(**QUIET))
    with pytest.raises(ValueError, match=r"a delay of 12 ms exceeds max_delay = 10 ms given to setup\(\)"):
        ref_sim.Projection(cells, cells, ref_sim.AllToAllConnector(), ref_sim.StaticSynapse(weight=0.1, delay=12.0))
    ref_sim.Projection(cells, cells, ref_sim.AllToAllConnector(), ref_sim.StaticSynapse(weight=0.1, delay=10.0))
    ref_sim.setup(timestep=0.1, min_delay=0.1)
    cells = ref_sim.Population(2, ref_sim.GLIF_curr_exp(**QUIET))
    assert len(ref_sim.Projection(cells, cells, ref_sim.AllToAllConnector(),
                                  ref_sim.StaticSynapse(weight=0.1, delay=12.0))) == 4
    ref_sim.end()
