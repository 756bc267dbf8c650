"""glif_pynn.fit on data at the edges of what it promises: a cell that fires at rest, firing too fast for
after-spike currents, a chunk longer than every sweep, an output path through a missing folder, and the
command's arguments checked before its recordings are read."""
import numpy as np
import pytest

from glif_pynn import cli
from glif_pynn.fit import fit
from glif_pynn.fit.output import check_output, write_folder
from glif_pynn.fit.synthetic import glif_recording, ou_current

DT = 0.1
CELL = dict(cm=0.05, tau_m=20.0, v_rest=-68.0, v_thresh=-48.5, tau_refrac=4.0, delta_v=3.0, f_v=0.0,
            delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, a_theta_v=0.0, b_theta=0.009, b_theta_v=0.09,
            k_asc1=0.003, k_asc2=0.1)
QUICK = dict(generations=1, population=4)


def rheobase(cell: dict) -> float:
    return cell["cm"] / cell["tau_m"] * (cell["v_thresh"] - cell["v_rest"])


def test_a_cell_that_fires_at_rest_gets_no_neuron_config_and_save_writes_nothing(tmp_path):
    """v_thresh below v_rest: a valid PyNN cell that load_neuron_config refuses; the neuron_config used to be
    written all the same, and then could not be read back."""
    cell = dict(CELL, v_rest=-45.0, v_thresh=-50.0, delta_v=20.0, tau_refrac=2.0)
    sweeps = glif_recording(cell, [ou_current(1500.0, DT, -0.02 + 0.01 * k, 0.08, 3.0, seed=k) for k in range(2)],
                            DT, 0.5, 0)
    result = fit(sweeps, 1, **QUICK)
    assert result.parameters["v_thresh"] < result.parameters["v_rest"]
    with pytest.raises(ValueError, match="at or below the resting potential"):
        result.neuron_config()
    with pytest.raises(ValueError, match="at or below the resting potential"):
        result.save(tmp_path / "out")
    assert not (tmp_path / "out").exists(), "nothing written"


def test_firing_too_fast_for_after_spike_currents_is_named():
    """Every interval shorter than the 10 ms cut of the first membrane pass: no stretch follows a spike, the
    after-spike columns were all zero and numpy said 'Singular matrix'."""
    cell = dict(CELL, tau_refrac=2.0)
    sweeps = glif_recording(cell, [ou_current(300.0, 0.05, 6.0 * rheobase(cell), rheobase(cell), 3.0, seed=0)],
                            0.05, 0.5, 0)
    assert np.diff(sweeps[0].spiketrains[0].magnitude).max() < 12.0
    with pytest.raises(ValueError, match="the after-spike currents cannot be estimated"):
        fit(sweeps, 3, **QUICK)


def test_a_chunk_longer_than_every_sweep_is_the_whole_sweep():
    sweeps = glif_recording(CELL, [ou_current(1500.0, DT, rheobase(CELL), 2 * rheobase(CELL), 3.0, seed=k)
                                   for k in range(2)], DT, 0.5, 0)
    long, sweep_long = fit(sweeps, 1, chunk_ms=20000.0, **QUICK), fit(sweeps, 1, chunk_ms=1500.0, **QUICK)
    assert long.parameters == sweep_long.parameters and long.scores == sweep_long.scores


def test_an_output_path_through_a_missing_folder_is_written_where_the_check_said(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_output("missing/../out")               # passed, and the writer then failed on 'missing/..'
    write_folder("missing/../out", ["a.txt"], lambda folder: (folder / "a.txt").write_text("a\n"))
    assert (tmp_path / "out" / "a.txt").read_text() == "a\n" and not (tmp_path / "missing").exists()


def test_the_command_checks_its_arguments_before_reading(tmp_path, monkeypatch, capsys):
    import glif_pynn.fit as fit_package

    def must_not_read(*args, **kwargs):
        raise AssertionError("the recording was read before the arguments were checked")

    monkeypatch.setattr(fit_package, "read_recording", must_not_read)
    assert cli.main(["fit", str(tmp_path / "big.nix"), "--level", "1", "--generations", "0",
                     "--output", str(tmp_path / "out")]) == 1
    assert "generations must be a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_optimisers_gammas_leave_out_the_tie_break_penalty():
    """The cost is -Gamma plus a penalty (at most 1e-4) toward the staged estimate; the summary reported
    -cost, so a perfect candidate away from the staged one showed Gamma 0.9999999 instead of 1."""
    from glif_pynn.fit.objective import SpikeTimingObjective, Tuned
    from glif_pynn.fit.optimise import optimise

    class Stub:
        """Gamma 0.5 at the staged v_thresh (-50), 1 wherever the threshold is at least 1 mV higher."""
        tuned = [Tuned("v_thresh", -55.0, -40.0)]
        anchor, spans, evaluations = np.array([-50.0]), np.array([15.0]), 0
        tie_penalty = SpikeTimingObjective.tie_penalty

        def __call__(self, x):
            x = np.atleast_2d(np.asarray(x, float))
            self.evaluations += x.shape[1]
            return -np.where(x[0] >= -49.0, 1.0, 0.5) + self.tie_penalty(x)

    values, summary = optimise(Stub(), {"v_thresh": -50.0}, generations=5, population=8)
    assert values["v_thresh"] >= -49.0
    assert summary["staged_training_gamma"] == 0.5 and summary["tuned_training_gamma"] == 1.0
    assert isinstance(summary["tuned_training_gamma"], float)
