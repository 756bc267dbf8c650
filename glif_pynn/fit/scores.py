"""Scores of a fitted parameter set on recorded sweeps, and the runs behind them.

* Gamma: the model runs freely (:func:`simulate`, one reference-engine run for all sweeps) and its
  spikes are compared with the recorded ones by :func:`glif_pynn.metrics.coincidence_factor`
  (+-2 ms); reported per sweep and as the mean over sweeps.
* Teeter's explained variance: trains smoothed with a 10 ms Gaussian; sweeps with identical
  currents are repeats of one stimulus, and with repeats the ratio to the data's own explained
  variance is reported as well (:func:`glif_pynn.metrics.spike_train_explained_variance`).
* subthreshold V RMSE: the model's V with its spikes clamped to the recorded ones (each recorded
  spike resets the model by its reset rule; after-spike currents and thresholds follow the recorded
  spikes), against the recorded V between spike cuts, as Mensi et al. (2012) score the subthreshold
  prediction.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from glif_pynn.fit.data import Sweep
from glif_pynn.fit.subthreshold import Recording, advance, design_columns, stretches
from glif_pynn.metrics import coincidence_factor, spike_train_explained_variance


def simulate(params: Mapping[str, object], currents: Sequence[np.ndarray], dt: float,
             record_v: Sequence[int] = ()) -> list[dict]:
    """Run one ``curr_exp`` cell per current (nA per step) in one reference-engine run.

    ``params`` values may be scalars or one value per current. Returns per current a dict with
    ``spikes`` (first-sample indices, the convention of :mod:`glif_pynn.fit.data`) and ``v`` (mV; sample
    ``n`` is V at ``n dt``) for the currents listed in ``record_v``, else None.
    """
    from glif_pynn.reference.engine import Network
    from glif_pynn.reference.sources import WaveformSource
    lengths = [len(c) for c in currents]
    values = np.zeros((max(lengths), len(currents)))
    for k, c in enumerate(currents):
        values[:len(c), k] = c
    net = Network(dt)
    pop = net.create("curr_exp", len(currents), **params)
    net.inject(WaveformSource(values), pop)
    record_v = set(int(k) for k in record_v)
    net.record(pop, ["v", "spikes"] if record_v else ["spikes"])     # the engine records V of all or none
    net.run_steps(max(lengths))
    data = net.get_recording(pop)
    ids, times = data["spikes"]
    out = []
    for k, n in enumerate(lengths):
        spikes = np.round(times[ids == k] / dt).astype(np.int64)
        v = data["v"][:n, k] if k in record_v else None
        out.append({"spikes": spikes[spikes < n], "v": v})
    return out


def clamped_v(params: Mapping[str, float], rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices, model V there) with the model's spikes clamped to the recorded ones."""
    dt = rec.dt
    hold = int(round(params["tau_refrac"] / dt))
    st = stretches(rec, hold, min_len=1)
    tau, cm, el = params["tau_m"], params["cm"], params["v_rest"]
    ks = [params[f"k_asc{j}"] for j in (1, 2) if params[f"delta_asc{j}"] != 0]
    deltas = [params[f"delta_asc{j}"] for j in (1, 2) if params[f"delta_asc{j}"] != 0]
    x, w = design_columns(rec, st, tau, ks)
    partial = x @ np.array([1.0 / cm, el] + [d / cm for d in deltas])
    last = st.offsets + (st.end - st.begin)
    position = {int(e): k for k, e in enumerate(st.end)}
    v0 = np.empty(len(st.begin))
    held = {}                                   # spike -> its reset value
    for k in range(len(st.begin)):
        spike = int(st.after_spike[k])
        if spike < 0:
            v0[k] = rec.v[st.begin[k]]
            continue
        n = int(rec.spikes[spike])
        before = position.get(n - 1)
        if before is not None:                  # the model's V one step after the stretch before the spike
            v_pre = partial[last[before]] + v0[before] * w[last[before]]
            v_cross = advance(rec, n - 1, v_pre, tau, cm, el, ks, deltas)
        else:
            v_cross = held.get(spike - 1, el)
        v0[k] = held[spike] = el + params["f_v"] * (v_cross - el) - params["delta_v"]
    return st.index, partial + v0[st.sid] * w


def repeat_groups(sweeps: Sequence[Sweep]) -> list[list[int]]:
    """Indices of sweeps with identical currents (repeats of one stimulus)."""
    groups: list[list[int]] = []
    for k, s in enumerate(sweeps):
        for g in groups:
            ref = sweeps[g[0]]
            if ref.n == s.n and np.array_equal(ref.current, s.current):
                g.append(k)
                break
        else:
            groups.append([k])
    return groups


def score(params: Mapping[str, float], sweeps: Sequence[Sweep], runs: Optional[Sequence[dict]] = None) -> dict:
    """Gamma, explained variance and subthreshold V RMSE of ``params`` on ``sweeps`` (see the module docstring).

    ``runs``: the model's free runs of these sweeps (:func:`simulate`), when already done."""
    dt = sweeps[0].dt
    if runs is None:
        runs = simulate(params, [s.current for s in sweeps], dt)
    gammas = [coincidence_factor(r["spikes"] * dt, s.spike_times, s.duration) for r, s in zip(runs, sweeps)]
    evs, ratios = [], []
    for group in repeat_groups(sweeps):
        ev = spike_train_explained_variance([runs[group[0]]["spikes"] * dt], [sweeps[k].spike_times for k in group],
                                            sweeps[group[0]].duration)
        evs.append(ev["model"])
        if ev["ratio"] is not None:
            ratios.append(ev["ratio"])
    rec = Recording(sweeps)
    index, v_model = clamped_v(params, rec)
    return {"gamma": float(np.mean(gammas)), "gamma_per_sweep": [float(g) for g in gammas],
            "explained_variance": float(np.mean(evs)),
            "explained_variance_ratio": float(np.mean(ratios)) if ratios else None,
            "v_rmse_mV": float(np.sqrt(np.mean((v_model - rec.v[index]) ** 2))),
            "spikes_data": [int(len(s.spikes)) for s in sweeps], "spikes_model": [int(len(r["spikes"])) for r in runs],
            "duration_ms": [float(s.duration) for s in sweeps],
            "mean_current_nA": [float(np.mean(s.current)) for s in sweeps]}
