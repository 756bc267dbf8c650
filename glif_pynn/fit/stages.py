"""Threshold and reset stages of the fit: what V shows at each spike.

After the subthreshold stage (:mod:`glif_pynn.fit.subthreshold`) the fitted V of the stretch before
each spike is known. At spike ``i`` the model crossed threshold during the step from sample
``n_i - 1`` to ``n_i``: the threshold lies between the fitted V at ``n_i - 1`` and that V advanced by
one step, and the midpoint of the two (error within half a step's rise, uniform) is taken as the
threshold at that spike. Then, each from the data that determine it:

* threshold at rest ``v_thresh`` (all levels) and, with a spike-induced threshold (levels 2, 4, 5),
  ``delta_theta`` and ``b_theta``: a linear regression of the thresholds on the spike history
  ``sum_j exp(-b_theta (t_i - t_j))``, with ``b_theta`` chosen by minimising its residual;
* GLIF5's ``theta_v`` (``a_theta_v``, ``b_theta_v``): the same regression with a third column, the
  voltage history ``integral exp(-b_theta_v (t_i - s)) (V(s) - E_L) ds`` (V held through spike cuts);
* the reset rule: the fitted initial value of the stretch after each spike against the crossing
  voltage; levels 2, 4, 5 regress ``V_reset = E_L + f_v (V_cross - E_L) - delta_v`` (``f_v``
  limited to [0, 1]); levels 1 and 3 reset to a constant (``f_v = 0``), the mean reset value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.signal import lfilter

from glif_pynn.fit.subthreshold import Dynamics, Recording

#: Bounds of the threshold decay rates (1/ms).
B_BOUNDS = (1e-3, 2.0)
#: Below this largest value at the spikes, the spike history column cannot be told from 0 (a jump of
#: 10 mV would move the threshold by 0.01 mV at the most affected spike): delta_theta is then 0.
MIN_VISIBLE_HISTORY = 1e-3


@dataclass
class SpikeVoltages:
    """Per usable spike: its index in the recording, the crossing voltage, the threshold, the reset value."""

    spike: np.ndarray
    v_cross: np.ndarray
    threshold: np.ndarray
    v_reset: np.ndarray      # NaN where no stretch follows the spike


def spike_voltages(rec: Recording, dyn: Dynamics) -> SpikeVoltages:
    st = dyn.stretches
    ends = st.end
    last = st.offsets + (st.end - st.begin)               # position of each stretch's last sample
    pre = np.searchsorted(ends, rec.spikes - 1)
    ok = (pre < len(ends)) & (ends[np.minimum(pre, len(ends) - 1)] == rec.spikes - 1)
    spike = np.flatnonzero(ok)
    v_pre = dyn.fitted[last[pre[ok]]]
    v_cross = dyn.extend(rec, rec.spikes[spike] - 1, v_pre)
    reset = np.full(len(rec.spikes), np.nan)
    follows = st.after_spike >= 0
    reset[st.after_spike[follows]] = dyn.v0[follows]
    return SpikeVoltages(spike, v_cross, 0.5 * (v_pre + v_cross), reset[spike])


def spike_history(rec: Recording, rate: float) -> np.ndarray:
    """``sum_j exp(-rate (t_i - t_j))`` over the earlier spikes ``j`` of the same sweep, at each spike ``i``."""
    q = float(np.exp(-rate * rec.dt))
    out, after, sweep_prev = [], 0.0, -1          # after: the sum just after the previous spike
    for gap, sweep in zip(np.diff(rec.spikes, prepend=0).tolist(), rec.sweep_of_spike.tolist()):
        before = after * q ** gap if sweep == sweep_prev else 0.0
        out.append(before)
        after, sweep_prev = before + 1.0, sweep
    return np.asarray(out)


def held_v_mask(rec: Recording, hold: int) -> np.ndarray:
    """True for the samples the model integrates; False inside each spike cut (V and theta_v held)."""
    keep = np.ones(rec.n, bool)
    for n in rec.spikes:
        keep[n + 1:n + 1 + hold] = False
    return keep


def voltage_history(rec: Recording, v_rest: float, rate: float, keep: np.ndarray, at: np.ndarray,
                    horizon: Optional[float] = None) -> np.ndarray:
    """theta_v for ``a_theta_v = 1`` (trapezoidal quadrature of V, held through cuts) at the samples ``at``
    (which must be integrated samples, not inside a cut).

    With ``horizon`` (ms) only that much history before each sample is integrated, separately for each
    sample: the earlier history has decayed by ``exp(-rate horizon)``."""
    h = rec.dt
    q = np.exp(-rate * h)
    half = -np.expm1(-rate * h) / (2 * rate)
    at = np.asarray(at, np.int64)
    if horizon is not None:
        span = int(np.ceil(horizon / h))
        first = rec.starts[np.searchsorted(rec.starts, at, side="right") - 1]
        out = np.empty(len(at))
        for i, (s, a) in enumerate(zip(at.tolist(), first.tolist())):
            lo = max(a, s - span)
            sel = np.flatnonzero(keep[lo:s + 1]) + lo
            out[i] = lfilter([half, half], [1.0, -q], rec.v[sel] - v_rest)[-1]
        return out
    full = np.zeros(rec.n)
    for a, b in zip(rec.starts, rec.ends):
        sel = np.flatnonzero(keep[a:b]) + a
        full[sel] = lfilter([half, half], [1.0, -q], rec.v[sel] - v_rest)
    return full[at]


def _threshold_at_spikes(rec, dyn, sv, rates, keep):
    """Design matrix columns (1, spike history, voltage history) at the usable spikes."""
    cols = [np.ones(len(sv.spike))]
    if rates[0] is not None:
        cols.append(spike_history(rec, rates[0])[sv.spike])
    if rates[1] is not None:
        n = rec.spikes[sv.spike] - 1          # theta_v advanced one step from the last sample before the spike
        h, rate = rec.dt, rates[1]
        before = voltage_history(rec, dyn.v_rest, rate, keep, n)
        cols.append(np.exp(-rate * h) * before + (-np.expm1(-rate * h) / rate) * (rec.v[n] - dyn.v_rest))
    return np.column_stack(cols)


def _lsq(x, y):
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return beta, float(np.sum((y - x @ beta) ** 2))


def fit_threshold(rec: Recording, dyn: Dynamics, sv: SpikeVoltages, level: int) -> dict:
    """``v_thresh`` and, by level, ``delta_theta``, ``b_theta``, ``a_theta_v``, ``b_theta_v``."""
    y = sv.threshold
    if level in (1, 3):
        return {"v_thresh": float(np.mean(y))}
    keep = held_v_mask(rec, dyn.hold)
    lo, hi = np.log(B_BOUNDS)
    if level in (2, 4):
        res = minimize_scalar(lambda u: _lsq(_threshold_at_spikes(rec, dyn, sv, (np.exp(u), None), keep), y)[1],
                              bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
        rates = (float(np.exp(res.x)), None)
    else:
        start = min(((np.log(b), np.log(bv)) for b in (0.01, 0.05, 0.3) for bv in (0.01, 0.05, 0.3)),
                    key=lambda u: _lsq(_threshold_at_spikes(rec, dyn, sv, np.exp(u), keep), y)[1])
        res = minimize(lambda u: _lsq(_threshold_at_spikes(rec, dyn, sv, np.exp(u), keep), y)[1], start,
                       method="Nelder-Mead", bounds=[(lo, hi), (lo, hi)], options={"xatol": 1e-4, "fatol": 1e-12})
        rates = tuple(float(r) for r in np.exp(res.x))
    x = _threshold_at_spikes(rec, dyn, sv, rates, keep)
    visible = float(np.max(x[:, 1])) >= MIN_VISIBLE_HISTORY
    beta, _ = _lsq(x if visible else np.delete(x, 1, axis=1), y)
    if not visible:     # the jump has decayed before every next spike (e.g. a GLIF1 cell): not there, 0
        beta = np.insert(beta, 1, 0.0)
    out = {"v_thresh": float(beta[0]), "delta_theta": float(beta[1]), "b_theta": rates[0]}
    if level == 5:
        out.update(a_theta_v=float(beta[2]), b_theta_v=rates[1])
    return out


def fit_reset(dyn: Dynamics, sv: SpikeVoltages, level: int) -> dict:
    """``f_v`` and ``delta_v`` from the reset values after the spikes."""
    ok = np.isfinite(sv.v_reset)
    if not ok.any():
        raise ValueError("no subthreshold stretch follows any spike: the reset cannot be estimated (the spikes "
                         "come faster than the spike cut plus 2 ms)")
    reset, cross, el = sv.v_reset[ok], sv.v_cross[ok], dyn.v_rest
    f_v = 0.0
    if level in (2, 4, 5) and ok.sum() >= 3 and np.ptp(cross) > 0:
        f_v = float(np.clip(np.polyfit(cross - el, reset - el, 1)[0], 0.0, 1.0))
    offset = float(np.mean(reset - el - f_v * (cross - el)))      # = -delta_v
    return {"f_v": f_v, "delta_v": -offset}
