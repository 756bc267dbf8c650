"""Output handling of ``glif-pynn fit`` and FitResult.save / to_neuron_config: the output folder is checked
before the recordings are read; an earlier fit's files are replaced only with --force; a problem with the
output is one line on stderr and exit status 1, never a traceback; a new folder appears whole, and a failed
move into an existing one puts its earlier files back. Runtime ~10 s (one small GLIF1 fit and a few command
runs that stop at the output check or reuse that fit)."""
import errno
import json
import os
from pathlib import Path

import neo
import pytest

import glif_pynn.fit
import glif_pynn.fit.output as output_module
import glif_pynn.fit.result as result_module
from glif_pynn import cli
from glif_pynn.fit import fit
from glif_pynn.fit.output import OUTPUT_FILES

DT = 0.1
#: a small GLIF1 cell (PyNN units), as tests/fit_support.py
CELL = dict(cm=0.05, tau_m=20.0, v_rest=-68.0, v_thresh=-48.5, tau_refrac=4.0, delta_v=3.0, f_v=0.0,
            delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, a_theta_v=0.0, b_theta=0.009, b_theta_v=0.09,
            k_asc1=0.003, k_asc2=0.1)


@pytest.fixture(scope="module")
def sweeps():
    """Two 1.5 s sweeps of the cell driven by OU currents around its rheobase, 10 kHz."""
    from glif_pynn.fit.synthetic import glif_recording, ou_current
    rheobase = CELL["cm"] / CELL["tau_m"] * (CELL["v_thresh"] - CELL["v_rest"])
    currents = [ou_current(1500.0, DT, rheobase, 2.0 * rheobase, 3.0, seed=k) for k in range(2)]
    return glif_recording(CELL, currents, DT, 0.5, 0)


@pytest.fixture(scope="module")
def fitted(sweeps):
    return fit(sweeps, 1, generations=2, population=8)


@pytest.fixture
def recording(tmp_path, sweeps):
    block = neo.Block()
    block.segments += sweeps
    path = tmp_path / "train.pkl"
    neo.io.PickleIO(str(path)).write_block(block)
    return path


@pytest.fixture
def quick_fit(monkeypatch, fitted):
    """The command's fit, replaced by the module's result (the command imports it at each call)."""
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        return fitted
    monkeypatch.setattr(glif_pynn.fit, "fit", fake)
    return calls


def command(recording, output, *extra):
    return cli.main(["fit", str(recording), "--level", "1", "--generations", "2", "--output", str(output), *extra])


def one_line_error(capsys) -> str:
    out, err = capsys.readouterr()
    assert "reading" not in out, "the output is checked before the recordings are read"
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("glif-pynn fit: "), err
    return err


def earlier_fit(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"parameters.json": '{"earlier": true}\n', "notes.txt": "mine\n"}
    for name, text in files.items():
        (folder / name).write_text(text)
    return files


def listing(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


# -- the command: refused before reading ---------------------------------------------------------------


@pytest.mark.parametrize("where, message", [
    ("afile.json", "afile.json is a file, not a folder"),
    ("afile.json/sub", "afile.json is a file, not a folder (cannot create"),
    ("blocked", "holds a folder named fit.png"),
    ("earlier", "already holds parameters.json of an earlier fit; give --force"),
])
def test_unusable_output_is_refused_before_reading(tmp_path, capsys, where, message):
    (tmp_path / "afile.json").write_text("{}\n")
    (tmp_path / "blocked" / "fit.png").mkdir(parents=True)
    earlier_fit(tmp_path / "earlier")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    missing = tmp_path / "not-read.pkl"                 # never read: the output check comes first
    assert command(missing, tmp_path / where) == 1
    assert message in one_line_error(capsys)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before, "nothing changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile.json", "blocked", "earlier"], "no temporaries"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_output_where_nothing_can_be_created(tmp_path, capsys):
    assert command(tmp_path / "not-read.pkl", "/proc/glifout") == 1
    assert "cannot create /proc/glifout" in one_line_error(capsys)


def test_bad_recording_is_still_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "out"
    assert command(tmp_path / "missing.pkl", out) == 1
    assert "does not exist" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "the output check created nothing"


# -- the command: writing -------------------------------------------------------------------------------


