"""What reaches the neurons of the numpy reference engine: spike sources, current sources
and the connection table (:class:`Synapses`).

Time conventions (measured against NEST 3.10 through pyNN.nest's corrections):

* A spike source spike at time ``t`` is emitted in the step that ends at ``t``
  (step ``k - 1`` for ``t = k dt``; off-grid times go to the step that contains
  them) and is stamped ``k dt``: a NEST spike_generator's convention.
* pyNN.nest's SpikeSourceArray is not quite that. It hands ``t - min_delay`` (a float
  subtraction) to a precise spike_generator, which rounds it *up* to the grid with
  ``Time::ms_stamp``, and relays it through a parrot neuron over ``min_delay``. When
  ``t - min_delay`` lands above a grid point by rounding (``65.9 - 0.1 = 65.80000000000001``;
  with dt = min_delay = 0.1 ms, 26 of the grid times up to 1 s: 4.4 and 64.4, 64.9, ... 76.4)
  the spike is emitted one step late. With ``min_delay`` given, :func:`spike_steps`
  reproduces that bit for bit (:func:`nest_stamp_steps`); the PyNN backend always gives it.
* A current source's value at time ``t = n dt`` is the current the neurons
  integrate over step ``n``, the interval ``(n dt, (n + 1) dt]``: a DC source with
  ``start = 5`` first changes ``V(5 + dt)``. This is pyNN.nest's behaviour, whose
  NEST devices are started one ``min_delay`` early and connected with delay
  ``min_delay`` (one exception: a NEST device cannot start before t = 0, so nothing
  reaches the neurons before step ``min_delay / dt + 1``: a pyNN.nest source starting
  at ``t = 0`` with ``min_delay = dt`` first acts in step 2). ``first_step`` holds that
  bound; the PyNN backend sets it, the engine alone defaults to 0.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from glif_pynn.reference.neurons import steps


#: NEST's default time base: tics per ms (``TICS_PER_MS_DEFAULT``; pyNN.nest keeps it).
NEST_TICS_PER_MS = 1000.0


def nest_stamp_steps(times, dt: float) -> np.ndarray:
    """NEST's ``Time::ms_stamp(t)`` in steps: the first grid point ``>= t``, computed as
    ``Time::fromstamp`` does (truncate to tics, down to the step, up one step if that lies
    below ``t``), so that a time one ulp above a grid point goes to the next step."""
    tics_per_step = int(math.floor(NEST_TICS_PER_MS * dt + 0.5))
    inv, ms_per_step = 1.0 / tics_per_step, tics_per_step / NEST_TICS_PER_MS
    t = np.asarray(times, dtype=float)
    n = np.trunc(t * NEST_TICS_PER_MS).astype(np.int64)
    n -= np.fmod(n, tics_per_step)
    n += np.where(n * inv * ms_per_step < t, tics_per_step, 0)
    return n // tics_per_step


def spike_steps(times, dt: float, min_delay: Optional[float] = None) -> np.ndarray:
    """Emission steps of spikes at ``times`` (ms): the step ``k - 1`` that ends at ``k dt >= t``.

    With ``min_delay`` (ms), the steps of pyNN.nest's SpikeSourceArray: the spike_generator
    gets ``t - min_delay``, stamps it with ``Time::ms_stamp`` (:func:`nest_stamp_steps`), and
    its parrot neuron re-emits it ``min_delay`` later. Times ``t <= min_delay``, which
    pyNN.nest cannot deliver (NEST rejects ``t == min_delay`` and drops earlier ones), keep
    the plain convention.

    Raises
    ------
    ValueError
        For a time at or before 0 (NEST cannot emit it either).
    """
    times = np.asarray(times, dtype=float).ravel()
    if np.any(times <= 0) or not np.all(np.isfinite(times)):
        raise ValueError("spike times must be finite and > 0 ms (a spike is emitted at the end of a step)")
    plain = np.ceil(times / dt - 1e-9).astype(np.int64) - 1
    if min_delay is None:
        return plain
    # the min_delay that pyNN.nest subtracts: NEST's own, a whole number of tics
    delay_tics = int(math.floor(float(min_delay) * NEST_TICS_PER_MS + 0.5))
    delay_ms = delay_tics * (1.0 / NEST_TICS_PER_MS)
    delay_steps = delay_tics // int(math.floor(NEST_TICS_PER_MS * dt + 0.5))
    shifted = times - delay_ms
    return np.where(shifted > 0, nest_stamp_steps(shifted, dt) + delay_steps - 1, plain)


class SpikeArraySource:
    """``n`` spike sources, each with its own array of spike times (ms).

    ``min_delay`` (ms): emit the spikes in the steps pyNN.nest's SpikeSourceArray does
    (:func:`spike_steps`) and report them at the requested times, as pyNN.nest records them.
    Without it: a plain NEST spike_generator's steps, reported at their stamps.
    """

    def __init__(self, spike_times: Sequence[Sequence[float]], dt: float,
                 min_delay: Optional[float] = None) -> None:
        self.n, self.min_delay = len(spike_times), min_delay
        step_lists = [spike_steps(t, dt, min_delay) if len(t) else np.zeros(0, np.int64) for t in spike_times]
        self.steps = np.concatenate(step_lists) if step_lists else np.zeros(0, np.int64)
        self.ids = np.repeat(np.arange(self.n), [len(s) for s in step_lists])
        self.times = np.concatenate([np.asarray(t, float).ravel() for t in spike_times]) if self.n \
            else np.zeros(0)


class PoissonSource:
    """``n`` independent Poisson spike trains (PyNN's SpikeSourcePoisson).

    Spikes are emitted in the steps whose end lies in ``(start, start + duration]``;
    a source can emit several spikes in one step (as NEST's poisson_generator).
    Per step, the total count over all sources is Poisson and each spike is assigned
    to a source with probability proportional to its rate, which gives exactly
    independent Poisson processes at the per-step resolution.

    Parameters
    ----------
    n : int
    rate : float or array
        Rate in Hz. Default: 1.0.
    start, duration : float or array
        Window in ms. Defaults: 0 and infinity.
    """

    def __init__(self, n: int, dt: float, rate=1.0, start=0.0, duration=math.inf) -> None:
        self.n, self.dt = int(n), float(dt)
        self.rate = np.broadcast_to(np.asarray(rate, float), (self.n,)).copy()
        if np.any(self.rate < 0) or not np.all(np.isfinite(self.rate)):
            raise ValueError("Poisson rates must be finite and >= 0 Hz")
        start = np.broadcast_to(np.asarray(start, float), (self.n,))
        stop = start + np.broadcast_to(np.asarray(duration, float), (self.n,))
        # first and last emission step: the step ends (n + 1) dt in (start, stop]
        self.first = np.ceil(start / dt - 1e-9).astype(np.int64)
        self.last = np.where(np.isfinite(stop), np.floor(np.minimum(stop, 1e15) / dt + 1e-9) - 1, 2 ** 62)
        self.last = self.last.astype(np.int64)
        self.uniform = bool(np.all(self.rate == self.rate[0])) if self.n else True
        self.windowed = bool(np.any(self.first != self.first[0]) or np.any(self.last != self.last[0])) \
            if self.n else False
        self.mean_per_step = float(self.rate.sum()) * self.dt * 1e-3
        self.cumulative = np.cumsum(self.rate)

    def draw(self, step: int, rng: np.random.Generator) -> Optional[np.ndarray]:
        """Local indices of the sources that spike in ``step`` (with repeats), or None."""
        if self.n == 0 or (not self.windowed and not self.first[0] <= step <= self.last[0]):
            return None
        count = rng.poisson(self.mean_per_step)
        if count == 0:
            return None
        if self.uniform:
            ids = rng.integers(0, self.n, size=count)
        else:
            ids = np.searchsorted(self.cumulative, rng.random(count) * self.cumulative[-1], side="right")
        if self.windowed:
            ids = ids[(self.first[ids] <= step) & (step <= self.last[ids])]
        return ids if len(ids) else None


class CurrentSource:
    """Base class: a current (nA) injected into a set of neurons.

    Subclasses set ``self.current`` (a float, or an array with one value per target)
    in :meth:`update`, called once per step with the step whose current is wanted.
    """

    def __init__(self, start: float = 0.0, stop: float = math.inf) -> None:
        self.start, self.stop = float(start), float(stop)
        self.current = 0.0
        self.n_targets = 0
        self.first_step = 0      # no current before this step (pyNN.nest: min_delay / dt + 1)

    def bind(self, dt: float, n_targets: int) -> None:
        self.dt, self.n_targets = dt, n_targets
        self.on = int(steps(self.start, dt))
        self.off = int(steps(self.stop, dt)) if math.isfinite(self.stop) else 2 ** 62

    def active(self, step: int) -> bool:
        return max(self.on, self.first_step) <= step < self.off

    def update(self, step: int, rng: np.random.Generator) -> bool:
        """Set ``current`` for ``step``; return True when it changed."""
        raise NotImplementedError


class DCSource(CurrentSource):
    """A constant ``amplitude`` (nA) in ``[start, stop)`` (PyNN's DCSource)."""

    def __init__(self, amplitude: float = 1.0, start: float = 0.0, stop: float = math.inf) -> None:
        super().__init__(start, stop)
        self.amplitude = float(amplitude)

    def update(self, step, rng):
        new = self.amplitude if self.active(step) else 0.0
        changed, self.current = new != self.current, new
        return changed


class StepCurrentSource(CurrentSource):
    """``amplitudes[k]`` (nA) from ``times[k]`` (ms) on (PyNN's StepCurrentSource); 0 before."""

    def __init__(self, times: Sequence[float], amplitudes: Sequence[float]) -> None:
        super().__init__()
        self.times, self.amplitudes = np.asarray(times, float), np.asarray(amplitudes, float)
        if self.times.shape != self.amplitudes.shape or np.any(np.diff(self.times) < 0):
            raise ValueError("StepCurrentSource needs increasing times and one amplitude per time")

    def bind(self, dt, n_targets):
        super().bind(dt, n_targets)
        self.change_steps = steps(self.times, dt)
        self._changes = set(self.change_steps.tolist()) | {self.first_step}
        self._last = None

    def update(self, step, rng):
        if self._last is not None and step == self._last + 1 and step not in self._changes:
            self._last = step
            return False          # between change points: nothing to look up
        self._last = step
        k = int(np.searchsorted(self.change_steps, step, side="right")) - 1
        new = float(self.amplitudes[k]) if k >= 0 and step >= self.first_step else 0.0
        changed, self.current = new != self.current, new
        return changed


class ACSource(CurrentSource):
    """``offset + amplitude sin(2 pi frequency (t - start) / 1000 + phase)`` (nA; Hz; degrees) in [start, stop).

    The phase is that at ``start``, as in PyNN (pyNN.nest, pyNN.neuron and pyNN.brian2 all shift
    it so). ``t`` is the time at which the value is used (the start of the step). pyNN.nest gives
    the same current for ``start >= min_delay``; for an earlier start its device cannot start
    early enough (not before t = 0), and its sine arrives one step late.
    """

    def __init__(self, amplitude=1.0, offset=0.0, frequency=10.0, phase=0.0, start=0.0, stop=math.inf):
        super().__init__(start, stop)
        self.amplitude, self.offset = float(amplitude), float(offset)
        self.omega, self.phase = 2e-3 * math.pi * float(frequency), math.radians(float(phase))

    def update(self, step, rng):
        new = self.offset + self.amplitude * math.sin(self.omega * (step * self.dt - self.start) + self.phase) \
            if self.active(step) else 0.0
        changed, self.current = new != self.current, new
        return changed


class NoisyCurrentSource(CurrentSource):
    """Gaussian noise: a new N(mean, stdev) value (nA) every ``dt`` ms in [start, stop).

    As NEST's noise_generator (what pyNN.nest uses), each target gets its own
    independent values. ``dt`` (default: the time step) must be a whole number of steps.
    """

    def __init__(self, mean=0.0, stdev=1.0, dt: Optional[float] = None, start=0.0, stop=math.inf):
        super().__init__(start, stop)
        self.mean, self.stdev, self.interval = float(mean), float(stdev), dt

    def bind(self, dt, n_targets):
        super().bind(dt, n_targets)
        interval = dt if self.interval is None else self.interval
        self.every = int(steps(interval, dt))
        if self.every < 1 or abs(self.every * dt - interval) > 1e-9 * max(1.0, interval):
            raise ValueError(f"NoisyCurrentSource dt = {interval} ms is not a multiple of the time step {dt} ms")

    def update(self, step, rng):
        if not self.active(step):
            changed = np.any(self.current != 0.0)
            self.current = 0.0
            return bool(changed)
        if (step - self.on) % self.every:
            return False
        self.current = rng.normal(self.mean, self.stdev, size=self.n_targets)
        return True


class WaveformSource(CurrentSource):
    """Sampled currents (nA), one value per step: ``values[n, channel[i]]`` drives target ``i`` in step ``n``.

    For injecting recorded stimuli, sampled at the network's time step, into many neurons at once
    (``glif_pynn.fit`` runs one recording per candidate parameter set). After the last sample the
    current is 0.

    Parameters
    ----------
    values : array (steps,) or (steps, channels)
        Current in nA; sample ``n`` is the current of step ``n``, ``(n dt, (n + 1) dt]``.
    channel : int array (targets,), optional
        The column of ``values`` that each target receives. Default: column ``i`` for target ``i``
        (one target per column), or the one column for every target.
    """

    def __init__(self, values, channel=None) -> None:
        super().__init__()
        values = np.asarray(values, dtype=float)
        self.values = values[:, None] if values.ndim == 1 else values
        if self.values.ndim != 2 or not np.all(np.isfinite(self.values)):
            raise ValueError("WaveformSource needs a finite (steps,) or (steps, channels) array of currents in nA")
        self.channel = None if channel is None else np.asarray(channel, np.int64)
        if self.channel is not None and len(self.channel) and (self.channel.min() < 0 or
                                                               self.channel.max() >= self.values.shape[1]):
            raise ValueError(f"WaveformSource channel out of range: {self.values.shape[1]} columns")

    def bind(self, dt, n_targets):
        super().bind(dt, n_targets)
        columns = self.values.shape[1]
        if self.channel is None:
            if columns not in (1, n_targets):
                raise ValueError(f"WaveformSource has {columns} columns for {n_targets} targets: give channel")
            self.channel = np.zeros(n_targets, np.int64) if columns == 1 else np.arange(n_targets)
        elif len(self.channel) != n_targets:
            raise ValueError(f"WaveformSource channel has {len(self.channel)} entries for {n_targets} targets")
        self._zero = np.zeros(n_targets)

    def update(self, step, rng):
        if 0 <= step < len(self.values) and step >= self.first_step:
            self.current = self.values[step].take(self.channel)
            return True
        changed = self.current is not self._zero
        self.current = self._zero
        return changed


class Synapses:
    """All connections of a network as one CSR table over presynaptic nodes.

    Row ``i`` holds the synapses of node ``i``; per synapse an int32 code
    ``D * C N + channel * N + post`` (``D`` the delay in steps, ``C`` channels per neuron:
    the receptors, channel 1 = inhibitory for the excitatory/inhibitory types; int64 when that
    overflows) and a float64 weight: 12 bytes per synapse. Delivery adds ``base * C N`` to
    the codes, wraps them once into the ring buffer and scatters the weights with one ``np.add.at``.
    """

    def __init__(self, parts: list, n_nodes: int, n_neurons: int, channels: int = 2) -> None:
        pre, post, w, d, channel = (np.concatenate(x) for x in zip(*parts))
        self.n_nodes, self.n_neurons, self.channels = n_nodes, n_neurons, channels
        self.width = channels * n_neurons
        self.max_delay = int(d.max()) if len(d) else 1
        self.delays = np.unique(d)
        self.wrap = (self.max_delay + 1) * self.width
        code_type = np.int32 if 2 * self.wrap < np.iinfo(np.int32).max else np.int64
        codes = (d * self.width + channel * n_neurons + post).astype(code_type)
        order = np.lexsort((codes, pre))               # by presynaptic node, then slot and target
        self.codes, self.weights = codes[order], np.ascontiguousarray(w[order])
        self.indptr = np.zeros(n_nodes + 1, np.int64)
        np.cumsum(np.bincount(pre, minlength=n_nodes), out=self.indptr[1:])

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.codes.nbytes + self.weights.nbytes

    def posts(self) -> np.ndarray:
        """Postsynaptic neuron index of every synapse."""
        return (self.codes % self.width) % self.n_neurons

    def decompile(self) -> tuple:
        """(pre, post, weight, delay, channel) arrays, as :meth:`Network.connect` stores them."""
        pre = np.repeat(np.arange(self.n_nodes), np.diff(self.indptr))
        target = self.codes % self.width
        return pre, target % self.n_neurons, self.weights, self.codes // self.width, target // self.n_neurons

