"""Bad command-line numbers are refused by argparse with a message naming the option (exit 2), before
anything runs: they used to end in tracebacks from numpy, statistics or PyNN (a negative size, zero
repeats, a negative duration) or to run with nonsense (a NaN amplitude, a negative duration)."""
import pytest

from glif_pynn import cli


@pytest.mark.parametrize("args, message", [
    (["bench", "reference", "--sizes", "abc"], "argument --sizes: 'abc' in 'abc' is not a number"),
    (["bench", "reference", "--sizes", "1e3,-5"], "argument --sizes: -5 in '1e3,-5' must be a whole number"),
    (["bench", "reference", "--sizes", "1e3,2.5"], "must be a whole number of at least 1"),
    (["bench", "reference", "--duration", "-1"], "argument --duration: -1 must be above 0"),
    (["bench", "nest", "--repeats", "0"], "argument --repeats: 0 must be at least 1"),
    (["bench", "connect", "--synapses", "1e5,inf"], "argument --synapses: inf in '1e5,inf' must be a whole"),
    (["bench", "connect", "--pynn-max", "nan"], "argument --pynn-max: 'nan' is not a finite number"),
    (["demo", "--amplitude", "nan"], "argument --amplitude: 'nan' is not a finite number"),
    (["demo", "--duration", "-5"], "argument --duration: -5 must be above 0"),
    (["compare", "--sizes", "1e3,x"], "argument --sizes: 'x' in '1e3,x' is not a number"),
    (["allen", "config.json", "--dt", "0"], "argument --dt: 0 must be above 0"),
    (["allen", "config.json", "--duration", "nan"], "argument --duration: 'nan' is not a finite number"),
])
def test_bad_numbers_are_refused_naming_the_option(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_good_numbers_pass_as_given():
    assert cli._sizes("1e3,1e4") == "1e3,1e4"
    assert cli._positive("0.1") == 0.1 and cli._finite("-65") == -65.0 and cli._count("3") == 3


def test_bench_duration_must_be_whole_steps(capsys):
    assert cli.main(["bench", "scale", "--duration", "0.05"]) == 2
    assert "--duration 0.05 ms is not a whole number of NEST's 0.1 ms steps" in capsys.readouterr().err
    assert cli._whole_steps(100.0) and cli._whole_steps(0.3) and not cli._whole_steps(100.05)


def test_bench_scale_fails_when_a_run_fails(monkeypatch, capsys):
    """A configuration whose process dies is named on stderr with its error, and the command exits 1
    (it used to print the other rows and exit 0)."""
    import subprocess
    from comparisons import scale

    def dead_run(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, stdout="", stderr="Traceback (most recent call last):\n"
                                           "  ...\nMemoryError: no room for the connection tables\n")

    monkeypatch.setattr(scale, "SIZES", ((1000, 10),))
    monkeypatch.setattr(scale.subprocess, "run", dead_run)
    assert cli.main(["bench", "scale", "--duration", "1"]) == 1
    captured = capsys.readouterr()
    assert "MemoryError: no room for the connection tables" in captured.err
    assert "run(s) failed" in captured.err and "N=1,000 x 10 inputs, 1 process(es) x 1 thread(s)" in captured.err


def test_bench_mpi_without_an_mpi_build_is_one_line(monkeypatch, tmp_path, capsys):
    from comparisons import scale
    monkeypatch.setattr(scale, "MPI_PYTHON", tmp_path / "no-venv-mpi" / "bin" / "python")
    assert cli.main(["bench", "mpi", "--repeats", "1"]) == 1
    err = capsys.readouterr().err
    assert "no MPI NEST: run `make mpi` first" in err and "Traceback" not in err
