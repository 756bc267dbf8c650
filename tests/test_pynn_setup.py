"""The NEST module is there whenever a pyNN.nest user needs it: setup, reset, threads, import order.

Every test calls ``sim.setup()`` afresh (the ``sim_`` fixture in conftest.py); units and tolerances
are described in pynn_support.py.
"""
import subprocess
import sys
import textwrap

import pytest

sim = pytest.importorskip("pyNN.nest")
import nest  # noqa: E402

from glif_pynn.nest import GLIF_cond_exp, GLIF_curr_exp  # noqa: E402
from pynn_support import ROOT, DT, spike_times  # noqa: E402


# --- the module is there whenever a user needs it -------------------------------------------


def test_module_survives_a_second_setup_reset_and_threads():
    runs = {}
    for threads in (1, 2, 1):
        # min_delay 1 ms: few thread barriers, which cost a time slice each on a loaded 2-core machine
        sim.setup(timestep=DT, min_delay=1.0, verbosity="error", threads=threads)
        assert nest.GetKernelStatus("local_num_threads") == threads
        src = sim.Population(4, sim.SpikeSourceArray(spike_times=[2.0, 4.0]))
        pop = sim.Population(4, GLIF_cond_exp(i_offset=0.3))
        sim.Projection(src, pop, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
        pop.record("spikes")
        sim.run(60.0)
        runs.setdefault(threads, []).append([list(st) for st in spike_times(pop)])
    assert sum(len(st) for st in runs[1][0]) >= 8
    assert runs[1][0] == runs[1][1] == runs[2][0], "identical spikes for 1 and 2 threads"


def _wrappers(function) -> list:
    """The wrapper functions (by their code's qualified name) around ``function``, outermost first."""
    chain = []
    while hasattr(function, "__wrapped__"):
        chain.append(function.__code__.co_qualname)
        function = function.__wrapped__
    return chain


def test_hooks_and_mends_wrap_once_however_often_installed():
    from pyNN.nest import nestml, populations
    from pyNN.nest.projections import Projection
    from pyNN.nest.recording import Recorder
    from pyNN.recording import Recorder as BaseRecorder

    from glif_pynn import record_all
    from glif_pynn.nest import hooks, pynn_mends
    for _ in range(2):
        hooks.install_hooks()
        pynn_mends.install()
        record_all.install()
    expected = {nestml._compile_and_resolve: ["_load_module_after_reset"],
                populations.Population._set_initial_value_array: ["_keep_random_initial_values",
                                                                  "_scale_initial_values"],
                populations.Population._create_cells: ["_one_dimensional_local_mask"],
                populations.Population.id_to_index: ["_empty_ids_to_no_indices"],
                populations.PopulationMixin._get_native_parameters: ["_no_local_cells_no_parameters"],
                populations.Population.get: ["_gather_before_simplifying"],
                populations.PopulationView.get: ["_gather_before_simplifying"],
                populations.Population._get_cell_initial_value: ["_initial_value_of_the_cell"],
                Recorder.record: ["_record_only_before_the_first_run"],
                Projection._get_attributes_as_list: ["_no_local_connections_no_values"],
                Projection._set_attributes: ["_set_under_mpi"],
                Projection.get: ["_array_on_ranks_without_connections"],
                Projection.nest_connections.fget: ["_query_on_every_rank"],
                BaseRecorder._localize_variables: ["_all_is_every_recordable"],
                sim.reset: ["_refuse_reset_before_storing"]}
    for function, wraps in expected.items():
        inner = {"_query_on_every_rank": "fget", "_refuse_reset_before_storing": "reset"}
        assert _wrappers(function) == [f"{name}.<locals>.{inner.get(name, 'wrapper')}" for name in wraps], function
    import pyNN.nest.control
    assert pyNN.nest.control.reset is not sim.reset and _wrappers(pyNN.nest.control.reset) == \
        ["_refuse_reset_before_storing.<locals>.reset"], "the control module's own name, wrapped on its own"


def test_mpi_mends_change_nothing_on_one_process(sim_):
    """The mends for populations without local cells (glif_pynn.nest.pynn_mends, tested on 2 ranks in the MPI
    tier) leave one process as pyNN.nest has it: a single cell's mask, no-index lookups, get() with and without
    gathering."""
    import numpy as np
    from glif_pynn.nest import pynn_mends
    single = sim.Population(1, GLIF_curr_exp(tau_refrac=3.0))
    pair = sim.Population(2, GLIF_curr_exp())
    pair.set(tau_refrac=[2.0, 4.0])
    assert single._mask_local.tolist() == [True] and single.local_size == 1
    assert single.id_to_index(single.all_cells).tolist() == [0] and single.id_to_index(np.zeros(0)).size == 0
    assert single.get("tau_refrac", gather=True) == 3.0 and single[0:1].get("tau_refrac", gather=True) == 3.0
    assert pair.get("tau_refrac", gather=True).tolist() == [2.0, 4.0]
    assert pair.get(["tau_refrac", "cm"], gather=True, simplify=False)[1].tolist() == [pair.get("cm")] * 2
    assert pynn_mends._simplified(np.array([1.5, 1.5])) == 1.5 and pynn_mends._simplified(np.zeros(0)).size == 0
    assert pynn_mends._simplified(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_a_refused_reset_changes_nothing(sim_):
    """Without setup(t_flush=...), pyNN.nest refuses reset() only after storing what was recorded as a finished
    segment, and a script that caught the error and ran on had its first run twice: in that segment and again in
    the next, from t = 0. Now it is refused first, with PyNN's message, and the recording goes on in one segment."""
    # pyNN.nest keeps t_flush from an earlier setup() in the same process (other tests give one): none here
    sim.setup(timestep=DT, min_delay=DT, verbosity="error", t_flush=-1)
    cells = sim.Population(2, GLIF_curr_exp(i_offset=0.5))
    cells.record(["spikes", "v"])
    sim.run(30.0)
    with pytest.raises(ValueError, match="pass the `t_flush`"):
        sim.reset()
    sim.run(20.0)
    block = cells.get_data()
    assert len(block.segments) == 1, "one segment, as if reset() had not been called"
    v = block.segments[0].filter(name="v")[0]
    assert v.shape == (501, 2) and all(float(st.t_stop) == 50.0 for st in block.segments[0].spiketrains)
    assert all(len(st) >= 2 for st in block.segments[0].spiketrains), "non-trivial: the cells fire"


def test_mends_are_only_installed_on_the_pyNN_they_were_written_for(monkeypatch):
    """The mends reach into pyNN.nest 0.13's internals; on another PyNN they wrap nothing."""
    import pyNN
    from pyNN.nest.populations import Population
    from glif_pynn.nest import pynn_mends
    assert pynn_mends.install() is True and pyNN.__version__.startswith(pynn_mends.PYNN_VERSIONS)
    monkeypatch.setattr(pyNN, "__version__", "0.14.0")
    monkeypatch.setattr(Population, "_create_cells", Population._create_cells.__wrapped__)
    assert pynn_mends.install() is False
    assert not getattr(Population._create_cells, "_glif_pynn_mend", False)
    from pyNN.recording import Recorder
    from glif_pynn import record_all
    monkeypatch.setattr(Recorder, "_localize_variables", Recorder._localize_variables.__wrapped__)
    assert record_all.install() is False
    assert not getattr(Recorder._localize_variables, "_glif_pynn_record_all", False)


def test_recording_more_after_run_is_refused_clearly_and_changes_nothing(sim_):
    """pyNN.nest connects its recorders at the first run(); recording another variable or more cells after it
    failed on a bare assertion, after noting the variable as recorded (get_data() then failed too). Now a
    NotImplementedError says why and what to do, nothing changes, and recording again what is recorded passes."""
    cells = sim.Population(3, GLIF_curr_exp(i_offset=0.3), label="glif")
    others = sim.Population(2, sim.IF_curr_exp(i_offset=1.0), label="iaf")
    cells[0:2].record(["spikes", "v"])
    others.record("spikes")
    sim.run(30.0)
    cells[0:2].record(["spikes", "v"])          # the same again: nothing to add
    others.record("spikes")
    for record, what in ((lambda: cells.record("theta"), "'theta' of 'glif'"),
                         (lambda: cells.record("v"), "'v' of 'glif'"),           # a third cell
                         (lambda: cells[2:3].record("spikes"), "'spikes' of 'glif'"),
                         (lambda: others.record("v"), "'v' of 'iaf'")):
        with pytest.raises(NotImplementedError, match=f"cannot start recording {what} after the first run"):
            record()
    with pytest.raises(sim.errors.RecordingError):      # what the cell type cannot record: PyNN's own error
        cells.record("gsyn_exc")
    sim.run(30.0)
    segment = cells.get_data().segments[0]
    assert [signal.name for signal in segment.analogsignals] == ["v"] and segment.analogsignals[0].shape[1] == 2
    assert len(segment.spiketrains) == 2 and all(len(train) > 0 for train in segment.spiketrains)
    assert len(others.get_data().segments[0].spiketrains) == 2


def run_script(code):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_after_setup_still_loads_the_module():
    out = run_script("""
        import pyNN.nest as sim
        sim.setup()
        from glif_pynn.nest import GLIF_cond_exp
        sim.Population(10, GLIF_cond_exp())
        print("created")
    """)
    assert "created" in out


def test_too_late_import_says_what_to_do_and_the_next_setup_recovers():
    out = run_script("""
        import pyNN.nest as sim
        sim.setup()
        sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        from glif_pynn.nest import GLIF_curr_exp
        try:
            GLIF_curr_exp()
        except RuntimeError as err:
            print("refused:", err)
        sim.setup()
        sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
        sim.Population(3, GLIF_curr_exp())
        print("created after setup")
    """)
    assert "refused:" in out and "Import glif_pynn.nest before calling pyNN.nest.setup()" in out
    assert "created after setup" in out
