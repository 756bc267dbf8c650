"""Performance figures of the numpy reference engine (``glif-pynn bench``'s reference part).

Targets set for the engine (2-core machine): <= 12 ns per neuron-update at 1e5 isolated neurons,
<= 20 ns per synaptic event (10k neurons x 1000 inputs at ~10 Hz), <= 16 bytes per synapse.
"""
from __future__ import annotations

import time
from typing import Iterable

import numpy as np

from glif_pynn.reference.engine import Network


def _timed(net: Network, steps: int, repeats: int) -> float:
    """The shortest wall time of ``repeats`` runs of ``steps`` steps (the machine is shared)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        net.run_steps(steps)
        best = min(best, time.perf_counter() - start)
    return best


def _isolated(n: int, t_stop_ms: float, flavour: str, dt: float, seed: int, repeats: int) -> tuple[float, int]:
    """Wall time and number of steps for ``n`` unconnected default GLIF cells under constant drive."""
    rng = np.random.default_rng(seed)
    net = Network(dt, seed=seed)
    cells = net.create(flavour, n, i_offset=rng.uniform(0.2, 0.4, n))
    net.record(cells, ["spikes"])
    net.run_steps(10)                  # build and warm up outside the timing
    steps = int(round(t_stop_ms / dt))
    return _timed(net, steps, repeats), steps


def _synaptic_network(n: int, fan_in: int, rate_hz: float, flavour: str, dt: float, seed: int,
                      connected: bool) -> tuple[Network, object]:
    """``n`` cells (``i_offset`` uniform in 0.1-0.2 nA) and a pool of ``n`` Poisson sources at ``rate_hz``,
    recorded; with ``connected``, each cell gets ``fan_in`` inputs drawn from the pool. Without, it is the
    baseline that :func:`bench_reference` subtracts: the same cells, sources and recording."""
    rng = np.random.default_rng(seed)
    net = Network(dt, seed=seed)
    weight = 0.002 if flavour.startswith("curr") else 0.0002
    cells = net.create(flavour, n, i_offset=rng.uniform(0.1, 0.2, n))
    pool = net.create_poisson_source(n, rate=rate_hz)
    if connected:
        pre = rng.integers(0, n, size=n * fan_in, dtype=np.int64)
        post = np.repeat(np.arange(n, dtype=np.int64), fan_in)
        net.connect(pool, cells, pre, post, weight, 1.0, receptor="excitatory")
        del pre, post
    net.record(pool, ["spikes"])
    return net, pool


def _synaptic(n: int, fan_in: int, rate_hz: float, t_stop_ms: float, flavour: str, dt: float,
              seed: int, repeats: int) -> dict:
    """``n`` cells, each with ``fan_in`` inputs from a pool of ``n`` Poisson sources at ``rate_hz``, and the
    same network unconnected (``baseline_s``)."""
    steps = int(round(t_stop_ms / dt))
    baseline, _ = _synaptic_network(n, fan_in, rate_hz, flavour, dt, seed, connected=False)
    baseline.run_steps(10)
    baseline_s = _timed(baseline, steps, repeats)
    del baseline
    net, pool = _synaptic_network(n, fan_in, rate_hz, flavour, dt, seed, connected=True)
    n_syn, n_bytes = net.n_synapses, net.synapse_bytes()
    net.run_steps(10)
    wall = _timed(net, steps, repeats)
    ids, times = net.get_recording(pool)["spikes"]
    out_degree = np.diff(net._synapses.indptr)[pool.node_offset:pool.node_offset + n]
    counted = times > 10 * dt + 1e-9
    events = int(round(out_degree[ids[counted]].sum() / repeats))       # events per timed run (mean)
    return {"wall_s": wall, "baseline_s": baseline_s, "steps": steps, "events": events, "synapses": n_syn,
            "bytes": n_bytes}


def bench_reference(sizes: Iterable[float] = (1e3, 1e4, 1e5, 1e6), t_stop_ms: float = 100.0,
                    flavour: str = "curr_exp", dt: float = 0.1, synapse_t_stop_ms: float = 200.0,
                    synapse_cells: int = 10_000, fan_in: int = 1000, rate_hz: float = 10.0,
                    seed: int = 1, repeats: int = 3) -> dict:
    """Measure the engine: neuron updates, synaptic events, memory per synapse.

    Parameters
    ----------
    sizes : iterable of float
        Numbers of isolated neurons (default GLIF parameters, i_offset uniform in
        0.2-0.4 nA, so that most fire). Default: 1e3 to 1e6.
    t_stop_ms : float
        Simulated time per size (ms). Default: 100.
    flavour : str
        Cell flavour. Default: ``curr_exp``.
    synapse_t_stop_ms, synapse_cells, fan_in, rate_hz
        The synaptic benchmark: ``synapse_cells`` neurons, each with ``fan_in`` inputs
        drawn from as many Poisson sources at ``rate_hz``. Set ``synapse_cells=0`` to skip.
    repeats : int
        Each timing is the best of this many runs (the machine may be shared). Default: 3.

    Returns
    -------
    dict
        ``ns_per_update``: size -> ns per neuron-update; ``ns_per_event``: ns per
        delivered synaptic event (wall time of the synaptic run minus that of the same
        cells, sources and recording without the connections, divided by the events);
        ``bytes_per_synapse``; details.
    """
    result: dict = {"flavour": flavour, "dt": dt, "ns_per_update": {}}
    for size in sizes:
        n = int(size)
        wall, steps = _isolated(n, t_stop_ms, flavour, dt, seed, repeats)
        result["ns_per_update"][n] = wall / (n * steps) * 1e9
    if synapse_cells:
        syn = _synaptic(synapse_cells, fan_in, rate_hz, synapse_t_stop_ms, flavour, dt, seed, repeats)
        result["ns_per_event"] = (syn["wall_s"] - syn["baseline_s"]) / max(syn["events"], 1) * 1e9
        result["ns_per_event_including_neurons"] = syn["wall_s"] / max(syn["events"], 1) * 1e9
        result["bytes_per_synapse"] = syn["bytes"] / syn["synapses"]
        result["synaptic_run"] = syn
    return result


def format_report(result: dict) -> str:
    """A few lines of text for :func:`bench_reference`'s result."""
    lines = [f"numpy reference, {result['flavour']}, dt = {result['dt']} ms"]
    for n, ns in result["ns_per_update"].items():
        lines.append(f"  {n:>9d} isolated neurons: {ns:7.2f} ns per neuron-update")
    if "ns_per_event" in result:
        syn = result["synaptic_run"]
        lines.append(f"  synaptic events: {result['ns_per_event']:.2f} ns per event "
                     f"({syn['events']} events, {result['ns_per_event_including_neurons']:.2f} ns with the "
                     f"neuron updates)")
        lines.append(f"  memory: {result['bytes_per_synapse']:.2f} bytes per synapse ({syn['synapses']} synapses)")
    return "\n".join(lines)


if __name__ == "__main__":   # pragma: no cover
    print(format_report(bench_reference()))
