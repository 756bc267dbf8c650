"""``record("all")`` on both backends: every variable the cell type can record (glif_pynn/record_all.py).

PyNN 0.13 alone reads the string as the names "a", "l", "l"; this test fails without the wrapper.
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
