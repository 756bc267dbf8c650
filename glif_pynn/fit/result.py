"""The result of a fit: parameters, scores, an Allen neuron_config, a figure and a report."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np

from glif_pynn.allen import LEVELS
from glif_pynn.atomic import write_text
from glif_pynn.fit.output import OUTPUT_FILES, write_folder
from glif_pynn.parameters import BY_NAME

LEVEL_NAMES = {number: name for name, number in LEVELS.items()}


@dataclass
class FitResult:
    """A GLIF model fitted to recorded sweeps.

    Attributes
    ----------
    cell_type : str
        PyNN cell type name, e.g. ``"GLIF_curr_exp"`` (``getattr(glif_pynn.nest, cell_type)``).
    level : int
        GLIF level 1-5 (Teeter et al. 2018: LIF, LIF-R, LIF-ASC, LIF-R-ASC, LIF-R-ASC-A).
    parameters : dict
        PyNN names and units, validated; the keys an Allen ``neuron_config`` determines.
    scores : dict
        ``"training"`` and ``"test"`` (None without test sweeps), each from
        :func:`glif_pynn.fit.scores.score`: ``gamma`` (+-2 ms), ``explained_variance`` (and
        ``explained_variance_ratio`` with repeats), ``v_rmse_mV``, per-sweep counts.
    dt : float
        Sampling interval of the recordings (ms).
    staged : dict
        The parameters from the staged estimation, before the optimiser.
    optimiser : dict
        What the optimiser tuned, its seed, generations, evaluations and training Gamma.
    timings : dict
        Seconds per stage.
    """

    cell_type: str
    level: int
    parameters: dict
    scores: dict
    dt: float
    staged: dict = field(default_factory=dict)
    optimiser: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    training: list = field(default_factory=list, repr=False, compare=False)
    test: list = field(default_factory=list, repr=False, compare=False)
    runs: list = field(default_factory=list, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"GLIF{self.level} ({LEVEL_NAMES[self.level]})"

    # -- neuron_config ----------------------------------------------------------------------
    def neuron_config(self) -> dict:
        """The parameters as an Allen Cell Types ``neuron_config`` (SI units), the inverse of
        :func:`glif_pynn.allen.load_neuron_config`: the spike cut is ``tau_refrac / dt`` steps, after-spike
        current and threshold jumps are divided by ``exp(k tau_refrac)`` (Allen applies them at the end of the
        cut), levels 1 and 3 reset to ``El_reference`` (= ``v_rest - delta_v``), the others by ``v_before``."""
        p, level = self.parameters, self.level
        if p["v_thresh"] <= p["v_rest"]:
            raise ValueError(f"the fitted threshold at rest ({p['v_thresh']:.2f} mV) is at or below the resting "
                             f"potential ({p['v_rest']:.2f} mV): a cell that fires without input, which "
                             "glif_pynn.allen.load_neuron_config refuses (there it is the sign of a threshold given "
                             "absolute instead of relative to El), so no neuron_config is written; the parameters "
                             "themselves work in the PyNN cell types")
        t_ref = p["tau_refrac"]
        cut = int(round(t_ref / self.dt))
        if level in (1, 3):
            el = p["delta_v"] * 1e-3
            reset = {"name": "zero", "params": {}}
        else:
            el = 0.0
            reset = {"name": "v_before", "params": {"a": p["f_v"], "b": -p["delta_v"] * 1e-3}}
        el_ref = p["v_rest"] * 1e-3 - el
        config = {"El_reference": el_ref, "El": el, "C": p["cm"] * 1e-9,
                  "R_input": p["tau_m"] * 1e-3 / (p["cm"] * 1e-9),
                  "th_inf": p["v_thresh"] * 1e-3 - el_ref, "init_threshold": p["v_thresh"] * 1e-3 - el_ref,
                  "dt": self.dt * 1e-3, "spike_cut_length": cut, "init_voltage": el, "init_AScurrents": [0.0, 0.0],
                  "type": "GLIF", "voltage_dynamics_method": {"name": "linear_exact", "params": {}},
                  "voltage_reset_method": reset,
                  "coeffs": {"C": 1.0, "G": 1.0, "th_inf": 1.0, "a": 1.0, "b": 1.0, "asc_amp_array": [1.0, 1.0]}}
        ks = [p["k_asc1"], p["k_asc2"]]
        config["asc_tau_array"] = [1e-3 / k for k in ks]
        if level >= 3:
            config["asc_amp_array"] = [p[f"delta_asc{j}"] * 1e-9 * np.exp(-k * t_ref) for j, k in zip((1, 2), ks)]
            config["AScurrent_dynamics_method"] = {"name": "exp", "params": {}}
            config["AScurrent_reset_method"] = {"name": "sum", "params": {"r": [p["f_asc1"], p["f_asc2"]]}}
        else:
            config["asc_amp_array"] = [0.0, 0.0]
            config["AScurrent_dynamics_method"] = config["AScurrent_reset_method"] = {"name": "none", "params": {}}
        if level in (1, 3):
            config["threshold_dynamics_method"] = config["threshold_reset_method"] = {"name": "inf", "params": {}}
        else:
            spike = {"a_spike": p["delta_theta"] * 1e-3 * np.exp(-p["b_theta"] * t_ref), "b_spike": p["b_theta"] * 1e3}
            config["threshold_reset_method"] = {"name": "three_components", "params": dict(spike)}
            if level == 5:
                config["threshold_dynamics_method"] = {"name": "three_components_exact", "params": dict(
                    spike, a_voltage=p["a_theta_v"] * 1e3, b_voltage=p["b_theta_v"] * 1e3)}
            else:
                config["threshold_dynamics_method"] = {"name": "spike_component", "params": dict(
                    spike, a_voltage=0.0, b_voltage=0.0)}
        return json.loads(json.dumps(config, default=float))

    def to_neuron_config(self, path: Union[str, Path]) -> Path:
        """Write :meth:`neuron_config` as JSON (atomically); ``glif_pynn.allen.load_neuron_config`` reads it back
        to :attr:`parameters`. An empty path or a folder is a ValueError naming it; an OSError names ``path``."""
        return write_text(path, json.dumps(self.neuron_config(), indent=1) + "\n")

    # -- report -----------------------------------------------------------------------------
    def summary(self) -> str:
        """One line per score set."""
        lines = [f"{self.name} as {self.cell_type}"]
        for role, s in self.scores.items():
            if s is not None:
                ratio = "" if s["explained_variance_ratio"] is None else \
                    f" (ratio to the data's own {s['explained_variance_ratio']:.3f})"
                lines.append(f"  {role}: Gamma {s['gamma']:.3f}, explained variance {s['explained_variance']:.3f}"
                             f"{ratio}, subthreshold V RMSE {s['v_rmse_mV']:.2f} mV, "
                             f"{sum(s['spikes_model'])} model / {sum(s['spikes_data'])} recorded spikes")
        return "\n".join(lines)

    def report(self, figure: Optional[str] = None) -> str:
        """A markdown report: scores, parameters (fitted and staged), the optimiser, timings."""
        rows = ["| parameter | unit | fitted | staged estimate |", "|---|---|---|---|"]
        for name, value in self.parameters.items():
            staged = self.staged.get(name)
            rows.append(f"| `{name}` | {BY_NAME[name].unit} | {value:.6g} | "
                        f"{'' if staged is None else format(staged, '.6g')} |")
        scores = ["| sweeps | Gamma (+-2 ms) | explained variance | EV ratio | V RMSE (mV) | spikes model / data |",
                  "|---|---|---|---|---|---|"]
        for role, s in self.scores.items():
            if s is not None:
                ratio = "-" if s["explained_variance_ratio"] is None else f"{s['explained_variance_ratio']:.3f}"
                scores.append(f"| {role} ({len(s['spikes_data'])}) | {s['gamma']:.3f} | "
                              f"{s['explained_variance']:.3f} | {ratio} | {s['v_rmse_mV']:.2f} | "
                              f"{sum(s['spikes_model'])} / {sum(s['spikes_data'])} |")
        opt = self.optimiser
        lines = [f"# {self.name} fitted as {self.cell_type}", "",
                 f"Recordings sampled every {self.dt:g} ms. Gamma: coincidence factor within +-2 ms (mean over "
                 "sweeps; the model runs freely). Explained variance: Teeter et al. 2018, 10 ms Gaussian. V RMSE: "
                 "the model's V with its spikes clamped to the recorded ones, between spike cuts.", "",
                 *scores, "", *rows, "",
                 f"Optimiser: {opt.get('optimiser', '-')}, seed {opt.get('seed')}, {opt.get('generations')} "
                 f"generations, {opt.get('candidate_evaluations')} candidate evaluations; tuned "
                 f"{', '.join(opt.get('tuned', []))}; training Gamma "
                 f"{opt.get('staged_training_gamma', float('nan')):.3f} (staged) -> "
                 f"{opt.get('tuned_training_gamma', float('nan')):.3f} (tuned, chunked runs).", "",
                 "Time per stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in self.timings.items()), ""]
        if figure:
            lines += [f"![fit]({figure})", ""]
        return "\n".join(lines)

    def figure(self, path: Union[str, Path], seconds: float = 1.0) -> Path:
        """Data vs model: V and spikes of the first test sweep (else training sweep), rasters, f-I curves."""
        from glif_pynn.fit.figure import plot_fit
        return plot_fit(self, Path(path), seconds)

    def save(self, directory: Union[str, Path], overwrite: bool = True) -> dict:
        """Write ``parameters.json``, ``neuron_config.json``, ``report.md`` and ``fit.png`` into ``directory``,
        created with its parents; returns ``{name: path}``. Checked first and written as a whole, or not at
        all (:func:`glif_pynn.fit.output.write_folder`); ``overwrite=False`` refuses a folder that already
        holds any of the files."""
        return write_folder(directory, OUTPUT_FILES, self._write_outputs, overwrite)

    def _write_outputs(self, folder: Path) -> None:
        parameters, config, report, figure = (folder / name for name in OUTPUT_FILES)
        parameters.write_text(json.dumps({"cell_type": self.cell_type, "level": self.level,
                                          "parameters": self.parameters, "scores": self.scores,
                                          "staged": self.staged, "optimiser": self.optimiser,
                                          "timings": self.timings, "dt_ms": self.dt}, indent=1) + "\n")
        self.to_neuron_config(config)
        self.figure(figure)
        report.write_text(self.report(figure=figure.name))
