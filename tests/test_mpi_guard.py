"""glif_pynn.nest.mpi's decisions, on the single-process wheel (the MPI tier, tests/test_mpi.py, runs them on
2 ranks where .venv-mpi exists): when compressed spikes are turned off, and for which kernels."""
import json
import subprocess
import sys

import pytest

from glif_pynn.nest import mpi

pytest.importorskip("nest")


@pytest.mark.parametrize("choice, processes, needed", [
    ("auto", 1, False), ("on", 1, False), ("off", 1, False),
    ("auto", 2, True), ("on", 2, True), ("off", 2, False), (" ON ", 2, True),
])
def test_workaround_needed_on_the_unpatched_wheel(monkeypatch, choice, processes, needed):
    monkeypatch.setenv(mpi.OVERRIDE_VARIABLE, choice)
    monkeypatch.delenv(mpi.UNFIX_VARIABLE, raising=False)
    assert not mpi.kernel_has_fix(), "the pip wheel carries no fix"
    assert mpi.workaround_needed(processes) is needed


def test_an_unknown_override_is_refused(monkeypatch):
    monkeypatch.setenv(mpi.OVERRIDE_VARIABLE, "maybe")
    with pytest.raises(ValueError, match="GLIF_PYNN_MPI_WORKAROUND='maybe' is not understood: use auto, on or off"):
        mpi.workaround_needed(2)


def test_the_kernels_test_switch_counts_when_set_at_all(monkeypatch, tmp_path):
    """The patched kernel tests getenv(...) != nullptr: an empty value unfixes it too."""
    library = tmp_path / "libnestkernel_fake.so"
    source = tmp_path / "fake.c"
    source.write_text(f"int {mpi.FIX_SYMBOL} = 1;\n")
    if subprocess.run(["cc", "-shared", "-fPIC", "-o", str(library), str(source)]).returncode:
        pytest.skip("no C compiler")
    monkeypatch.delenv(mpi.UNFIX_VARIABLE, raising=False)
    assert mpi.kernel_has_fix([library])
    monkeypatch.setenv(mpi.UNFIX_VARIABLE, "")
    assert not mpi.kernel_has_fix([library])


IMPORT_AFTER_SETUP = """
import json, warnings
import nest
nest.__dict__["NumProcesses"] = lambda: 2   # as on 2 MPI ranks (protect() asks only this)
import pyNN.nest as sim
sim.setup(timestep=0.1)
if {connect}:
    cells = nest.Create("iaf_psc_alpha", 2)
    nest.Connect(cells, cells)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import glif_pynn.nest
print("RESULT " + json.dumps({{"compressed": nest.use_compressed_spikes,
                               "warnings": [str(w.message) for w in caught if "target-exchange" in str(w.message)]}}))
"""


@pytest.mark.parametrize("connect", [False, True])
def test_importing_after_setup_still_guards_the_kernel(connect):
    """Imported after setup(), glif_pynn.nest turns compressed spikes off while it can, and says so loudly
    when connections already exist (it used to do neither: only setup()'s own step guarded the kernel)."""
    out = subprocess.run([sys.executable, "-c", IMPORT_AFTER_SETUP.format(connect=connect)], capture_output=True,
                         text=True, env={**__import__("os").environ, mpi.OVERRIDE_VARIABLE: "auto"})
    line = next((li for li in out.stdout.splitlines() if li.startswith("RESULT ")), None)
    assert line is not None, out.stderr[-2000:]
    result = json.loads(line[len("RESULT "):])
    if connect:
        assert result["compressed"] is True
        assert len(result["warnings"]) == 1 and "imported after connections were made" in result["warnings"][0]
    else:
        assert result["compressed"] is False
        assert len(result["warnings"]) == 1 and "compressed spikes are turned off" in result["warnings"][0]
