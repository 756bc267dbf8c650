"""A realistic network benchmark: NESTML GLIF, NEST's glif_psc, iaf_psc_exp and the numpy reference.

``glif-pynn bench network`` (and a step of ``glif-pynn compare``) builds the same recurrent
network with each kind of neuron and times it. The network (:class:`NetworkSpec`):

* ``n`` = 10,000 GLIF4 cells (the package defaults, an Allen Cell Types fit, with
  ``tau_refrac`` = 2 ms: after-spike currents, spike-dependent threshold and NEST's
  voltage reset rule), 80 % excitatory, 20 % inhibitory;
* every cell has ``fan_in`` = 1000 random inputs from the network (fixed in-degree: 800
  from excitatory cells, 200 from inhibitory cells, drawn with replacement, autapses
  allowed), alpha-shaped PSCs with ``tau_syn`` = 2 ms, peak ``J`` = 20 pA (excitatory) and
  ``-g J`` with ``g`` = 6 (inhibitory); delays uniform in 1.5-3 ms, so that NEST's
  ``min_delay`` is 1.5 ms and it updates every cell 15 steps per call;
* an independent Poisson drive into every cell (one ``poisson_generator`` in PyNEST, one
  ``SpikeSourcePoisson`` per cell in PyNN; weight ``J``, delay 1.5 ms) at ``nu_ext``.

Tuning rule (done once, with the NESTML model in PyNEST, rates of 1 s timed after 200 ms):
``J`` = 20 pA gives a PSP of 0.93 mV at its peak, a thirtieth of the 27.2 mV from rest to
threshold; ``g`` = 6 makes the recurrent input inhibition-dominated (``g`` > 800 / 200);
then ``nu_ext`` was scanned in steps of 250 Hz and the one whose rate is closest to 7.5 Hz,
the middle of 5-10 Hz, kept: 2250 Hz (7.7 Hz, ISI CV 0.90, mean pairwise correlation 0.015).
Its mean drive, 245 pA, is just under the rheobase (256 pA): the cells fire on
fluctuations, the asynchronous irregular regime. The quick network (2,000 cells x 200
inputs, for tests) keeps ``J`` and ``g``; the same rule gives 2000 Hz (8.9 Hz, CV 0.69). The
scans are in docs/comparisons/index.md.

The kinds (:data:`PYNEST_KINDS`), compared like with like: NESTML ``glif_psc_alpha_neuron``
(one spike port, the weight's sign selects excitation or inhibition) against ``glif_psc``
with two receptor ports (``tau_syn`` = [2, 2] ms, alpha PSCs, parameters from
:func:`glif_pynn.convert.to_nest_glif`) at the same GLIF level (GLIF4), both peak = weight;
``iaf_psc_exp``, the floor of a NEST point neuron and *not the same model* (same
membrane, threshold and refractory period, reset to rest, no adaptation; exponential PSCs
with tau 2 ms and weights multiplied by e, so that every PSC carries the charge of the
alpha PSC); and the numpy reference engine (:class:`glif_pynn.reference.engine.Network`,
``curr_alpha``). In PyNN (:mod:`comparisons.network_pynn`): pyNN.nest's ``GLIF_curr_alpha``
against the reference backend's, with ``FixedNumberPreConnector``.

Measures, per kind, each from a fresh process, every kind once per round, rounds
interleaved, medians reported (as :mod:`comparisons.performance`); round ``k`` uses seed
``seed + k`` for every kind, so that a round compares the kinds on one network and the
rounds sample several (the models fire at rates that differ by a few per cent, differently
for each network): build time (creating
and connecting everything), simulation time of ``t_sim_ms`` after a ``warmup_ms`` run
that is neither timed nor counted (NEST prepares its connection tables there), and from it
ns per neuron-update (simulation time / (cells x steps)) and ns per synaptic event
(simulation time / (recurrent spikes x ``fan_in``), the mean number of targets of a
spike); both are the whole simulation time (neurons, synapses, drive, recording)
divided by a count, not a decomposition. Heap in use (:func:`comparisons.scale.heap_in_use`)
added by creating the cells (per neuron) and by connecting them plus the preparation
at the first run (per synapse; it includes the cells' spike ring buffers, under 1 B per
synapse at 1000 inputs, but not the drive and the spike recorder, whose connection costs
NEST 3.10 33 kB per recorded cell). Rate, ISI CV (Elephant, cells with at least 4 spikes) and the
mean pairwise correlation of 5 ms spike counts (Elephant, 200 active cells) of the timed
run. Ratios are to ``glif_psc`` (PyNEST) or pyNN.nest (PyNN), from the same run.
"""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Optional

