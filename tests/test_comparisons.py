"""The comparison studies' own claims, on small cases: exactness, convergence order, the report."""
import json
import re
import math
from pathlib import Path

import pytest

pytest.importorskip("nest")
from comparisons import convergence, report  # noqa: E402


@pytest.mark.parametrize("model", ["glif_psc_exp_neuron", "glif_psc_alpha_neuron"])
@pytest.mark.parametrize("h", [1.0, 0.1])
def test_nestml_current_flavours_are_exact_at_any_step(model, h):
    t, v = convergence._simulate(model, h)
    assert abs(v - convergence.exact_v(t, h)) < 1e-11
    assert abs(v - convergence.V_RESET) > 1.0, "non-trivial: V must have moved away from the reset value"


def test_glif_psc_converges_with_order_two():
    rows = []
    for h in (0.5, 0.1, 0.02):
        t, v = convergence._simulate("glif_psc", h)
        rows.append({"model": "glif_psc", "resolution_ms": h, "abs_error_mV": abs(v - convergence.exact_v(t, h))})
    order = convergence.observed_order(rows, "glif_psc")
    assert 1.9 < order < 2.1, order


def test_report_writes_tables_from_results(tmp_path):
    results = {"machine": {"cpu": "test"},
               "convergence": [{"model": m, "resolution_ms": h, "abs_error_mV": 1e-3 * h ** 2}
                               for m in convergence.MODELS for h in (1.0, 0.1, 0.01)]}
    text = report.write_report(results, tmp_path).read_text()
    assert "| glif_psc | 2.00 |" in text
    assert math.isclose(convergence.observed_order(results["convergence"], "glif_psc"), 2.0)


def test_every_study_in_the_report_has_its_own_section(tmp_path):
    """The SONATA study's tables once followed the network section without a header of their own."""
    study = json.loads((Path(report.__file__).parent / "report" / "sonata_bmtk.json").read_text())
    text = report.write_report({"machine": {"cpu": "test"}, "sonata_bmtk": study}, tmp_path).read_text()
    header = text.index("## A SONATA network: glif-pynn against BMTK's PointNet")
    assert header < text.index("| dt (ms) | GLIF1/3 spikes not in BMTK's step") < text.index("](sonata_bmtk.png)")


@pytest.mark.parametrize("resume", [False, True])
def test_compare_resume_reads_back_finished_studies_and_runs_the_rest(tmp_path, monkeypatch, resume):
    """`glif-pynn compare --resume`: a study whose JSON an interrupted run with the same options wrote (and
    recorded in options.json) is read back, not run again; a study file it did not record runs again; without
    --resume every study runs; options.json ends listing every study; the report names those read back."""
    import importlib
    ran, reported = [], {}
    modules = ("agreement_glif_psc", "agreement_glif_cond", "agreement_reference", "convergence", "performance",
               "escape_noise", "network", "fitting", "chimera", "sonata_bmtk")
    for name in modules:
        try:
            module = importlib.import_module(f"comparisons.{name}")
        except ImportError:  # sonata_bmtk without bmtk: the step is left out
            continue
        monkeypatch.setattr(module, "run", lambda *a, _name=name, **k: ran.append(_name) or {"ran": _name})
    monkeypatch.setattr(report, "example_figures", lambda *a: ran.append("figures") or {"ran": "figures"})
    monkeypatch.setattr(report, "brian2_available", lambda: False)
    monkeypatch.setattr(report, "convergence_figure", lambda *a: None)
    monkeypatch.setattr(report, "write_report", lambda results, out: reported.update(results) or out / "report.md")
    for name in ("agreement_glif_psc", "performance", "network"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"from": "earlier run"}))
    # the earlier run recorded the first two as written under these options; network.json came from elsewhere
    (tmp_path / report.OPTIONS_FILE).write_text(json.dumps({"quick": False, "sizes": [1e3, 1e4, 1e5, 1e6],
                                                            "studies": ["agreement_glif_psc", "performance"]}))

    report.run_all(tmp_path, resume=resume, progress=lambda line: None)

    skipped = {"agreement_glif_psc", "performance"} if resume else set()
    assert "agreement_glif_cond" in ran and "fitting" in ran and "figures" in ran and "network" in ran
    recorded = json.loads((tmp_path / report.OPTIONS_FILE).read_text())
    assert recorded["quick"] is False and set(recorded["studies"]) == set(ran) | skipped
    assert skipped.isdisjoint(ran) and len(ran) == len(set(ran))
    for name in ("agreement_glif_psc", "performance"):
        expected = {"from": "earlier run"} if resume else {"ran": name}
        assert reported[name] == expected
        assert json.loads((tmp_path / f"{name}.json").read_text()) == expected
    note = reported["machine"].get(report.READ_BACK, "")
    assert ("agreement_glif_psc (" in note and "performance (" in note) == resume
    left = sorted(p.name for p in tmp_path.iterdir())
    assert all(name.endswith(".json") and not name.startswith(".") for name in left), \
        f"each study's JSON is written whole, through a temporary file that does not stay: {left}"


