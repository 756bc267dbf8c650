"""The fast construction path of pyNN.nest projections (glif_pynn.nest.projections, issue 19).

Every covered connector builds the same five or six projections (tests/connect_cases.py) three
ways: through the fast path, through PyNN's own path (``pynn_own_path()``) and on the numpy
reference backend. Fast and PyNN's own path must agree bit for bit (sorted lists of pre, post,
weight, delay, and the state of the connectors' generator afterwards). Against the reference,
which keeps PyNN's values as drawn, pairs agree exactly, weights to 2 eps relative (NEST stores
``w * 1000`` in pA and PyNN reads ``stored * 0.001``: two roundings of half an ulp each, and
0.001's own representation error of 2e-17 relative), and delays in whole steps (NEST rounds a
delay to ``floor(d / dt + 0.5)`` steps; the reference keeps it unrounded).
Runtime: 51 s on the 2-core machine under a load of 8 from other jobs, 21 s of CPU (the module
fixture builds three kernels of 36 projections).
"""
import contextlib

import numpy as np
import pytest

sim = pytest.importorskip("pyNN.nest")
import nest  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

import glif_pynn.nest as glif  # noqa: E402
import glif_pynn.reference as ref  # noqa: E402
from glif_pynn.nest import projections as fast  # noqa: E402
from connect_cases import CONNECTORS, build, sorted_list  # noqa: E402
from pynn_support import DT  # noqa: E402

WEIGHT_RTOL = 2 * np.finfo(float).eps


def _build_all(way):
    """Every connector's case on one backend, in one kernel: {connector: {lists, paths, next_draw}}."""
    if way == "reference":
        ref.setup(timestep=DT, min_delay=DT)
    else:
        sim.setup(timestep=DT, min_delay=DT, verbosity="error")
    out = {}
    for name in CONNECTORS:
        if way == "reference":
            projections, rng = build(ref, ref, name)
        else:
            with fast.pynn_own_path() if way == "pynn" else contextlib.nullcontext():
                projections, rng = build(sim, glif, name)
        out[name] = {"lists": {key: sorted_list(p) for key, p in projections.items()},
                     "paths": {key: fast.construction_path(p) for key, p in projections.items()},
                     "next_draw": rng.next(4)}
    return out


@pytest.fixture(scope="module")
def networks():
    built = {way: _build_all(way) for way in ("fast", "pynn", "reference")}
    return {name: {way: built[way][name] for way in built} for name in CONNECTORS}


@pytest.mark.parametrize("name", CONNECTORS)
def test_fast_path_gives_pynn_s_own_connections_weights_and_delays(networks, name):
    got, own = networks[name]["fast"], networks[name]["pynn"]
    assert set(got["paths"].values()) == {"fast"}, got["paths"]
    assert set(own["paths"].values()) == {"pynn"}, own["paths"]
    for key, rows in got["lists"].items():
        assert len(rows) > 0, f"{name} {key}: non-trivial, connections exist"
        np.testing.assert_array_equal(rows, own["lists"][key],
                                      err_msg=f"{name} {key}: sorted (pre, post, weight, delay), fast vs PyNN's path")
    random_weights = got["lists"]["P3"][:, 2]
    # FromListConnector deep-copies the synapse parameters (and their generator) for every target,
    # so each target draws the same few values: a PyNN quirk that both paths share
    distinct = 5 if name == "FromListConnector" else len(random_weights) // 2
    assert np.unique(random_weights).size >= distinct, "non-trivial: the weights are random draws"
    np.testing.assert_array_equal(got["next_draw"], own["next_draw"],
                                  err_msg="the connectors' generator ends in the same state")


