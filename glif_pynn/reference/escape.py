"""Escape noise for the numpy reference: which cells spike in a step, drawn with few random numbers.

The rule (DESIGN.md): a cell with ``delta_u > 0`` that is not refractory spikes in a step with
probability ``p = 1 - exp(-lambda dt)``, ``lambda dt = lambda0_h exp((V - threshold) / delta_u)``,
``lambda0_h = lambda0 dt``, independently of everything before; that is, when ``E < lambda dt``
for its own ``E ~ Exp(1)`` of that step.

Drawing ``E`` for every cell and step would cost more than the rest of the step. The draw is
split, for a bound ``R``, into two independent parts, so that ``P(no spike) = exp(-min(lambda
dt, R)) exp(-max(lambda dt - R, 0)) = exp(-lambda dt)``:

1. ``E < min(lambda dt, R)``. Which (step, cell) pairs have ``E < R`` does not depend on V, so
   these "candidates" and their ``E`` are drawn ahead, for a block of steps at a time, as a
   Bernoulli process with geometric gaps (:func:`escape_candidates`): about ``n (1 - exp(-R))``
   draws per step instead of ``n``. Draws that fall on refractory cells are discarded.
2. Where ``lambda dt > R``, the excess: ``E' < lambda dt - R`` for a fresh ``E' ~ Exp(1)`` of that
   cell and step (:meth:`EscapeNoise._part2`). Only cells that far above their threshold use one;
   the ``E'`` are drawn ahead too, as a pool of independent variates that each serves once. The
   draws of refractory cells and of part-1 candidates are drawn and not used.

``R`` is at least every cell's ``lambda0_h`` (so part 2 concerns only cells above their threshold)
and at least :data:`BOUND_FLOOR`, which moves cells just above the threshold into part 1, where a
candidate costs less than a cell in part 2. The NESTML model reaches the same law with one budget
per cell (its ``escape_budget``), thinned over time with the bound ``max(lambda0_h, lambda dt)``.
"""
from __future__ import annotations

import math

import numpy as np

from glif_pynn.reference.quadrature import at as _at

#: the least bound R of part 1 (the chance of a candidate per cell and step is 1 - exp(-R))
BOUND_FLOOR = 0.05
#: candidates drawn ahead per block, about (the block spans at most MAX_BLOCK_STEPS steps)
BLOCK_CANDIDATES = 200_000
MAX_BLOCK_STEPS = 256
#: part-2 variates drawn ahead at a time (at least)
EXCESS_POOL = 8192
_NONE = np.zeros(0, dtype=np.int64)


def escape_candidates(rng: np.random.Generator, n: int, bound: float) -> tuple[np.ndarray, np.ndarray]:
    """The trials ``i < n`` whose ``E_i ~ Exp(1)`` (independent) falls below ``bound``, in order, and their ``E_i``.

    Drawn as a Bernoulli process with success probability ``1 - exp(-bound)``: the gap to the next
    success is ``G = floor(X / bound) + 1`` and that trial's ``E`` is ``X - (G - 1) bound``, for one
    ``X ~ Exp(1)``: ``P(G > g) = exp(-g bound)``, and by memorylessness the remainder is ``Exp(1)``
    conditioned on being below ``bound``, independent of ``G``.
    """
    if n == 0 or not bound > 0.0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    expected = -n * math.expm1(-bound)
    batch = int(expected + 5.0 * math.sqrt(expected) + 8)
    trials, values, last = [], [], -1
    while True:
        x = rng.standard_exponential(batch)
        x /= bound
        gaps = x.astype(np.int64)             # floor: x >= 0
        x -= gaps
        x *= bound                            # each success's E
        gaps += 1
        positions = np.cumsum(gaps)
        positions += last
        if positions[-1] >= n:
            end = int(np.searchsorted(positions, n))
            trials.append(positions[:end]), values.append(x[:end])
            break
        trials.append(positions), values.append(x)
        last = int(positions[-1])
    if len(trials) == 1:
        return trials[0], values[0]
    return np.concatenate(trials), np.concatenate(values)


