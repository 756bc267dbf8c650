"""Agreement measures between two spike trains or two voltage traces (times in ms, V in mV)."""
from __future__ import annotations

import numpy as np


def coincidence_factor(model: np.ndarray, data: np.ndarray, duration: float, window: float = 2.0) -> float:
    """Kistler et al. (1997) coincidence factor Gamma between two spike trains.

    Gamma = (N_coinc - <N_coinc>) / (N (N_data + N_model) / 2), with <N_coinc> =
    2 nu window N_data the coincidences expected from a Poisson train of the model's
    rate nu, and N = 1 - 2 nu window. 1 means every spike coincides within
    +-window; 0 means chance level. This is the measure of Jolivet et al. (2008)
    and Mensi et al. (2012) used for GLIF-type models; Elephant has no such function.

    Parameters
    ----------
    model, data
        Spike times (ms), sorted.
    duration
        Length of the recording (ms).
    window
        Coincidence half-window (ms). Default: 2 ms.
    """
    model, data = np.asarray(model, float), np.asarray(data, float)
    if len(model) == 0 and len(data) == 0:
        return 1.0
    if len(model) == 0 or len(data) == 0:
        return 0.0
    rate = len(model) / duration
    coincidences = _count_coincidences(model, data, window)
    expected = 2 * rate * window * len(data)
    norm = 1 - 2 * rate * window
    return float((coincidences - expected) / (0.5 * (len(data) + len(model)) * norm))


def _count_coincidences(a: np.ndarray, b: np.ndarray, window: float) -> int:
    """Spikes of `b` with at least one spike of `a` within +-window, each spike of `a` used once."""
    used = np.zeros(len(a), bool)
    count = 0
    for t in b:
        lo = np.searchsorted(a, t - window, side="left")
        hi = np.searchsorted(a, t + window, side="right")
        free = np.nonzero(~used[lo:hi])[0]
        if len(free):
            used[lo + free[np.argmin(np.abs(a[lo + free] - t))]] = True
            count += 1
    return count


def matched_spike_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a[i] - b[i] for the spikes both trains have in order (the shorter length)."""
    n = min(len(a), len(b))
    return np.asarray(a[:n], float) - np.asarray(b[:n], float)


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    """Root-mean-square difference of two equally sampled traces."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.sqrt(np.mean((x - y) ** 2)))