@pytest.mark.parametrize("name", CONNECTORS)
def test_fast_path_gives_the_reference_backend_s_connections(networks, name):
    got, expected = networks[name]["fast"], networks[name]["reference"]
    for key, rows in got["lists"].items():
        other = expected["lists"][key]
        assert rows.shape == other.shape, f"{name} {key}: {len(rows)} vs {len(other)} connections"
        np.testing.assert_array_equal(rows[:, :2], other[:, :2], err_msg=f"{name} {key}: (pre, post) pairs")
        np.testing.assert_allclose(rows[:, 2], other[:, 2], rtol=WEIGHT_RTOL, atol=0,
                                   err_msg=f"{name} {key}: weights (nA or uS)")
        np.testing.assert_array_equal(np.rint(rows[:, 3] / DT), np.floor(other[:, 3] / DT + 0.5),
                                      err_msg=f"{name} {key}: delays in steps")
    np.testing.assert_array_equal(got["next_draw"], expected["next_draw"])


# --- what a user does with a projection afterwards, on projections built both ways ------------------

def _session(way, tmp_path, threads=1, simulate=True):
    """A small recurrent network: build, query, set, save, run, reset, run again."""
    sim.setup(timestep=DT, min_delay=0.5, verbosity="error", t_flush=20.0, threads=threads)
    rng = NumpyRNG(seed=77)
    src = sim.Population(30, sim.SpikeSourceArray(spike_times=[[2.0 + i, 20.0 + 0.5 * i] for i in range(30)]))
    cells = sim.Population(50, glif.GLIF_cond_exp(i_offset=0.1))
    cells.record(["spikes", "v"])
    with fast.pynn_own_path() if way == "pynn" else contextlib.nullcontext():
        drive = sim.Projection(src, cells, sim.FixedProbabilityConnector(0.4, rng=rng),
                               sim.StaticSynapse(weight=RandomDistribution("uniform", (0.01, 0.03), rng=rng),
                                                 delay=RandomDistribution("uniform", (0.5, 2.0), rng=rng)))
        inhibition = sim.Projection(cells, cells, sim.FixedNumberPreConnector(5, rng=rng),
                                    sim.StaticSynapse(weight=0.002, delay=1.0), receptor_type="inhibitory")
    out = {"paths": (fast.construction_path(drive), fast.construction_path(inhibition)),
           "len": (len(drive), len(inhibition)), "size": (drive.size(gather=True), inhibition.size(gather=True)),
           "list": sorted_list(drive), "array": np.array(drive.get(["weight", "delay"], format="array"))}
    inhibition.set(weight=RandomDistribution("uniform", (0.001, 0.003), rng=NumpyRNG(seed=3)))
    out["after_set"] = sorted_list(inhibition)
    path = tmp_path / f"{way}-{threads}.txt"
    inhibition.save(["weight", "delay"], str(path), format="list")
    out["saved"] = np.loadtxt(path)
    if not simulate:
        return out
    sim.run(40.0)
    first = cells.get_data()
    out["v"] = np.asarray(first.segments[0].filter(name="v")[0])
    sim.reset()
    sim.run(40.0)
    # spikes only after reset(): with t_flush, PyNN's own check of analog signals fails (a PyNN limitation)
    block = cells.get_data("spikes")
    out["spikes"] = [[np.asarray(st.times) for st in seg.spiketrains] for seg in block.segments]
    return out


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sessions")
    return {way: _session(way, tmp) for way in ("fast", "pynn")}


def test_projection_api_works_the_same_on_projections_built_both_ways(sessions):
    got, own = sessions["fast"], sessions["pynn"]
    assert got["paths"] == ("fast", "fast") and own["paths"] == ("pynn", "pynn")
    assert got["len"] == own["len"] == got["size"] and got["len"][1] == 5 * 50, "len() and size(gather=True)"
    np.testing.assert_array_equal(got["list"], own["list"], err_msg="get(format='list')")
    np.testing.assert_array_equal(got["array"], own["array"], err_msg="get(format='array'), NaN where unconnected")
    assert np.isfinite(got["array"][0]).sum() == got["len"][0], "array format: one finite entry per connection"
    np.testing.assert_array_equal(got["after_set"], own["after_set"], err_msg="set(weight=...) then get")
    assert np.unique(got["after_set"][:, 2]).size > 100, "non-trivial: set() drew new random weights"
    saved = got["saved"][np.lexsort(got["saved"].T[::-1])]
    np.testing.assert_array_equal(saved, got["after_set"], err_msg="save() writes what get() returns")


