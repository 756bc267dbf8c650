"""Subthreshold stage of the fit: C, G, E_L and the after-spike currents by linear regression on V
between spikes, and the spike cut (the hold) that best explains V after each spike.

Between spikes the model is linear. Sampled as the reference engine integrates it (exactly, the
current held over each step), V in a stretch that starts at sample ``n0`` is, for ``m = n - n0``::

    V[n] = E_L + P^m (V0 - E_L) + (1/C) X_I[n] + sum_j (dI_j / C) X_j[n]

with ``P = exp(-dt / tau_m)``, ``X_I`` the input filtered by the membrane
(``X[n + 1] = P X[n] + tau_m (1 - P) I[n]``, restarted at ``n0``) and ``X_j`` the same filter of the
unit after-spike current ``A_j`` (a jump of 1 at each spike, decaying at rate ``k_j``; weights
``coupling(1/tau_m, k_j, dt)`` as in the engine). For fixed ``tau_m`` and ``k_j`` this is linear in
``1/C``, ``E_L``, ``dI_j / C`` and one initial value ``V0`` per stretch: a linear least-squares
problem (the ``V0`` are projected out stretch by stretch). ``tau_m`` and ``k_j`` are found by
minimising its residual (variable projection). Measurement noise on V enters only the dependent
variable, so the estimates are unbiased; no derivative of V is taken.

A stretch runs from ``hold`` samples after a spike's first sample (or from the start of a sweep) to
the sample before the next spike. The hold (the spike cut, which becomes ``tau_refrac``) is found by
:func:`search_hold`: V held at a constant for ``R`` samples after each spike, then following the
fitted model, over the first 15 ms after each spike; ``R`` minimises the squared error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.signal import lfilter

from glif_pynn.fit.data import Sweep, concatenate
from glif_pynn.reference.propagators import coupling

#: Shortest stretch used in the regression (ms).
MIN_STRETCH_MS = 2.0
#: Longest spike cut considered (ms), and how far past it V is compared (ms).
MAX_HOLD_MS, HOLD_WINDOW_MS = 10.0, 5.0
#: Bounds of the nonlinear parameters: tau_m (ms), slow and fast after-spike current rates (1/ms).
TAU_BOUNDS = (0.5, 500.0)
K_BOUNDS = ((0.002, 0.1), (0.1, 2.0))
K_START = (0.03, 0.3)
#: Spikes used to search for the hold (evenly spread over the data).
HOLD_SPIKES = 400
#: Samples used to search for tau_m and the after-spike rates (the final regression uses all).
SEARCH_SAMPLES = 120_000


class Recording:
    """The training sweeps laid end to end, with per-sweep bookkeeping."""

    def __init__(self, sweeps: Sequence[Sweep]) -> None:
        self.sweeps = list(sweeps)
        self.dt = self.sweeps[0].dt
        self.current, self.v, self.starts, self.spikes = concatenate(self.sweeps)
        self.ends = self.starts + np.array([s.n for s in self.sweeps])       # exclusive
        self.n = int(self.ends[-1])
        self.sweep_of_spike = np.searchsorted(self.starts, self.spikes, side="right") - 1
        self._asc = {}

    def asc_unit(self, k: float) -> np.ndarray:
        """Unit after-spike current (a jump of 1 at each spike's first sample, decaying at rate k), per sample."""
        key = round(float(k), 15)
        if key not in self._asc:
            decay = np.exp(-k * self.dt)
            out = np.zeros(self.n)
            for a, b in zip(self.starts, self.ends):
                impulses = np.zeros(b - a)
                impulses[self.spikes[(self.spikes >= a) & (self.spikes < b)] - a] = 1.0
                out[a:b] = lfilter([1.0], [1.0, -decay], impulses)
            if len(self._asc) > 64:
                self._asc.clear()
            self._asc[key] = out
        return self._asc[key]


@dataclass
class Stretches:
    """Subthreshold stretches: first and last sample (inclusive), the spike before (-1: a sweep start)."""

    begin: np.ndarray
    end: np.ndarray
    after_spike: np.ndarray
    index: np.ndarray        # every sample of every stretch
    sid: np.ndarray          # its stretch
    lag: np.ndarray          # samples since the stretch began
    offsets: np.ndarray      # position of each stretch's first sample in ``index``
    current: np.ndarray      # the current at ``index``
    v: np.ndarray            # V at ``index``

    def subset(self, rec: "Recording", limit: int) -> "Stretches":
        """Every m-th stretch, so that at most about ``limit`` samples remain."""
        step = max(1, int(np.ceil(len(self.index) / limit)))
        if step == 1:
            return self
        return _make(self.begin[::step], self.end[::step], self.after_spike[::step], rec.current, rec.v)


def stretches(rec: Recording, hold: int, min_len: Optional[int] = None) -> Stretches:
    """The stretches between spikes, starting ``hold`` samples after each spike's first sample."""
    min_len = max(3, int(round(MIN_STRETCH_MS / rec.dt))) if min_len is None else min_len
    begin, end, after = [], [], []
    for s, (a, b) in enumerate(zip(rec.starts, rec.ends)):
        spikes = rec.spikes[rec.sweep_of_spike == s]
        begin += [a] + list(spikes + hold)
        end += list(spikes - 1) + [b - 1]
        after += [-1] + list(np.flatnonzero(rec.sweep_of_spike == s))
    begin, end, after = (np.asarray(x, np.int64) for x in (begin, end, after))
    keep = end - begin + 1 >= min_len
    return _make(begin[keep], end[keep], after[keep], rec.current, rec.v)


def _make(begin, end, after, current, v) -> Stretches:
    lengths = end - begin + 1
    sid = np.repeat(np.arange(len(begin)), lengths)
    offsets = np.cumsum(lengths) - lengths
    lag = np.arange(int(lengths.sum())) - offsets[sid]
    index = begin[sid] + lag
    return Stretches(begin, end, after, index, sid, lag, offsets, current[index], v[index])


@dataclass
class Dynamics:
    """Result of the subthreshold regression (PyNN units)."""

    tau_m: float
    cm: float
    v_rest: float
    k_asc: tuple
    delta_asc: tuple
    hold: int
    v0: np.ndarray           # fitted initial value of each stretch
    fitted: np.ndarray       # fitted V at every stretch sample
    stretches: Stretches
    rms: float               # residual rms (mV)

    def forced(self, rec: Recording) -> np.ndarray:
        """The input-driven part of V, ``(X_I + sum_j dI_j X_j) / C``, unrestarted, at every sample."""
        p = np.exp(-rec.dt / self.tau_m)
        total = lfilter([0.0, self.tau_m * (1 - p)], [1.0, -p], rec.current)
        for k, d in zip(self.k_asc, self.delta_asc):
            total += d * lfilter([0.0, coupling(1.0 / self.tau_m, k, rec.dt)], [1.0, -p], rec.asc_unit(k))
        return total / self.cm

    def extend(self, rec: Recording, n: np.ndarray, v_n: np.ndarray) -> np.ndarray:
        """V one step after samples ``n`` (where V is ``v_n``): where the model crosses threshold."""
        return advance(rec, n, v_n, self.tau_m, self.cm, self.v_rest, self.k_asc, self.delta_asc)


def advance(rec: Recording, n, v_n, tau_m: float, cm: float, v_rest: float, ks: Sequence[float],
            deltas: Sequence[float]):
    """V one step after samples ``n`` of ``rec`` where it is ``v_n``, no spike in between (the engine's step)."""
    p = np.exp(-rec.dt / tau_m)
    out = v_rest + p * (v_n - v_rest) + tau_m * (1 - p) * rec.current[n] / cm
    for k, d in zip(ks, deltas):
        out = out + d * float(coupling(1.0 / tau_m, k, rec.dt)) * rec.asc_unit(k)[n] / cm
    return out


def asc_at_begin(rec: Recording, st: Stretches, k: float) -> np.ndarray:
    """The unit after-spike current (rate k) at the first sample of each stretch."""
    q = float(np.exp(-k * rec.dt))
    level, previous, sweep_prev = [], 0.0, -1
    for n, gap, sweep in zip(rec.spikes.tolist(), np.diff(rec.spikes, prepend=0).tolist(),
                             rec.sweep_of_spike.tolist()):
        previous = 1.0 + (previous * q ** gap if sweep == sweep_prev else 0.0)
        level.append(previous)
        sweep_prev = sweep
    level = np.asarray(level)
    spike = np.maximum(st.after_spike, 0)
    if len(level) == 0:
        return np.zeros(len(st.begin))
    return np.where(st.after_spike >= 0, level[spike] * q ** (st.begin - rec.spikes[spike]), 0.0)


def design_columns(rec: Recording, st: Stretches, tau: float, ks: Sequence[float]):
    """Design columns at the stretch samples (unprojected) and the per-stretch decay ``w = P^lag``.

    Within a stretch there is no spike, so the after-spike columns are closed forms,
    ``c_j A_j(begin) (P^m - Q_j^m) / (P - Q_j)``; the input column is one filter over the stretch
    samples laid end to end, restarted at each stretch."""
    h = rec.dt
    p = np.exp(-h / tau)
    w = np.exp(-(h / tau) * st.lag)
    x = lfilter([0.0, tau * (1 - p)], [1.0, -p], st.current)
    out = np.empty((len(w), 2 + len(ks)))
    np.subtract(x, w * x[st.offsets][st.sid], out=out[:, 0])
    np.subtract(1.0, w, out=out[:, 1])
    for j, k in enumerate(ks):
        q = np.exp(-k * h)
        if abs(p - q) > 1e-7 * p:
            shape = (w - np.exp(-(k * h) * st.lag)) / (p - q)
        else:                                  # coinciding rates: m p^(m - 1)
            shape = st.lag * w / p
        out[:, 2 + j] = float(coupling(1.0 / tau, k, h)) * asc_at_begin(rec, st, k)[st.sid] * shape
    return out, w


def _solve(rec: Recording, st: Stretches, tau: float, ks: Sequence[float], full: bool = False):
    x, w = design_columns(rec, st, tau, ks)
    y = st.v
    ww = np.add.reduceat(w * w, st.offsets)

    def project(c):
        return c - w * (np.add.reduceat(w * c, st.offsets) / ww)[st.sid]

    xp = np.empty_like(x)
    for i in range(x.shape[1]):
        xp[:, i] = project(x[:, i])
    yp = project(y)
    beta = np.linalg.solve(xp.T @ xp, xp.T @ yp)
    ss = float(np.sum((yp - xp @ beta) ** 2))
    if not full:
        return ss
    partial = x @ beta
    v0 = np.add.reduceat(w * (y - partial), st.offsets) / ww
    return ss, beta, v0, partial + v0[st.sid] * w


def fit_dynamics(rec: Recording, hold: int, n_asc: int, start: Optional[tuple] = None,
                 ftol: float = 1e-10) -> Dynamics:
    """C, tau_m, E_L (and ``n_asc`` after-spike currents: amplitudes and rates) for a given hold.

    ``ftol``: relative change of the residual at which the search for tau_m and the rates stops."""
    st = stretches(rec, hold)
    if len(st.index) < 10 * (3 + 2 * n_asc):
        raise ValueError("too little subthreshold data between spikes to fit the membrane "
                         f"({len(st.index) * rec.dt:g} ms in stretches of {MIN_STRETCH_MS:g} ms or more)")
    if n_asc and not (st.after_spike >= 0).any():
        raise ValueError(f"no stretch after a spike lasts {MIN_STRETCH_MS:g} ms beyond the spike cut of "
                         f"{hold * rec.dt:g} ms (every interspike interval is shorter): the after-spike currents "
                         "cannot be estimated; give sweeps with slower firing, or fit a level without them (1 or 2)")
    lo, hi = np.log(TAU_BOUNDS)
    sub = st.subset(rec, SEARCH_SAMPLES)
    if n_asc == 0:
        res = minimize_scalar(lambda u: _solve(rec, sub, np.exp(u), ()), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-5})
        tau, ks = float(np.exp(res.x)), ()
    else:
        tau0, k0 = start if start is not None else (None, K_START[:n_asc])
        if tau0 is None:
            tau0 = fit_dynamics(rec, hold, 0).tau_m
        bounds = [(lo, hi)] + [tuple(np.log(b)) for b in K_BOUNDS[:n_asc]]
        x0 = np.clip(np.log([tau0, *k0]), [b[0] for b in bounds], [b[1] for b in bounds])
        scale = _solve(rec, sub, tau0, k0) or 1.0
        res = minimize(lambda u: _solve(rec, sub, np.exp(u[0]), np.exp(u[1:])) / scale, x0, method="L-BFGS-B",
                       bounds=bounds, options={"ftol": ftol, "gtol": 1e-12, "eps": 1e-6, "maxfun": 400})
        tau, ks = float(np.exp(res.x[0])), tuple(float(k) for k in np.exp(res.x[1:]))
    ss, beta, v0, fitted = _solve(rec, st, tau, ks, full=True)
    if not beta[0] > 0:
        raise ValueError("the fitted membrane capacitance is not positive: V does not follow the injected current "
                         "(check the sign and units of 'current', and that 'v' is this cell's potential)")
    cm = 1.0 / beta[0]
    return Dynamics(tau, cm, float(beta[1]), ks, tuple(float(b * cm) for b in beta[2:]), hold, v0, fitted, st,
                    float(np.sqrt(ss / len(st.index))))


