"""The benchmarks' arithmetic: what is timed, what is subtracted and what is divided by what (no timing asserts)."""
import pytest

from glif_pynn.reference import bench


def test_reference_bench_subtracts_the_same_network_without_its_connections(monkeypatch):
    """ns per event = (connected run - the same cells, sources and recording unconnected) / delivered events."""
    built = []
    build = bench._synaptic_network

    def spy(*args, connected):
        net, pool = build(*args, connected=connected)
        built.append((args, connected))
        return net, pool

    def fake_timed(net, steps, repeats):
        for _ in range(repeats):
            net.run_steps(steps)
        return 3.0 if net.n_synapses else 1.0

    monkeypatch.setattr(bench, "_synaptic_network", spy)
    monkeypatch.setattr(bench, "_timed", fake_timed)
    result = bench.bench_reference(sizes=(), synapse_cells=50, fan_in=10, rate_hz=100.0, synapse_t_stop_ms=20.0,
                                   repeats=2)
    (baseline_args, baseline_connected), (args, connected) = built
    assert baseline_args == args and (baseline_connected, connected) == (False, True)
    run = result["synaptic_run"]
    # 50 sources x 100 Hz x 20 ms x 10 targets each: about 1000 events per timed run
    assert 500 < run["events"] < 1500, run
    assert run["synapses"] == 500
    assert result["ns_per_event"] == pytest.approx((3.0 - 1.0) / run["events"] * 1e9, rel=1e-12)
    assert result["ns_per_event_including_neurons"] == pytest.approx(3.0 / run["events"] * 1e9, rel=1e-12)
