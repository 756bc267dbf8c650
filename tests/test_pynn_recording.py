"""Recording through PyNN, alike on both backends.

* ``record("all")``: every variable the cell type can record (glif_pynn/record_all.py); PyNN 0.13 alone
  reads the string as the names "a", "l", "l".
* The sample at t = 0 of a randomly initialised variable, and the run after reset(): pyNN.nest drew the
  random initial values again for that sample (glif_pynn/nest/pynn_mends.py).
"""
import numpy as np
import pytest

from pynn_support import V_TOL


def _record_all(sim, celltypes):
    sim.setup(timestep=0.1, min_delay=0.1)
    source = sim.Population(2, sim.SpikeSourceArray(spike_times=[2.0, 6.0]))
    cells = sim.Population(2, celltypes.GLIF_curr_alpha(i_offset=0.35))
    sim.Projection(source, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.2, delay=1.0))
    source.record("all")
    cells.record("all")
    sim.run(60.0)
    out = (cells.celltype.recordable, cells.get_data().segments[0], source.get_data().segments[0])
    sim.end()
    return out


def test_record_all_records_every_recordable_variable_alike_on_both_backends():
    """``record("all")`` (PyNN 0.13 read the string as the names "a", "l", "l" and failed) records what the
    cell type can record: spikes and every state variable; a spike source its spikes."""
    pynn_nest = pytest.importorskip("pyNN.nest")
    import glif_pynn.nest as nest_types
    import glif_pynn.reference as ref_sim
    runs = {"reference": _record_all(ref_sim, ref_sim), "nest": _record_all(pynn_nest, nest_types)}
    for backend, (recordable, cells, sources) in runs.items():
        assert "spikes" in recordable and len(recordable) >= 5, "non-trivial: spikes and the state variables"
        assert sorted(s.name for s in cells.analogsignals) == sorted(set(recordable) - {"spikes"}), backend
        assert len(cells.spiketrains) == 2 and sum(len(st) for st in cells.spiketrains) >= 2, backend
        assert not sources.analogsignals and [list(st.magnitude) for st in sources.spiketrains] == [[2.0, 6.0]] * 2
    (_, ours, _), (_, theirs, _) = runs["reference"], runs["nest"]
    for name in ("v", "isyn_exc"):
        np.testing.assert_allclose(ours.filter(name=name)[0].magnitude, theirs.filter(name=name)[0].magnitude,
                                   rtol=0, atol=V_TOL["current"], err_msg=name)


def _random_start_and_reset(sim, celltypes):
    from pyNN.random import NumpyRNG, RandomDistribution
    sim.setup(timestep=0.1, min_delay=0.1, **({"t_flush": 10.0} if sim.__name__ == "pyNN.nest" else {}))
    cells = sim.Population(4, celltypes.GLIF_curr_exp(i_offset=0.0, v_rest=-70.0, tau_m=20.0, v_thresh=-40.0))
    cells.initialize(v=RandomDistribution("uniform", (-70.0, -55.0), rng=NumpyRNG(seed=3)))
    cells.record("v")
    sim.run(1.0)
    sim.reset()
    sim.run(1.0)
    out = [seg.filter(name="v")[0].magnitude for seg in cells.get_data().segments]
    sim.end()
    return out


def test_a_random_start_is_sampled_at_t0_and_reset_draws_alike_on_both_backends():
    """pyNN.nest sampled V at t = 0 from a fresh draw of the distribution (not the value the cell started from),
    and those draws moved the random stream, so that reset() started the cells elsewhere than the reference
    backend. Now V at t = 0 is where each cell starts (the next sample follows it by the membrane's decay), and
    both backends run both segments alike."""
    pynn_nest = pytest.importorskip("pyNN.nest")
    import glif_pynn.nest as nest_types
    import glif_pynn.reference as ref_sim
    ours, theirs = _random_start_and_reset(ref_sim, ref_sim), _random_start_and_reset(pynn_nest, nest_types)
    assert len(ours) == len(theirs) == 2
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=0, atol=V_TOL["current"], err_msg=f"segment {k}")
        # no input: V relaxes from its start towards v_rest = -70 mV with tau_m = 20 ms
        expected_next = -70.0 + (b[0] + 70.0) * np.exp(-0.1 / 20.0)
        np.testing.assert_allclose(b[1], expected_next, rtol=0, atol=1e-9, err_msg=f"segment {k}: t = 0.1 ms")
    assert np.ptp(theirs[0][0]) > 1.0, "non-trivial: the cells start apart"
    assert not np.allclose(theirs[0][0], theirs[1][0]), "reset() draws new starting values, as PyNN does"
