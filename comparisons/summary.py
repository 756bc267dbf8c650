"""The headline figures of a comparison report, for README.md and the documentation.

Everything here is computed from the JSON files that ``glif-pynn compare`` writes
(``comparisons/report/`` holds the last full run), so that no measured figure is
written by hand twice. README.md carries :func:`headline_markdown` between two marker
lines; ``python -m comparisons.summary`` rewrites that block after a new report, and
``tests/test_docs.py`` fails while README.md and the report disagree.
"""
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

from comparisons.performance import LIKE_WITH_LIKE, SYNAPTIC_KINDS
from comparisons.tables import markdown_table

REPORT_DIR = Path(__file__).resolve().parent / "report"
README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- headline: generated from comparisons/report/*.json by `python -m comparisons.summary`; do not edit -->"
END = "<!-- end of headline -->"

NESTML_DC, GLIF_PSC_DC = "NESTML GLIF, dc_generator", "NEST glif_psc, dc_generator"
#: the machine entry of a resumed report (comparisons.report.run_all)
READ_BACK = "studies read back from an earlier run (file written)"
#: the machine entry naming the studies measured again alone after the run, each with its date and load
RUN_AGAIN = "studies run again alone, later"
NESTML_IE, IAF_IE, REFERENCE = "NESTML GLIF, I_e", "NEST iaf_psc_exp, I_e", "numpy reference"
#: the synaptic-event study's NESTML and glif_psc kinds (like with like)
NESTML_SYNAPTIC, GLIF_PSC_SYNAPTIC = SYNAPTIC_KINDS


def load_report(report_dir: Path = REPORT_DIR) -> dict:
    """Every ``<study>.json`` of a report directory, by study name."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(Path(report_dir).glob("*.json"))}


def _n(value: float) -> str:
    """Neuron counts as in the text: 1000 -> 1e3."""
    exponent = math.log10(value)
    return f"1e{exponent:.0f}" if exponent == int(exponent) else f"{value:g}"


def _agreement(rows: list[dict], theirs: str) -> str:
    """One cell: spike counts, coincidence factors and spike shifts of an agreement study."""
    same = sum(r["spikes_nestml"] == r[theirs] for r in rows)
    perfect = sum(round(r["coincidence_factor_2ms"], 3) == 1.0 for r in rows)
    lowest = min(r["coincidence_factor_2ms"] for r in rows)
    # an extra spike shifts every later match: the shifts mean something where the counts agree
    shifts = {h: max(r["mean_abs_spike_dt_ms"] for r in rows if r["resolution_ms"] == h
                     and r["spikes_nestml"] == r[theirs]) for h in (0.1, 0.01)}
    gamma = f"Gamma = 1.000 in {perfect} of {len(rows)}" + ("" if perfect == len(rows) else f" (lowest {lowest:.3f})")
    return (f"equal spike counts in {same} of {len(rows)} runs; {gamma}; mean spike shift "
            f"{'' if same == len(rows) else 'where the counts are equal '}at most "
            f"{shifts[0.1]:.2g} ms at h = 0.1 ms, {shifts[0.01]:.2g} ms at h = 0.01 ms")


def _reference(rows: list[dict]) -> str:
    same = sum(bool(r["same_spike_steps"]) for r in rows)
    dv = {kind: max(r["max_abs_dv_mV"] for r in rows if r["cell_type"].startswith(f"GLIF_{kind}")
                    and not math.isnan(r["max_abs_dv_mV"])) for kind in ("curr", "cond")}
    return (f"same spike steps in {same} of {len(rows)} runs; max abs dV {dv['curr']:.0e} mV (current types), "
            f"{dv['cond']:.0e} mV (conductance types, NEST's GSL tolerance)")


def _convergence(rows: list[dict]) -> str:
    from comparisons.convergence import observed_order   # no NEST import: pure arithmetic on the rows
    at = {r["model"]: r["abs_error_mV"] for r in rows if r["resolution_ms"] == 0.1}
    exact = max(v for k, v in at.items() if k.startswith("glif_psc_"))
    return (f"NESTML current types {exact:.0e} mV (exact to rounding); NEST glif_psc {at['glif_psc']:.1e} mV, "
            f"order {observed_order(rows, 'glif_psc'):.2f}")


def _isolated(perf: dict, kind: str, neurons: int, threads: int) -> Optional[dict]:
    return next((r for r in perf["isolated"] if r["kind"] == kind and r["neurons"] == neurons
                 and r["threads"] == threads), None)


def _speed(perf: dict) -> str:
    n = max(r["neurons"] for r in perf["isolated"])
    ours, theirs = _isolated(perf, NESTML_DC, n, 1), _isolated(perf, GLIF_PSC_DC, n, 1)
    ratios = [r["ns_per_update"] / _isolated(perf, GLIF_PSC_DC, r["neurons"], r["threads"])["ns_per_update"]
              for r in perf["isolated"] if r["kind"] == NESTML_DC]
    return (f"{_n(n)} neurons, 1 thread: NESTML {ours['ns_per_update']:.0f}, glif_psc {theirs['ns_per_update']:.0f} "
            f"ns per neuron-update; ratio of medians {min(ratios):.2f}-{max(ratios):.2f} over "
            f"{_n(min(r['neurons'] for r in perf['isolated']))}-{_n(n)} neurons, 1-2 threads" + _like_with_like(perf))


def _like_with_like(perf: dict) -> str:
    """The ratios of the like-with-like pair (alpha PSCs, 2 ports, GLIF4) at 1 thread, where measured."""
    pairs = [(n, _isolated(perf, LIKE_WITH_LIKE[0], n, 1), _isolated(perf, LIKE_WITH_LIKE[1], n, 1))
             for n in sorted({r["neurons"] for r in perf["isolated"]})]
    cells = [f"{ours['ns_per_update'] / theirs['ns_per_update']:.2f} ({_n(n)})" for n, ours, theirs in pairs
             if ours and theirs]
    return f"; like with like (alpha PSCs, 2 ports, GLIF4, 1 thread): {', '.join(cells)}" if cells else ""


def _network(result: dict) -> str:
    """The recurrent network's simulation-time ratios to glif_psc (PyNEST) and its firing."""
    from comparisons.network import PEER
    rows = {r["kind"]: r for r in result["rows"] if r["api"] == "PyNEST"}
    ours = rows["NESTML GLIF"]
    others = ", ".join(f"{kind} {row['sim_s_ratio']:.2f}" for kind, row in rows.items()
                       if kind not in ("NESTML GLIF", PEER))
    per_event = "" if "ns_per_event_ratio" not in ours else f", {ours['ns_per_event_ratio']:.2f} per delivered spike"
    return (f"NESTML {ours['sim_s_ratio']:.2f}x {PEER}'s simulation time{per_event} ({others}); "
            f"{ours['rate_hz']:.1f} Hz ({PEER} {rows[PEER]['rate_hz']:.1f}), ISI CV {ours['cv_isi']:.2f}; 10k cells x "
            f"1000 inputs, PyNEST, medians of {result['repeats']} rounds" +
            (", a network per round" if len(set(ours.get("seeds") or [None])) > 1 else ""))


def _escape_noise(result: dict) -> str:
    """Noise on / off at an equal rate, and the deterministic path against a build without noise code."""
    from comparisons.escape_noise import NOISE, ratios
    equal_rate = min(NOISE, key=NOISE.get)        # the lowest lambda0: noisy cells fire at the deterministic rate
    # derived from the measured rows, so a study file written before a ratio existed gives it too
    rows = [r for r in ratios(result["bench"]["rows"]) if r["noise"] == equal_rate]
    on_off = "; ".join(f"{_n(r['neurons'])}: NEST {r['nest_noise_on_vs_off']:.2f}, reference "
                       f"{r['reference_noise_on_vs_off']:.2f}" for r in rows)
    hard = ", ".join(f"{r['nest_deterministic_vs_hard_threshold']:.2f}" for r in rows)
    paired = ", ".join(f"{r['nest_deterministic_vs_hard_threshold_paired']:.2f}" for r in rows)
    return (f"noise on / off at an equal rate ({equal_rate}) {on_off}; NEST's deterministic path {hard} of a "
            f"build without the noise code (medians of the rounds' ratios {paired})")


def _fitting(result: dict) -> str:
    best = next(r for r in result["rows"] if r["level"] == result["best_level"])
    agreement = result.get("self_agreement")
    itself = "" if agreement is None else (
        f"; the cell scores as much against itself with {agreement['best_level_noise_pA']:.0f} pA of extra input "
        f"noise (the goal: {agreement['goal_noise_pA']:.0f} pA)")
    return ("held-out Gamma (+-2 ms) GLIF1-5 " + ", ".join(f"{r['test_gamma']:.2f}" for r in result["rows"])
            + f"; best GLIF{best['level']} (goal {result['goal']:.1f}; published threshold models 0.7-0.8){itself}; "
            f"GLIF5 fit {best['fit_seconds']:.0f} s")


def _memory(perf: dict) -> str:
    n = max(r["neurons"] for r in perf["isolated"])
    per_neuron = {kind: _isolated(perf, kind, n, 1)["bytes_per_neuron"] / 1e3 for kind in (NESTML_DC, GLIF_PSC_DC)}
    events = {r["kind"]: r for r in perf["synaptic"]}
    return (f"{per_neuron[NESTML_DC]:.2f} kB per NESTML neuron, {per_neuron[GLIF_PSC_DC]:.2f} per glif_psc; "
            f"{events[NESTML_SYNAPTIC]['bytes_per_synapse']:.0f} B per synapse (numpy reference "
            f"{events[REFERENCE]['bytes_per_synapse']:.0f})")


def _events(perf: dict) -> str:
    events = {r["kind"]: r["ns_per_event"] for r in perf["synaptic"]}
    return (f"NESTML {events[NESTML_SYNAPTIC]:.0f}, glif_psc {events[GLIF_PSC_SYNAPTIC]:.0f}, numpy reference "
            f"{events[REFERENCE]:.0f} ns per event (10k silent neurons x 1000 inputs at 10 Hz; alpha PSCs, "
            f"2 ports on both)")


def headline_markdown(report_dir: Path = REPORT_DIR) -> str:
    """The headline figures as a Markdown table and a line naming the machine."""
    report = load_report(report_dir)
    rows = [("NESTML vs NEST `glif_psc`, GLIF1-4", _agreement(report["agreement_glif_psc"], "spikes_glif_psc")),
            ("NESTML vs NEST `glif_cond`, GLIF1-4", _agreement(report["agreement_glif_cond"], "spikes_glif_cond")),
            ("pyNN.nest vs the numpy reference, same script", _reference(report["agreement_reference"])),
            ("V error at h = 0.1 ms", _convergence(report["convergence"])),
            ("speed (isolated neurons)", _speed(report["performance"])),
            ("memory", _memory(report["performance"])),
            ("synaptic events", _events(report["performance"]))]
    optional = [("recurrent network", "network", _network), ("escape noise cost", "escape_noise", _escape_noise),
                ("fitting a Hodgkin-Huxley cell", "fitting", _fitting)]
    rows += [(what, summary(report[study])) for what, study, summary in optional if study in report]
    machine = report["machine"]
    return "\n".join([
        markdown_table([{"what": what, "result": result} for what, result in rows],
                       [("what", "study", "s"), ("result", "result", "s")]), "",
        f"Measured on {machine['cores']} cores ({machine['cpu']}), NEST {machine['nest-simulator']}, "
        f"NESTML {machine['nestml']}, PyNN {machine['PyNN']}, {_dates(machine)}, load average "
        f"{machine['load average at start'].split()[0]} at the start" +
        ("; studies run again alone later, each with its own date and load: the report's header." if
         machine.get(RUN_AGAIN) else ".")])


def _dates(machine: dict) -> str:
    """The run's date; for a resumed run, the span from the first study read back, and how many were."""
    read_back = machine.get(READ_BACK)
    if not read_back:
        return machine["date"][:10]
    dates = sorted({part.rsplit("(", 1)[1][:10] for part in read_back.split(", ")} | {machine["date"][:10]})
    return (f"{dates[0]} to {dates[-1]} (`glif-pynn compare --resume`: {len(read_back.split(', '))} studies read "
            f"back from earlier, interrupted runs)" if len(dates) > 1 else dates[0])


def levels_markdown(study: str = "agreement_glif_psc", report_dir: Path = REPORT_DIR) -> str:
    """Per GLIF level of an agreement study (``agreement_glif_psc`` or ``agreement_glif_cond``): spike
    counts, the lowest coincidence factor, the largest spike shift and V RMSE at each step size."""
    rows = load_report(report_dir)[study]
    theirs = "spikes_glif_psc" if study == "agreement_glif_psc" else "spikes_glif_cond"
    out = []
    for level in sorted({r["level"] for r in rows}):
        runs = [r for r in rows if r["level"] == level]
        at = {h: [r for r in runs if r["resolution_ms"] == h] for h in (0.1, 0.01)}
        out.append({"level": level, "equal": f"{sum(r['spikes_nestml'] == r[theirs] for r in runs)} of {len(runs)}",
                    "gamma": min(r["coincidence_factor_2ms"] for r in runs),
                    **{f"dt{h}": max(r["max_abs_spike_dt_ms"] for r in at[h]) for h in at},
                    **{f"v{h}": max(r["v_rmse_mV"] for r in at[h]) for h in at}})
    return markdown_table(out, [
        ("level", "level", "s"), ("equal", "equal spike counts", "s"), ("gamma", "lowest Gamma", ".3f"),
        ("dt0.1", r"max \|dt\| (ms), h = 0.1", ".2g"), ("dt0.01", r"max \|dt\| (ms), h = 0.01", ".2g"),
        ("v0.1", "max V RMSE (mV), h = 0.1", ".2g"), ("v0.01", "max V RMSE (mV), h = 0.01", ".2g")])


def speed_markdown(report_dir: Path = REPORT_DIR) -> str:
    """ns per neuron-update by size and threads, NESTML against glif_psc and its peers (one table)."""
    perf = load_report(report_dir)["performance"]
    rows = []
    for ours in (r for r in perf["isolated"] if r["kind"] == NESTML_DC):
        key = (ours["neurons"], ours["threads"])
        peer = _isolated(perf, GLIF_PSC_DC, *key)
        paired = ours.get("paired_ratios") or []
        cells = {kind: _isolated(perf, kind, *key) for kind in (NESTML_IE, IAF_IE, REFERENCE)}
        alike = [_isolated(perf, kind, *key) for kind in LIKE_WITH_LIKE]
        like = (f"{alike[0]['ns_per_update'] / alike[1]['ns_per_update']:.2f}" if all(alike) else "not measured")
        rows.append({"n": _n(key[0]), "threads": key[1], "ours": ours["ns_per_update"], "peer": peer["ns_per_update"],
                     "ratio": f"{ours['ns_per_update'] / peer['ns_per_update']:.2f}"
                              + (f" ({min(paired):.2f}-{max(paired):.2f})" if paired else ""),
                     "like": like, **{kind: cell["ns_per_update"] if cell else None for kind, cell in cells.items()}})
    return markdown_table(rows, [
        ("n", "N", "s"), ("threads", "threads", "d"), ("ours", "NESTML, dc_generator", ".1f"),
        ("peer", "glif_psc, dc_generator", ".1f"), ("ratio", "ratio (per round)", "s"),
        ("like", "ratio like with like (alpha, 2 ports)", "s"),
        ("NESTML GLIF, I_e", "NESTML, I_e", ".1f"), ("NEST iaf_psc_exp, I_e", "iaf_psc_exp, I_e", ".1f"),
        ("numpy reference", "numpy reference", ".1f")])


def network_markdown(report_dir: Path = REPORT_DIR) -> str:
    """The recurrent network's tables (PyNEST and PyNN) of the report."""
    from comparisons.network import tables
    return tables(load_report(report_dir)["network"], heading="")


def readme_block(text: str) -> tuple[int, int]:
    """Start and end offsets of the generated block's body in README text (between the markers)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the headline markers ({BEGIN!r} ... {END!r}); put them back "
                         "where the headline figures belong")
    return start + len(BEGIN) + 1, end


def update_readme(readme: Path = README, report_dir: Path = REPORT_DIR) -> bool:
    """Rewrite README's headline block from the report; True when the text changed."""
    text = readme.read_text()
    start, end = readme_block(text)
    new = text[:start] + headline_markdown(report_dir) + "\n" + text[end:]
    if new == text:
        return False
    handle, tmp = tempfile.mkstemp(dir=readme.parent, prefix=".README.", suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        out.write(new)
    os.replace(tmp, readme)
    return True


if __name__ == "__main__":
    changed = update_readme()
    print(f"README.md headline {'rewritten from' if changed else 'already matches'} {REPORT_DIR}")
    sys.exit(0)
