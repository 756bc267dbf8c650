"""Current sources, spike sources, recording and files for the GLIF types on pyNN.nest.

Every test calls ``sim.setup()`` afresh (the ``sim_`` fixture in conftest.py); units and tolerances
are described in pynn_support.py.
"""
import math

import numpy as np
import pytest

sim = pytest.importorskip("pyNN.nest")
from neo.io import PickleIO  # noqa: E402

from glif_pynn.nest import GLIF_cond_alpha, GLIF_cond_exp, GLIF_curr_alpha, GLIF_curr_exp  # noqa: E402
from pynn_support import DT, QUIET, v_tolerance, signal, spike_times  # noqa: E402


# --- current sources and spike sources ------------------------------------------------------


def lif_piecewise(t, params, times, amplitudes):
    """V(t) of a leaky neuron from v_rest under a current that steps to amplitudes[k] at times[k]."""
    tau, r, e_l = params["tau_m"], params["tau_m"] / params["cm"], params["v_rest"]
    v = np.full_like(t, e_l)
    previous = 0.0
    for t_k, a_k in zip(times, amplitudes):
        s = np.clip(t - t_k, 0.0, None)
        v += (a_k - previous) * r * -np.expm1(-s / tau)
        previous = a_k
    return v


@pytest.mark.parametrize("celltype", [GLIF_curr_exp, GLIF_cond_alpha], ids=["curr_exp", "cond_alpha"])
def test_step_current_source_against_the_closed_form(sim_, celltype):
    times, amplitudes = [10.0, 60.0, 110.0], [0.1, -0.05, 0.02]
    pop = sim.Population(1, celltype(**QUIET))
    sim.StepCurrentSource(times=times, amplitudes=amplitudes).inject_into(pop)
    pop.record("v")
    sim.run(150.0)
    t, v, _ = signal(pop, "v")
    assert np.ptp(v) > 10.0
    np.testing.assert_allclose(v[:, 0], lif_piecewise(t, QUIET, times, amplitudes), rtol=0,
                               atol=v_tolerance(celltype), err_msg="V under a step current")


def test_ac_source_amplitude_and_mean_of_the_response(sim_):
    amplitude, offset, frequency = 0.1, 0.05, 20.0        # nA, nA, Hz
    pop = sim.Population(1, GLIF_curr_exp(**QUIET))
    sim.ACSource(amplitude=amplitude, offset=offset, frequency=frequency, phase=0.0, start=0.0,
                 stop=1000.0).inject_into(pop)
    pop.record("v")
    sim.run(400.0)
    t, v, _ = signal(pop, "v")
    late = v[t >= 200.0, 0]                                # 10 tau_m: the transient is gone
    tau, r = QUIET["tau_m"], QUIET["tau_m"] / QUIET["cm"]
    omega = 2 * math.pi * frequency / 1000.0               # rad / ms
    expected_amplitude = amplitude * r / math.sqrt(1 + (omega * tau) ** 2)
    # the generator holds each value for one step: an O((omega dt)^2) = 1.6e-4 relative effect
    assert np.ptp(late) / 2 == pytest.approx(expected_amplitude, rel=2e-3)
    assert late.mean() == pytest.approx(QUIET["v_rest"] + offset * r, abs=0.01 * expected_amplitude)


def test_noisy_current_source_mean_and_variance_of_v(sim_):
    mean, stdev, n = 0.05, 0.2, 10
    pop = sim.Population(n, GLIF_cond_exp(**QUIET))
    sim.NoisyCurrentSource(mean=mean, stdev=stdev, dt=DT, start=0.0, stop=2000.0).inject_into(pop)
    pop.record("v")
    sim.run(1100.0)
    t, v, _ = signal(pop, "v")
    late = v[t >= 100.0]
    tau, r = QUIET["tau_m"], QUIET["tau_m"] / QUIET["cm"]
    # V samples form an AR(1) process: V_k+1 - V_inf = a (V_k - V_inf) + (1 - a) R xi_k, a = exp(-dt / tau)
    a = math.exp(-DT / tau)
    expected_std = stdev * r * math.sqrt((1 - a) / (1 + a))          # 0.80 mV
    # ~10 cells x 1000 ms / 20 ms independent samples: ~3 % error on the std, 0.05 mV on the mean
    assert late.std() == pytest.approx(expected_std, rel=0.15)
    assert late.mean() == pytest.approx(QUIET["v_rest"] + mean * r, abs=0.3)
    assert np.corrcoef(late[:, 0], late[:, 1])[0, 1] < 0.3, "each cell gets its own noise"


def test_spike_source_poisson_count_and_one_psc_per_spike(sim_):
    rate, duration, n, weight, tau = 100.0, 500.0, 10, 0.05, 2.0
    src = sim.Population(n, sim.SpikeSourcePoisson(rate=rate, start=0.0, duration=duration))
    pop = sim.Population(n, GLIF_curr_exp(**dict(QUIET, tau_syn_E=tau)))
    sim.Projection(src, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
    src.record("spikes")
    pop.record("isyn_exc")
    sim.run(duration + 20.0)
    counts = np.array([len(st) for st in spike_times(src)])
    expected = rate * duration / 1000.0 * n                          # 500 spikes
    assert abs(counts.sum() - expected) < 5 * math.sqrt(expected), counts.sum()
    _, x, _ = signal(pop, "isyn_exc")
    # an exponential PSC adds `weight` in the arrival step and only decays otherwise
    jumps = (x[1:] - x[:-1] * math.exp(-DT / tau)) / weight
    np.testing.assert_allclose(jumps, np.rint(jumps), atol=1e-9, err_msg="whole numbers of PSCs per step")
    np.testing.assert_array_equal(np.rint(jumps).sum(axis=0), counts, err_msg="one PSC per source spike")


# --- recording and files --------------------------------------------------------------------


@pytest.mark.parametrize("celltype", [GLIF_curr_alpha, GLIF_cond_alpha], ids=["curr_alpha", "cond_alpha"])
def test_record_everything_write_data_and_read_back(sim_, celltype, tmp_path):
    pop = sim.Population(3, celltype(i_offset=0.4))
    pop.record(celltype.recordable)
    sim.run(100.0)
    path = tmp_path / "glif.pkl"
    pop.write_data(PickleIO(str(path)))
    written = pop.get_data().segments[0]
    read = PickleIO(str(path)).read_block().segments[0]
    assert sum(len(st) for st in written.spiketrains) > 3, "non-trivial: the cells spike"
    for st_w, st_r in zip(written.spiketrains, read.spiketrains):
        np.testing.assert_array_equal(st_r.magnitude, st_w.magnitude)
    expected_units = {name: celltype.units[name] for name in celltype.recordable if name != "spikes"}
    assert {sig.name: str(sig.units.dimensionality) for sig in read.analogsignals} == expected_units
    for name in expected_units:
        w, r = written.filter(name=name)[0], read.filter(name=name)[0]
        np.testing.assert_array_equal(r.magnitude, w.magnitude, err_msg=name)