def test_new_nested_folder_is_written_whole(tmp_path, recording):
    out = tmp_path / "a" / "b" / "fit"
    assert command(recording, out) == 0                  # a real (small) fit
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert json.loads((out / "parameters.json").read_text())["level"] == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["a", "b", "fit", "train.pkl", *OUTPUT_FILES])
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask()), "the usual mode, not mkdtemp's 0o700"


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_existing_folder_without_outputs_is_used_and_its_files_kept(tmp_path, recording, quick_fit):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert command(recording, out) == 0 and quick_fit
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, "notes.txt"]), "no temporaries"
    assert (out / "notes.txt").read_text() == "mine\n"


def test_force_replaces_an_earlier_fit(tmp_path, recording, quick_fit, capsys):
    out = tmp_path / "earlier"
    earlier_fit(out)
    assert command(recording, out) == 1 and not quick_fit
    assert "--force" in one_line_error(capsys)
    assert command(recording, out, "--force") == 0 and quick_fit
    assert "earlier" not in json.loads((out / "parameters.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine\n"


def test_failure_while_writing_is_one_line_and_leaves_nothing(tmp_path, recording, quick_fit, monkeypatch,
                                                              capsys):
    def full_disk(self, path, seconds=1.0):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr(result_module.FitResult, "figure", full_disk)
    out = tmp_path / "new" / "out"
    assert command(recording, out) == 1
    out_text, err = capsys.readouterr()
    assert "reading" in out_text and "Traceback" not in err and err.count("\n") == 1
    assert err.startswith(f"glif-pynn fit: could not write the fit into {out}: ") and "No space left" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.pkl"], "no folder, no temporaries"


def failing_move(monkeypatch, folder: Path, name: str):
    """os.replace fails for ``folder / name`` (the move of a finished file into place)."""
    replace = os.replace

    def fake(src, dst, **kwargs):
        if Path(dst) == folder / name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dst))
        return replace(src, dst, **kwargs)
    monkeypatch.setattr(output_module.os, "replace", fake)


def test_failed_move_puts_the_earlier_files_back(tmp_path, recording, quick_fit, monkeypatch, capsys):
    out = tmp_path / "earlier"
    earlier_fit(out)
    (out / "fit.png").write_bytes(b"old figure")
    before = listing(out)
    failing_move(monkeypatch, out, "report.md")           # after parameters.json and neuron_config.json
    assert command(recording, out, "--force") == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert "could not move report.md" in err and "it holds what it held before" in err
    assert listing(out) == before, "the earlier files are back and no new one is left"


def test_save_into_a_folder_without_earlier_files_removes_what_it_moved(tmp_path, fitted, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    failing_move(monkeypatch, out, "fit.png")
    with pytest.raises(OSError, match="could not move fit.png .* it holds what it held before"):
        fitted.save(out)
    assert list(out.iterdir()) == []


# -- the library ----------------------------------------------------------------------------------------


def test_save_refuses_before_writing(tmp_path, fitted):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError, match="afile is a file"):
        fitted.save(tmp_path / "afile" / "sub")
    earlier_fit(tmp_path / "earlier")
    with pytest.raises(FileExistsError, match="already holds parameters.json"):
        fitted.save(tmp_path / "earlier", overwrite=False)
    (tmp_path / "blocked" / "report.md").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="folder named report.md"):
        fitted.save(tmp_path / "blocked")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["afile", "blocked", "earlier", "notes.txt",
                                                           "parameters.json", "report.md"]


@pytest.mark.parametrize("where", ["", "folder"])
def test_to_neuron_config_refuses_a_folder_or_empty_path(tmp_path, fitted, where):
    (tmp_path / "folder").mkdir()
    path = str(tmp_path / where) if where else ""
    with pytest.raises(ValueError, match=f"cannot write a file at {path!r}"):
        fitted.to_neuron_config(path)


def test_to_neuron_config_errors_name_the_target(tmp_path, fitted, monkeypatch):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError, match="afile/nc.json"):
        fitted.to_neuron_config(tmp_path / "afile" / "nc.json")
    target = tmp_path / "nc.json"
    replace = os.replace

    def read_only(src, dst, **kwargs):                  # as a read-only place would answer
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(src), str(dst))
    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(PermissionError) as raised:
        fitted.to_neuron_config(target)
    monkeypatch.setattr(os, "replace", replace)
    assert raised.value.filename == str(target) and ".nc.json-" not in str(raised.value), str(raised.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"], "no temporary file left"
    assert fitted.to_neuron_config(target) == target and json.loads(target.read_text())["type"] == "GLIF"


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux /sys (no file can be created there)")
def test_to_neuron_config_in_a_read_only_place(fitted):
    with pytest.raises(OSError) as raised:
        fitted.to_neuron_config("/sys/nc.json")
    assert raised.value.filename == "/sys/nc.json", str(raised.value)
