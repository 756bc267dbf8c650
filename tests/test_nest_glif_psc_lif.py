"""GLIF1 (LIF) configuration of the NESTML model against NEST's hand-written glif_psc.

Both neurons live in one kernel and receive the same spike generator (excitatory
and inhibitory weights) and the same step-current generator for 1 s.
"""
import numpy as np
import pytest

nest = pytest.importorskip("nest")
import glif_pynn.nest as glif_nest  # noqa: E402

LIF = dict(C_m=58.72, E_L=-78.85, V_th=-51.68, t_ref=3.75)
G = 9.43
TAU_SYN = 2.0


def test_glif1_fires_at_the_times_of_nest_glif_psc():
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.resolution = 0.1
    glif_nest.install()
    ours = nest.Create("glif_psc_alpha_neuron", params=dict(
        LIF, V_m=LIF["E_L"], g_L=G, voltage_reset_fraction=0.0, voltage_reset_add=0.0, asc_amp1=0.0,
        asc_amp2=0.0, th_spike_add=0.0, tau_syn_exc=TAU_SYN, tau_syn_inh=TAU_SYN))
    theirs = nest.Create("glif_psc", params=dict(
        LIF, V_m=LIF["E_L"], g=G, V_reset=LIF["E_L"], tau_syn=[TAU_SYN], spike_dependent_threshold=False,
        after_spike_currents=False, adapting_threshold=False))
    rng = np.random.default_rng(12345)
    exc_times = np.round(np.sort(rng.uniform(1, 1000, 400)), 1)
    inh_times = np.round(np.sort(rng.uniform(1, 1000, 150)), 1)
    exc_times = np.unique(np.concatenate([exc_times, [300.0, 600.5]]))   # simultaneous with inhibition
    inh_times = np.unique(np.concatenate([inh_times, [300.0, 600.5]]))
    exc = nest.Create("spike_generator", params={"spike_times": exc_times})
    inh = nest.Create("spike_generator", params={"spike_times": inh_times})
    step = nest.Create("step_current_generator", params={
        "amplitude_times": [100.0, 350.0, 500.0, 800.0], "amplitude_values": [200.0, 320.0, 150.0, 0.0]})
    recorders = {}
    for neuron, receptor in ((ours, 0), (theirs, 1)):
        nest.Connect(exc, neuron, syn_spec={"weight": 60.0, "delay": 1.0, "receptor_type": receptor})
        nest.Connect(inh, neuron, syn_spec={"weight": -80.0, "delay": 1.0, "receptor_type": receptor})
        nest.Connect(step, neuron)
        recorders[neuron.global_id] = nest.Create("spike_recorder")
        nest.Connect(neuron, recorders[neuron.global_id])
    nest.Simulate(1000.0)
    t_ours = recorders[ours.global_id].events["times"]
    t_theirs = recorders[theirs.global_id].events["times"]
    assert len(t_theirs) >= 15, "non-trivial: glif_psc must fire repeatedly"
    assert len(t_ours) == len(t_theirs), (t_ours, t_theirs)
    # t_ref = 3.75 ms is 37.5 steps: a different rounding of the refractory period shifts spikes by a step
    np.testing.assert_array_equal(t_ours, t_theirs, err_msg="every spike at the same time")
