"""One GLIF cell under a current step, on pyNN.nest or the numpy reference: spikes, V, threshold, figure.

What ``glif-pynn allen`` runs for an Allen Cell Types Database model (see
:mod:`glif_pynn.allen`); it takes any cell type and PyNN parameters::

    from glif_pynn.allen import describe_config
    from glif_pynn.step_response import run_step, plot_step
    config = describe_config("neuron_config.json")
    result = run_step(config.cell_type, config.parameters, 0.2, backend="reference", dt=config.dt)
    plot_step(result, "step.png")
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

import numpy as np

BACKENDS = ("nest", "reference")
_CURRENT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z\u00b5\u03bc]*)\s*$")


def parse_current(text: str) -> float:
    """A current in nA from text such as ``"0.2nA"``, ``"200 pA"`` or ``"0.2"`` (a bare number is nA).

    Raises
    ------
    ValueError
        For text that is not a number with an optional unit of current.
    """
    import quantities as pq
    match = _CURRENT.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a current: write a number with an optional unit, e.g. 0.2nA or 200pA")
    value, unit = float(match.group(1)), match.group(2).replace("\u00b5", "u").replace("\u03bc", "u") or "nA"
    try:
        return float(pq.Quantity(value, unit).rescale(pq.nA).magnitude)
    except (LookupError, ValueError) as err:
        raise ValueError(f"{text!r} is not a current ({unit!r} is not a unit of current): {err}") from err


@dataclass(frozen=True)
class StepResponse:
    """Recorded response of one cell to a current step (times in ms, voltages in mV, current in nA).

    ``threshold`` is the total threshold ``v_thresh + theta + theta_v``.
    """

    t: np.ndarray
    v: np.ndarray
    threshold: np.ndarray
    spikes: np.ndarray
    amplitude: float
    start: float
    stop: float
    backend: str
    cell_type: str

    @property
    def rate(self) -> float:
        """Firing rate during the step, in Hz."""
        during = np.count_nonzero((self.spikes >= self.start) & (self.spikes < self.stop))
        return during / ((self.stop - self.start) * 1e-3)


def _backend(name: str):
    """(sim, cells): the PyNN backend module and the module holding its GLIF cell types."""
    if name == "nest":
        import pyNN.nest as sim
        import glif_pynn.nest as cells
        return sim, cells
    if name == "reference":
        import glif_pynn.reference as sim
        return sim, sim
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def run_step(cell_type: str, parameters: Mapping[str, float], amplitude: float, *, backend: str = "reference",
             duration: float = 1000.0, start: Optional[float] = None, stop: Optional[float] = None,
             dt: Optional[float] = None, progress: Optional[Callable[[str], None]] = None) -> StepResponse:
    """Simulate one cell of ``cell_type`` with ``parameters`` under a DC step of ``amplitude`` nA.

    Parameters
    ----------
    cell_type, parameters
        PyNN cell type name and parameters (PyNN units), e.g. from
        :func:`glif_pynn.allen.load_neuron_config`.
    amplitude : float
        Step amplitude in nA.
    backend : str
        ``"nest"`` (pyNN.nest with the NESTML module) or ``"reference"`` (numpy). Default: reference.
    duration : float
        Simulated time in ms. Default: 1000.
    start, stop : float, optional
        Step on and off times in ms. Default: ``min(100, duration / 10)`` and ``duration - start``.
    dt : float, optional
        Time step in ms; it should divide ``tau_refrac`` (a warning says when it does not).
        Default: 0.1.
    progress : callable, optional
        Called with a line of text at each stage.
    """
    say = progress or (lambda line: None)
    dt = 0.1 if dt is None else dt
    start = min(100.0, duration / 10) if start is None else start
    stop = duration - start if stop is None else stop
    steps = parameters.get("tau_refrac", 0.0) / dt
    if not math.isclose(steps, round(steps), rel_tol=0, abs_tol=1e-9):
        warnings.warn(f"tau_refrac = {parameters['tau_refrac']:g} ms is not a multiple of dt = {dt:g} ms: V is "
                      f"held for round(tau_refrac / dt) = {round(steps)} steps", UserWarning, stacklevel=2)
    sim, cells = _backend(backend)
    say(f"setting up {backend} (dt = {dt:g} ms)")
    sim.setup(timestep=dt)
    try:
        celltype = getattr(cells, cell_type)(**parameters)
        cell = sim.Population(1, celltype, label=cell_type)
        sim.DCSource(amplitude=amplitude, start=start, stop=stop).inject_into(cell)
        variables = [name for name in ("spikes", "v", "theta", "theta_v") if name in celltype.recordable]
        cell.record(variables)
        say(f"simulating {duration:g} ms, step of {amplitude:g} nA from {start:g} to {stop:g} ms")
        sim.run(duration)
        segment = cell.get_data().segments[0]
        v_thresh = float(cell.get("v_thresh"))
    finally:
        sim.end()
    trace = {sig.name: sig for sig in segment.analogsignals}
    t = trace["v"].times.rescale("ms").magnitude
    threshold = np.full_like(t, v_thresh)
    for name in ("theta", "theta_v"):
        if name in trace:
            threshold = threshold + trace[name].magnitude[:, 0]
    spikes = segment.spiketrains[0].rescale("ms").magnitude
    return StepResponse(t=t, v=trace["v"].magnitude[:, 0], threshold=threshold, spikes=np.asarray(spikes),
                        amplitude=amplitude, start=start, stop=stop, backend=backend, cell_type=cell_type)


def plot_step(result: StepResponse, path: str, title: str = "") -> Path:
    """Save V and the total threshold above the stimulus as a figure (PNG, or as the suffix says)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax_v, ax_i) = plt.subplots(2, 1, sharex=True, figsize=(8, 5.5), height_ratios=[4, 1])
    ax_v.plot(result.t, result.v, lw=0.8, label="V")
    ax_v.plot(result.t, result.threshold, lw=0.8,
              label=r"threshold $\Theta_\infty + \Theta_s + \Theta_v$")
    top = float(np.nanmax(result.threshold)) + 3.0
    ax_v.plot(result.spikes, np.full_like(result.spikes, top), "|", color="k", ms=8, label="spikes")
    ax_v.set_ylabel("mV")
    ax_v.legend(loc="lower right", fontsize=8)
    ax_v.set_title(title or f"{result.cell_type} on {result.backend}: {len(result.spikes)} spikes, "
                            f"{result.rate:.1f} Hz during the step")
    on = (result.t >= result.start) & (result.t < result.stop)
    ax_i.plot(result.t, np.where(on, result.amplitude, 0.0), color="k", lw=0.8)
    ax_i.set_ylabel("I (nA)")
    ax_i.set_xlabel("time (ms)")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
