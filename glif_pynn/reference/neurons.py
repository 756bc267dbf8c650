"""GLIF neuron groups for the numpy reference: state arrays and the one-step kernel.

One :class:`NeuronGroup` holds ``n`` neurons of one flavour (``curr_exp``,
``curr_alpha``, ``cond_exp``, ``cond_alpha``) in PyNN units (mV, ms, nA, nF, uS)
and advances them by one step exactly as the generated NEST code of the NESTML
models does (``nestml_models/*.nestml``):

1. neurons refractory at the start of the step decrement their counter and keep V;
   the others advance V over the step from the values at its start;
2. every other state (synaptic, after-spike currents, theta) is propagated exactly;
3. a neuron not refractory at the start of the step whose new V exceeds
   ``v_thresh + theta`` (strict) spikes: after-spike currents, V and theta jump,
   the counter is set to ``round(tau_refrac / dt)`` steps; the spike is stamped at
   the end of the step;
4. (:meth:`NeuronGroup.receive`) the synaptic input arriving in this step is added;
5. (the network) the continuous current for the next step is set.

Current flavours use the exact propagator of the linear system, written as in the
NESTML internals (:func:`coupling`, :func:`coupling2`), so that coinciding rates
(``tau_syn == tau_m``, ``k_asc == 1 / tau_m``) stay exact. Conductance flavours
integrate V by Gauss-Legendre quadrature of the variation-of-constants formula, in
which the conductances, after-spike currents and the integrated conductance are
exact closed forms; the step is cut into panels so that the fastest rate times the
panel length stays below ``PANEL_RATE_STEP`` (error on V below 1e-8 mV per step).
"""
from __future__ import annotations

import math
from typing import Mapping, Optional

import numpy as np

from glif_pynn.parameters import CONDUCTANCE, CURRENT, default_parameters, validate

FLAVOURS = {"curr_exp": CURRENT, "curr_alpha": CURRENT, "cond_exp": CONDUCTANCE, "cond_alpha": CONDUCTANCE}
GAUSS_NODES = 4
PANEL_RATE_STEP = 0.75     # largest (rate x panel length) in the quadrature; see module docstring
_X, _W = np.polynomial.legendre.leggauss(GAUSS_NODES)


def steps(t_ms, dt: float) -> np.ndarray:
    """Whole steps in ``t_ms`` as NEST counts them: nearest step, halves rounded up.

    ``3.75 / 0.01`` is 375.00000000000006 and ``0.35 / 0.1`` is 3.4999999999999996;
    NEST (which works in integer tics) gives 375 and 4, and so does this function.
    """
    return np.floor(np.asarray(t_ms, dtype=float) / dt + 0.5 + 1e-9).astype(np.int64)


def coupling(a, b, h):
    """``integral_0^h exp(-a (h - s)) exp(-b s) ds``, exact to rounding also for ``a == b``.

    The NESTML function ``coupling``: ``h exp(-min(a, b) h) expm1(x) / x`` with
    ``x = -|a - b| h`` (the ratio is 1 at ``x == 0``).
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    x = -np.abs(a - b) * h
    ratio = np.ones_like(x)
    np.divide(np.expm1(x), x, out=ratio, where=x != 0)
    return h * np.exp(-np.minimum(a, b) * h) * ratio


def coupling2(a, b, h):
    """``integral_0^h exp(-a (h - s)) s exp(-b s) ds = h**2 exp(-b h) psi((b - a) h)``.

    ``psi(x) = (expm1(x) - x) / x**2``, by the NESTML model's Taylor series (nested
    exactly as there) for ``|x| < 0.1`` and in closed form elsewhere. Where ``expm1(x)``
    overflows (``x > 700``, e.g. ``tau_syn < dt / 700``; the NESTML form, and NEST, give
    NaN there) the equal form ``h**2 (exp(-a h) - exp(-b h) (1 + x)) / x**2`` is used.
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    x = (b - a) * h
    series = (1. + x * (1. + x * (1. + x * (1. + x * (1. + x * (1. + x * (1. + x * (1. + x / 10.) / 9.) / 8.)
                                                             / 7.) / 6.) / 5.) / 4.) / 3.) / 2.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        closed = h ** 2 * np.exp(-b * h) * ((np.expm1(x) - x) / x ** 2)
        huge = h ** 2 * (np.exp(-a * h) - np.exp(-b * h) * (1.0 + x)) / x ** 2
    return np.where(np.abs(x) < 0.1, h ** 2 * np.exp(-b * h) * series, np.where(x > 700.0, huge, closed))


