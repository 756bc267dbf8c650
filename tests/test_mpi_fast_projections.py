"""The fast construction path on 2 MPI ranks (issue 19): the same connections as on 1 process and as PyNN.

tests/mpi/fast_projections.py builds every case of tests/connect_cases.py and gathers the
sorted lists (pre, post, weight, delay) to rank 0. With PyNN's parallel-safe generators, every
rank draws every column and keeps its own, so 2 ranks must give bit for bit the lists of 1
process (built here, in the test's own process); with generators that are not parallel-safe,
the lists depend on the ranks, and the fast path must give PyNN's own on the same 2 ranks. Both
paths are built in one run of 2 ranks. Runtime: 55 s under a load of 9 on the 2 cores, 22 s of CPU
(starting NEST with MPI on 2 ranks alone takes 8-10 s there).
"""
import numpy as np
import pytest

from mpi_support import MARKS, ROOT, run_on_ranks

SCRIPT = ROOT / "tests" / "mpi" / "fast_projections.py"
pytestmark = MARKS


def _run(tmp_path, ways, ranks):
    output = tmp_path / f"{ways}-{ranks}.npz"
    run_on_ranks(["-W", "ignore", SCRIPT, ways, output], ranks, f"{ways} on {ranks}")
    data = np.load(output)
    runs = {f"{way}{ranks}": {key.split(":", 1)[1]: data[key] for key in data.files if key.startswith(f"{way}:")}
            for way in ways.split(",")}
    for run in runs.values():
        run["processes"] = data["processes"]
    return runs


def _one_process():
    """The same cases in this process (pip-wheel NEST, same version): what 2 ranks must reproduce."""
    sim = pytest.importorskip("pyNN.nest")
    import glif_pynn.nest as glif
    from connect_cases import CONNECTORS, build, sorted_list
    from glif_pynn.nest import projections
    sim.setup(timestep=0.1, min_delay=0.1, verbosity="error")
    run = {"processes": np.array(sim.num_processes()), "paths": set()}
    for name in CONNECTORS:
        built, rng = build(sim, glif, name)
        for key, prj in built.items():
            run[f"{name}/{key}"] = sorted_list(prj)
            run["paths"].add(projections.construction_path(prj))
        run[f"{name}/next_draw"] = rng.next(4)
    run["paths"] = np.array(sorted(run["paths"]))
    return {"fast1": run}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mpi-connect")
    return {**_run(tmp, "fast,pynn", 2), **_one_process()}


def test_the_runs_used_the_paths_and_ranks_asked_for(runs):
    assert int(runs["fast2"]["processes"]) == 2 and int(runs["fast1"]["processes"]) == 1
    for run, path in (("fast2", "fast"), ("pynn2", "pynn"), ("fast1", "fast")):
        assert list(runs[run]["paths"]) == [path], (run, runs[run]["paths"])


@pytest.mark.parametrize("other", ["fast1", "pynn2"])
def test_two_ranks_give_the_connections_of_one_process_and_of_pynn(runs, other):
    got, expected = runs["fast2"], runs[other]
    keys = [k for k in got if k.count("/") == 1 and not k.endswith("next_draw")]
    assert len(keys) >= 35, keys
    for key in keys:
        assert len(got[key]) > 0, f"{key}: non-trivial, connections exist"
        np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{key}: fast on 2 ranks vs {other}")
        assert int(got[f"{key}/size"]) == len(got[key]), f"{key}: size(gather=True) counts every rank's connections"
    for key in (k for k in got if k.endswith("/next_draw")):
        np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{key}: the generator's state afterwards")


def test_generators_that_are_not_parallel_safe_give_pynn_s_connections_on_two_ranks(runs):
    got, own = runs["fast2"]["not_parallel_safe"], runs["pynn2"]["not_parallel_safe"]
    assert len(got) > 100
    np.testing.assert_array_equal(got, own, err_msg="fast vs PyNN's own path, 2 ranks, per-rank seeds")