def test_recording_and_reset_give_the_same_run_for_both_ways(sessions):
    got, own = sessions["fast"], sessions["pynn"]
    assert len(got["spikes"]) == 2, "two segments: before and after sim.reset()"
    for segment in (0, 1):
        assert sum(len(st) for st in got["spikes"][segment]) > 20, "non-trivial: the network fires"
        for a, b in zip(got["spikes"][segment], own["spikes"][segment]):
            np.testing.assert_array_equal(a, b, err_msg=f"spike times, segment {segment}")
    assert np.ptp(got["v"]) > 5.0, "non-trivial: V moves"
    np.testing.assert_array_equal(got["v"], own["v"], err_msg="recorded V before reset()")


def test_two_threads_give_the_same_connections(sessions, tmp_path):
    two = _session("fast", tmp_path, threads=2, simulate=False)
    assert nest.GetKernelStatus("local_num_threads") == 2
    np.testing.assert_array_equal(two["list"], sessions["fast"]["list"], err_msg="1 vs 2 threads")
    np.testing.assert_array_equal(two["after_set"], sessions["fast"]["after_set"])


# --- the fast path is taken only where it is exact; otherwise PyNN's own path, unchanged ---------------

def _one(connector, synapse=None, post_type=glif.GLIF_curr_exp, post_assembly=False, **kwargs):
    sim.setup(timestep=DT, min_delay=DT, verbosity="error")
    pre = sim.Population(20, glif.GLIF_curr_exp())
    post = sim.Population(20, post_type())
    if post_assembly:
        post = post + sim.Population(5, post_type())
    return sim.Projection(pre, post, connector, synapse or sim.StaticSynapse(weight=0.01, delay=1.0),
                          receptor_type="excitatory", **kwargs)


@pytest.mark.parametrize("case", ["IndexBasedProbabilityConnector", "NativeRNG", "TsodyksMarkramSynapse",
                                  "Assembly", "environment"])
def test_fallback_to_pynn_s_own_path(case, monkeypatch):
    from pyNN.connectors import IndexBasedExpression

    class Near(IndexBasedExpression):
        def __call__(self, i, j):
            return np.where(np.abs(i - j) < 3, 0.9, 0.0)

    connector = sim.FixedProbabilityConnector(0.3, rng=NumpyRNG(seed=1))
    synapse = None
    if case == "IndexBasedProbabilityConnector":
        connector = sim.IndexBasedProbabilityConnector(Near(), rng=NumpyRNG(seed=1))
    elif case == "NativeRNG":
        connector = sim.FixedProbabilityConnector(0.3, rng=sim.NativeRNG(seed=1))
    elif case == "TsodyksMarkramSynapse":
        synapse = sim.TsodyksMarkramSynapse(weight=0.01, delay=1.0, U=0.5)
    elif case == "environment":
        monkeypatch.setenv(fast.ENV_SWITCH, "0")
    prj = _one(connector, synapse, post_assembly=case == "Assembly")
    assert fast.construction_path(prj) == "pynn"
    # (not len(prj): pyNN.nest's __len__ fails for a postsynaptic Assembly, with either path)
    assert len(prj.get("weight", format="list")) > 0, "non-trivial: PyNN's own path made connections"


@pytest.mark.parametrize("connector", [sim.FixedProbabilityConnector(0.0), sim.FromListConnector([])])
def test_a_projection_without_connections_is_labelled_by_what_it_is(connector):
    """No column reaches the fast path when there is no connection (or, under MPI, no target on this rank): the
    label says what a process with columns would say, not "fast" for a plastic synapse."""
    plastic = _one(connector, sim.TsodyksMarkramSynapse(weight=0.01, delay=1.0, U=0.5))
    static = _one(connector)
    assert plastic.size() == static.size() == 0
    assert (fast.construction_path(plastic), fast.construction_path(static)) == ("pynn", "fast")