import numpy as np

from comparisons import performance
from comparisons.performance import per_round_ratios
from comparisons.scale import heap_in_use
from comparisons.tables import markdown_table


@dataclass(frozen=True)
class NetworkSpec:
    """The benchmark network (units: pA, Hz, ms). See the module docstring for the tuning rule."""

    n: int = 10_000
    fan_in: int = 1000
    exc_fraction: float = 0.8
    j_pA: float = 20.0          # peak of an excitatory alpha PSC (and of the Poisson drive's PSCs)
    g: float = 6.0              # inhibitory peak = -g * j_pA
    nu_ext_hz: float = 2250.0   # Poisson drive into every cell
    delay_min: float = 1.5
    delay_max: float = 3.0
    tau_refrac: float = 2.0
    tau_syn: float = 2.0
    t_sim_ms: float = 500.0
    warmup_ms: float = 200.0
    dt: float = 0.1
    seed: int = 1

    @property
    def n_exc(self) -> int:
        return int(round(self.exc_fraction * self.n))

    @property
    def k_exc(self) -> int:
        return int(round(self.exc_fraction * self.fan_in))

    @property
    def k_inh(self) -> int:
        return self.fan_in - self.k_exc


FULL = NetworkSpec()
QUICK = replace(FULL, n=2000, fan_in=200, nu_ext_hz=2000.0, t_sim_ms=300.0)
#: the networks of the PyNN part (``run``'s ``pynn``)
PYNN_SIZES = ("full", "quick", "none")

#: PyNEST kinds: the NEST model (None: the numpy engine)
PYNEST_KINDS = {"NESTML GLIF": "glif_psc_alpha_neuron", "NEST glif_psc": "glif_psc",
                "NEST iaf_psc_exp": "iaf_psc_exp", "numpy reference": None}
PEER = "NEST glif_psc"


def cell_parameters(spec: NetworkSpec) -> dict:
    """The GLIF4 cell in PyNN names and units: the package defaults with ``tau_refrac`` and ``tau_syn``."""
    from glif_pynn.parameters import default_parameters
    return dict(default_parameters("current"), tau_refrac=spec.tau_refrac, tau_syn_E=spec.tau_syn,
                tau_syn_I=spec.tau_syn)


def nest_model(kind: str, spec: NetworkSpec) -> tuple[str, dict, int, int, float]:
    """(NEST model, parameters, excitatory port, inhibitory port, weight factor) of a PyNEST kind."""
    from glif_pynn.convert import to_nest_glif
    from glif_pynn.parameters import nest_values
    p = cell_parameters(spec)
    model = PYNEST_KINDS.get(kind)
    if model == "glif_psc_alpha_neuron":
        return model, dict(nest_values(p), V_m=p["v_rest"]), 0, 0, 1.0
    if model == "glif_psc":
        return model, to_nest_glif(p), 1, 2, 1.0
    if model == "iaf_psc_exp":
        params = {"C_m": p["cm"] * 1e3, "tau_m": p["tau_m"], "E_L": p["v_rest"], "V_th": p["v_thresh"],
                  "V_reset": p["v_rest"], "V_m": p["v_rest"], "t_ref": p["tau_refrac"],
                  "tau_syn_ex": spec.tau_syn, "tau_syn_in": spec.tau_syn}
        return model, params, 0, 0, math.e      # an exp PSC of peak e J carries the alpha PSC's charge
    raise ValueError(f"{kind!r} is not a NEST kind; NEST kinds: "
                     f"{', '.join(k for k, m in PYNEST_KINDS.items() if m)}")


