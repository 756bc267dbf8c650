"""Escape noise: what it costs per neuron-update on both backends, and the irregular-firing study.

Speed (``glif-pynn bench noise``, and part of ``glif-pynn compare``): isolated GLIF4 cells
driven by their own ``I_e`` (uniform in 250-350 pA, so that they fire at different times), 1 thread, each measurement in a
fresh process, every kind once per round, rounds interleaved, medians reported:

* NEST, the hard-threshold build: the NESTML models as they were before escape noise
  existed (:func:`hard_threshold_sources` removes the escape-noise branch from today's
  rendered 2-port models; the result is built and cached like the real module). Against it, today's
  module with ``delta_u = 0`` shows what the deterministic path costs;
* NEST, today's module, ``delta_u = 0`` and escape noise on, in the two settings of :data:`NOISE`
  (``delta_u = 1`` mV): ``lambda0 = 50`` Hz, at which the noisy cells fire at about the rate of the
  deterministic ones, so that the ratio measures the mechanism and not extra spikes; and
  ``lambda0 = 1000`` Hz, a very soft threshold (half again as many spikes, and a candidate draw
  every tenth step);
* the numpy reference, ``delta_u = 0`` and escape noise on, in the same settings.

Each process runs 100 ms before the measured window, past the first spikes' transient; the rate
is that of the window.

The irregular-firing study is ``examples/irregular_firing.py``, run on both backends.
"""
from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

from comparisons.performance import GLIF4, _interleaved, per_round_ratios

ROOT = Path(__file__).resolve().parent.parent
#: escape-noise settings of the benchmark: lambda0 (Hz) by name; delta_u = 1 mV in both
NOISE = {"lambda0 = 50 Hz": 50.0, "lambda0 = 1000 Hz": 1000.0}
DELTA_U = 1.0
WARM_UP = 100.0      # ms before the measured window


def drives(n: int):
    """Each cell's constant current (nA): uniform in 0.25-0.35 nA, the same cells on both backends."""
    import numpy as np
    return np.random.default_rng(2).uniform(0.25, 0.35, n)

KINDS = ("NEST, hard-threshold build", "NEST, delta_u = 0", *(f"NEST, {name}" for name in NOISE),
         "reference, delta_u = 0", *(f"reference, {name}" for name in NOISE))

#: The escape-noise branch of the current flavours (update block) and of the conductance flavours,
#: and the hard-threshold test each replaces (the models before escape noise).
_CURRENT_BRANCH = re.compile(
    r"( +)fire boolean = false\n\1if not is_refractory:\n\1    if escape_noise_on:\n(?:\1        .*\n)+?"
    r"\1    else:\n\1        fire = V_m > V_th \+ theta_s \+ theta_v\n\1if fire:\n")
_CONDUCTANCE_BRANCH = re.compile(
    r"( +)fire boolean = V_m > V_th \+ theta_s \+ theta_v\n\1if escape_noise_on:\n(?:\1    .*\n)+?\1if fire:\n")


#: the escape-noise state variable (what is left of its draw), which the hard-threshold models lack
_BUDGET = re.compile(r"^ +escape_budget real = .*\n", re.MULTILINE)


def hard_threshold_sources(target: Path) -> Path:
    """Write today's NESTML models with the escape-noise branch replaced by the hard threshold.

    Raises
    ------
    RuntimeError
        When a model does not contain the branch exactly once (the models changed shape).
    """
    from glif_pynn import model_sources
    target.mkdir(parents=True, exist_ok=True)
    for name, text in model_sources.render_all(model_sources.model_specs(())).items():   # the 2-port models
        text, current = _CURRENT_BRANCH.subn(r"\1if not is_refractory and V_m > V_th + theta_s + theta_v:\n", text)
        text, conductance = _CONDUCTANCE_BRANCH.subn(r"\1if V_m > V_th + theta_s + theta_v:\n", text)
        text, budgets = _BUDGET.subn("", text)
        if budgets != 1:
            raise RuntimeError(f"{name}: the escape-noise state variable was found {budgets} times, expected once; "
                               f"update comparisons/escape_noise.py to the models' new shape")
        if current + conductance != 1:
            raise RuntimeError(f"{name}: the escape-noise branch was found {current + conductance} times, "
                               f"expected once; update comparisons/escape_noise.py to the models' new shape")
        (target / name).write_text(text)
    return target


