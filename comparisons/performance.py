"""Speed and memory of the NESTML GLIF against NEST's glif_psc, iaf_psc_exp and the numpy reference.

Each measurement runs in a fresh Python process (clean kernel, clean memory
accounting) and is repeated; medians are reported. The repeats are interleaved (kind A,
B, C, D, then A, B, C, D again), so that a slow drift of the machine's speed affects
every kind alike, and the ratio NESTML / glif_psc is also reported per repeat, from the
two runs of the same round (``paired_ratios``). Isolated neurons are all driven
the same way, either by one dc_generator connected to every neuron (the NESTML
model and glif_psc) or by their own constant current parameter (NESTML I_e,
iaf_psc_exp I_e), in a GLIF4 configuration that fires regularly, every cell in the
same steps (about 19 Hz at steady state, so that a short timed run holds only a few
volleys; spiking costs little here). Synaptic events (:data:`SYNAPTIC_KINDS`, like with
like): 10k silent GLIF4 neurons, each with 1000 inputs from 10k parrot neurons firing at
~10 Hz; the cost of the same network without the connections is subtracted, and bytes
per synapse are the heap that connecting and NEST's preparation at the first run add.

Run ``python -m comparisons.performance`` (or ``glif-pynn compare``) on an otherwise
idle machine.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Callable, Optional, Sequence

from comparisons.scale import heap_in_use

GLIF4 = {"asc_amp1": -9.18, "asc_amp2": -198.94, "th_spike_add": 0.37, "th_spike_decay": 0.009,
         "voltage_reset_fraction": 0.2, "voltage_reset_add": 18.51, "t_ref": 4.0, "V_m": -78.85}
NEST_GLIF4 = {"spike_dependent_threshold": True, "after_spike_currents": True, "adapting_threshold": False,
              "t_ref": 4.0}
DRIVE_PA = 300.0
#: kind -> (NEST model, parameters, drive by dc_generator?)
KINDS = {
    "NESTML GLIF, dc_generator": ("glif_psc_exp_neuron", GLIF4, True),
    "NESTML GLIF, I_e": ("glif_psc_exp_neuron", dict(GLIF4, I_e=DRIVE_PA), False),
    "NEST glif_psc, dc_generator": ("glif_psc", NEST_GLIF4, True),
    "NEST iaf_psc_exp, I_e": ("iaf_psc_exp", {"I_e": 400.0}, False),
    # like with like: alpha PSCs, two receptor ports, GLIF4, on both
    "NESTML GLIF alpha, 2 ports, dc_generator": ("glif_psc_alpha_neuron", GLIF4, True),
    "NEST glif_psc, 2 ports, dc_generator": ("glif_psc", dict(NEST_GLIF4, tau_syn=[2.0, 2.0]), True),
}
#: The like-with-like pair: the same PSC shape (alpha), number of receptor ports (2) and GLIF level (4).
LIKE_WITH_LIKE = ("NESTML GLIF alpha, 2 ports, dc_generator", "NEST glif_psc, 2 ports, dc_generator")
#: The synaptic-event study's kinds (silent cells, no drive) -> their entry in KINDS: the like-with-like pair.
SYNAPTIC_KINDS = {"NESTML GLIF alpha, 2 ports": LIKE_WITH_LIKE[0], "NEST glif_psc, 2 ports": LIKE_WITH_LIKE[1]}
#: NESTML kind -> (glif_psc kind it is compared with, what the pair compares).
PAIRS = {
    "NESTML GLIF, dc_generator": ("NEST glif_psc, dc_generator",
                                  "exp PSCs, 2 ports / glif_psc's alpha PSCs, 1 port (its default)"),
    LIKE_WITH_LIKE[0]: (LIKE_WITH_LIKE[1], "like with like: alpha PSCs, 2 ports, GLIF4 on both"),
}
UPDATES_PER_RUN = 1e8      # neuron-updates per timed run (about 3 s of NEST at 30 ns)


def measure_isolated(kind: str, n: int, threads: int) -> dict:
    """One process: ns per neuron-update and bytes per neuron (NEST kinds)."""
    import time

    import nest

    import glif_pynn.nest as glif_nest
    model, params, dc = KINDS[kind]
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=threads)
    glif_nest.install()
    before = heap_in_use()
    pop = nest.Create(model, n, params=params)
    per_neuron = (heap_in_use() - before) / n
    if dc:
        nest.Connect(nest.Create("dc_generator", params={"amplitude": DRIVE_PA}), pop)
    t_sim = min(2000.0, max(20.0, UPDATES_PER_RUN / n * 0.1))
    nest.Simulate(5.0)
    start = time.perf_counter()
    nest.Simulate(t_sim)
    elapsed = time.perf_counter() - start
    return {"ns_per_update": elapsed / (n * t_sim / 0.1) * 1e9, "bytes_per_neuron": per_neuron}


def measure_synaptic(kind: str, threads: int, n: int = 10_000, fan_in: int = 1000, rate: float = 10.0,
                     t_sim: float = 1000.0) -> dict:
    """One process: ns per synaptic event and bytes per synapse for a kind of :data:`SYNAPTIC_KINDS`."""
    import time

    import nest

    import glif_pynn.nest as glif_nest
    model, params, _ = KINDS[SYNAPTIC_KINDS[kind]]
    results = {}
    for with_synapses in (False, True):
        nest.ResetKernel()
        nest.verbosity = nest.VerbosityLevel.ERROR
        nest.set(resolution=0.1, local_num_threads=threads, rng_seed=1)
        glif_nest.install()
        pop = nest.Create(model, n, params=dict(params, V_th=1e6))   # silent: only synaptic work
        parrots = nest.Create("parrot_neuron", n)
        nest.Connect(nest.Create("poisson_generator", params={"rate": rate}), parrots)
        before = heap_in_use()
        if with_synapses:
            nest.Connect(parrots, pop, {"rule": "fixed_indegree", "indegree": fan_in},
                         {"weight": 1.0, "delay": 1.0, "receptor_type": 1 if model == "glif_psc" else 0})
        nest.Simulate(5.0)                  # prepares the connection tables
        memory = heap_in_use() - before
        start = time.perf_counter()
        nest.Simulate(t_sim)
        results[with_synapses] = (time.perf_counter() - start, memory)
    events = n * fan_in * rate * t_sim / 1000.0
    return {"ns_per_event": (results[True][0] - results[False][0]) / events * 1e9,
            "bytes_per_synapse": (results[True][1] - results[False][1]) / (n * fan_in)}


def measure_reference(n: int) -> dict:
    """One process: the numpy reference engine, isolated neurons (see glif_pynn.reference.bench)."""
    from glif_pynn.reference.bench import bench_reference
    result = bench_reference(sizes=(n,), t_stop_ms=min(1000.0, max(20.0, UPDATES_PER_RUN / 4 / n * 0.1)),
                             synapse_cells=0, repeats=1)
    return {"ns_per_update": result["ns_per_update"][n], "bytes_per_neuron": float("nan")}


def measure_reference_synaptic() -> dict:
    from glif_pynn.reference.bench import bench_reference
    result = bench_reference(sizes=(), repeats=1)
    return {"ns_per_event": result["ns_per_event"], "bytes_per_synapse": result["bytes_per_synapse"]}


def _in_subprocess(function: str, *args) -> dict:
    """``function(*args)`` in a fresh Python process; ``function`` is a name in this module or a dotted path."""
    module, _, name = function.rpartition(".")
    code = (f"import json; from {module or 'comparisons.performance'} import {name} as f; "
            f"print(json.dumps(f(*{args!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:      # the child's own error, not only its exit status
        raise RuntimeError(f"{function}{args!r} failed in its process (exit status {out.returncode}):\n"
                           f"{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(rows: list[dict]) -> dict:
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def _interleaved(calls: dict[str, tuple], repeats: int, round_args: Callable[[int], tuple] = lambda round_: (),
                 after: Callable[[int, str, dict], None] = lambda round_, name, result: None) -> dict[str, list[dict]]:
    """Each call's results over ``repeats`` rounds; every round runs every call once, in turn, starting one
    call later each round, so that no call always runs in the same place (on this shared 2-core machine the
    first run after a pause was measurably faster). A call ``(function, args)`` runs
    ``function(*args, *round_args(round_))`` in a fresh process (rounds count from 0: the network study passes
    each round its own seed), and ``after(round_, name, result)`` sees each result as it comes."""
    samples: dict[str, list[dict]] = {name: [] for name in calls}
    names = list(calls)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            function, args = calls[name]
            samples[name].append(_in_subprocess(function, *args, *round_args(round_)))
            after(round_, name, samples[name][-1])
    return samples


def per_round_ratios(values: Sequence[float], peer_values: Sequence[float]) -> list[float]:
    """Each of :func:`_interleaved`'s rounds' value over the peer's value in the same round: ratios that a
    slow drift of the machine between rounds moves less than it moves the ratio of the medians."""
    return [a / b for a, b in zip(values, peer_values)]


def run(sizes=(1e3, 1e4, 1e5, 1e6), threads=(1, 2), repeats: int = 3,
        progress: Optional[Callable[[str], None]] = None) -> dict:
    say = progress or (lambda line: None)
    isolated = []
    for n in (int(s) for s in sizes):
        for t in threads:
            say(f"isolated, N={n}, {t} thread(s): {len(KINDS)} kinds x {repeats} round(s)")
            samples = _interleaved({kind: ("measure_isolated", (kind, n, t)) for kind in KINDS}, repeats)
            for kind, rows in samples.items():
                row = dict(kind=kind, neurons=n, threads=t, **_median(rows),
                           samples_ns=[r["ns_per_update"] for r in rows])
                if kind in PAIRS:
                    row["paired_ratios"] = per_round_ratios(row["samples_ns"],
                                                            [r["ns_per_update"] for r in samples[PAIRS[kind][0]]])
                isolated.append(row)
                say(f"isolated {kind}, N={n}, {t} thread(s): {row['ns_per_update']:.1f} ns/update "
                    f"(runs: {', '.join(f'{x:.1f}' for x in row['samples_ns'])})")
        rows = [_in_subprocess("measure_reference", n) for _ in range(repeats)]
        isolated.append(dict(kind="numpy reference", neurons=n, threads=1, **_median(rows),
                             samples_ns=[r["ns_per_update"] for r in rows]))
        say(f"isolated numpy reference, N={n}: {isolated[-1]['ns_per_update']:.1f} ns/update")
    synaptic = []
    say(f"synaptic events: {len(SYNAPTIC_KINDS)} kinds x {repeats} round(s), then the numpy reference")
    samples = _interleaved({kind: ("measure_synaptic", (kind, 1)) for kind in SYNAPTIC_KINDS}, repeats)
    for kind, rows in samples.items():
        synaptic.append(dict(kind=kind, threads=1, **_median(rows)))
        say(f"synaptic {kind}: {synaptic[-1]['ns_per_event']:.1f} ns/event")
    row = _median([_in_subprocess("measure_reference_synaptic") for _ in range(repeats)])
    synaptic.append(dict(kind="numpy reference", threads=1, **row))
    say(f"synaptic numpy reference: {row['ns_per_event']:.1f} ns/event")
    return {"isolated": isolated, "synaptic": synaptic}


if __name__ == "__main__":
    print(json.dumps(run(sizes=(1e3, 1e4), repeats=1, progress=print), indent=1))