def test_escape_noise_ratios_pair_the_two_builds_round_by_round():
    """The deterministic-path ratio is also given per round (both builds ran in the same round) and as the
    median of those; here the medians' ratio (1.0) and the paired median (1.1) differ on purpose."""
    import statistics

    from comparisons import escape_noise
    samples = {"NEST, hard-threshold build": [10.0, 20.0, 40.0], "NEST, delta_u = 0": [20.0, 11.0, 44.0]}
    rows = [{"kind": kind, "neurons": 10, "samples_ns": samples.get(kind, [5.0, 5.0, 5.0]),
             "ns_per_update": statistics.median(samples.get(kind, [5.0, 5.0, 5.0]))} for kind in escape_noise.KINDS]
    for ratio in escape_noise.ratios(rows):
        assert ratio["nest_deterministic_vs_hard_threshold"] == pytest.approx(1.0)
        assert ratio["nest_deterministic_vs_hard_threshold_per_round"] == pytest.approx([2.0, 0.55, 1.1])
        assert ratio["nest_deterministic_vs_hard_threshold_paired"] == pytest.approx(1.1)


def test_a_study_process_that_fails_shows_its_own_error():
    """The interleaved rounds run each measurement in a fresh process; its failure used to surface only as
    CalledProcessError with an exit status, the child's traceback captured and lost."""
    from comparisons.performance import _in_subprocess
    with pytest.raises(RuntimeError, match=r"(?s)json.loads\('\{',\) failed in its process .*JSONDecodeError"):
        _in_subprocess("json.loads", "{")


@pytest.mark.parametrize("earlier, given, says", [
    ({"quick": True, "sizes": [1e3, 1e4]}, {}, "run with --quick and --sizes 1000,10000"),
    ({"quick": False, "sizes": [1e3, 1e4]}, {}, "these are no --quick and --sizes 1000,10000,1e5,1e6"),
    ({"quick": False, "sizes": [1e3, 1e4, 1e5, 1e6]}, {"sizes": (1e3,)}, "--sizes 1000:"),
    (None, {}, "no options.json, so the options they were run with are unknown"),
])
def test_compare_resume_refuses_studies_from_other_options(tmp_path, monkeypatch, earlier, given, says):
    """`compare --resume` into a folder whose studies were run with other options (or unknown ones) would mix
    their figures into one report: it is refused before any study runs, naming both sets of options, and the
    folder is left as it was; the same options resume (the test above)."""
    monkeypatch.setattr(report, "example_figures", lambda *a: pytest.fail("a study ran"))
    (tmp_path / "agreement_glif_psc.json").write_text(json.dumps({"from": "earlier run"}))
    if earlier is not None:
        (tmp_path / report.OPTIONS_FILE).write_text(json.dumps(earlier))
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    with pytest.raises(report.ResumeError, match=re.escape(says)):
        report.run_all(tmp_path, resume=True, progress=lambda line: None, **given)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_compare_command_says_why_it_cannot_resume(tmp_path, capsys):
    """The command turns the refusal into one line on stderr and exit status 2."""
    from glif_pynn import cli
    (tmp_path / "network.json").write_text("{}")
    (tmp_path / report.OPTIONS_FILE).write_text(json.dumps({"quick": True, "sizes": [1e3, 1e4]}))
    assert cli.main(["compare", "--output", str(tmp_path), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("glif-pynn compare: ") and "--resume needs the same options" in err[0]
