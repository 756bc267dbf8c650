"""The command line prints its own lines, and the user's warnings, but not NEST's or pyNN's chatter.

Each command runs as a user runs it, in a fresh process with an environment that does
not ask NEST for quiet (about 4 s each on pyNN.nest). A control run does the same
imports and calls without the command line, so that the test fails if NEST or pyNN
stop printing these lines (and the absence below would prove nothing).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyNN.nest")

ROOT = Path(__file__).resolve().parent.parent
ALLEN_GLIF1 = ROOT / "tests" / "data" / "allen" / "464198958_566291893.json"     # tau_refrac = 4.15 ms
NOISE = {"NEST's banner": "N E S T",
         "pyNN's nest-config warning": "Cannot find nest-config",
         "NEST's deprecation warnings": "is deprecated and will be removed in a future version of NEST",
         "NEST's backward-compatibility warning": "Provided for backward compatibility only"}


def run(args, tmp_path, path_first=None):
    env = {k: v for k, v in os.environ.items() if k != "PYNEST_QUIET"}
    if path_first:     # e.g. an activated virtual environment, whose bin/ holds the wheel's nest-config
        env["PATH"] = os.pathsep.join([path_first, env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=600)
    assert result.returncode == 0, f"{args} failed:\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def test_without_the_command_line_nest_and_pynn_print_all_of_it(tmp_path):
    """The control: the same chatter appears when nothing silences it."""
    out = run(["-c", "import pyNN.nest as sim; import glif_pynn.nest as g; sim.setup(timestep=0.1); "
                     "p = sim.Population(1, g.GLIF_curr_exp()); sim.DCSource(amplitude=0.3).inject_into(p); "
                     "p.record('v'); sim.run(5.0); p.get_data()"], tmp_path)
    shown = [name for name, text in NOISE.items() if text not in out]
    assert shown == [], f"the control run lacks {shown}: NEST or pyNN changed what they print\n{out}"


def test_demo_prints_no_third_party_chatter(tmp_path):
    out = run(["-m", "glif_pynn.cli", "demo", "--duration", "50", "--output", str(tmp_path / "demo.png")], tmp_path)
    assert "spike times (ms):" in out, f"non-trivial: the demo ran and printed its result\n{out}"
    printed = [name for name, text in NOISE.items() if text in out]
    assert not printed, f"glif-pynn demo printed {printed}:\n{out}"


def test_allen_keeps_the_warning_about_the_users_time_step(tmp_path):
    out = run(["-m", "glif_pynn.cli", "allen", str(ALLEN_GLIF1), "--dt", "0.02", "--duration", "50",
               "--output", str(tmp_path / "allen.png")], tmp_path)
    assert "tau_refrac = 4.15 ms is not a multiple of dt = 0.02 ms" in out, \
        f"the warning about the user's --dt must still show:\n{out}"
    assert "spike times (ms):" in out, out
    printed = [name for name, text in NOISE.items() if text in out]
    assert not printed, f"glif-pynn allen printed {printed}:\n{out}"


def test_with_the_environment_activated_pynn_warns_about_cmake_and_the_command_line_hides_it(tmp_path):
    """With .venv/bin on PATH pyNN finds the wheel's nest-config, tries to build its extensions with CMake
    and prints a "CMake Error" block; the command line hides that too."""
    venv_bin = str(Path(sys.executable).parent)
    control = run(["-c", "import pyNN.nest"], tmp_path, path_first=venv_bin)
    assert "Problem running cmake" in control, f"the control lacks pyNN's CMake warning:\n{control}"
    out = run(["-m", "glif_pynn.cli", "demo", "--duration", "50", "--output", str(tmp_path / "demo.png")], tmp_path,
              path_first=venv_bin)
    assert "spike times (ms):" in out and "Problem running cmake" not in out and "CMake Error" not in out, out
