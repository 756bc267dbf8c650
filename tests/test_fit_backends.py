"""A fitted parameter set gives the same spike steps on pyNN.nest as on glif_pynn.reference.

The GLIF5 fit of tests/fit_support.py (every mechanism on) is put into one PyNN script, run on both
backends: one GLIF_curr_exp cell driven by 1 s of the held-out sweep's current as a
StepCurrentSource (a new amplitude every 0.1 ms step). Spike steps must be identical; V agrees to
1e-9 mV (both integrate exactly and differ by rounding; bound derived in pynn_support.V_TOL).
Runtime ~10 s.
"""
import numpy as np
import pytest

from fit_support import DT, fitted

pytest.importorskip("nest")
from pynn_support import V_TOL  # noqa: E402

DURATION = 1000.0


def run(sim, cells, params, current):
    sim.setup(timestep=DT, min_delay=DT)
    cell = sim.Population(1, cells.GLIF_curr_exp(**params))
    times = np.arange(1, len(current)) * DT
    sim.StepCurrentSource(times=times, amplitudes=current[1:]).inject_into(cell)
    cell.record(["spikes", "v"])
    sim.run(DURATION)
    segment = cell.get_data().segments[0]
    spikes = segment.spiketrains[0].rescale("ms").magnitude
    v = segment.filter(name="v")[0].magnitude[:, 0]
    sim.end()
    return np.round(spikes / DT).astype(int), v


def test_fitted_glif5_gives_the_same_spike_steps_on_nest_and_reference():
    import pyNN.nest as nest_sim

    import glif_pynn.nest as nest_cells
    import glif_pynn.reference as ref_sim
    result = fitted(5)
    assert result.parameters["a_theta_v"] != 0 and result.parameters["delta_theta"] != 0, "all GLIF5 mechanisms on"
    current = result.test[0].current[:int(round(DURATION / DT))]
    steps_nest, v_nest = run(nest_sim, nest_cells, result.parameters, current)
    steps_ref, v_ref = run(ref_sim, ref_sim, result.parameters, current)
    assert len(steps_nest) >= 10, f"non-trivial: the cell fires ({len(steps_nest)} spikes)"
    assert np.ptp(v_nest) > 10.0, "non-trivial: V moves"
    np.testing.assert_array_equal(steps_ref, steps_nest, err_msg="spike steps, reference vs pyNN.nest")
    np.testing.assert_allclose(v_ref, v_nest, rtol=0, atol=V_TOL["current"], err_msg="V, reference vs pyNN.nest")