def measure_pynest(kind: str, spec: dict) -> dict:
    """One process: build and simulate the network with a NEST kind in PyNEST."""
    import nest

    import glif_pynn.nest as glif_nest
    spec = NetworkSpec(**spec)
    model, params, port_exc, port_inh, factor = nest_model(kind, spec)
    start = time.perf_counter()
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=spec.dt, local_num_threads=1, rng_seed=spec.seed)
    glif_nest.install()
    heap_empty = heap_in_use()
    cells = nest.Create(model, spec.n, params=params)
    heap_cells = heap_in_use()
    delay = nest.random.uniform(spec.delay_min, spec.delay_max)
    j = spec.j_pA * factor
    nest.Connect(cells[:spec.n_exc], cells, {"rule": "fixed_indegree", "indegree": spec.k_exc},
                 {"weight": j, "delay": delay, "receptor_type": port_exc})
    nest.Connect(cells[spec.n_exc:], cells, {"rule": "fixed_indegree", "indegree": spec.k_inh},
                 {"weight": -spec.g * j, "delay": delay, "receptor_type": port_inh})
    heap_connected = heap_in_use()
    drive = nest.Create("poisson_generator", params={"rate": spec.nu_ext_hz})
    nest.Connect(drive, cells, syn_spec={"weight": j, "delay": spec.delay_min, "receptor_type": port_exc})
    recorder = nest.Create("spike_recorder")
    nest.Connect(cells, recorder)
    build_s = time.perf_counter() - start
    heap_devices = heap_in_use()
    nest.Simulate(spec.warmup_ms)
    heap_prepared = heap_in_use()
    recorder.n_events = 0
    start = time.perf_counter()
    nest.Simulate(spec.t_sim_ms)
    sim_s = time.perf_counter() - start
    events = recorder.events
    return finish(spec, build_s, sim_s, events["senders"] - cells[0].global_id, events["times"],
                  heap_cells - heap_empty, heap_connected - heap_cells + heap_prepared - heap_devices)


def measure_engine(spec: dict) -> dict:
    """One process: the same network on the numpy reference engine (``curr_alpha``)."""
    from glif_pynn.reference.engine import Network
    spec = NetworkSpec(**spec)
    p = cell_parameters(spec)
    start = time.perf_counter()
    rng = np.random.default_rng(spec.seed)
    net = Network(dt=spec.dt, seed=spec.seed)
    heap_empty = heap_in_use()
    cells = net.create("curr_alpha", spec.n, **p)
    heap_cells = heap_in_use()
    post = np.repeat(np.arange(spec.n), spec.fan_in)
    pre = np.concatenate([rng.integers(0, spec.n_exc, (spec.n, spec.k_exc)),
                          rng.integers(spec.n_exc, spec.n, (spec.n, spec.k_inh))], axis=1).ravel()
    weight = np.where(pre < spec.n_exc, spec.j_pA, -spec.g * spec.j_pA) * 1e-3        # nA
    net.connect(cells, cells, pre, post, weight, rng.uniform(spec.delay_min, spec.delay_max, pre.size))
    del pre, post, weight
    drive = net.create_poisson_source(spec.n, rate=spec.nu_ext_hz)
    net.connect(drive, cells, np.arange(spec.n), np.arange(spec.n), spec.j_pA * 1e-3, spec.delay_min)
    net.record(cells, ["spikes"])
    net.run_steps(0)                        # compiles the connection table
    build_s = time.perf_counter() - start
    net.run(spec.warmup_ms)
    heap_prepared = heap_in_use()
    net.clear_recording(cells)
    start = time.perf_counter()
    net.run(spec.warmup_ms + spec.t_sim_ms)
    sim_s = time.perf_counter() - start
    ids, times = net.get_recording(cells)["spikes"]
    return finish(spec, build_s, sim_s, ids, times, heap_cells - heap_empty, heap_prepared - heap_cells)