def hard_threshold_module() -> str:
    """The hard-threshold module, built once and cached; its path without ``.so`` (for nest.Install)."""
    from glif_pynn.build import ensure_module
    with tempfile.TemporaryDirectory() as scratch:
        library = ensure_module(model_dir=hard_threshold_sources(Path(scratch) / "nestml_models"))
    return str(library.with_suffix(""))


def measure_nest(n: int, module: Optional[str], lambda0: Optional[float], t_sim: float) -> dict:
    """One process: ns per neuron-update of ``n`` glif_psc_exp_neuron cells (``module``: a module path, or
    None for the package's own module; ``lambda0``: Hz, escape noise on with ``delta_u = DELTA_U``, or None)."""
    import nest

    import glif_pynn.nest as glif_nest
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=1, rng_seed=1)
    if module is None:
        glif_nest.install()
    else:
        nest.Install(module)
    params = dict(GLIF4, **({} if lambda0 is None else {"Delta_V": DELTA_U, "lambda_0": lambda0}))
    cells = nest.Create("glif_psc_exp_neuron", n, params=params)
    cells.I_e = drives(n) * 1e3
    recorder = nest.Create("spike_recorder")
    nest.Connect(cells, recorder)
    nest.Simulate(WARM_UP)
    before = recorder.n_events
    start = time.perf_counter()
    nest.Simulate(t_sim)
    elapsed = time.perf_counter() - start
    return {"ns_per_update": elapsed / (n * t_sim / 0.1) * 1e9,
            "rate_hz": (recorder.n_events - before) / n / (t_sim / 1e3)}


def measure_reference(n: int, lambda0: Optional[float], t_sim: float) -> dict:
    """One process: ns per neuron-update of ``n`` isolated cells of the numpy engine (same cells as NEST's)."""
    from glif_pynn.reference.engine import Network
    params = dict(i_offset=drives(n), tau_refrac=4.0, **({} if lambda0 is None else {"delta_u": DELTA_U,
                                                                                       "lambda0": lambda0}))
    network = Network(dt=0.1, seed=1)
    population = network.create("curr_exp", n, **params)
    network.record(population, ("spikes",))
    network.run(WARM_UP)
    before = network.get_recording(population)["spikes"][0].size
    start = time.perf_counter()
    network.run(WARM_UP + t_sim)          # absolute time
    elapsed = time.perf_counter() - start
    spikes = network.get_recording(population)["spikes"][0].size - before
    return {"ns_per_update": elapsed / (n * t_sim / 0.1) * 1e9, "rate_hz": spikes / n / (t_sim / 1e3)}


def bench(sizes=(1e4, 1e5), repeats: int = 5, progress: Optional[Callable[[str], None]] = None) -> dict:
    """Interleaved rounds of every kind; medians and the ratios that answer the two questions."""
    say = progress or (lambda line: None)
    say("building (or finding in the cache) the hard-threshold module, for the baseline")
    baseline = hard_threshold_module()
    rows = []
    for n in (int(s) for s in sizes):
        t_sim = min(2000.0, max(50.0, 3e7 / n * 0.1))
        nest_call, reference_call = "comparisons.escape_noise.measure_nest", "comparisons.escape_noise.measure_reference"
        calls = {"NEST, hard-threshold build": (nest_call, (n, baseline, None, t_sim)),
                 "NEST, delta_u = 0": (nest_call, (n, None, None, t_sim)),
                 **{f"NEST, {name}": (nest_call, (n, None, lambda0, t_sim)) for name, lambda0 in NOISE.items()},
                 "reference, delta_u = 0": (reference_call, (n, None, t_sim)),
                 **{f"reference, {name}": (reference_call, (n, lambda0, t_sim)) for name, lambda0 in NOISE.items()}}
        samples = _interleaved(calls, repeats)
        for kind, runs in samples.items():
            rows.append({"kind": kind, "neurons": n,
                         "ns_per_update": statistics.median(r["ns_per_update"] for r in runs),
                         "rate_hz": statistics.median(r["rate_hz"] for r in runs),
                         "samples_ns": [r["ns_per_update"] for r in runs]})
            say(f"N={n}: {kind}: {rows[-1]['ns_per_update']:.1f} ns per update "
                f"(runs {', '.join(f'{x:.1f}' for x in rows[-1]['samples_ns'])}), {rows[-1]['rate_hz']:.1f} Hz")
    return {"rows": rows, "ratios": ratios(rows), "repeats": repeats}


