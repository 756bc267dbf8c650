"""Synchrony measures for chimera states: phases from spikes, order parameters, domains.

Used by ``examples/chimera.py`` and ``comparisons/chimera.py``. Spike trains come in
as neo ``SpikeTrain`` objects, ``quantities`` arrays or plain arrays in ms (the
boundary accepts all three, as Elephant does); inside, everything is a float array in
ms and radians.

Definitions (N cells, spike times t_{i,k} of cell i):

* mean phase velocity ``omega_i = 2 pi n_i / T`` with n_i the spikes of cell i in a
  window of length T (Elephant's ``mean_firing_rate`` counts them);
* spike phase, interpolated linearly between a cell's spikes:
  ``phi_i(t) = 2 pi k + 2 pi (t - t_{i,k}) / (t_{i,k+1} - t_{i,k})`` for
  ``t_{i,k} <= t < t_{i,k+1}``; it is defined only between a cell's first and last
  spike;
* the same from the phases, ``(phi_i(t_1) - phi_i(t_0)) / (t_1 - t_0)``, which is not
  quantised in steps of 2 pi / T;
* global (Kuramoto) order parameter ``R(t) = |sum_i exp(i phi_i(t))| / N``, over all
  cells or over one population (Elephant's ``mean_phase_vector``): 1 for identical
  phases, about ``sqrt(pi / (4 N))`` for independent uniform phases (``<R^2> = 1/N``);
* local order parameter on a ring, over a window of ``half_width`` neighbours on each
  side: ``Z_i(t) = |sum_{|j - i| <= half_width} exp(i phi_j(t))| / (2 half_width + 1)``
  (periodic; Omelchenko et al. 2011, Chaos 21:013128);
* neighbour coherence ``C_i = <cos(phi_{i+1}(t) - phi_i(t))>_t``, the real part of the
  mean phase-difference vector of each pair of adjacent cells over time (Elephant's
  ``phase_difference`` and ``mean_phase_vector``): 1 when neighbours fire together,
  ``cos(delta)`` when they keep a fixed phase difference ``delta``, about 0 when their
  difference drifts.

Domain rule (:func:`classify_ring`): cell i is *coherent* when it is in step with at
least one ring neighbour, ``max(C_{i-1}, C_i) >= threshold`` (default 0.99: a locked
phase difference of at most 8.1 degrees, 0.6 ms of a 25 ms period), after a majority
filter over ``2 (N // 40) + 1`` cells. This is the phase analogue of the
spatial-difference criterion of Gopal et al. (2014, Phys Rev E 89:052914): in a
coherent domain the phase varies smoothly along the ring (synchrony, or a travelling
wave); a cell whose phase drifts against both neighbours, or is locked to them at a
large offset (a splay state), is *incoherent*. Because it compares adjacent cells only,
it puts the boundary between a synchronous and an asynchronous half exactly where it
is, which a windowed measure such as ``Z_i`` cannot (Z_i mixes both sides within
``half_width`` of the boundary). The number of coherent domains is Gopal et al.'s
discontinuity measure. The ring is a *chimera* when its largest coherent and its
largest incoherent domain each span at least ``min_fraction`` (default 0.1) of it
(other states in :func:`classify_ring`).

For two (or more) populations (:func:`classify_populations`) a population is
*coherent* (fully synchronised) when its time-averaged Kuramoto R is >= ``threshold``
(default 0.99), and the network is a chimera when at least one population is coherent
and at least one is not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Union

import numpy as np
import quantities as pq

TrainLike = Union["neo.SpikeTrain", pq.Quantity, np.ndarray, Sequence[float]]


def _ms(value, name: str) -> float:
    """A time as float ms: a quantity is rescaled, a plain number is taken as ms."""
    if isinstance(value, pq.Quantity):
        try:
            return float(value.rescale(pq.ms).magnitude)
        except ValueError:
            raise ValueError(f"{name} must be a time (e.g. 100 * pq.ms), got units {value.dimensionality}") from None
    return float(value)


def as_trains(spiketrains: Iterable[TrainLike]) -> list[np.ndarray]:
    """Spike trains as sorted float arrays in ms (neo SpikeTrains, quantities or plain ms arrays)."""
    out = []
    for index, train in enumerate(spiketrains):
        if np.ndim(train) == 0:
            raise ValueError(f"item {index} of the spike trains is a single time: give a list of spike trains "
                             "(one per cell), not one train")
        if isinstance(train, pq.Quantity):
            try:
                train = train.rescale(pq.ms).magnitude
            except ValueError:
                raise ValueError(f"spike train {index} must be in units of time, got {train.dimensionality}") from None
        times = np.sort(np.asarray(train, dtype=float).ravel())
        if not np.all(np.isfinite(times)):
            raise ValueError(f"spike train {index} holds a non-finite time")
        out.append(times)
    if not out:
        raise ValueError("no spike trains given")
    return out


def omega_profile(spiketrains: Iterable[TrainLike], t_start, t_stop) -> pq.Quantity:
    """Mean phase velocity ``2 pi n_i / T`` of each cell over ``[t_start, t_stop]`` (rad/s).

    ``t_start``, ``t_stop``: quantities or ms. The counts are Elephant's
    (``elephant.statistics.mean_firing_rate``, both ends included); a silent cell gets 0.
    """
    from elephant.statistics import mean_firing_rate
    lo, hi = _ms(t_start, "t_start"), _ms(t_stop, "t_stop")
    if not hi > lo:
        raise ValueError(f"t_stop ({hi} ms) must be after t_start ({lo} ms)")
    rates = [mean_firing_rate(st, t_start=lo, t_stop=hi) if len(st) else 0.0 for st in as_trains(spiketrains)]
    return pq.Quantity(2 * np.pi * 1000.0 * np.asarray(rates, float), "rad/s")


def _phases(phases) -> np.ndarray:
    """``phases`` as a float (times x cells) array with at least one of each, all finite, or a ValueError."""
    phases = np.asarray(phases, float)
    if phases.ndim != 2 or 0 in phases.shape:
        raise ValueError(f"phases must be a (times x cells) array with at least one of each, got shape {phases.shape}")
    if not np.all(np.isfinite(phases)):
        raise ValueError("phases hold NaN or infinite values")
    return phases


def _times(times, name: str = "times") -> np.ndarray:
    """Sample times as a non-empty, finite 1-D float array in ms (a quantity is rescaled)."""
    if isinstance(times, pq.Quantity):
        try:
            times = times.rescale(pq.ms).magnitude
        except ValueError:
            raise ValueError(f"{name} must be times (e.g. in pq.ms), got units {times.dimensionality}") from None
    t = np.atleast_1d(np.asarray(times, float))
    if t.ndim != 1 or len(t) == 0 or not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be a non-empty 1-D array of finite times, got {t.shape} with "
                         f"{int(np.sum(~np.isfinite(t)))} non-finite")
    return t


def _check_half_width(value, n: int, name: str = "half_width") -> None:
    """``value`` cells on each side of a cell of a ring of ``n``: a whole number with ``2 value + 1 <= n``."""
    if not (isinstance(value, (int, np.integer)) and 0 <= value and 2 * value + 1 <= n):
        raise ValueError(f"{name} must be an integer in [0, {(n - 1) // 2}] for {n} cells, got {value!r}")


def phase_window(spiketrains: Iterable[TrainLike]) -> tuple[float, float]:
    """``(latest first spike, earliest last spike)`` in ms: where every cell has a phase."""
    trains = as_trains(spiketrains)
    silent = [i for i, st in enumerate(trains) if len(st) < 2]
    if silent:
        raise ValueError(f"cells {silent[:10]} fire fewer than 2 spikes and have no phase; "
                         "select the cells that fire before computing phases")
    return max(st[0] for st in trains), min(st[-1] for st in trains)


def spike_phases(spiketrains: Iterable[TrainLike], times) -> np.ndarray:
    """Phases (rad) of every cell at ``times`` (ms or a quantity), shape ``(len(times), n_cells)``.

    Linear interpolation between a cell's spikes (module docstring). Every time must lie
    in the half-open ``[first, last)`` of ``phase_window(spiketrains)``; a ValueError names
    the first cell without a phase.
    """
    trains = as_trains(spiketrains)
    t = _times(times)
    out = np.empty((len(t), len(trains)))
    for i, st in enumerate(trains):
        k = np.searchsorted(st, t, side="right") - 1
        if len(st) < 2 or k.min() < 0 or k.max() >= len(st) - 1:
            span = f"{st[0]:g}-{st[-1]:g} ms" if len(st) else "no spikes"
            raise ValueError(f"cell {i} has no phase at some of the times {t.min():g}-{t.max():g} ms (its spikes: "
                             f"{span}); sample inside phase_window(spiketrains)")
        out[:, i] = 2 * np.pi * (k + (t - st[k]) / (st[k + 1] - st[k]))
    return out


def phase_velocity(phases: np.ndarray, times) -> pq.Quantity:
    """Mean phase velocity of each cell from its interpolated phase, ``(phi(t_last) -
    phi(t_first)) / (t_last - t_first)`` (rad/s): omega without the spike-count
    quantisation of :func:`omega_profile` (``2 pi / T`` per spike)."""
    phases, t = _phases(phases), _times(times)
    if len(t) != len(phases) or len(t) < 2 or not np.all(np.diff(t) > 0):
        raise ValueError(f"give phases (times x cells) and their increasing sample times (at least two); got "
                         f"{len(phases)} rows of phases and {len(t)} times")
    return pq.Quantity(1000.0 * (phases[-1] - phases[0]) / (t[-1] - t[0]), "rad/s")


def order_parameter(phases: np.ndarray, cells=None) -> np.ndarray:
    """Kuramoto order parameter R(t) of ``phases`` (times x cells), over all cells or ``cells``
    (indices or a boolean mask), via Elephant's ``mean_phase_vector``."""
    from elephant.phase_analysis import mean_phase_vector
    phases = _phases(phases)
    if cells is not None:
        phases = phases[:, cells]
    if phases.shape[1] == 0:
        raise ValueError("no cells selected")
    return mean_phase_vector(phases, axis=1)[1]


