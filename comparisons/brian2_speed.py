"""Speed of Brian2 running the GLIF equations of :mod:`comparisons.brian2_glif` (runtime and
cpp_standalone devices) against the numpy reference on the same isolated cells, and the
report section of both Brian2 studies. Each figure is the median of fresh processes.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Optional, Sequence

import numpy as np

from comparisons.brian2_glif import DT, DURATION, REQUIREMENT, ROOT, agreement, brian2_module, glif_group
from comparisons.tables import markdown_table
from glif_pynn.reference.neurons import steps

# -- performance -------------------------------------------------------------------------------
def measure_brian2(n: int, device: str, duration: float = DURATION, dt: float = DT, seed: int = 1) -> dict:
    """One process: ``n`` isolated GLIF cells (i_offset uniform in 0.2-0.4 nA, ``seed``) for ``duration`` ms.

    ``ns_per_update`` comes from Brian2's own timing of its main loop (``device._last_run_time``):
    on the runtime device the wall time of the Python loop over the compiled (Cython) code
    objects, after a 10-step warm-up run that does the code generation, sympy's exact
    solution and the compilation (or the load of cached extension modules): ``setup_s``;
    with cpp_standalone the C++ loop, timed with ``std::clock`` (CPU time of the process) in
    the generated ``network.cpp``. For cpp_standalone also: ``codegen_s`` (sympy and code
    generation: the ``run()`` wall time less make and the binary), ``compile_s`` (make),
    ``binary_s`` (wall time of the binary: loop, array I/O, start-up) and the ns per update
    that gives. For the runtime device ``cpu_share``: CPU time over wall time of the timed
    run (below 1 when other processes take the core).
    """
    b2 = brian2_module()
    rng = np.random.default_rng(seed)
    i_offset = rng.uniform(0.2, 0.4, n)            # as glif_pynn.reference.bench's isolated benchmark
    n_steps = int(steps(duration, dt))
    with tempfile.TemporaryDirectory(prefix="brian2_glif_") as directory:
        if device == "cpp_standalone":
            b2.set_device("cpp_standalone", directory=directory, build_on_run=True)
        elif device == "runtime":
            b2.prefs.codegen.target = "cython"
        else:
            raise ValueError(f"device must be 'runtime' or 'cpp_standalone', not {device!r}")
        start = time.perf_counter()
        clock = b2.Clock(dt=dt * b2.ms)
        cells = glif_group(n, {"i_offset": i_offset}, dt, clock=clock)
        spikes = b2.SpikeMonitor(cells, record=False)       # counts only
        net = b2.Network(cells, spikes)
        out = {}
        if device == "runtime":
            net.run(10 * dt * b2.ms)
            out["setup_s"] = time.perf_counter() - start
            before = int(spikes.num_spikes)
            start, cpu = time.perf_counter(), time.process_time()
            net.run(n_steps * dt * b2.ms)
            out["cpu_share"] = (time.process_time() - cpu) / (time.perf_counter() - start)
            loop_s = b2.get_device()._last_run_time
            count = int(spikes.num_spikes) - before
        else:
            net.run(n_steps * dt * b2.ms)
            wall = time.perf_counter() - start
            dev = b2.get_device()
            compile_s = sum(t for t in dev.timers["compile"].values() if t is not None)
            out.update(codegen_s=wall - compile_s - dev.timers["run_binary"], compile_s=compile_s,
                       binary_s=dev.timers["run_binary"],
                       binary_ns_per_update=dev.timers["run_binary"] / (n * n_steps) * 1e9)
            loop_s = dev._last_run_time
            count = int(spikes.num_spikes)
    out.update(loop_s=loop_s, ns_per_update=loop_s / (n * n_steps) * 1e9, rate_hz=count / n / (duration * 1e-3))
    return out


def measure_reference(n: int, duration: float = DURATION, dt: float = DT) -> dict:
    """One process: the numpy reference on the same cells (glif_pynn.reference.bench, one timed run)."""
    from glif_pynn.reference.bench import bench_reference
    start, cpu = time.perf_counter(), time.process_time()
    result = bench_reference(sizes=(n,), t_stop_ms=duration, dt=dt, synapse_cells=0, repeats=1)
    # CPU time over wall time of the whole benchmark (set-up included): below 1 when the machine is busy
    return {"ns_per_update": result["ns_per_update"][n],
            "cpu_share": (time.process_time() - cpu) / (time.perf_counter() - start)}


def _in_subprocess(function: str, *args) -> dict:
    code = (f"import json; from comparisons.brian2_speed import {function} as f; "
            f"print(json.dumps(f(*{args!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"{function}{args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(rows: list[dict]) -> dict:
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def performance(sizes: Sequence[float] = (1e3, 1e4, 1e5), devices: Sequence[str] = ("runtime", "cpp_standalone"),
                repeats: int = 3, duration: float = DURATION, dt: float = DT,
                progress: Optional[Callable[[str], None]] = None) -> list[dict]:
    """ns per neuron-update of Brian2 on each device and of the numpy reference, medians of
    ``repeats`` fresh processes each; ``speedup`` = reference / Brian2."""
    rows = []
    for n in (int(s) for s in sizes):
        reference = _median([_in_subprocess("measure_reference", n, duration, dt) for _ in range(repeats)])
        rows.append({"simulator": "numpy reference", "neurons": n, "duration_ms": duration, **reference,
                     "speedup": 1.0})
        if progress:
            progress(f"numpy reference, N={n}: {reference['ns_per_update']:.2f} ns/update")
        for device in devices:
            row = _median([_in_subprocess("measure_brian2", n, device, duration, dt) for _ in range(repeats)])
            row["speedup"] = reference["ns_per_update"] / row["ns_per_update"]
            rows.append({"simulator": f"Brian2 {device}", "neurons": n, "duration_ms": duration, **row})
            if progress:
                progress(f"Brian2 {device}, N={n}: {row['ns_per_update']:.2f} ns/update, "
                         f"{row['rate_hz']:.1f} Hz")
    return rows


def machine_load() -> str:
    """``uptime``'s load averages and the number of CPUs, for the report."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