def _compact(value, n: int):
    """A float when all ``n`` values are equal (cheaper in ufuncs), else a float array."""
    array = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    return np.array(array[0]) if n and np.all(array == array[0]) else np.array(array)


def _at(value, index):
    return value if np.ndim(value) == 0 else value[index]


class NeuronGroup:
    """``n`` GLIF neurons of one flavour: parameters, state and the step kernel.

    Parameters
    ----------
    flavour : str
        ``curr_exp``, ``curr_alpha``, ``cond_exp`` or ``cond_alpha``.
    n : int
        Number of neurons.
    params : mapping
        PyNN parameter names (``glif_pynn.parameters``) to scalars or length-``n``
        arrays; missing ones take the table's defaults. Validated on creation.
    dt : float
        Time step (ms).

    Attributes
    ----------
    state : dict of str to ndarray
        ``v``, ``theta``, ``i_asc1``, ``i_asc2`` and ``isyn_exc``/``isyn_inh`` or
        ``gsyn_exc``/``gsyn_inh`` (PyNN names and units); alpha flavours also hold
        the derivative states ``d_exc``/``d_inh`` (nA/ms or uS/ms). As in the NESTML
        models, inhibition is held as a magnitude (>= 0); the network reports
        ``isyn_inh`` negative, as PyNN does.
    i_stim : ndarray
        Continuous current (nA) from current sources, used in the next step.
    """

    def __init__(self, flavour: str, n: int, params: Mapping[str, object], dt: float) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown GLIF flavour {flavour!r}; valid: {', '.join(FLAVOURS)}")
        self.flavour, self.n, self.dt = flavour, int(n), float(dt)
        self.kind = FLAVOURS[flavour]
        self.alpha = flavour.endswith("alpha")
        values = default_parameters(self.kind)
        validate(params, self.kind)
        values.update(params)
        self.params = {name: _compact(value, self.n) for name, value in values.items()}
        syn = "isyn" if self.kind == CURRENT else "gsyn"
        self.syn_names = (f"{syn}_exc", f"{syn}_inh")
        names = ("v", "theta", "i_asc1", "i_asc2") + self.syn_names + (("d_exc", "d_inh") if self.alpha else ())
        self.state = {name: np.zeros(self.n) for name in names}
        self.state["v"][:] = self.params["v_rest"]
        self.counter = np.zeros(self.n, dtype=np.int64)
        self.i_stim = np.zeros(self.n)
        self.has_input = False         # set by the network: incoming connections exist
        self.has_stim = False          # set by the network: current sources inject here
        self._prepared = False
        self._tmp = [np.empty(self.n) for _ in range(3)]
        self._mask = np.empty(self.n, dtype=bool)
        self._refr = np.zeros(self.n, dtype=bool)
        self._free = np.zeros(self.n, dtype=bool)
        self._last_spike_step = -(1 << 40)

    # -- set-up -----------------------------------------------------------------------------
    def set_parameters(self, **values) -> None:
        """Change parameters (validated); propagators are recomputed before the next step."""
        validate(values, self.kind)
        for name, value in values.items():
            self.params[name] = _compact(value, self.n)
        self._prepared = False

    def prepare(self) -> None:
        """Compute the propagators and which terms can be skipped (exactly zero) this run."""
        p, h = self.params, self.dt
        self.i_e = p["i_offset"]
        a_m = 1.0 / np.asarray(p["tau_m"])
        rates = {"exc": 1.0 / np.asarray(p["tau_syn_E"]), "inh": 1.0 / np.asarray(p["tau_syn_I"]),
                 "asc1": np.asarray(p["k_asc1"]), "asc2": np.asarray(p["k_asc2"]),
                 "theta": np.asarray(p["b_theta"])}
        self.decay = {   # as the NESTML internals write them
            "exc": _compact(np.exp(-h / np.asarray(p["tau_syn_E"])), self.n),
            "inh": _compact(np.exp(-h / np.asarray(p["tau_syn_I"])), self.n),
            **{key: _compact(np.exp(-rates[key] * h), self.n) for key in ("asc1", "asc2", "theta")}}
        self.unit = {"exc": _compact(math.e / np.asarray(p["tau_syn_E"]), self.n),
                     "inh": _compact(math.e / np.asarray(p["tau_syn_I"]), self.n)}
        self.refr_steps = _compact(steps(p["tau_refrac"], h), self.n)
        self.max_refr = max(int(np.max(self.refr_steps)), int(self.counter.max(initial=0)))
        self.reset_add = _compact(-np.asarray(p["delta_v"]), self.n)    # NESTML's voltage_reset_add
        cm = np.asarray(p["cm"])
        if self.kind == CURRENT:
            self.P_V = _compact(np.exp(-a_m * h), self.n)
            self.P_V_I = _compact(-np.expm1(-a_m * h) * np.asarray(p["tau_m"]) / cm, self.n)
            self.P_V_x = {key: _compact(coupling(a_m, rates[key], h) / cm, self.n)
                          for key in ("exc", "inh", "asc1", "asc2")}
            if self.alpha:
                self.P_V_x["d_exc"] = _compact(coupling2(a_m, rates["exc"], h) / cm, self.n)
                self.P_V_x["d_inh"] = _compact(coupling2(a_m, rates["inh"], h) / cm, self.n)
        else:
            self._quadrature = _Quadrature(self, rates)
        s = self.state
        self.active = {   # False: the term is exactly zero for the whole run and is skipped
            "syn": self.has_input or any(np.any(s[k] != 0) for k in self.syn_names + (("d_exc", "d_inh")
                                                                                    if self.alpha else ())),
            "asc1": bool(np.any(p["delta_asc1"] != 0) or np.any(s["i_asc1"] != 0)),
            "asc2": bool(np.any(p["delta_asc2"] != 0) or np.any(s["i_asc2"] != 0)),
            "theta": bool(np.any(p["delta_theta"] != 0) or np.any(s["theta"] != 0)),
            "drive": self.has_stim or bool(np.any(p["i_offset"] != 0)),
        }
        self.active["refr"] = self.max_refr > 0 or bool(np.any(self.counter > 0))
        self._i_total, self._drive = np.zeros(self.n), np.zeros(self.n)
        self._prepared = True
        self.update_drive()

    def update_drive(self) -> None:
        """Recompute the constant part of the input after ``i_stim`` or ``i_offset`` changed.

        The current flavours keep ``P_V_I (I_e + I_stim)``, the conductance flavours
        ``I_e + I_stim + g_L E_L``: the same numbers the NEST code computes every step."""
        if not self._prepared or not self.active["drive"]:
            return
        np.add(self.i_e, self.i_stim, out=self._i_total)          # NESTML: (I_e + I_stim)
        if self.kind == CURRENT:
            np.multiply(self.P_V_I, self._i_total, out=self._drive)
        else:
            np.add(self._i_total, self._quadrature.base_leak, out=self._drive)

    # -- one step ---------------------------------------------------------------------------
    def step(self, step_index: int) -> Optional[np.ndarray]:
        """Advance by one step (phases 1-3 of the module docstring); return spiking indices or None."""
        if not self._prepared:
            self.prepare()
        s, p, act, (t1, t2, t3) = self.state, self.params, self.active, self._tmp
        v = s["v"]
        refractory = act["refr"] and step_index - self._last_spike_step <= self.max_refr + 1 \
            and self._refractory_mask()
        new_v = t3 if refractory else v
        if self.kind == CURRENT:
            self._propagate_v_current(v, new_v)
        else:
            self._quadrature.advance(v, new_v)
        if refractory:
            np.logical_not(self._refr, out=self._free)
            np.copyto(v, new_v, where=self._free)
        for key, name in zip(("exc", "inh"), self.syn_names):
            if act["syn"]:
                if self.alpha:     # I = P (I + h dI); dI = P dI
                    d = s["d_" + key]
                    np.multiply(d, self.dt, out=t1)
                    t1 += s[name]
                    np.multiply(t1, self.decay[key], out=s[name])
                    d *= self.decay[key]
                else:
                    s[name] *= self.decay[key]
        for key in ("asc1", "asc2", "theta"):
            if act[key]:
                s[key if key == "theta" else "i_" + key] *= self.decay[key]
        if act["theta"]:
            np.add(p["v_thresh"], s["theta"], out=t1)
            np.greater(v, t1, out=self._mask)
        else:
            np.greater(v, p["v_thresh"], out=self._mask)
        if refractory:
            self._mask &= self._free
        if not self._mask.any():
            return None
        idx = np.flatnonzero(self._mask)
        self._reset(idx)
        self._last_spike_step = step_index
        return idx

    def _refractory_mask(self) -> bool:
        np.greater(self.counter, 0, out=self._refr)
        if not self._refr.any():
            return False
        np.subtract(self.counter, 1, out=self.counter, where=self._refr)
        return True

    def _propagate_v_current(self, v: np.ndarray, out: np.ndarray) -> None:
        """``E_L + P_V (V - E_L) + P_V_I (I_e + I_stim) + P_V_exc I_exc - P_V_inh I_inh (+ alpha terms)
        + P_V_asc1 I_asc1 + P_V_asc2 I_asc2``, in the order of the generated C++ (skipping zero terms)."""
        s, act, t1 = self.state, self.active, self._tmp[0]
        el = self.params["v_rest"]
        np.subtract(v, el, out=out)
        out *= self.P_V
        out += el
        if act["drive"]:
            out += self._drive
        terms = []
        if act["syn"]:
            terms += [(self.P_V_x["exc"], s["isyn_exc"], 1)]
            if self.alpha:
                terms += [(self.P_V_x["d_exc"], s["d_exc"], 1)]
            terms += [(self.P_V_x["inh"], s["isyn_inh"], -1)]
            if self.alpha:
                terms += [(self.P_V_x["d_inh"], s["d_inh"], -1)]
        terms += [(self.P_V_x[k], s["i_" + k], 1) for k in ("asc1", "asc2") if act[k]]
        for factor, value, sign in terms:
            np.multiply(factor, value, out=t1)
            if sign > 0:
                out += t1
            else:
                out -= t1

    def _reset(self, idx: np.ndarray) -> None:
        s, p = self.state, self.params
        for j in ("1", "2"):
            cur = s["i_asc" + j]
            cur[idx] = _at(p["f_asc" + j], idx) * cur[idx] + _at(p["delta_asc" + j], idx)
        el = _at(p["v_rest"], idx)
        s["v"][idx] = el + _at(p["f_v"], idx) * (s["v"][idx] - el) + _at(self.reset_add, idx)
        s["theta"][idx] += _at(p["delta_theta"], idx)
        if self.active["refr"]:
            self.counter[idx] = _at(self.refr_steps, idx)

    def receive(self, exc: np.ndarray, inh: np.ndarray) -> None:
        """Phase 4: add the summed weights arriving in this step (nA or uS, inhibition as magnitudes)."""
        s = self.state
        for key, name, total in (("exc", self.syn_names[0], exc), ("inh", self.syn_names[1], inh)):
            if self.alpha:       # the derivative state jumps by w e / tau_syn: the PSC peaks at w
                np.multiply(total, self.unit[key], out=self._tmp[0])
                s["d_" + key] += self._tmp[0]
            else:
                s[name] += total