def local_order_parameter(phases: np.ndarray, half_width: int) -> np.ndarray:
    """Local order parameter Z_i(t) on a ring (times x cells), over the ``half_width``
    neighbours on each side and the cell itself (periodic boundaries)."""
    phases = _phases(phases)
    n = phases.shape[1]
    _check_half_width(half_width, n)
    z = np.exp(1j * phases)
    padded = np.concatenate([z[:, n - half_width:], z, z[:, :half_width]], axis=1)
    csum = np.concatenate([np.zeros((len(z), 1), complex), np.cumsum(padded, axis=1)], axis=1)
    window = csum[:, 2 * half_width + 1:] - csum[:, :n]
    return np.abs(window) / (2 * half_width + 1)


def neighbour_coherence(phases: np.ndarray) -> np.ndarray:
    """``C_i = <cos(phi_{i+1} - phi_i)>_t`` for each adjacent pair (i, i + 1 mod N), from
    Elephant's ``phase_difference`` and ``mean_phase_vector`` over the time axis."""
    from elephant.phase_analysis import mean_phase_vector, phase_difference
    phases = _phases(phases)
    angle, length = mean_phase_vector(phase_difference(np.roll(phases, -1, axis=1), phases), axis=0)
    return length * np.cos(angle)


@dataclass
class RingDomains:
    """The outcome of :func:`classify_ring`."""

    coherent: np.ndarray          # bool per cell, after the majority filter
    neighbour: np.ndarray         # C_i per adjacent pair (i, i + 1)
    n_coherent_domains: int       # contiguous coherent runs (Gopal et al.'s discontinuity measure)
    coherent_fraction: float
    largest_coherent: float       # largest coherent domain, as a fraction of the ring
    largest_incoherent: float     # largest incoherent domain, as a fraction of the ring
    global_order: float           # time-averaged Kuramoto R over the ring
    state: str                    # see classify_ring


