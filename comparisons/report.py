"""Run the comparison studies and write results/: report.md, one JSON file per study, PNG figures."""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from comparisons.performance import PAIRS
from comparisons.summary import READ_BACK
from comparisons.tables import markdown_table
from glif_pynn.atomic import write_text


def machine_description() -> dict:
    import importlib.metadata as md
    import os
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {name: md.version(name) for name in ("nest-simulator", "nestml", "PyNN", "numpy")}
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), **versions,
            "date": time.strftime("%Y-%m-%d %H:%M"), "load average at start": "%.2f %.2f %.2f" % os.getloadavg()}


def convergence_figure(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from comparisons.convergence import MODELS, observed_order
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for model in MODELS:
        pts = [(r["resolution_ms"], max(r["abs_error_mV"], 1e-16)) for r in rows if r["model"] == model]
        order = observed_order(rows, model)
        label = f"{model} (order {order:.2f})" if np.isfinite(order) else f"{model} (exact to rounding)"
        ax.loglog(*zip(*pts), "o-", label=label)
    ax.set_xlabel("time step h (ms)")
    ax.set_ylabel("|V - V_exact| near t = 20 ms (mV)")
    ax.set_title("Convergence against the closed form")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(results: dict, out: Path) -> Path:
    """report.md from the study results (any subset of the keys below)."""
    from comparisons.convergence import MODELS, observed_order
    lines = ["# glif-pynn comparisons", "", "Machine and versions: " +
             ", ".join(f"{k} {v}" for k, v in results["machine"].items()), ""]
    if "agreement_glif_psc" in results:
        lines += ["## NESTML GLIF vs NEST glif_psc (GLIF1-4, through glif_pynn.convert)", "",
                  "Both models in one kernel, same generators, 1 s per protocol; coincidence factor with a 2 ms "
                  "window; spike-time differences over matched spikes; V RMSE over the whole run.", "",
                  markdown_table(results["agreement_glif_psc"], [
                      ("level", "level", "s"), ("protocol", "protocol", "s"), ("resolution_ms", "h (ms)", "g"),
                      ("spikes_nestml", "spikes NESTML", "d"), ("spikes_glif_psc", "spikes glif_psc", "d"),
                      ("coincidence_factor_2ms", "Gamma", ".3f"), ("max_abs_spike_dt_ms", r"max \|dt\| (ms)", ".3g"),
                      ("v_rmse_mV", "V RMSE (mV)", ".3g")]), ""]
    if "agreement_glif_cond" in results:
        from comparisons.agreement_glif_cond import markdown as glif_cond_section
        lines += [glif_cond_section(results["agreement_glif_cond"])]
    if "agreement_reference" in results:
        lines += ["## NESTML model (pyNN.nest) vs numpy reference (glif_pynn.reference), same PyNN script", "",
                  markdown_table(results["agreement_reference"], [
                      ("cell_type", "cell type", "s"), ("protocol", "protocol", "s"),
                      ("spikes_nest", "spikes NEST", "d"), ("spikes_reference", "spikes reference", "d"),
                      ("same_spike_steps", "same spike steps", ""), ("max_abs_dv_mV", r"max \|dV\| (mV)", ".2e")]), ""]
    if "convergence" in results:
        rows = results["convergence"]
        lines += ["## Convergence as h shrinks", "", "![convergence](convergence.png)", "",
                  markdown_table([{"model": m, "order": observed_order(rows, m),
                           "err01": next(r["abs_error_mV"] for r in rows if r["model"] == m and r["resolution_ms"] == 0.1)}
                          for m in MODELS],
                         [("model", "model", "s"), ("order", "observed order", ".2f"),
                          ("err01", "error at h = 0.1 ms (mV)", ".2e")]), ""]
    if "performance" in results:
        perf = results["performance"]
        lines += ["## Speed and memory (isolated neurons)", "", markdown_table(perf["isolated"], [
            ("kind", "model", "s"), ("neurons", "N", "d"), ("threads", "threads", "d"),
            ("ns_per_update", "ns / neuron-update", ".1f"), ("bytes_per_neuron", "bytes / neuron", ".0f")]), ""]
        ratios = []
        for row in perf["isolated"]:
            if row["kind"] in PAIRS:
                peer_kind, what = PAIRS[row["kind"]]
                peer = next((r for r in perf["isolated"] if r["kind"] == peer_kind
                             and r["neurons"] == row["neurons"] and r["threads"] == row["threads"]), None)
                if peer is None:
                    continue
                paired = sorted(row.get("paired_ratios", []))
                ratios.append({"pair": what, "neurons": row["neurons"], "threads": row["threads"],
                               "ratio": row["ns_per_update"] / peer["ns_per_update"],
                               "paired": ", ".join(f"{x:.2f}" for x in paired)})
        lines += ["Ratio NESTML GLIF / glif_psc, both driven by one dc_generator (the goal: <= 0.8 like with "
                  "like): the ratio of the medians, and the ratio within each round (sorted):", "",
                  markdown_table(ratios, [("pair", "compared", "s"), ("neurons", "N", "d"), ("threads", "threads", "d"),
                                          ("ratio", "ratio of medians", ".2f"), ("paired", "per-round ratios", "s")]),
                  "", "## Synaptic events (10k neurons x 1000 inputs at 10 Hz, 1 thread)", "",
                  "Silent GLIF4 cells (no drive) fed by parrot neurons; like with like (alpha PSCs, 2 ports). "
                  "ns / event: the time of the network minus that of the same network without its connections, "
                  "over the delivered events; bytes / synapse: the heap that connecting and NEST's preparation "
                  "at the first run add (the reference: its connection table).", "",
                  markdown_table(perf["synaptic"], [("kind", "model", "s"), ("ns_per_event", "ns / event", ".1f"),
                                            ("bytes_per_synapse", "bytes / synapse", ".1f")]), ""]
    if "fitting" in results:
        from comparisons.fitting import markdown as fitting_section
        lines += [fitting_section(results["fitting"])]
    if "network" in results:
        from comparisons.network import markdown as network_section
        lines += [network_section(results["network"])]
    if "sonata_bmtk" in results:
        from comparisons.sonata_bmtk import markdown as sonata_section
        lines += [sonata_section(results["sonata_bmtk"])]
    if "brian2" in results:
        from comparisons.brian2_speed import markdown as brian2_section
        lines += [brian2_section(results["brian2"]["agreement"], results["brian2"]["performance"],
                                 results["brian2"].get("load"))]
    if "escape_noise" in results:
        from comparisons.escape_noise import markdown as escape_noise_section
        lines += [escape_noise_section(results["escape_noise"])]
    if "chimera" in results:
        from comparisons.chimera import markdown as chimera_section
        lines += [chimera_section(results["chimera"])]
    if "figures" in results:
        lines += ["## The source document's studies (examples/, pyNN.nest)", ""]
        for name, caption in results["figures"].items():
            lines += [f"**{caption}** (`examples/{name}.py`)", "", f"![{name}]({name}.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


FIGURES = {"single_neuron": "Figure 1: one GLIF neuron under a current step",
           "conductance_network": "Figure 2: a conductance-based network driven by noise",
           "coupled_spiking": "Coupled spiking: synchrony grows with the coupling"}


def example_figures(out: Path, quick: bool) -> dict:
    """Run the three example scripts on pyNN.nest, each writing its figure into ``out``."""
    import importlib
    import sys
    examples = Path(__file__).resolve().parent.parent / "examples"
    sys.path.insert(0, str(examples))
    for name in FIGURES:
        module = importlib.import_module(name)
        module.main(["--backend", "nest", "--output", str(out / f"{name}.png")] +
                    (["--duration", "300"] if quick else []))
    return dict(FIGURES)


def brian2_available() -> bool:
    """Whether a Python that imports Brian2 exists: this one, or .venv-brian2's (comparisons.brian2_env)."""
    from comparisons.brian2_env import brian2_python
    return brian2_python() is not None


def brian2_study(quick: bool, say: Callable[[str], None]) -> dict:
    """Both Brian2 studies, in .venv-brian2 unless Brian2 imports here (comparisons.brian2_env.study)."""
    from comparisons.brian2_env import study
    return study(quick, say)


OPTIONS_FILE = "options.json"


class ResumeError(ValueError):
    """``--resume`` into a folder whose studies came from other options (or from unknown ones)."""


def check_resume(out: Path, options: dict, resume: bool) -> set[str]:
    """Create ``out`` and record the run's ``options`` in it (``options.json``, with the studies this run has
    written, none yet); return the studies that ``resume`` may read back: those an earlier run with the same
    options recorded as written (a study file another run left is run again). With ``resume``, studies there
    from other or unknown options are refused, since a resumed report would mix their figures with the new ones:
    ResumeError naming both sets of options, nothing written."""
    path = out / OPTIONS_FILE
    reusable: set[str] = set()
    if resume and out.is_dir():
        earlier = json.loads(path.read_text()) if path.is_file() else None
        studies = sorted(p.name for p in out.glob("*.json") if p.name not in (OPTIONS_FILE, "machine.json"))
        if earlier is None and studies:
            raise ResumeError(f"{out} holds studies ({', '.join(studies[:3])}{', ...' if len(studies) > 3 else ''}) "
                              f"but no {OPTIONS_FILE}, so the options they were run with are unknown; run without "
                              "--resume (every study runs again) or into a new --output folder")
        if earlier is not None:
            written = earlier.pop("studies", [])
            if earlier != options:
                raise ResumeError(f"{out} holds studies run with {_options_text(earlier)}; --resume needs the same "
                                  f"options, and these are {_options_text(options)}: give those options again, or "
                                  "run without --resume (every study runs again)")
            reusable = set(written)
    out.mkdir(parents=True, exist_ok=True)
    record_written(out, options, sorted(reusable))
    return reusable


def record_written(out: Path, options: dict, studies: list[str]) -> None:
    """``options.json``: the run's options and the studies written under them so far."""
    write_text(out / OPTIONS_FILE, json.dumps(dict(options, studies=studies), indent=1))


def _options_text(options: dict) -> str:
    quick = "--quick" if options.get("quick") else "no --quick"
    sizes = (f"{n:g}" if n < 1e5 else f"{n:.0e}".replace("e+0", "e").replace("e+", "e")     # 1e6, as --sizes takes it
             for n in options.get("sizes") or ())
    return f"{quick} and --sizes {','.join(sizes)}"


def run_all(out: Path, quick: bool = False, progress: Optional[Callable[[str], None]] = None,
            sizes: Optional[tuple] = None, resume: bool = False) -> Path:
    """Run every study and write the report into ``out`` (``quick``: small sizes, one repeat;
    ``sizes``: the numbers of isolated neurons, default 1e3 to 1e6; ``resume``: read back the studies
    that an interrupted run with the same options wrote into ``out`` (as its ``options.json`` records), and run
    only the rest; the report names the studies read back and when their files were written)."""
    import importlib.util

    from comparisons import (agreement_glif_cond, agreement_glif_psc, agreement_reference, chimera, convergence,
                             escape_noise, fitting, network, performance)
    sizes = tuple(float(n) for n in (sizes or ((1e3, 1e4) if quick else (1e3, 1e4, 1e5, 1e6))))
    options = {"quick": quick, "sizes": list(sizes)}
    reusable = check_resume(out, options, resume)
    say = progress or print
    results = {"machine": machine_description()}
    steps = [("agreement with glif_psc", lambda: agreement_glif_psc.run(progress=None)),
             ("agreement with glif_cond", lambda: agreement_glif_cond.run(progress=None)),
             ("agreement with the numpy reference", lambda: agreement_reference.run(progress=None)),
             ("convergence", lambda: convergence.run(progress=None)),
             ("the source document's studies (figures)", lambda: example_figures(out, quick)),
             ("performance", lambda: performance.run(
                 sizes=sizes, threads=(1,) if quick else (1, 2),
                 repeats=1 if quick else 3, progress=say)),
             ("escape noise: irregular firing and its cost", lambda: escape_noise.run(out, quick, say)),
             ("a recurrent network: 10k cells x 1000 inputs, each kind of cell",
              lambda: network.run(repeats=1 if quick else 3, quick=quick, progress=say))]
    keys = ["agreement_glif_psc", "agreement_glif_cond", "agreement_reference", "convergence", "figures",
            "performance", "escape_noise", "network"]
    steps.append(("fitting GLIF1-5 to a Hodgkin-Huxley neuron", lambda: fitting.run(out, quick, say)))
    keys.append("fitting")
    steps.append(("chimera states: phase diagrams on the reference, checks on pyNN.nest",
                  lambda: chimera.run(out, quick, say)))
    keys.append("chimera")
    if importlib.util.find_spec("bmtk") is not None:
        from comparisons import sonata_bmtk
        steps.append(("SONATA network against BMTK", lambda: sonata_bmtk.run(out, quick=quick, progress=say)))
        keys.append("sonata_bmtk")
    else:
        say("bmtk is not installed (the test extra): the SONATA study is left out")
    if brian2_available():
        steps.append(("Brian2 (in .venv-brian2)", lambda: brian2_study(quick, say)))
        keys.append("brian2")
    else:
        say("Brian2 does not import here and .venv-brian2 is missing (`make brian2` creates it); "
            "its study is left out")
    reused = {}
    for i, ((title, study), key) in enumerate(zip(steps, keys), 1):
        path = out / f"{key}.json"
        if resume and key in reusable and path.is_file():
            results[key] = json.loads(path.read_text())
            reused[key] = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
            say(f"[{i}/{len(steps)}] {title}: read back from {path} (written {reused[key]})")
            continue
        say(f"[{i}/{len(steps)}] {title}")
        started = time.monotonic()
        results[key] = study()
        write_text(path, json.dumps(results[key], indent=1))
        reusable.add(key)
        record_written(out, options, sorted(reusable))
        say(f"      done in {time.monotonic() - started:.0f} s")
    if reused:
        results["machine"][READ_BACK] = ", ".join(
            f"{key} ({when})" for key, when in reused.items())
    convergence_figure(results["convergence"], out / "convergence.png")
    (out / "machine.json").write_text(json.dumps(results["machine"], indent=1))
    return write_report(results, out)
