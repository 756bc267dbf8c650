"""Recorded sweeps for fitting: neo segments -> validated plain arrays in PyNN units, and spikes.

A sweep is one neo ``Segment`` with two single-channel ``AnalogSignal``s of the same sampling and
length: the injected current, named ``"current"`` (any current unit), and the membrane potential,
named ``"v"`` (any voltage unit). Inside the fit everything is a plain array in fixed units:
current in nA, V in mV, times in ms (:class:`Sweep`).

Sample convention (the reference engine's): sample ``n`` of the current drives the interval
``(n dt, (n + 1) dt]``; sample ``n`` of V is the potential at ``n dt``. A spike is stored as the
index ``n_s`` of its first sample: ``V[n_s - 1]`` is the last subthreshold sample and the spike
time is ``n_s dt`` (the end of the step in which V crossed threshold, as NEST stamps spikes).

Spikes come from the segment's spike train when it has one (a train named ``"spikes"`` when it has
several), else from V by this rule (:func:`detect_spikes`): every upward crossing of
``spike_level`` (default -20 mV) is one spike. Within the 3 ms before the crossing (and after the
previous spike fell back to ``spike_level``, so that a doublet's first upstroke is not the second's), the threshold
sample is where V first rises at 5 % or more of that spike's steepest rise (per sample, forward
differences) after the last slower rise: the 5 % criterion of the Allen Institute's feature
extractor. The threshold sample is the last subthreshold one, ``n_s - 1``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import quantities as pq

#: Shortest sweep accepted (ms): the spike cut search alone looks 15 ms past each spike.
MIN_SWEEP_MS = 200.0
#: Coarsest sampling accepted (ms): spike times are scored within +-2 ms.
MAX_DT_MS = 0.2
#: Default level (mV) whose upward crossings are spikes when V is searched for spikes.
SPIKE_LEVEL_MV = -20.0
#: Plausible membrane potentials (mV): a median outside, or a V that moves by less than
#: :data:`MIN_V_RANGE_MV`, means V is in another unit than its label says (V labelled mV, ...).
V_MEDIAN_RANGE_MV = (-150.0, 50.0)
MIN_V_RANGE_MV = 1.0
#: Largest plausible injected current (nA); the training current must vary by at least
#: :data:`MIN_CURRENT_RANGE_NA` (1 pA) for the membrane to be identified.
MAX_CURRENT_NA = 100.0
MIN_CURRENT_RANGE_NA = 1e-3


@dataclass(frozen=True)
class Sweep:
    """One recorded sweep in fixed units.

    Attributes
    ----------
    current : ndarray
        Injected current (nA), one value per sample.
    v : ndarray
        Membrane potential (mV), one value per sample.
    dt : float
        Sampling interval (ms).
    spikes : ndarray of int
        Index of the first sample of each spike, increasing.
    name : str
        Where the sweep came from (for messages).
    """

    current: np.ndarray
    v: np.ndarray
    dt: float
    spikes: np.ndarray
    name: str = "sweep"

    def __post_init__(self) -> None:
        """Validate (the one check of every sweep, whether made from a Segment or given directly)."""
        current, v, dt = check_arrays(self.current, self.v, self.dt, self.name)
        object.__setattr__(self, "current", current)
        object.__setattr__(self, "v", v)
        object.__setattr__(self, "dt", dt)
        object.__setattr__(self, "spikes", _check_spike_indices(self.spikes, len(v), self.name))

    @property
    def n(self) -> int:
        return len(self.v)

    @property
    def duration(self) -> float:
        """Length (ms)."""
        return self.n * self.dt

    @property
    def spike_times(self) -> np.ndarray:
        """Spike times (ms from the start of the sweep)."""
        return self.spikes * self.dt


def check_arrays(current, v, dt, label: str) -> tuple[np.ndarray, np.ndarray, float]:
    """``(current, v, dt)`` as float arrays and a float, or a ValueError naming ``label`` and the problem:
    not 1-D, different lengths, NaN or infinite values, a sampling interval that is not positive or
    coarser than :data:`MAX_DT_MS`, a sweep shorter than :data:`MIN_SWEEP_MS`, or values whose size
    says that a signal is in another unit than its label (V in V, current in pA given as nA, ...)."""
    arrays = {}
    for name, values, unit in (("current", current, "nA"), ("v", v, "mV")):
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{label}: {name!r} is not an array of numbers ({err})") from err
        if array.ndim != 1:
            raise ValueError(f"{label}: {name!r} has shape {array.shape}; give one value per sample (one channel)")
        if not np.all(np.isfinite(array)):
            bad = int(np.flatnonzero(~np.isfinite(array))[0])
            raise ValueError(f"{label}: signal {name!r} has NaN or infinite values (first at sample {bad}); "
                             "cut or interpolate them before fitting")
        arrays[name] = array
    current, v = arrays["current"], arrays["v"]
    if len(current) != len(v):
        raise ValueError(f"{label}: 'current' has {len(current)} samples and 'v' {len(v)}; give both the same length")
    try:
        dt = float(dt)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{label}: the sampling interval {dt!r} is not a number of ms") from err
    if not dt > 0:
        raise ValueError(f"{label}: the sampling interval is {dt:g} ms; it must be positive")
    if dt > MAX_DT_MS:
        raise ValueError(f"{label}: sampled every {dt:g} ms; the fit needs {MAX_DT_MS:g} ms or finer "
                         "(5 kHz or more; 10 or 20 kHz recordings are used as they are)")
    if len(v) * dt < MIN_SWEEP_MS:
        raise ValueError(f"{label} lasts {len(v) * dt:g} ms, too short to fit; each sweep needs at least "
                         f"{MIN_SWEEP_MS:g} ms")
    median, low, high = float(np.median(v)), *V_MEDIAN_RANGE_MV
    if not low <= median <= high or np.ptp(v) < MIN_V_RANGE_MV:
        raise ValueError(f"{label}: 'v' has a median of {median:.4g} mV and moves by {np.ptp(v):.3g} mV, not the "
                         f"potential of a cell (median {low:g} to {high:g} mV, moving by {MIN_V_RANGE_MV:g} mV or "
                         "more); are its units right (mV, not V)?")
    peak = float(np.max(np.abs(current)))
    if peak > MAX_CURRENT_NA:
        raise ValueError(f"{label}: 'current' reaches {peak:.4g} nA, more than the {MAX_CURRENT_NA:g} nA a cell is "
                         "given; are its units right (pA, nA)?")
    return current, v, dt


def _check_spike_indices(spikes, n: int, label: str) -> np.ndarray:
    """Spike first-sample indices as int64: integral, strictly increasing, within ``[1, n)``."""
    array = np.asarray(spikes)
    if array.ndim != 1 or (array.size and not np.all(np.isfinite(array.astype(float)))):
        raise ValueError(f"{label}: spikes must be a 1-D array of sample indices")
    index = array.astype(np.int64)
    if not np.array_equal(index, array.astype(float)):
        raise ValueError(f"{label}: spikes must be sample indices (whole numbers), not times; divide times by dt")
    if len(index) and (index.min() < 1 or index.max() >= n):
        raise ValueError(f"{label}: spike indices {index.min()} to {index.max()} lie outside the sweep's {n} samples")
    if np.any(np.diff(index) <= 0):
        raise ValueError(f"{label}: spike indices must increase strictly")
    return index


def _signal(segment, name: str, label: str, kind: str, unit: pq.Quantity):
    """The single-channel signal called ``name`` as a 1-D array in ``unit``."""
    found = [s for s in segment.analogsignals if s.name == name]
    if not found:
        names = ", ".join(repr(s.name) for s in segment.analogsignals) or "none"
        raise ValueError(f"{label} has no AnalogSignal named {name!r} (signals found: {names}); name the injected "
                         f"current 'current' and the membrane potential 'v'")
    if len(found) > 1:
        raise ValueError(f"{label} has {len(found)} AnalogSignals named {name!r}; keep one")
    sig = found[0]
    if sig.ndim == 2 and sig.shape[1] != 1:
        raise ValueError(f"{label}: signal {name!r} has {sig.shape[1]} channels; give one channel per sweep "
                         f"(one Segment per channel)")
    if sig.units.dimensionality == pq.dimensionless.dimensionality:
        raise ValueError(f"{label}: signal {name!r} has no units; give it {kind} units (e.g. {unit.dimensionality})")
    if sig.units.simplified.dimensionality != unit.simplified.dimensionality:
        raise ValueError(f"{label}: signal {name!r} is in {sig.units.dimensionality}, which is not a {kind}")
    return sig, np.asarray(sig.rescale(unit).magnitude, dtype=float).reshape(-1)


def sweep_from_segment(segment, label: str = "sweep", spike_level: float = SPIKE_LEVEL_MV) -> Sweep:
    """A :class:`Sweep` from one neo ``Segment`` (see the module docstring).

    Raises
    ------
    ValueError
        Naming the segment and the problem: a missing signal, no units or the wrong kind of units,
        several channels, different sampling or start of the two signals, and what :func:`check_arrays`
        refuses (NaN, different lengths, too short, too coarse, values in another unit than labelled).
    """
    if not hasattr(segment, "analogsignals"):
        raise ValueError(f"{label} is a {type(segment).__name__}, not a neo Segment")
    i_sig, current = _signal(segment, "current", label, "current", pq.nA)
    v_sig, v = _signal(segment, "v", label, "voltage", pq.mV)
    dt_i = float(i_sig.sampling_period.rescale(pq.ms).magnitude)
    dt_v = float(v_sig.sampling_period.rescale(pq.ms).magnitude)
    if abs(dt_i - dt_v) > 1e-9 * dt_v:
        raise ValueError(f"{label}: 'current' is sampled every {dt_i:g} ms and 'v' every {dt_v:g} ms; resample "
                         "them to the same sampling period")
    t0_i, t0_v = (float(s.t_start.rescale(pq.ms).magnitude) for s in (i_sig, v_sig))
    if abs(t0_i - t0_v) > 1e-6 * dt_v:
        raise ValueError(f"{label}: 'current' starts at {t0_i:g} ms and 'v' at {t0_v:g} ms; align them")
    current, v, dt_v = check_arrays(current, v, dt_v, label)
    spikes = _spikes_of(segment, label, t0_v, dt_v, len(v))
    if spikes is None:
        spikes = detect_spikes(v, dt_v, spike_level)
    return Sweep(current, v, dt_v, spikes, label)


def _spikes_of(segment, label: str, t_start: float, dt: float, n: int) -> Optional[np.ndarray]:
    """First-sample indices of the segment's spike train, or None when it has none."""
    trains = list(segment.spiketrains)
    if not trains:
        return None
    if len(trains) > 1:
        named = [t for t in trains if t.name == "spikes"]
        if len(named) != 1:
            raise ValueError(f"{label} has {len(trains)} spike trains; name the one of this cell 'spikes'")
        trains = named
    times = np.sort(trains[0].rescale(pq.ms).magnitude.astype(float)) - t_start
    index = np.round(times / dt).astype(np.int64)
    if len(index) and (index.min() < 1 or index.max() >= n):
        raise ValueError(f"{label}: spike times lie outside the recording ({times.min():g} to {times.max():g} ms "
                         f"after its start, which lasts {n * dt:g} ms)")
    if len(index) != len(np.unique(index)):
        raise ValueError(f"{label}: two spikes fall into the same sample")
    return index


