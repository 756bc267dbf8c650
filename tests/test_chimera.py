"""The chimera set-ups (glif_pynn.chimera) and examples/chimera.py (about 30 s).

The mapping of Olmi et al.'s dimensionless LIF onto GLIF_curr_alpha against closed forms,
the ring's wiring, a short run of the example on both backends, and the documented
chimera points in a short run on both backends.
"""
import math
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from glif_pynn import chimera

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def reference():
    import glif_pynn.reference as sim
    return sim


def test_uncoupled_cell_fires_with_the_dimensionless_period():
    # x' = a - x from x = 0 reaches 1 at s = ln(a / (a - 1)); the spike is stamped at the end
    # of the step in which V crosses, so each spike lies within one step after k periods.
    sim, units = reference(), chimera.Units()
    a = 1.3
    sim.setup(timestep=0.1)
    cell = sim.Population(1, sim.GLIF_curr_alpha(**chimera.cell_parameters(units, a, 9.0)))
    cell.record("spikes")
    sim.run(200.0)
    spikes = cell.get_data().segments[0].spiketrains[0].magnitude
    sim.end()
    period = units.tau_m * math.log(a / (a - 1))
    assert len(spikes) == int(200.0 // period), spikes
    expected = period * np.arange(1, len(spikes) + 1)
    assert np.all((spikes >= expected - 1e-9) & (spikes < expected + 0.1 * np.arange(1, len(spikes) + 1) + 1e-9)), \
        (spikes, expected)


def test_one_pulse_moves_v_as_the_dimensionless_model_says():
    # A cell at rest without drive gets one pulse of coupling g spread over K inputs at s = 0
    # (a spike at 10 ms with a 0.1 ms delay):
    # x(s) = (g / K) alpha^2 / (alpha - 1)^2 (exp(-s) - exp(-alpha s) (1 + (alpha - 1) s)).
    sim, units = reference(), chimera.Units()
    g, alpha, fan_in = 0.2, 9.0, 4
    sim.setup(timestep=0.1, min_delay=0.1)
    params = chimera.cell_parameters(units, 0.0, alpha)
    cell = sim.Population(1, sim.GLIF_curr_alpha(**params))
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    sim.Projection(source, cell, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=units.weight(g, alpha, fan_in), delay=0.1), receptor_type="excitatory")
    cell.record("v")
    sim.run(100.0)
    v = cell.get_data().segments[0].filter(name="v")[0]
    sim.end()
    t, v = v.times.magnitude, v.magnitude[:, 0]
    s = (t - 10.1) / units.tau_m          # the current starts at spike time + delay (DESIGN.md, step order)
    after = s > 0
    u = s[after]
    x = (g / fan_in) * alpha ** 2 / (alpha - 1) ** 2 * (np.exp(-u) - np.exp(-alpha * u) * (1 + (alpha - 1) * u))
    assert np.ptp(v) > 0.1, "the pulse moves V"
    np.testing.assert_allclose(v[after], units.voltage(x), rtol=0, atol=1e-9,
                               err_msg="V against the closed form (exact propagators: 1e-9 mV)")
    np.testing.assert_allclose(v[~after], units.v_rest, rtol=0, atol=1e-12)


def test_ring_wiring_and_bad_set_ups():
    ring = chimera.Ring(n=50, coupling_range=0.1)
    pairs = ring.connections()
    assert ring.neighbours == 5 and len(pairs) == 50 * 10
    for post in (0, 17, 49):
        pre = np.sort(pairs[pairs[:, 1] == post, 0])
        distance = np.minimum(np.abs(pre - post), 50 - np.abs(pre - post))
        np.testing.assert_array_equal(np.sort(distance), np.repeat(np.arange(1, 6), 2),
                                      err_msg=f"cell {post}: its 5 neighbours on each side, not itself")
    with pytest.raises(ValueError, match="coupling_range"):
        chimera.Ring(n=50, coupling_range=0.5)
    with pytest.raises(ValueError, match="unknown mechanism"):
        chimera.cell_parameters(chimera.Units(), 1.3, 9.0, "GLIF9")
    with pytest.raises(ValueError, match="duration"):
        chimera.run(reference(), reference(), ring, 0.0, seed=0)


@pytest.mark.parametrize("make, message", [
    (lambda: chimera.TwoPopulations(g_cross=-0.05), "g_cross must be a finite coupling >= 0"),
    (lambda: chimera.TwoPopulations(g_self=float("nan")), "g_self must be a finite coupling >= 0"),
    (lambda: chimera.TwoPopulations(n=0), "at least 1 cell, got n = 0"),
    (lambda: chimera.TwoPopulations(n=2.5), "whole number"),
    (lambda: chimera.TwoPopulations(alpha=0.0), "alpha must be > 0"),
    (lambda: chimera.Ring(g=-0.2), "g must be a finite coupling >= 0"),
    (lambda: chimera.Ring(a=float("inf")), "a \\(the drive\\) must be a finite number"),
    (lambda: chimera.Ring(mechanism="GLIF9"), "unknown mechanism 'GLIF9'"),
    (lambda: chimera.schedule(float("nan")), "duration must be > 0 ms"),
])
def test_bad_set_ups_are_refused_when_made(make, message):
    """Before, a negative g_cross was silently not connected, and n = 0 or alpha = 0 failed inside PyNN."""
    with pytest.raises(ValueError, match=message):
        make()