def spike_end(rec: Recording) -> int:
    """Samples from a spike's first sample until V is back below its value before the spike (90th percentile)."""
    limit = int(round(MAX_HOLD_MS / rec.dt))
    ends = []
    for n in rec.spikes:
        after = rec.v[n:min(n + limit, rec.n)] < rec.v[n - 1]
        ends.append(int(np.argmax(after)) if after.any() else limit)
    return int(np.percentile(ends, 90)) if ends else 0


def search_hold(rec: Recording, dyn: Dynamics) -> int:
    """The hold R (samples) that best explains V after the spikes (see the module docstring)."""
    dt = rec.dt
    r_max = int(round(MAX_HOLD_MS / dt))
    r_min = min(spike_end(rec), r_max)
    l_max = r_max + int(round(HOLD_WINDOW_MS / dt))
    spikes = np.arange(len(rec.spikes))
    if len(spikes) > HOLD_SPIKES:
        spikes = spikes[np.linspace(0, len(spikes) - 1, HOLD_SPIKES).round().astype(int)]
    n = rec.spikes[spikes]
    nxt = np.r_[rec.spikes[1:], rec.n][spikes]
    sweep_end = rec.ends[rec.sweep_of_spike[spikes]]
    last = np.minimum(np.minimum(nxt, sweep_end) - 1 - n, l_max)       # last lag in the window
    lags = np.arange(r_min, l_max + 1)
    mask = lags[None, :] <= last[:, None]
    idx = np.minimum(n[:, None] + lags[None, :], rec.n - 1)
    y = rec.v[idx]
    g = dyn.forced(rec)
    gl = g[idx]
    p = np.exp(-dt / dyn.tau_m)

    def cost(r: int) -> float:
        free = lags > r
        w = np.where(free, p ** np.maximum(lags - r, 0), 1.0)[None, :] * mask
        start = g[np.minimum(n + r, rec.n - 1)][:, None]
        q = np.where(free[None, :], dyn.v_rest * (1 - w) + gl - w * start, 0.0) * mask
        v0 = np.sum(w * (y - q), axis=1) / np.maximum(np.sum(w * w, axis=1), 1e-300)
        return float(np.sum(mask * (y - q - v0[:, None] * w) ** 2))

    coarse = list(range(r_min, r_max + 1, 4)) + [r_max]
    best = min(coarse, key=cost)
    fine = range(max(r_min, best - 4), min(r_max, best + 4) + 1)
    return int(min(fine, key=cost))


def fit_subthreshold(rec: Recording, n_asc: int, progress=None) -> Dynamics:
    """Alternate the hold search and the regression until the hold settles (at most 4 rounds)."""
    say = progress or (lambda line: None)
    hold = int(round(MAX_HOLD_MS / rec.dt))
    dyn = fit_dynamics(rec, hold, n_asc, ftol=1e-7)       # provisional: only the first 10 ms after spikes left out
    for _ in range(4):
        new = search_hold(rec, dyn)
        say(f"membrane with a {hold * rec.dt:g} ms spike cut: tau_m {dyn.tau_m:.3g} ms, C {dyn.cm:.4g} nF, "
            f"E_L {dyn.v_rest:.2f} mV, residual {dyn.rms:.2f} mV; best spike cut {new * rec.dt:g} ms")
        if new == hold:
            break
        hold = new
        dyn = fit_dynamics(rec, hold, n_asc, start=(dyn.tau_m, dyn.k_asc) if n_asc else None)
    return dyn