def detect_spikes(v: np.ndarray, dt: float, level: float = SPIKE_LEVEL_MV) -> np.ndarray:
    """First-sample indices of the spikes in ``v`` (mV, sampled every ``dt`` ms); rule in the module docstring."""
    above = v > level
    crossings = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    falls = np.flatnonzero(above[:-1] & ~above[1:]) + 1       # first sample back at or below the level
    rate = np.diff(v) / dt                           # rate[i]: from sample i to i + 1
    back = max(2, int(round(3.0 / dt)))
    starts = []
    for c in crossings:
        previous = np.searchsorted(falls, c) - 1         # the window starts after the last spike fell back
        lo = max(0, c - back, int(falls[previous]) if previous >= 0 else 0)
        window = rate[lo:c]
        if len(window) == 0:
            continue
        peak = lo + int(np.argmax(window))
        slow = np.flatnonzero(rate[lo:peak] < 0.05 * rate[peak])
        start = lo + (int(slow[-1]) + 2 if len(slow) else 1)       # the sample after the first fast rise
        if start >= 1 and (not starts or start > starts[-1]):
            starts.append(start)
    return np.asarray(starts, dtype=np.int64)


def as_sweeps(sweeps, role: str = "training", spike_level: float = SPIKE_LEVEL_MV) -> list[Sweep]:
    """Validated :class:`Sweep` objects from a neo Block, a list of Segments (or Sweeps), or one Segment.

    All sweeps must share one sampling period.
    """
    if hasattr(sweeps, "segments"):
        items = list(sweeps.segments)
    elif hasattr(sweeps, "analogsignals") or isinstance(sweeps, Sweep):
        items = [sweeps]
    elif isinstance(sweeps, (list, tuple)):
        items = list(sweeps)
    else:
        raise ValueError(f"{role} sweeps: expected a neo Block or a list of neo Segments, got "
                         f"{type(sweeps).__name__}")
    if not items:
        raise ValueError(f"no {role} sweeps given")
    out = [s if isinstance(s, Sweep) else sweep_from_segment(s, f"{role} sweep {k}", spike_level)
           for k, s in enumerate(items)]
    dts = sorted({s.dt for s in out})
    if dts[-1] - dts[0] > 1e-9 * dts[0]:
        raise ValueError(f"{role} sweeps are sampled at different periods ({', '.join(f'{d:g}' for d in dts)} ms); "
                         "resample them to one")
    return out