def test_mechanisms_with_their_own_rates_share_one_batch_and_each_run_stays_its_own(monkeypatch):
    """run_batch puts every cell in one Population: a mechanism whose rate the others lack used to end in
    PyNN's 'Lazy array has fixed shape'. Each network of a batch fires as it does alone."""
    monkeypatch.setitem(chimera.MECHANISMS, "ASC_fast", {"delta_asc1": -0.02, "k_asc1": 0.1})
    runs = [(chimera.Ring(n=20, coupling_range=0.1, mechanism=m), 1) for m in ("LIF", "ASC", "ASC_fast")]
    batch = chimera.run_batch(reference(), reference(), runs, 300.0)
    for (setup, seed), trains in zip(runs, batch):
        alone = chimera.run(reference(), reference(), setup, 300.0, seed)
        assert sum(len(t) for t in trains) > 100, "the cells fire"
        for a, b in zip(trains, alone):
            np.testing.assert_array_equal(a.magnitude, b.magnitude, err_msg=setup.mechanism)
    assert any(not np.array_equal(a.magnitude, b.magnitude) for a, b in zip(batch[0], batch[2])), \
        "the mechanism changes the spike times"


def test_analyses_refuse_trains_and_windows_that_do_not_fit():
    trains = [np.arange(1.0, 500.0, 25.0 + i) for i in range(6)]
    with pytest.raises(ValueError, match="give 2 n spike trains .*n = 2, 6 trains"):
        chimera.analyse_two_populations(trains, 2, 0.0, 500.0)
    with pytest.raises(ValueError, match="windows must be a whole number >= 1, got 0"):
        chimera.analyse_two_populations(trains, 3, 0.0, 500.0, windows=0)
    with pytest.raises(ValueError, match="sample_ms must be > 0, got 0"):
        chimera.analyse_two_populations(trains, 3, 0.0, 500.0, sample_ms=0.0)
    with pytest.raises(ValueError, match="1000 windows of .* samples leave fewer than 2"):
        chimera.analyse_two_populations(trains, 3, 0.0, 500.0, windows=1000)


@pytest.mark.parametrize("backend", ["reference", "nest"])
def test_example_runs_and_writes_its_figure(tmp_path, backend):
    """A smoke test of the example: so small and short a run need not be a chimera (0/1 windows passes);
    the documented points are held to it below."""
    if backend == "nest":
        pytest.importorskip("pyNN.nest")
    output = tmp_path / f"chimera-{backend}.png"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "chimera.py"), "--backend", backend,
                             "--duration", "1500", "--ring-n", "100", "--n", "50", "--output", str(output)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert output.read_bytes()[:8] == PNG_MAGIC and output.stat().st_size > 50_000, "a real figure"
    for name in ("ring", "two populations"):
        line = re.search(rf"^{name}: chimera in (\d)/1 windows", result.stdout, re.M)
        assert line, result.stdout
    rates = [float(r) for line in re.findall(r"rates? ([0-9./]+) Hz", result.stdout) for r in line.split("/")]
    assert len(rates) == 3 and all(30.0 < r < 50.0 for r in rates), ("the ring's rate and both populations'",
                                                                      result.stdout)


def backend(name):
    """(sim, cells) of the PyNN backend ``name``."""
    if name == "nest":
        pytest.importorskip("pyNN.nest")
        import pyNN.nest as sim
        import glif_pynn.nest as cells
        return sim, cells
    return reference(), reference()


@pytest.mark.parametrize("name", ["reference", "nest"])
def test_the_documented_chimera_points_show_both_domains_in_a_short_run(name):
    sim, cells = backend(name)
    duration = 4000.0
    ring, two = chimera.RING_CHIMERA, chimera.TWO_CHIMERA
    # the same populations with equal coupling within and between are one population: no chimera
    same = replace(two, g_cross=two.g_self)
    ring_trains, two_trains, same_trains = chimera.run_batch(sim, cells, [(ring, 0), (two, 0), (same, 0)], duration)
    transient, windows = chimera.schedule(duration)
    assert (transient, windows) == (2000.0, 1)
    ring_run = chimera.analyse_ring(ring_trains, transient, duration, windows)
    s = ring_run.summary
    assert ring_run.states == ["chimera"], s
    assert s["largest_coherent"] >= 0.1 and s["largest_incoherent"] >= 0.1, s
    # the incoherent cells drift ahead of the coherent domain (the arc of the omega profile)
    assert s["omega_incoherent_minus_coherent"] > 1.0, s
    two_run = chimera.analyse_two_populations(two_trains, two.n, transient, duration, windows)
    r = sorted(two_run.summary["order_mean"])
    assert two_run.states == ["chimera"] and r[1] >= 0.99 and r[0] < 0.9, two_run.summary
    uniform = chimera.analyse_two_populations(same_trains, two.n, transient, duration)
    assert uniform.states != ["chimera"], uniform.summary