class _Quadrature:
    """V over one step for the conductance flavours, by Gauss-Legendre panels.

    ``V(H) = V0 exp(-Phi(H)) + integral_0^H exp(Phi(s) - Phi(H)) A(s) / C ds`` with
    ``Phi(s) = integral_0^s (g_L + g_exc + g_inh) / C`` and ``A = I_e + I_stim + g_L E_L +
    g_exc E_rev_E + g_inh E_rev_I + I_asc1 + I_asc2``, all exact closed forms over the panel.
    The nodes are the rows of (nodes x neurons) arrays; a panel costs two exponentials per
    node and neuron.
    """

    def __init__(self, group: NeuronGroup, rates: dict) -> None:
        self.group = group
        p, n = group.params, group.n
        self.rates = {k: np.asarray(rates[k]) for k in ("exc", "inh", "asc1", "asc2")}
        self.cm = p["cm"]
        self.g_l = _compact(np.asarray(p["cm"]) / np.asarray(p["tau_m"]), n)
        self.base_leak = _compact(np.asarray(self.g_l) * np.asarray(p["v_rest"]), n)
        self.e_rev = {"exc": p["e_rev_E"], "inh": p["e_rev_I"]}
        self.min_cm = float(np.min(p["cm"]))
        self.max_static_rate = float(max(np.max(np.asarray(self.g_l) / np.asarray(p["cm"])),
                                          *(np.max(r) for r in self.rates.values())))
        self._panels: dict[int, dict] = {}
        self._grid = [np.empty((GAUSS_NODES, n)) for _ in range(3)]
        self._buf = [np.empty(n) for _ in range(7)]

    def _factors(self, panels: int) -> dict:
        """Closed-form factors at the nodes (rows) and at the panel end, for dt / panels (cached)."""
        if panels not in self._panels:
            big_h = self.group.dt / panels
            s = np.append(0.5 * big_h * (_X + 1.0), big_h)[:, None]       # last row: the panel end
            f = {"w": 0.5 * big_h * _W, "H": big_h, "gs": np.asarray(self.g_l) * s}
            for key, rate in self.rates.items():
                e = np.exp(-s * rate)                                     # (nodes + 1) x (1 or n)
                f["E_" + key] = e
                if key in ("exc", "inh"):
                    tau = 1.0 / rate
                    f["c1_" + key] = tau * -np.expm1(-s * rate)           # int_0^s exp(-u / tau) du
                    f["c2_" + key] = tau * f["c1_" + key] - tau * s * e   # int_0^s u exp(-u / tau) du
                    f["sE_" + key] = s * e
            self._panels[panels] = {k: (v if np.ndim(v) < 2 else (np.ascontiguousarray(v[:-1]), v[-1]))
                                    for k, v in f.items()}
        return self._panels[panels]

    def _panel_count(self) -> int:
        s, g = self.group.state, self.group
        top = float(np.max(s["gsyn_exc"]) + np.max(s["gsyn_inh"]))
        if g.alpha:     # g(s) <= g0 + s dg0 for an alpha conductance
            top += g.dt * float(np.max(s["d_exc"]) + np.max(s["d_inh"]))
        rate = top / self.min_cm + self.max_static_rate
        return max(1, int(math.ceil(rate * g.dt / PANEL_RATE_STEP)))

    def advance(self, v0: np.ndarray, out: np.ndarray) -> None:
        """Write V at the end of the step (from ``v0`` at its start) into ``out``."""
        g, s, b = self.group, self.group.state, self._buf
        panels = self._panel_count()
        f = self._factors(panels)
        cur = {"exc": s["gsyn_exc"], "inh": s["gsyn_inh"], "asc1": s["i_asc1"], "asc2": s["i_asc2"]}
        if g.alpha:
            cur["d_exc"], cur["d_inh"] = s["d_exc"], s["d_inh"]
        if panels > 1:      # local copies, advanced panel by panel
            cur = {k: v.copy() for k, v in cur.items()}
        np.copyto(out, v0)
        base = g._drive if g.active["drive"] else self.base_leak
        phi, amp, tmp = self._grid
        phi_end, acc = b[5], b[6]
        for _ in range(panels):
            # A(s) at the nodes: base + I_asc terms + g(s) E_rev, with g(s) = g0 E (+ dg0 s E)
            terms = [(cur["asc1"], "E_asc1"), (cur["asc2"], "E_asc2")]
            for i, key in enumerate(("exc", "inh")):
                terms.append((np.multiply(cur[key], self.e_rev[key], out=b[1 + i]), "E_" + key))
                if g.alpha:
                    terms.append((np.multiply(cur["d_" + key], self.e_rev[key], out=b[3 + i]), "sE_" + key))
            amp[...] = base
            for value, name in terms:
                np.multiply(f[name][0], value, out=tmp)
                amp += tmp
            # C Phi(s) at the nodes and at the panel end
            self._phi(f, cur, 0, phi, tmp)
            self._phi(f, cur, 1, phi_end, b[1])
            phi -= phi_end
            phi /= self.cm
            np.exp(phi, out=phi)                                          # exp(Phi(s_k) - Phi(H))
            amp *= phi
            np.dot(f["w"], amp, out=acc)
            phi_end /= self.cm
            np.negative(phi_end, out=phi_end)
            np.exp(phi_end, out=phi_end)
            out *= phi_end
            acc /= self.cm
            out += acc
            if panels > 1:
                self._advance_panel(f, cur)

    def _phi(self, f: dict, cur: dict, row: int, out: np.ndarray, tmp: np.ndarray) -> None:
        """``C Phi``: ``g_L s + g_exc c1 + g_inh c1 (+ dg c2 for alpha)`` at the nodes (row 0) or the end (1)."""
        out[...] = f["gs"][row]
        for key in ("exc", "inh"):
            names = (("c1_", key), ("c2_", "d_" + key)) if self.group.alpha else (("c1_", key),)
            for prefix, state in names:
                np.multiply(f[prefix + key][row], cur[state], out=tmp)
                out += tmp

    def _advance_panel(self, f: dict, cur: dict) -> None:
        """Exact propagation of the local conductances and currents over one panel."""
        for key in ("exc", "inh"):
            e = f["E_" + key][1]
            if self.group.alpha:          # g = (g + H dg) exp(-H / tau); dg = dg exp(-H / tau)
                cur[key] += cur["d_" + key] * f["H"]
                cur["d_" + key] *= e
            cur[key] *= e
        for key in ("asc1", "asc2"):
            cur[key] *= f["E_asc" + key[-1]][1]