def read_recording(path: Union[str, Path], current: str = "current", v: str = "v") -> list:
    """The segments of a file that neo reads (``neo.io.get_io``), with the signals renamed for the fit.

    Channels are chosen by name: the signal called ``current`` and the one called ``v``. A name given
    that no signal has is an error; with the default names, a segment without such a signal gives the
    one signal whose units are a current (a voltage), and several such signals are an error that lists
    their names (choose with ``current``/``v``). Multi-channel signals are refused: the fit wants one
    cell per segment. A file neo cannot read is a ValueError naming it.
    """
    import neo
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"recording {path} is a folder; give the file that holds the sweeps")
    if not path.is_file():
        raise ValueError(f"recording {path} does not exist")
    try:
        io = neo.io.get_io(str(path))
    except (IOError, ValueError, KeyError) as err:
        raise ValueError(f"neo cannot read {path}: {err}") from err
    try:     # neo's readers raise whatever their format's parser raises on a damaged file
        blocks = io.read(lazy=False) if hasattr(io, "read") else [io.read_block()]
    except Exception as err:
        raise ValueError(f"neo cannot read {path} ({type(io).__name__}): {type(err).__name__}: {err}") from err
    if not isinstance(blocks, (list, tuple)) or not all(hasattr(b, "segments") for b in blocks):
        raise ValueError(f"{path} does not hold neo Blocks (it holds a {type(blocks).__name__}); write the sweeps as "
                         "the Segments of a neo Block")
    segments = [seg for block in blocks for seg in block.segments]
    if not segments:
        raise ValueError(f"{path} holds no segments")
    for k, seg in enumerate(segments):
        for wanted, default, dim in ((current, "current", pq.A), (v, "v", pq.V)):
            _rename(seg, wanted, default, dim, f"{path.name} segment {k}")
    return segments