def finish(spec: NetworkSpec, build_s: float, sim_s: float, ids, times, heap_cells: int,
           heap_synapses: int) -> dict:
    """The figures of one run from its timings, the spikes of the timed run (cell index from 0,
    ms) and the heap differences."""
    steps = int(round(spec.t_sim_ms / spec.dt))
    n_spikes = len(ids)
    out = {"build_s": build_s, "sim_s": sim_s,
           "ns_per_update": sim_s / (spec.n * steps) * 1e9,
           "ns_per_event": sim_s / max(n_spikes * spec.fan_in, 1) * 1e9,
           "bytes_per_neuron": heap_cells / spec.n,
           "bytes_per_synapse": heap_synapses / (spec.n * spec.fan_in)}
    out.update(firing_statistics(np.asarray(ids), np.asarray(times, float), spec))
    return out


def firing_statistics(ids: np.ndarray, times: np.ndarray, spec: NetworkSpec, sample: int = 200) -> dict:
    """Mean rate (Hz), mean ISI CV (Elephant; cells with >= 4 spikes) and mean pairwise correlation
    coefficient of 5 ms spike counts (Elephant; ``sample`` cells that fired, chosen with ``spec.seed``)
    over the timed run."""
    import quantities as pq
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient
    from elephant.statistics import cv, isi
    from neo import SpikeTrain
    t_start, t_stop = spec.warmup_ms, spec.warmup_ms + spec.t_sim_ms
    order = np.lexsort((times, ids))
    ids, times = ids[order], times[order]
    bounds = np.searchsorted(ids, np.arange(spec.n + 1))
    trains = [times[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    cvs = [cv(isi(train)) for train in trains if len(train) >= 4]
    active = [k for k, train in enumerate(trains) if len(train)]
    chosen = np.random.default_rng(spec.seed).choice(active, size=min(sample, len(active)), replace=False) \
        if len(active) >= 2 else []
    corr = float("nan")
    if len(chosen) >= 2:
        neo_trains = [SpikeTrain(trains[k] * pq.ms, t_start=t_start * pq.ms, t_stop=t_stop * pq.ms) for k in chosen]
        matrix = correlation_coefficient(BinnedSpikeTrain(neo_trains, bin_size=5 * pq.ms))
        corr = float(np.nanmean(matrix[~np.eye(len(chosen), dtype=bool)]))
    return {"rate_hz": len(times) / spec.n / (spec.t_sim_ms * 1e-3),
            "cv_isi": float(np.mean(cvs)) if cvs else float("nan"), "cells_in_cv": len(cvs),
            "correlation": corr}


def _median(rows: list[dict]) -> dict:
    """The median of every figure over runs (the seed, an argument, is not a figure)."""
    return {key: statistics.median(row[key] for row in rows) for key in rows[0] if key != "seed"}


def _interleaved(calls: dict[str, tuple], spec: NetworkSpec, repeats: int,
                 say: Callable[[str], None]) -> dict[str, list[dict]]:
    """:func:`comparisons.performance._interleaved` (every kind once per round, each in a fresh process, each
    round starting one kind later) with ``function(*args, spec)``, where round ``k`` (from 0) builds its network
    with seed ``spec.seed + k``, the same for every kind, so that the kinds of a round run the same network and
    drive, and the rounds sample several networks: the models differ (see the model page), so one seed compares
    their times at rates that differ by chance (3-7 % here). Each result records its round's seed."""
    def seeded(round_: int) -> tuple[dict]:
        return (asdict(replace(spec, seed=spec.seed + round_)),)

    def record(round_: int, name: str, result: dict) -> None:
        result["seed"] = spec.seed + round_
        say(f"round {round_ + 1}/{repeats} (seed {result['seed']}), {name}: build {result['build_s']:.1f} s, "
            f"simulation {result['sim_s']:.2f} s, {result['rate_hz']:.1f} Hz")
    return performance._interleaved(calls, repeats, seeded, record)


def _rows(samples: dict[str, list[dict]], peer: str, api: str) -> list[dict]:
    """One row per kind: medians, the samples of the simulation time, the rounds' seeds and the ratios to
    ``peer`` (of the medians, and per round from runs of the same network). ``ns_per_event_ratio`` compares
    the time per delivered recurrent spike, which does not depend on how many spikes each kind fired."""
    rows = []
    peer_runs = samples[peer]
    peer_median = _median(peer_runs)
    for kind, runs in samples.items():
        row = dict(api=api, kind=kind, **_median(runs), samples_sim_s=[r["sim_s"] for r in runs],
                   samples_build_s=[r["build_s"] for r in runs], seeds=[r.get("seed") for r in runs])
        for key in ("sim_s", "build_s", "ns_per_event", "bytes_per_neuron", "bytes_per_synapse"):
            row[f"{key}_ratio"] = row[key] / peer_median[key] if peer_median[key] else float("nan")
        row["paired_sim_ratios"] = per_round_ratios(row["samples_sim_s"], [r["sim_s"] for r in peer_runs])
        rows.append(row)
    return rows


def run(repeats: int = 3, quick: bool = False, progress: Optional[Callable[[str], None]] = None,
        pynn: str = "quick") -> dict:
    """Every PyNEST kind, then both PyNN backends, ``repeats`` interleaved rounds of fresh processes each.

    Parameters
    ----------
    repeats : int
        Rounds (each kind once per round). Default: 3.
    quick : bool
        The small network :data:`QUICK` for everything (for tests). Default: :data:`FULL`.
    pynn : {'quick', 'full', 'none'}
        The PyNN part's network: :data:`QUICK` (timed as long as :data:`FULL`), the PyNEST
        part's, or no PyNN part. Default:
        'quick', because pyNN.nest's ``FixedNumberPreConnector`` needs many minutes for the
        10 million synapses of :data:`FULL` (see :mod:`comparisons.network_pynn`).

    Returns
    -------
    dict
        ``spec`` and ``pynn_spec`` (the networks), ``repeats`` and ``rows``: per API and kind the
        medians of :func:`finish`'s figures, their ratios to the peer (``*_ratio``) and the
        per-round ratios of the simulation time (``paired_sim_ratios``).
    """
    from comparisons.network_pynn import PYNN_KINDS, PYNN_PEER
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if pynn not in PYNN_SIZES:
        raise ValueError(f"pynn must be one of {', '.join(PYNN_SIZES)}, not {pynn!r}")
    say = progress or (lambda line: None)
    spec = QUICK if quick else FULL
    pynn_spec = None if pynn == "none" else spec if quick or pynn == "full" else \
        replace(QUICK, t_sim_ms=spec.t_sim_ms)      # the quick network, timed as long as the full one
    rows = []
    parts = [("PyNEST", spec, PEER, {kind: ("comparisons.network.measure_pynest", (kind,)) if model else
                                     ("comparisons.network.measure_engine", ())
                                     for kind, model in PYNEST_KINDS.items()})]
    if pynn_spec is not None:
        parts.append(("PyNN", pynn_spec, PYNN_PEER, {kind: ("comparisons.network_pynn.measure_pynn", (backend,))
                                                     for kind, backend in PYNN_KINDS.items()}))
    for api, part_spec, peer, calls in parts:
        say(f"{api}: {part_spec.n:,} cells x {part_spec.fan_in} inputs, {part_spec.t_sim_ms:g} ms timed after "
            f"{part_spec.warmup_ms:g} ms, {len(calls)} kinds x {repeats} round(s) of fresh processes")
        part = _rows(_interleaved(calls, part_spec, repeats, say), peer, api)
        for row in part:
            say(f"{api} {row['kind']}: build {row['build_s']:.1f} s, simulation {row['sim_s']:.2f} s "
                f"(x{row['sim_s_ratio']:.2f}; runs {', '.join(f'{x:.2f}' for x in row['samples_sim_s'])}), "
                f"{row['ns_per_update']:.1f} ns/update, {row['ns_per_event']:.1f} ns/event, "
                f"{row['rate_hz']:.1f} Hz, ISI CV {row['cv_isi']:.2f}")
        rows += part
    return {"spec": asdict(spec), "pynn_spec": None if pynn_spec is None else asdict(pynn_spec),
            "repeats": repeats, "rows": rows}


def describe(spec: NetworkSpec) -> str:
    """One line naming the network."""
    return (f"{spec.n:,} GLIF4 cells ({spec.exc_fraction:.0%} excitatory), {spec.fan_in} random inputs each "
            f"(fixed in-degree), alpha PSCs of {spec.j_pA:g} pA (inhibitory -{spec.g:g} x), delays uniform in "
            f"{spec.delay_min:g}-{spec.delay_max:g} ms, Poisson drive at {spec.nu_ext_hz:g} Hz per cell; "
            f"{spec.t_sim_ms:g} ms timed after {spec.warmup_ms:g} ms, 1 thread")


def markdown(result: dict) -> str:
    """The report section ``## A recurrent network``."""
    lines = ["## A recurrent network (speed and memory)", "",
             "The same network built with each kind of cell (comparisons/network.py): medians of "
             f"{result['repeats']} interleaved rounds of fresh processes, each round with its own seed (network "
             "and drive) for every kind, ratios to the peer from the same run (of the medians, and per round, "
             "sorted). ns per update and per event are the "
             "whole simulation time divided by cells x steps and by recurrent spikes x inputs; the kinds do not "
             "fire at quite the same rate, so the ratio of ns / event compares them per delivered spike. "
             "Memory is heap in "
             "use: per neuron from creating the cells, per synapse from connecting them and NEST's preparation "
             "at the first run. NESTML GLIF (`glif_psc_alpha_neuron`) and `glif_psc` (two receptor ports, "
             "alpha PSCs) are both GLIF4; `iaf_psc_exp` is not the same model (no adaptation, exponential PSCs "
             "of the same charge): the floor of a NEST point neuron.", ""]
    return "\n".join(lines + [tables(result, heading="###")])


def tables(result: dict, heading: str = "###") -> str:
    """The PyNEST and PyNN tables of a network result, each under ``heading`` (a Markdown heading mark, or
    ``""`` for a bold line), for the report and the documentation."""
    lines = []
    parts = [("PyNEST", PEER, result["spec"]), ("PyNN", "pyNN.nest", result.get("pynn_spec"))]
    for api, peer, spec in parts:
        rows = [dict(r) for r in result["rows"] if r["api"] == api]
        if not rows or spec is None:
            continue
        for row in rows:
            row["paired"] = ", ".join(f"{x:.2f}" for x in sorted(row["paired_sim_ratios"]))
        title = f"{api} (ratios to {peer})"
        lines += [f"{heading} {title}" if heading else f"**{title}**", "", describe(NetworkSpec(**spec)) + ".", "",
                  markdown_table(rows, [
                      ("kind", "kind", "s"), ("build_s", "build (s)", ".1f"), ("build_s_ratio", "ratio", ".2f"),
                      ("sim_s", "simulation (s)", ".2f"), ("sim_s_ratio", "ratio", ".2f"),
                      ("paired", "per-round ratios", "s"), ("ns_per_update", "ns / update", ".1f"),
                      ("ns_per_event", "ns / event", ".1f"), ("ns_per_event_ratio", "ratio", ".2f"),
                      ("bytes_per_neuron", "B / neuron", ".0f"),
                      ("bytes_per_synapse", "B / synapse", ".1f"), ("rate_hz", "rate (Hz)", ".1f"),
                      ("cv_isi", "ISI CV", ".2f"), ("correlation", "corr.", ".3f")]), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run(repeats=1, quick=True, progress=print)))