class _CountingNest:
    """Stands in for the nest module inside pyNN.nest.projections and glif_pynn.nest.projections."""

    def __init__(self):
        self.calls = {"Connect": 0, "GetConnections": 0}

    def __getattr__(self, name):
        attr = getattr(nest, name)
        if name in self.calls:
            def counted(*args, **kwargs):
                self.calls[name] += 1
                return attr(*args, **kwargs)
            return counted
        return attr


@pytest.mark.parametrize("way", ["fast", "pynn"])
def test_one_connect_and_no_get_connections_while_building_regression_issue_12(way, monkeypatch):
    """PyNN's own path calls GetConnections mid-construction: the trigger of NEST's MPI bug (issue 12)."""
    import pyNN.nest.projections as pynn_projections
    counting = _CountingNest()
    sim.setup(timestep=DT, min_delay=DT, verbosity="error")
    pre, post = sim.Population(30, glif.GLIF_curr_exp()), sim.Population(30, glif.GLIF_cond_exp())
    monkeypatch.setattr(pynn_projections, "nest", counting)
    monkeypatch.setattr(fast, "nest", counting)
    with fast.pynn_own_path() if way == "pynn" else contextlib.nullcontext():
        sim.Projection(pre, post, sim.FixedProbabilityConnector(0.5, rng=NumpyRNG(seed=5)),
                       sim.StaticSynapse(weight=0.01, delay=1.0))
    if way == "fast":
        assert counting.calls == {"Connect": 1, "GetConnections": 0}, counting.calls
    else:   # shows the counter can fail: PyNN connects column by column and queries NEST
        assert counting.calls["Connect"] == 30 and counting.calls["GetConnections"] >= 1, counting.calls


def test_install_is_idempotent_and_marks_its_wrappers():
    from pyNN.nest.projections import Projection
    assert fast.install() and fast.install()
    for method in (Projection.__init__, Projection._convergent_connect):
        assert getattr(method, "_glif_pynn_fast_connect", False)
        assert not getattr(method.__wrapped__, "_glif_pynn_fast_connect", False), "wrapped twice"


@pytest.mark.parametrize("version, installed", [("0.12.4", False), ("0.14.0", False), ("0.13.1", True)])
def test_the_fast_path_is_installed_only_for_the_pynn_version_it_mirrors(version, installed, monkeypatch):
    import pyNN
    import pyNN.nest.projections as pynn_projections

    class Fresh(pynn_projections.Projection):       # a class install() has not seen
        def __init__(self, *args, **kwargs):
            pass

        def _convergent_connect(self, *args, **kwargs):
            pass

    monkeypatch.setattr(pyNN, "__version__", version)
    monkeypatch.setattr(pynn_projections, "Projection", Fresh)
    assert fast.install() is installed
    for method in (Fresh.__init__, Fresh._convergent_connect):
        assert getattr(method, "_glif_pynn_fast_connect", False) is installed, (version, method)


def test_bench_connect_runs_each_way_and_sizes_its_networks(capsys):
    from comparisons.construction import cells_for, format_table, one_run
    for synapses in (1e5, 1e6, 1e7):
        n = cells_for(synapses)
        assert abs(0.1 * n * n + 50 * n - synapses) / synapses < 1e-3, (synapses, n)
    rows = [one_run(way, 80, 1) for way in ("fast", "pynn", "nest")]
    assert [r["way"] for r in rows] == ["fast", "pynn", "nest"]
    assert rows[0]["synapses"] == rows[1]["synapses"] > 80 * 50, "the same network on both PyNN paths"
    assert all(r["us_per_synapse"] > 0 for r in rows)
    table = format_table(rows)
    ratio = rows[1]["us_per_synapse"] / rows[0]["us_per_synapse"]
    assert f"| {ratio:.1f} |" in table, table
    assert capsys.readouterr().out.count("CONNECT {") == 3, "one JSON line per run, from rank 0"