def _rename(segment, wanted: str, target: str, dim: pq.Quantity, label: str) -> None:
    """Give the signal chosen for ``target`` (``current`` or ``v``) that name: the one named ``wanted``; with the
    default name only, else the one signal of that kind of units. A signal already called ``target`` but not
    chosen is renamed ``target + " (not used)"``."""
    signals = segment.analogsignals
    named = [s for s in signals if s.name == wanted]
    if not named and wanted != target:
        names = ", ".join(repr(s.name) for s in signals) or "none"
        raise ValueError(f"{label} has no signal named {wanted!r} (signals: {names})")
    if not named:
        named = [s for s in signals if s.units.simplified.dimensionality == dim.simplified.dimensionality]
        if len(named) > 1:
            raise ValueError(f"{label}: several {target} signals ({', '.join(repr(s.name) for s in named)}); "
                             f"choose one by name")
    if named:
        for other in signals:
            if other is not named[0] and other.name == target:
                other.name = f"{target} (not used)"
        named[0].name = target


def concatenate(sweeps: Sequence[Sweep]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(current, v, sweep start indices, global spike indices) of the sweeps laid end to end."""
    starts = np.cumsum([0] + [s.n for s in sweeps])[:-1]
    spikes = np.concatenate([s.spikes + start for s, start in zip(sweeps, starts)]) if sweeps else np.zeros(0, int)
    return (np.concatenate([s.current for s in sweeps]), np.concatenate([s.v for s in sweeps]),
            starts.astype(np.int64), spikes.astype(np.int64))