def test_report_section_and_figures_render_from_results(tmp_path):
    """comparisons/chimera.py's markdown and figures from made-up rows (the study itself is
    `glif-pynn compare`): every point's state and chimera count reaches the table and the diagram."""
    from comparisons import chimera as study
    from comparisons.chimera_figures import diagram_figure, variants_figure
    grid_ring = {"g": (0.1, 0.2, 0.3), "coupling_range": (0.2,)}
    grid_two = {"g_self": (0.1,), "ratio": (0.5,)}
    # g = 0.3: a tie, one seed a chimera and one coherent, which the count of chimera points leaves out
    ring_rows = [{"g": g, "coupling_range": 0.2,
                  "final_state": "chimera" if g == 0.2 or (g == 0.3 and s == 0) else "synchronous" if g == 0.1 else
                  "coherent", "persistent_chimera": g == 0.2} for g in (0.1, 0.2, 0.3) for s in range(2)]
    two_rows = [{"g_self": 0.1, "ratio": 0.5, "g_cross": 0.05, "final_state": "chimera", "persistent_chimera": s == 0}
                for s in range(2)]
    check_rows = [{"setup": "Ring", "g": 0.2, "coupling_range": 0.2, "final_state": "chimera",
                   "persistent_chimera": True} for _ in range(5)]
    check = {b: {"rows": check_rows, "wall_s": 1.0,
                 "points": study._points(check_rows, ("setup", "g", "coupling_range", "g_self", "g_cross"))}
             for b in ("reference", "nest")}
    variant_rows = [{"mechanism": m, "g": 0.2, "final_state": "chimera", "persistent_chimera": True}
                    for m in chimera.MECHANISMS]
    result = {
        "check": {**check, "same_spikes": [True] * 5, "duration_ms": 6000.0},
        "ring": {"grid": grid_ring, "seeds": 2, "duration_ms": 6000.0, "wall_s": 2.0, "cells": 2400, "rows": ring_rows,
                 "points": study._points(ring_rows, ("g", "coupling_range"))},
        "two": {"grid": grid_two, "seeds": 2, "duration_ms": 6000.0, "wall_s": 2.0, "cells": 800, "rows": two_rows,
                "points": study._points(two_rows, ("g_self", "ratio"))},
        "variants": {"seeds": 1, "wall_s": 3.0, "ring": study._points(variant_rows, ("mechanism", "g")),
                     "two": study._points([{**r, "g_cross": 0.05} for r in variant_rows], ("mechanism", "g_cross")),
                     "ring_rate_hz": {m: 40.0 for m in chimera.MECHANISMS}},
        "wall_s": 9.0, "load_average_at_start": "0 0 0"}
    text = study.markdown(result)
    assert "| Ring | g = 0.2, r = 0.2 | nest | 5/5 | chimera x5 |" in text, text
    assert "in 5 of 5 networks" in text and "Most seeds end in a chimera at 1 of 3 points of the ring" in text, text
    assert "| ASC | 0.2: 1/1 |" in text, text
    from comparisons import report
    written = report.write_report({"machine": {"cpu": "test"}, "chimera": result}, tmp_path).read_text()
    assert text in written, "glif-pynn compare's report.md carries the chimera section"
    diagram_figure(result, tmp_path / "diagram.png")
    variants_figure(result["variants"], tmp_path / "variants.png")
    for name in ("diagram.png", "variants.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC


def test_study_rows_name_the_whole_window_state_apart_from_the_last_window(monkeypatch):
    """A run that is fragmented, then synchronous, can classify as 'chimera' over the whole window;
    the study's rows must not present that as the run's state."""
    from types import SimpleNamespace
    from comparisons import chimera as study
    run = SimpleNamespace(summary={"state": "chimera", "rate_hz": 40.0}, states=["fragmented", "synchronous"],
                          persistent_chimera=False)
    monkeypatch.setattr(chimera, "analyse_ring", lambda *args, **kwargs: run)
    row = study._analyse(chimera.RING_CHIMERA, [], 8000.0)
    assert "state" not in row, row
    assert (row["whole_window_state"], row["final_state"], row["persistent_chimera"]) == \
        ("chimera", "synchronous", False), row
