"""The module glif-pynn builds (NESTML's C++ edited by glif_pynn.codegen_patches) against NESTML's own output.

Both modules are built from the same rendered NESTML models, one with the edits and one without
(``ensure_module(edited=False)``, cached like the other; only the four 2-port models and one 4-port
model, to keep the build short). The same protocol (tests/codegen/run_model.py: dc and step
currents, excitatory and inhibitory spikes, refractoriness, GLIF5 with escape noise, 20 cells,
300 ms, parameters changed between two ``nest.Run`` calls) runs on each in its own process, and every
recorded state and every spike must be identical to the last bit. The edits may change one thing
only, the documented one: NESTML applies a spike weight w as ``(u * (0.001 * w)) * 1000.`` (u the
port's unit factor: 1 on exp ports, e / tau_syn on alpha ports), which differs from ``u * w``, what
the edited module computes, in the last bit for some weights. So weights for which the two agree
exactly (1000 times a power of two) must give identical runs on all five models; and on the exp
models (u = 1) any weights must give identical runs once the edited module is handed NESTML's
round-tripped weights ``(0.001 * w) * 1000.``, and differ otherwise: the check has the power to see
the edit. Each edit, old and new, runs in every step of these runs, so this covers all of them.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nest")
from glif_pynn import model_sources  # noqa: E402
from glif_pynn.build import ensure_module  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "codegen" / "run_model.py"
MODELS = ("glif_psc_exp_neuron", "glif_psc_alpha_neuron", "glif_cond_exp_neuron", "glif_cond_alpha_neuron",
          "glif_psc_alpha_4ports_neuron")


@pytest.fixture(scope="module")
def libraries(tmp_path_factory):
    """(edited, plain) module libraries; the plain one holds the models of MODELS only."""
    sources = tmp_path_factory.mktemp("plain_sources")
    specs = [spec for spec in model_sources.model_specs((4,)) if spec.name in MODELS]
    assert len(specs) == len(MODELS)
    model_sources.write_sources(sources, specs)
    return ensure_module(), ensure_module(model_dir=sources, edited=False)


def run(library, model, tmp_path, name, weights, round_trip=False):
    output = tmp_path / f"{name}.npz"
    command = [sys.executable, str(RUNNER), str(library), model, str(output), weights]
    if round_trip:
        command.append("round-trip")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{name} failed:\n{result.stderr[-3000:]}"
    return dict(np.load(output))


def assert_identical(a, b, what):
    assert a.keys() == b.keys()
    assert len(a["spike_times"]) > 20, f"{what}: non-trivial, the cells must fire"
    assert np.ptp(a["V_m"]) > 5.0
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=f"{what}: {name}")


@pytest.mark.parametrize("model", MODELS)
def test_edited_module_computes_what_nestml_generates(libraries, model, tmp_path):
    edited, plain = libraries
    assert_identical(run(edited, model, tmp_path, "edited", "exact"), run(plain, model, tmp_path, "plain", "exact"),
                     f"{model}, weights that NESTML converts exactly")


@pytest.mark.parametrize("model", ("glif_psc_exp_neuron", "glif_cond_exp_neuron"))
def test_the_only_difference_is_the_weight_round_trip(libraries, model, tmp_path):
    edited, plain = libraries
    nestml = run(plain, model, tmp_path, "plain", "any")
    assert_identical(run(edited, model, tmp_path, "edited-round-trip", "any", round_trip=True), nestml,
                     f"{model}, the edited module given NESTML's round-tripped weights")
    exact = run(edited, model, tmp_path, "edited", "any")
    assert any(not np.array_equal(exact[name], nestml[name]) for name in exact), \
        "with other weights the exact weights must show: otherwise this test could not see the edit"
