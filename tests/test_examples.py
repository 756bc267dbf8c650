"""The example scripts (the source document's studies) run briefly and save their figures.

Each runs in its own process, as a user runs it, on pyNN.nest and on glif_pynn.reference.
"""
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glif_pynn.parameters import default_parameters

pytest.importorskip("pyNN.nest")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


BACKENDS = ["nest", "reference"]


def run_example(name, tmp_path, backend, duration):
    output = tmp_path / f"{name}-{backend}.png"
    result = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--backend", backend,
                             "--duration", str(duration), "--output", str(output)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, f"{name} --backend {backend} failed:\n{result.stderr[-3000:]}"
    assert output.read_bytes()[:8] == PNG_MAGIC and output.stat().st_size > 10_000, "a real figure"
    return result.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_neuron_first_spike_is_the_analytic_crossing(tmp_path, backend):
    duration = 300.0
    out = run_example("single_neuron", tmp_path, backend, duration)
    spikes = [float(s) for s in re.search(r"spike times \(ms\):(.*)", out).group(1).split()]
    assert len(spikes) >= 3, out
    # V from v_rest under the step (default parameters, no spike yet): the crossing in closed form
    p = default_parameters("current")
    on, amplitude = 0.2 * duration, 0.3
    drive = amplitude * p["tau_m"] / p["cm"]                                   # mV
    t_cross = on - p["tau_m"] * math.log(1 - (p["v_thresh"] - p["v_rest"]) / drive)
    assert spikes[0] - 0.1 - 1e-6 < t_cross <= spikes[0] + 1e-6, (spikes[0], t_cross)
    assert on < spikes[-1] <= 0.8 * duration + 0.1, "spikes only while the step is on"


@pytest.mark.parametrize("backend", BACKENDS)
def test_conductance_network_is_active(tmp_path, backend):
    out = run_example("conductance_network", tmp_path, backend, 200.0)
    rates = re.search(r"mean rate ([0-9.]+) Hz \(exc ([0-9.]+), inh ([0-9.]+)\)", out)
    assert rates, out
    assert all(1.0 < float(r) < 200.0 for r in rates.groups()), "both populations fire, at plausible rates"


@pytest.mark.parametrize("backend", BACKENDS)
def test_coupled_spiking_synchronises_with_coupling(tmp_path, backend):
    out = run_example("coupled_spiking", tmp_path, backend, 600.0)
    chi = [float(x) for x in re.findall(r"chi = ([0-9.]+)", out)]
    sttc = [float(x) for x in re.findall(r"STTC = ([0-9.]+)", out)]
    assert len(chi) == len(sttc) == 7, out
    assert chi[0] < 0.4 and sttc[0] < 0.1, "uncoupled cells with different drives are asynchronous"
    assert chi[-1] > 0.95 and sttc[-1] > 0.9, "the strongest coupling synchronises them"


@pytest.mark.parametrize("backend", BACKENDS)
def test_irregular_firing_cv_grows_with_delta_u(tmp_path, backend):
    out = run_example("irregular_firing", tmp_path, backend, 800.0)
    constant = [float(x) for x in re.findall(r"constant input, delta_u = [0-9.]+ mV: rate [0-9.]+ Hz, ISI CV ([0-9.]+)", out)]
    fluctuating = re.findall(r"fluctuating input, delta_u = [0-9.]+ mV: rate ([0-9.]+) Hz", out)
    assert len(constant) == len(fluctuating) == 7, out
    assert constant[0] == 0.0, "the hard threshold fires like a clock under constant input"
    assert constant[-1] > 0.3, "the softest threshold fires irregularly"
