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

    Returns
    -------
    float
        Gamma; NaN when the model fires at ``1 / (2 window)`` or faster (250 Hz for 2 ms), where the
        normaliser ``N`` is zero or negative and Gamma is undefined.
    """
    model, data = np.asarray(model, float), np.asarray(data, float)
    if len(model) == 0 and len(data) == 0:
        return 1.0
    if len(model) == 0 or len(data) == 0:
        return 0.0
    rate = len(model) / duration
    norm = 1 - 2 * rate * window
    if norm <= 0:
        return float("nan")
    coincidences = _count_coincidences(model, data, window)
    expected = 2 * rate * window * len(data)
    return float((coincidences - expected) / (0.5 * (len(data) + len(model)) * norm))


def _count_coincidences(a: np.ndarray, b: np.ndarray, window: float) -> int:
    """The most pairs (a spike of ``a``, a spike of ``b``) within +-window, each spike used once: the
    spikes of ``b`` in time order, each taking the earliest free spike of ``a`` in its window (for
    windows of equal width in time order this greedy choice gives a maximum matching; the nearest
    free spike does not: it can take the spike the next spike of ``b`` needed)."""
    used = np.zeros(len(a), bool)
    count = 0
    for t in b:
        lo = np.searchsorted(a, t - window, side="left")
        hi = np.searchsorted(a, t + window, side="right")
        free = np.nonzero(~used[lo:hi])[0]
        if len(free):
            used[lo + free[0]] = True
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


def smoothed_train(spikes: np.ndarray, duration: float, sigma: float = 10.0, bin_ms: float = 1.0) -> np.ndarray:
    """A spike train (ms) binned at ``bin_ms`` and convolved with a unit-area Gaussian of ``sigma`` ms
    (zero outside the recording): a rate in spikes per bin."""
    from scipy.ndimage import gaussian_filter1d
    n = max(1, int(np.ceil(duration / bin_ms)))
    counts = np.bincount(np.minimum((np.asarray(spikes, float) / bin_ms).astype(np.int64), n - 1),
                         minlength=n).astype(float)
    return gaussian_filter1d(counts, sigma / bin_ms, mode="constant", truncate=5.0)


def explained_variance(a: np.ndarray, b: np.ndarray) -> float:
    """Teeter et al. (2018) explained variance of two smoothed trains,
    ``(var a + var b - var(a - b)) / (var a + var b) = 2 cov(a, b) / (var a + var b)``: 1 for identical
    traces, 0 for uncorrelated ones (and for two empty trains by convention 1)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    total = np.var(a) + np.var(b)
    diff = np.var(a - b)
    if diff == 0.0:
        return 1.0
    return float((total - diff) / total)


def spike_train_explained_variance(model: list, data: list, duration: float, sigma: float = 10.0) -> dict:
    """Teeter et al. (2018): model trains against recorded repeats of one stimulus, all smoothed
    with a ``sigma`` ms Gaussian (:func:`smoothed_train`).

    Returns ``model`` (the mean explained variance of every model train against every recorded
    repeat), ``data`` (the data's own: the PSTH of the repeats against each repeat; None with one
    repeat) and ``ratio`` = model / data (None with one repeat).
    """
    sm = [smoothed_train(t, duration, sigma) for t in model]
    sd = [smoothed_train(t, duration, sigma) for t in data]
    ev_model = float(np.mean([explained_variance(d, m) for m in sm for d in sd]))
    if len(sd) < 2:
        return {"model": ev_model, "data": None, "ratio": None}
    psth = np.mean(sd, axis=0)
    ev_data = float(np.mean([explained_variance(d, psth) for d in sd]))
    return {"model": ev_model, "data": ev_data, "ratio": ev_model / ev_data if ev_data > 0 else None}