class EscapeNoise:
    """The escape-noise draws of one group of ``n`` cells, step after step.

    Parameters
    ----------
    rng : numpy.random.Generator
        The network's generator.
    lambda0_h : float or numpy.ndarray
        ``lambda0 dt`` per cell (dimensionless, as the NESTML internal ``lambda_0_h``).
    delta_u : float or numpy.ndarray
        mV; cells with ``delta_u == 0`` keep the hard threshold.
    n : int
        Cells in the group.
    """

    def __init__(self, rng: np.random.Generator, lambda0_h, delta_u, n: int) -> None:
        self.rng, self.n = rng, n
        self.delta_u = np.asarray(delta_u, dtype=float)
        self.lambda0_h = np.asarray(lambda0_h, dtype=float)
        self.noisy = np.broadcast_to(self.delta_u > 0, (n,)).copy()
        self.all_noisy = bool(self.noisy.all())
        self.hard = ~self.noisy
        self.bound = max(BOUND_FLOOR, float(np.max(np.broadcast_to(self.lambda0_h, (n,))[self.noisy])))
        with np.errstate(divide="ignore"):
            self.log_lambda0_h = np.log(self.lambda0_h)                   # -inf: the cell never spikes
            # part 2 concerns a cell only where V - threshold > delta_u ln(R / lambda0_h) (>= 0; inf: never)
            self.part2_distance = np.where(self.lambda0_h > 0, self.delta_u * (math.log(self.bound) - self.log_lambda0_h),
                                           np.inf)
        success = -math.expm1(-self.bound)
        self.block_steps = int(min(MAX_BLOCK_STEPS, max(1, BLOCK_CANDIDATES // max(1.0, n * success))))
        self._distance = np.empty(n)
        self._step = self.block_steps           # no block drawn yet
        # one delta_u and lambda0 for every cell: the part-2 pool holds margins, not only ln(E' + R)
        self._uniform = self.delta_u.ndim == 0 and self.lambda0_h.ndim == 0
        self._pool, self._pool_next = np.zeros(0), 0

    def _next_candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """This step's candidates (``E < R``) and their margins ``delta_u ln(E / lambda0_h)``: a candidate
        spikes when ``V - threshold`` exceeds its margin, i.e. when ``E < lambda dt``."""
        if self._step == self.block_steps:
            self._draw_block()
        lo, hi = self._edges[self._step], self._edges[self._step + 1]
        cells = self._trials[lo:hi] - self._step * self.n      # a trial's cell, without a modulo over the block
        margins = self._margins[lo:hi]
        self._step += 1
        if not self.all_noisy:                           # draws on hard-threshold cells are discarded
            keep = self.noisy[cells]
            cells, margins = cells[keep], margins[keep]
        if not self._uniform:
            margins = (margins - _at(self.log_lambda0_h, cells)) * _at(self.delta_u, cells)
        return cells, margins

    def _draw_block(self) -> None:
        """Draw the candidates of the next ``block_steps`` steps: their trials, ``ln E`` (margins when every
        cell has the same ``delta_u`` and ``lambda0``) and per-step edges; :meth:`_next_candidates` maps a step's
        trials to cells, a few thousand at a time, which costs less than one pass over the whole block."""
        trials, e = escape_candidates(self.rng, self.block_steps * self.n, self.bound)
        with np.errstate(divide="ignore"):
            margins = np.log(e, out=e)
        if self._uniform:
            margins -= self.log_lambda0_h
            margins *= self.delta_u
        self._trials, self._margins = trials, margins
        self._edges = np.searchsorted(trials, np.arange(self.block_steps + 1) * self.n)
        self._step = 0

    def apply(self, v: np.ndarray, threshold, spikes: np.ndarray) -> None:
        """Fill ``spikes`` for this step: ``V > threshold`` for the hard cells, escape noise for the others.

        Refractory cells are drawn for as well; the caller masks their entries.
        """
        distance = self._distance
        np.subtract(v, threshold, out=distance)
        np.greater(distance, self.part2_distance, out=spikes)        # part 2 concerns these cells
        if not self.all_noisy:
            spikes &= self.noisy
        above = spikes.nonzero()[0] if spikes.any() else _NONE
        if not self.all_noisy:                           # else spikes is False but where ``above``
            np.greater(distance, 0.0, out=spikes)
            spikes &= self.hard
        if above.size:
            self._part2(above, distance, spikes)
        cells, margins = self._next_candidates()
        if cells.size:                                   # part 1, last: it only adds spikes to part 2's
            spikes[cells] = distance[cells] > margins

    def _part2(self, above: np.ndarray, distance: np.ndarray, spikes: np.ndarray) -> None:
        """The cells ``above`` (``lambda dt > R``) spike where a fresh ``E' ~ Exp(1)`` is below ``lambda dt - R``,
        i.e. where ``V - threshold`` exceeds ``delta_u ln((E' + R) / lambda0_h)`` (no exp, so no overflow)."""
        k = above.size
        if self._pool_next + k > self._pool.size:
            pool = self.rng.standard_exponential(max(EXCESS_POOL, k))
            pool += self.bound
            np.log(pool, out=pool)
            if self._uniform:
                pool -= self.log_lambda0_h
                pool *= self.delta_u
            self._pool, self._pool_next = pool, 0
        margins = self._pool[self._pool_next:self._pool_next + k]
        self._pool_next += k
        if not self._uniform:
            margins = (margins - _at(self.log_lambda0_h, above)) * _at(self.delta_u, above)
        spikes[above] = distance[above] > margins