# -- report ------------------------------------------------------------------------------------
def markdown(agreement_rows: list[dict], performance_rows: list[dict], load: Optional[str] = None) -> str:
    """The report section ``## Brian2 (in .venv-brian2)``."""
    lines = ["## Brian2 (in .venv-brian2)", "",
             f"The GLIF_curr_exp equations in Brian2 ({REQUIREMENT}, `method='exact'`: Brian2 solves the coupled "
             "linear system with sympy), against the numpy reference (`glif_pynn.reference`), GLIF4 default "
             "parameters, dt = 0.1 ms. Brian2 stamps spikes with the start of their step, the reference with "
             "its end: compared are step indices, and spike-generator times are given one dt earlier to Brian2 "
             "(then delays agree). Brian2 holds V for `timestep(refractory) - 1` steps, so the group gets "
             "`refractory = (round(tau_refrac/dt) + 1) dt`. See comparisons/brian2_glif.py.", "",
             "### Agreement (runtime device, 1 s per protocol)", ""]
    lines += [markdown_table(agreement_rows, [
        ("protocol", "protocol", "s"), ("neurons", "N", "d"), ("target", "codegen", "s"),
        ("alignment", "alignment", "s"),
        ("spikes_brian2", "spikes Brian2", "d"), ("spikes_reference", "spikes reference", "d"),
        ("same_step_fraction", "same step", ".3f"), ("max_abs_spike_dt_ms", "max spike dt (ms)", "g"),
        ("max_abs_dv_mV", "max abs dV (mV)", ".1e"), ("max_abs_dtheta_mV", "max abs dtheta (mV)", ".1e"),
        ("max_abs_di_nA", "max abs dI (nA)", ".1e")])]
    lines += ["", "### Speed (isolated neurons, i_offset 0.2-0.4 nA, 1 core)", "",
              "ns per neuron-update = loop time / (N x steps), median of fresh processes. Brian2 runtime: "
              "Cython target, wall time of its main loop after a warm-up run (setup = sympy, code generation, "
              "compilation or cache load). cpp_standalone: the C++ loop's `std::clock` time (CPU time) from "
              "Brian2's `last_run_info`; code generation (mostly sympy) and compilation separately, and the "
              "binary's wall time per update (loop, start-up, array I/O). The reference: wall time of "
              "`glif_pynn.reference.bench`'s isolated run on the same cells. CPU share = CPU time / wall time "
              "(below 1: other processes took the core; wall-time figures are inflated by that much). "
              "Speed-up = reference / Brian2."
              + (f" Machine: {load}." if load else ""), ""]
    lines += [markdown_table(performance_rows, [
        ("simulator", "simulator", "s"), ("neurons", "N", "d"), ("duration_ms", "t (ms)", "g"),
        ("ns_per_update", "ns/update", ".2f"), ("speedup", "speed-up", ".2f"), ("rate_hz", "rate (Hz)", ".1f"),
        ("cpu_share", "CPU share", ".2f"), ("setup_s", "runtime setup (s)", ".1f"),
        ("codegen_s", "codegen (s)", ".1f"), ("compile_s", "compile (s)", ".1f"),
        ("binary_ns_per_update", "binary wall ns/update", ".2f")])]
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``python -m comparisons.brian2_speed [--quick] [--json PATH]``: both studies, progress lines
    prefixed ``brian2: ``, the report section printed; ``--json`` also writes the results (what
    :func:`comparisons.brian2_env.study` reads)."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m comparisons.brian2_speed", description=main.__doc__)
    parser.add_argument("--quick", action="store_true", help="speed at N = 1e3 and 1e4 only, one repeat")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(f"brian2: {line}", flush=True)

    agreement_rows = agreement(progress=say)
    before = machine_load()
    performance_rows = performance(sizes=(1e3, 1e4) if args.quick else (1e3, 1e4, 1e5), repeats=1 if args.quick else 3,
                                   progress=say)
    load = f"before: {before}; after: {machine_load()}"
    if args.json:
        from glif_pynn.atomic import write_text
        write_text(args.json, json.dumps({"agreement": agreement_rows, "performance": performance_rows, "load": load},
                                         indent=1))
    print(markdown(agreement_rows, performance_rows, load))


if __name__ == "__main__":
    main()