def _runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of the contiguous runs of True on a ring (one run of len(mask) if all True)."""
    n = len(mask)
    if mask.all():
        return np.array([n])
    if not mask.any():
        return np.zeros(0, int)
    start = int(np.argmin(mask))                     # rotate so that the ring starts on a False cell
    padded = np.concatenate([[False], np.roll(mask, -start), [False]]).astype(np.int8)
    edges = np.diff(padded)
    return np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]


def majority_filter(mask: np.ndarray, half_width: int) -> np.ndarray:
    """Each cell takes the majority label of the ``2 half_width + 1`` cells centred on it (ring).

    A single boundary between two runs longer than ``half_width`` stays exactly where it is
    (the cell next to it sees ``half_width + 1`` cells of its own side); runs of up to
    ``half_width`` cells inside a domain of the other kind are absorbed."""
    mask = np.asarray(mask, bool)
    n = len(mask)
    _check_half_width(half_width, n)
    if half_width == 0:
        return mask.copy()
    padded = np.concatenate([mask[n - half_width:], mask, mask[:half_width]]).astype(int)
    csum = np.concatenate([[0], np.cumsum(padded)])
    return (csum[2 * half_width + 1:] - csum[:n]) > half_width


def classify_ring(phases: np.ndarray, threshold: float = 0.99, min_fraction: float = 0.1,
                  smoothing: Optional[int] = None) -> RingDomains:
    """Coherent and incoherent domains of a ring from its phases (times x cells).

    A cell is coherent when ``max(C_{i-1}, C_i) >= threshold`` (module docstring); the labels
    then pass a majority filter over ``2 smoothing + 1`` cells (default ``smoothing`` =
    N // 40, at least 1), so that a few cells that happen to fire together inside an
    incoherent domain do not split it. Domains are the contiguous runs of each label.
    States: 'chimera' when the largest coherent and the largest incoherent domain each
    span at least ``min_fraction`` of the ring; otherwise 'synchronous' (more than
    ``1 - min_fraction`` coherent and global R >= 0.9), 'coherent' (more than
    ``1 - min_fraction`` coherent: a travelling wave or locked pattern), 'incoherent'
    (more than ``1 - min_fraction`` incoherent), or 'fragmented' (both kinds, in domains
    smaller than ``min_fraction``).
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if not 0 < min_fraction < 0.5:
        raise ValueError(f"min_fraction must be in (0, 0.5), got {min_fraction}")
    phases = _phases(phases)
    n = phases.shape[1]
    if n < 3:
        raise ValueError(f"a ring needs at least 3 cells, got {n}")
    if smoothing is None:
        smoothing = max(1, n // 40)
    _check_half_width(smoothing, n, "smoothing")
    neighbour = neighbour_coherence(phases)
    in_step = neighbour >= threshold
    coherent = majority_filter(in_step | np.roll(in_step, 1), smoothing)   # right or left neighbour
    fraction = float(coherent.mean())
    coherent_runs, incoherent_runs = _runs(coherent), _runs(~coherent)
    largest_c = coherent_runs.max() / n if len(coherent_runs) else 0.0
    largest_i = incoherent_runs.max() / n if len(incoherent_runs) else 0.0
    global_order = float(order_parameter(phases).mean())
    if largest_c >= min_fraction and largest_i >= min_fraction:
        state = "chimera"
    elif fraction > 1 - min_fraction:
        state = "synchronous" if global_order >= 0.9 else "coherent"
    elif fraction < min_fraction:
        state = "incoherent"
    else:
        state = "fragmented"
    return RingDomains(coherent, neighbour, len(coherent_runs), fraction, float(largest_c), float(largest_i),
                       global_order, state)


def classify_populations(order_means: Sequence[float], threshold: float = 0.99, spread: float = 0.1,
                         asynchronous: float = 0.3) -> str:
    """The state of two or more populations from their time-averaged Kuramoto R.

    'chimera' (Olmi et al.'s breathing chimera) when at least one population is fully
    synchronised (R >= ``threshold``) and at least one is not; 'synchronous' when all are;
    otherwise 'generalised chimera' when the R of the populations differ by at least
    ``spread`` (Olmi & Torcini's term: both partially synchronised, to different
    degrees), 'asynchronous' when every R is below ``asynchronous``, and 'partial
    synchrony' when they are alike."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if not 0 < asynchronous < 1:
        raise ValueError(f"asynchronous must be in (0, 1), got {asynchronous}")
    if not 0 <= spread <= 1:
        raise ValueError(f"spread must be in [0, 1], got {spread}")
    means = np.asarray(order_means, float)
    if means.ndim != 1 or len(means) < 2:
        raise ValueError("give the time-averaged order parameter of at least two populations")
    if not np.all((means >= 0) & (means <= 1 + 1e-12)):
        raise ValueError(f"order parameters lie in [0, 1], got {means}")
    full = means >= threshold
    if full.all():
        return "synchronous"
    if full.any():
        return "chimera"
    if means.max() - means.min() >= spread:
        return "generalised chimera"
    return "asynchronous" if means.max() < asynchronous else "partial synchrony"