def ratios(rows: list[dict]) -> list[dict]:
    """Per size: deterministic path / hard-threshold build (NEST), and per noise setting noise on / off (both backends).

    Ratios of the medians; for the deterministic path also the per-round ratios (each round runs both builds,
    so ``samples_ns[i]`` of the two kinds come from the same round) and their median, which a slow drift
    of the machine between rounds does not move.
    """
    def row(kind, n):
        return next(r for r in rows if r["kind"] == kind and r["neurons"] == n)

    def ns(kind, n):
        return row(kind, n)["ns_per_update"]
    out = []
    for n in sorted({r["neurons"] for r in rows}):
        paired = per_round_ratios(row("NEST, delta_u = 0", n)["samples_ns"],
                                  row("NEST, hard-threshold build", n)["samples_ns"])
        for name in NOISE:
            out.append({"neurons": n, "noise": name,
                        "nest_deterministic_vs_hard_threshold": ns("NEST, delta_u = 0", n) / ns("NEST, hard-threshold build", n),
                        "nest_deterministic_vs_hard_threshold_per_round": paired,
                        "nest_deterministic_vs_hard_threshold_paired": statistics.median(paired),
                        "nest_noise_on_vs_off": ns(f"NEST, {name}", n) / ns("NEST, delta_u = 0", n),
                        "reference_noise_on_vs_off": ns(f"reference, {name}", n) / ns("reference, delta_u = 0", n)})
    return out


def figure_name(backend: str) -> str:
    """The example's figure in the report: ``irregular_firing.png`` for pyNN.nest (the gallery's figure)."""
    return "irregular_firing.png" if backend == "nest" else f"irregular_firing_{backend}.png"


def markdown(result: dict) -> str:
    from comparisons.tables import markdown_table as _table
    lines = ["## Escape noise (stochastic spiking)", "",
             "Irregular firing (`examples/irregular_firing.py`): ISI CV against delta_u under constant and "
             "fluctuating input, and ISI histograms, on both backends.", ""]
    for backend in ("nest", "reference"):
        if backend in result.get("figures", {}):
            lines += [f"![irregular firing, {backend}]({figure_name(backend)})", "",
                      _table(result["figures"][backend], [("drive", "input", "s"), ("delta_u", "delta_u (mV)", "g"),
                                                         ("rate", "rate (Hz)", ".1f"), ("cv", "ISI CV", ".3f")]), ""]
    if "bench" in result:
        bench_result = result["bench"]
        lines += [f"Cost per neuron-update (isolated GLIF4 cells with I_e, 1 thread, medians of "
                  f"{bench_result['repeats']} interleaved rounds of fresh processes):", "",
                  _table(bench_result["rows"], [("kind", "kind", "s"), ("neurons", "N", "d"),
                                                ("ns_per_update", "ns / update", ".1f"), ("rate_hz", "rate (Hz)", ".1f")]),
                  "", _table(bench_result["ratios"], [
                      ("neurons", "N", "d"), ("noise", "escape noise", "s"),
                      ("nest_deterministic_vs_hard_threshold", "NEST delta_u = 0 / hard-threshold build", ".3f"),
                      ("nest_deterministic_vs_hard_threshold_paired", "the same, median of the rounds' ratios", ".3f"),
                      ("nest_noise_on_vs_off", "NEST noise on / off (target <= 1.3)", ".3f"),
                      ("reference_noise_on_vs_off", "reference noise on / off (target <= 1.3)", ".3f")]), ""]
    return "\n".join(lines)


def run(out: Path, quick: bool = False, progress: Optional[Callable[[str], None]] = None) -> dict:
    """The irregular-firing example on both backends (figures into ``out``) and the cost benchmark."""
    say = progress or (lambda line: None)
    sys.path.insert(0, str(ROOT / "examples"))
    import irregular_firing
    figures = {}
    for backend in ("nest", "reference"):
        say(f"irregular firing on {backend}")
        result = irregular_firing.main(["--backend", backend, "--output", str(out / figure_name(backend))]
                                       + (["--duration", "1000"] if quick else []))
        figures[backend] = [{"drive": drive, "delta_u": row["delta_u"], "rate": row["rate"], "cv": row["cv"]}
                            for drive in ("constant", "fluctuating") for row in result[drive]["rows"]]
    return {"figures": figures, "bench": bench(sizes=(1e4,) if quick else (1e4, 1e5), repeats=1 if quick else 5,
                                               progress=say)}


if __name__ == "__main__":
    print(markdown({"bench": bench(sizes=(1e4,), repeats=1, progress=print)}))
