"""Recordings made by the numpy reference engine from known GLIF parameters (for tests and benchmarks).

:func:`ou_current` draws an Ornstein-Uhlenbeck current; :func:`glif_recording` runs a GLIF cell
(``GLIF_curr_exp`` parameters, PyNN units) under given currents in one vectorised engine run and
returns neo Segments shaped as :func:`glif_pynn.fit.fit` wants them: ``current`` (nA), ``v`` (mV,
with Gaussian measurement noise added) and the spike train ``spikes``.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np


def ou_current(duration: float, dt: float, mean: float, std: float, tau: float = 3.0,
               seed: Optional[int] = None) -> np.ndarray:
    """An Ornstein-Uhlenbeck current (nA): stationary mean ``mean``, standard deviation ``std``,
    correlation time ``tau`` (ms); one value per step of ``dt`` ms, exactly discretised."""
    rng = np.random.default_rng(seed)
    n = int(round(duration / dt))
    a = np.exp(-dt / tau)
    noise = rng.standard_normal(n) * std * np.sqrt(1 - a * a)
    from scipy.signal import lfilter
    x, _ = lfilter([1.0], [1.0, -a], noise, zi=[a * std * rng.standard_normal()])
    return mean + x


def glif_recording(params: Mapping[str, float], currents: Sequence[np.ndarray], dt: float,
                   noise_mv: float = 0.5, seed: int = 0) -> list:
    """neo Segments of a GLIF cell (``GLIF_curr_exp`` parameters) under ``currents`` (nA per step), V with
    Gaussian measurement noise of ``noise_mv`` mV rms."""
    import neo
    import quantities as pq

    from glif_pynn.fit.scores import simulate
    rng = np.random.default_rng(seed)
    segments = []
    runs = simulate(params, currents, dt, record_v=range(len(currents)))
    for k, (run, current) in enumerate(zip(runs, currents)):
        seg = neo.Segment(name=f"sweep {k}")
        v = run["v"] + noise_mv * rng.standard_normal(len(run["v"]))
        seg.analogsignals += [neo.AnalogSignal(current, units="nA", sampling_period=dt * pq.ms, name="current"),
                              neo.AnalogSignal(v, units="mV", sampling_period=dt * pq.ms, name="v")]
        seg.spiketrains.append(neo.SpikeTrain(run["spikes"] * dt, units="ms", t_stop=len(current) * dt,
                                              name="spikes"))
        segments.append(seg)
    return segments
