"""The spike-timing objective: many candidate parameter sets in ONE vectorised reference-engine run.

The training sweeps are cut into chunks (default 1 s; at most 32, evenly spread over the data, so that a
generation costs the same beyond 32 s of recordings). Every (candidate, chunk) pair is one neuron
of one :class:`glif_pynn.reference.engine.Network`: one run of ``chunk`` steps evaluates the whole
population of the optimiser. Each chunk starts where the data are between spikes (never inside a
spike cut), from the state the data imply there: V from the subthreshold fit, the after-spike
currents, ``theta`` and ``theta_v`` from the recorded spike and voltage history under each
candidate's parameters. Chunks keep the run short (a Python step costs the same for 10 neurons as
for 1000) and stop a missed spike from shifting everything after it.

The score is Kistler's coincidence factor Gamma (+-2 ms) of all chunks pooled, guarded as
DESIGN.md section 6 asks: where the model fires so fast that Gamma's normaliser ``1 - 2 nu Delta``
falls below 0.5 (nu > 125 Hz for Delta = 2 ms) the score is ``-1 - |log((N_model + 1) / (N_data + 1))|``
instead, worse than any honest candidate and still ranked by the rate mismatch. Coincidences are
counted vectorised: a data spike is matched when a model spike lies within +-Delta, the count being
the smaller of matched data spikes and matched model spikes (the one-to-one count of
:func:`glif_pynn.metrics.coincidence_factor` whenever no two spikes of a train lie within 2 Delta).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from glif_pynn.fit.stages import held_v_mask, voltage_history
from glif_pynn.fit.subthreshold import Dynamics, Recording

#: Coincidence half-window (ms).
WINDOW_MS = 2.0
#: theta_v at a chunk start integrates the V of the last HISTORY_DECAYS / b_theta_v ms: what is left out has
#: decayed below exp(-10) = 5e-5 (about 1e-4 where spike cuts, which hold theta_v, fill the window)
HISTORY_DECAYS = 10.0
#: Most chunks per candidate: 32 s of data hold hundreds of spikes, plenty for <= 5 threshold parameters.
MAX_CHUNKS = 32
#: default length of the optimiser's chunks (ms)
CHUNK_MS = 1000.0


@dataclass(frozen=True)
class Tuned:
    """A parameter the optimiser tunes, within ``bounds``; ``log``: searched on a log scale."""

    name: str
    low: float
    high: float
    log: bool = False

    def to_search(self, value: float) -> float:
        return float(np.log(value)) if self.log else float(value)

    def from_search(self, x):
        return np.exp(x) if self.log else np.asarray(x, float)

    @property
    def bounds(self) -> tuple:
        return (self.to_search(self.low), self.to_search(self.high))


def chunk_starts(rec: Recording, hold: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """(first sample, end sample) of each chunk: about ``chunk`` samples, starting outside spike cuts."""
    chunk = min(chunk, int(np.max(np.asarray(rec.ends) - np.asarray(rec.starts))))   # a chunk longer than
    # every sweep is the whole sweep (otherwise the length rule below would drop every chunk)
    in_cut = ~held_v_mask(rec, hold)
    in_cut[rec.spikes] = True
    firsts, ends = [], []
    for a, b in zip(rec.starts, rec.ends):
        marks = []
        for s in range(a, b, chunk):
            free = np.flatnonzero(~in_cut[s:b])
            if len(free) and (not marks or s + free[0] > marks[-1]):
                marks.append(s + int(free[0]))
        firsts += marks
        ends += marks[1:] + [b]
    firsts, ends = np.asarray(firsts, np.int64), np.asarray(ends, np.int64)
    keep = ends - firsts >= max(1, chunk // 10)
    return firsts[keep], ends[keep]


class SpikeTimingObjective:
    """``objective(x)`` with ``x`` of shape (parameters, candidates) -> cost per candidate (-Gamma).

    Parameters
    ----------
    rec, dyn
        The training recording and its subthreshold fit (for the chunks' initial states).
    base : dict
        Every GLIF parameter (PyNN names and units); the tuned ones are replaced per candidate.
    tuned : sequence of Tuned
    chunk_ms : float
        Chunk length (ms). Default: 1000.
    max_chunks : int
        At most this many chunks, evenly spread over the training data, are simulated. Default: 32.
    anchor : array, optional
        Search-space point of the staged estimate: ties in Gamma go to the candidate nearest to it
        (a penalty of at most 1e-4, less than one coincidence in 10,000 spikes).
    """

    def __init__(self, rec: Recording, dyn: Dynamics, base: dict, tuned: Sequence[Tuned],
                 chunk_ms: float = CHUNK_MS, anchor=None, max_chunks: int = MAX_CHUNKS) -> None:
        self.rec, self.dyn, self.base, self.tuned = rec, dyn, dict(base), list(tuned)
        chunk = max(1, int(round(chunk_ms / rec.dt)))
        self.first, self.end = chunk_starts(rec, dyn.hold, chunk)
        if len(self.first) > max_chunks:            # evenly spread over the training data
            pick = np.unique(np.linspace(0, len(self.first) - 1, max_chunks).round().astype(int))
            self.first, self.end = self.first[pick], self.end[pick]
        self.length = self.end - self.first
        self.steps = int(self.length.max())
        denoised = rec.v.copy()
        denoised[dyn.stretches.index] = dyn.fitted
        self.v_start = denoised[self.first]
        self.keep = held_v_mask(rec, dyn.hold)
        rel = [rec.spikes[(rec.spikes > a) & (rec.spikes < b)] - a for a, b in zip(self.first, self.end)]
        self.data_offsets = rel
        self.n_data = sum(len(r) for r in rel)
        self.duration = float(self.length.sum() * rec.dt)
        self.values = np.zeros((self.steps, len(self.first)))
        for m, (a, b) in enumerate(zip(self.first, self.end)):
            self.values[:b - a, m] = rec.current[a:b]
        self.asc_start = {}
        for j in (1, 2):
            k, d = base[f"k_asc{j}"], base[f"delta_asc{j}"]
            self.asc_start[j] = d * rec.asc_unit(k)[self.first] if d != 0 else np.zeros(len(self.first))
        self.anchor = None if anchor is None else np.asarray(anchor, float)
        self.spans = np.array([t.bounds[1] - t.bounds[0] for t in self.tuned])
        self.evaluations = 0

    def parameters(self, x: np.ndarray) -> dict:
        """Per-candidate values (arrays) of every parameter for search points ``x`` (parameters, candidates)."""
        x = np.asarray(x, float)
        x = x[:, None] if x.ndim == 1 else x
        out = {name: np.full(x.shape[1], value, float) for name, value in self.base.items()}
        for t, row in zip(self.tuned, x):
            out[t.name] = t.from_search(row)
        return out

    def _theta_start(self, rates: np.ndarray) -> np.ndarray:
        """(candidates, chunks): sum over earlier spikes of the same sweep of exp(-rate (t - t_j))."""
        rec, out = self.rec, np.zeros((len(rates), len(self.first)))
        sweep_of_chunk = np.searchsorted(rec.starts, self.first, side="right") - 1
        for m, (s, sweep) in enumerate(zip(self.first, sweep_of_chunk)):
            before = rec.spikes[(rec.sweep_of_spike == sweep) & (rec.spikes <= s)]
            if len(before):
                out[:, m] = np.exp(-np.outer(rates, (s - before) * rec.dt)).sum(axis=1)
        return out

    def simulate(self, params: dict) -> tuple[np.ndarray, np.ndarray]:
        """Run every (candidate, chunk) neuron; return (neuron index, spike step within its chunk)."""
        from glif_pynn.reference.engine import Network
        from glif_pynn.reference.sources import WaveformSource
        n_cand, n_chunk = len(params["cm"]), len(self.first)
        per_neuron = {name: np.repeat(value, n_chunk) for name, value in params.items()}
        net = Network(self.rec.dt)
        pop = net.create("curr_exp", n_cand * n_chunk, **per_neuron)
        net.inject(WaveformSource(self.values, np.tile(np.arange(n_chunk), n_cand)), pop)
        init = {"v": np.tile(self.v_start, n_cand),
                "i_asc1": np.tile(self.asc_start[1], n_cand), "i_asc2": np.tile(self.asc_start[2], n_cand)}
        if np.any(params["delta_theta"] != 0):
            init["theta"] = (params["delta_theta"][:, None] * self._theta_start(params["b_theta"])).ravel()
        if np.any(params["a_theta_v"] != 0):
            tv = np.empty((n_cand, n_chunk))
            for c in range(n_cand):
                rate = params["b_theta_v"][c]
                tv[c] = params["a_theta_v"][c] * voltage_history(self.rec, params["v_rest"][c], rate, self.keep,
                                                                 self.first, horizon=HISTORY_DECAYS / rate)
            init["theta_v"] = tv.ravel()
        net.initialize(pop, **init)
        net.record(pop, ["spikes"])
        net.run_steps(self.steps)
        ids, times = net.get_recording(pop)["spikes"]
        return ids, np.round(times / self.rec.dt).astype(np.int64)

    def gamma(self, params: dict) -> tuple[np.ndarray, np.ndarray]:
        """Guarded pooled Gamma and model spike count per candidate."""
        self.evaluations += len(params["cm"])
        n_chunk = len(self.first)
        ids, offset = self.simulate(params)
        n_cand = len(params["cm"])
        valid = offset < self.length[ids % n_chunk]
        ids, offset = ids[valid], offset[valid]
        span = self.steps + 10 * int(round(WINDOW_MS / self.rec.dt)) + 10
        model = np.sort(ids * span + offset)
        chunk_of = np.concatenate([np.full(len(r), m) for m, r in enumerate(self.data_offsets)]) \
            if self.n_data else np.zeros(0, int)
        rel = np.concatenate(self.data_offsets) if self.n_data else np.zeros(0, int)
        data = (np.arange(n_cand)[:, None] * n_chunk + chunk_of[None, :]) * span + rel[None, :]
        window = WINDOW_MS / self.rec.dt + 1e-9
        matched_data = _matched(data.ravel(), model, window).reshape(n_cand, -1).sum(axis=1)
        matched_model = np.bincount((model // span) // n_chunk, weights=_matched(model, np.sort(data.ravel()), window),
                                    minlength=n_cand)
        n_model = np.bincount(ids // n_chunk, minlength=n_cand).astype(float)
        coinc = np.minimum(matched_data, matched_model)
        rate = n_model / self.duration
        norm = 1.0 - 2.0 * rate * WINDOW_MS
        expected = 2.0 * rate * WINDOW_MS * self.n_data
        with np.errstate(divide="ignore", invalid="ignore"):
            g = (coinc - expected) / (0.5 * (self.n_data + n_model) * norm)
        guarded = norm < 0.5
        g[guarded] = -1.0 - np.abs(np.log((n_model[guarded] + 1.0) / (self.n_data + 1.0)))
        g[(n_model == 0) & ~guarded] = 0.0 if self.n_data else 1.0
        return g, n_model

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        if x.ndim == 1:
            x = x[:, None]
        g, _ = self.gamma(self.parameters(x))
        return -g + self.tie_penalty(x)

    def tie_penalty(self, x: np.ndarray) -> np.ndarray:
        """The part of the cost that breaks ties toward the anchor (0 without one): at most 1e-4."""
        x = np.asarray(x, float)
        if x.ndim == 1:
            x = x[:, None]
        if self.anchor is None:
            return np.zeros(x.shape[1])
        return 1e-4 * np.mean(((x - self.anchor[:, None]) / self.spans[:, None]) ** 2, axis=0)


def _matched(points: np.ndarray, sorted_other: np.ndarray, window: float) -> np.ndarray:
    """1.0 where a point of ``sorted_other`` lies within ``window`` of the point, else 0.0."""
    if len(sorted_other) == 0 or len(points) == 0:
        return np.zeros(len(points))
    pos = np.searchsorted(sorted_other, points)
    left = sorted_other[np.maximum(pos - 1, 0)]
    right = sorted_other[np.minimum(pos, len(sorted_other) - 1)]
    nearest = np.minimum(np.abs(points - left), np.abs(points - right))
    return (nearest <= window).astype(float)
