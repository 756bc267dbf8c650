"""The comparison studies' own claims, on small cases: exactness, convergence order, the report."""
import math

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
