"""GLIF neuron groups for the numpy reference: state arrays and the one-step kernel.

One :class:`NeuronGroup` holds ``n`` neurons of one flavour (``curr_exp``,
``curr_alpha``, ``cond_exp``, ``cond_alpha``) in PyNN units (mV, ms, nA, nF, uS)
and advances them by one step exactly as the generated NEST code of the NESTML
models does (rendered from ``nestml_models/glif_neuron.nestml.jinja``):

1. neurons refractory at the start of the step decrement their counter and keep V and
   theta_v; the others advance V and theta_v over the step from the values at its start;
2. every other state (synaptic, after-spike currents, theta) is propagated exactly;
3. a neuron not refractory at the start of the step whose new V exceeds
   ``v_thresh + theta + theta_v`` (strict) spikes: after-spike currents, V and theta jump,
   the counter is set to ``round(tau_refrac / dt)`` steps; the spike is stamped at
   the end of the step. With escape noise (``delta_u > 0``) the cell spikes instead with
   probability ``1 - exp(-lambda dt)``, ``lambda = lambda0 exp((V - v_thresh - theta -
   theta_v) / delta_u)``, drawn from the network's generator (:mod:`glif_pynn.reference.escape`:
   the same law as the NESTML model, other draws);
4. (:meth:`NeuronGroup.receive`) the synaptic input arriving in this step is added;
5. (the network) the continuous current for the next step is set.

Current flavours use the exact propagator of the linear system, written as in the
NESTML internals (:mod:`glif_pynn.reference.propagators`), so that coinciding rates
(``tau_syn == tau_m``, ``k_asc == 1 / tau_m``, ``b_theta_v == 1 / tau_m``) stay exact.
Conductance flavours integrate V by Gauss-Legendre quadrature of the
variation-of-constants formula, in which the conductances, after-spike currents and the
integrated conductance are exact closed forms; the step is cut into panels so that the
fastest rate times the panel length stays below ``quadrature.PANEL_RATE_STEP`` (error on V below
1e-8 mV per step). theta_v, when on, is the same quadrature of
``a_theta_v exp(-b_theta_v (H - s)) (V(s) - v_rest)`` with V at the nodes from
sub-panels.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional

import numpy as np

from glif_pynn.parameters import CONDUCTANCE, CURRENT, default_parameters, receptors, validate
from glif_pynn.reference.propagators import chain3, chain4, coupling, coupling2, elementwise
from glif_pynn.reference.escape import EscapeNoise
from glif_pynn.reference.quadrature import Quadrature, at as _at, compact as _compact

FLAVOURS = {"curr_exp": CURRENT, "curr_alpha": CURRENT, "cond_exp": CONDUCTANCE, "cond_alpha": CONDUCTANCE}


def steps(t_ms, dt: float) -> np.ndarray:
    """Whole steps in ``t_ms`` as NEST counts them: nearest step, halves rounded up.

    ``3.75 / 0.01`` is 375.00000000000006 and ``0.35 / 0.1`` is 3.4999999999999996;
    NEST (which works in integer tics) gives 375 and 4, and so does this function.
    """
    return np.floor(np.asarray(t_ms, dtype=float) / dt + 0.5 + 1e-9).astype(np.int64)


def is_whole_steps(t_ms: float, dt: float) -> bool:
    """Whether ``t_ms`` is a whole number of steps of ``dt`` (to 1e-9 of its step count: float rounding)."""
    n = t_ms / dt
    return abs(n - round(n)) <= 1e-9 * max(1.0, abs(n))


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
    rng : numpy.random.Generator, optional
        Source of the escape-noise draws (cells with ``delta_u > 0``). Default: a
        generator seeded with 0.
    ports : int, optional
        None (default): an excitatory and an inhibitory receptor; N: N receptor ports
        (``tau_syn_k``, ``e_rev_k``, states ``isyn_k``/``gsyn_k``), as the NESTML N-port models.

    Attributes
    ----------
    state : dict of str to ndarray
        ``v``, ``theta``, ``theta_v``, ``i_asc1``, ``i_asc2`` and ``isyn_exc``/``isyn_inh`` or
        ``gsyn_exc``/``gsyn_inh`` (PyNN names and units; ``isyn_1`` ... with ports); alpha
        flavours also hold the derivative states ``d_exc``/``d_inh`` (``d_1`` ...; nA/ms or
        uS/ms). As in the NESTML models, inhibition is held as a magnitude (>= 0); the
        network reports ``isyn_inh`` negative, as PyNN does. Ports hold signed values.
    i_stim : ndarray
        Continuous current (nA) from current sources, used in the next step.
    """

    def __init__(self, flavour: str, n: int, params: Mapping[str, object], dt: float,
                 rng: Optional[np.random.Generator] = None, ports: Optional[int] = None) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown GLIF flavour {flavour!r}; valid: {', '.join(FLAVOURS)}")
        self.flavour, self.n, self.dt = flavour, int(n), float(dt)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.kind = FLAVOURS[flavour]
        self.alpha = flavour.endswith("alpha")
        self.ports, self.receptors = ports, receptors(ports)
        values = default_parameters(self.kind, ports)
        validate(params, self.kind, ports)
        values.update(params)
        self.params = {name: _compact(value, self.n) for name, value in values.items()}
        syn = "isyn" if self.kind == CURRENT else "gsyn"
        self.keys = tuple(r.key for r in self.receptors)          # "exc", "inh" or "1" ... "N"
        self.syn_names = tuple(f"{syn}_{key}" for key in self.keys)
        self.d_names = tuple(f"d_{key}" for key in self.keys) if self.alpha else ()
        self._tau_syn_of = {r.key: r.tau_syn for r in self.receptors}
        names = ("v", "theta", "theta_v", "i_asc1", "i_asc2") + self.syn_names + self.d_names
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
        self._tv_new = np.empty(self.n)
        self._free = np.zeros(self.n, dtype=bool)
        self._refr_until = -(1 << 40)  # the last step in which a refractory counter can be above 0
        self._refr_pending = 0

    # -- set-up -----------------------------------------------------------------------------
    def set_state(self, name: str, where, value) -> None:
        """Set state ``name`` (internal sign: inhibition as a magnitude) of the neurons at ``where``.

        The conductance-based alpha models hold ``(g, g')`` in NEST and ``(g, d)`` here, with
        ``g' = d - g / tau_syn``. Setting ``g`` alone leaves ``g'`` unchanged in NEST, so here ``d``
        moves by the change of ``g / tau_syn``: both then continue along the same ``g(t)``.
        """
        values = self.state[name]
        if self.alpha and self.kind != CURRENT and name in self.syn_names:
            key = name[len("gsyn_"):]
            tau = np.broadcast_to(self.params[self._tau_syn_of[key]], (self.n,))[where]
            self.state["d_" + key][where] += (value - values[where]) / tau
        values[where] = value

    def set_parameters(self, **values) -> None:
        """Change parameters (validated); propagators are recomputed before the next step.

        As in NEST, the state is kept: in the conductance-based alpha models that is ``(g, g')``, so a
        new ``tau_syn`` moves ``d = g' + g / tau_syn`` here.
        """
        validate(values, self.kind, self.ports)
        if self.alpha and self.kind != CURRENT:
            for key, name in zip(self.keys, self.syn_names):
                tau = self._tau_syn_of[key]
                if tau in values:
                    old = np.broadcast_to(self.params[tau], (self.n,))
                    new = np.broadcast_to(np.asarray(values[tau], float), (self.n,))
                    self.state["d_" + key] += self.state[name] * (1.0 / new - 1.0 / old)
        for name, value in values.items():
            self.params[name] = _compact(value, self.n)
        self._prepared = False

    def prepare(self) -> None:
        """Compute the propagators and which terms can be skipped (exactly zero) this run."""
        p, h = self.params, self.dt
        self.i_e = p["i_offset"]
        a_m = 1.0 / np.asarray(p["tau_m"])
        taus = {r.key: np.asarray(p[r.tau_syn]) for r in self.receptors}
        rates = {**{key: 1.0 / tau for key, tau in taus.items()},
                 "asc1": np.asarray(p["k_asc1"]), "asc2": np.asarray(p["k_asc2"]),
                 "theta": np.asarray(p["b_theta"]), "theta_v": np.asarray(p["b_theta_v"])}
        self.decay = {   # as the NESTML internals write them
            **{key: _compact(np.exp(-h / tau), self.n) for key, tau in taus.items()},
            **{key: _compact(np.exp(-rates[key] * h), self.n) for key in ("asc1", "asc2", "theta", "theta_v")}}
        self.unit = {key: _compact(math.e / tau, self.n) for key, tau in taus.items()}
        self.refr_steps = _compact(steps(p["tau_refrac"], h), self.n)
        self.max_refr = int(np.max(self.refr_steps))
        self._refr_pending = int(self.counter.max(initial=0))     # counts left from before: see step()
        self.reset_add = _compact(-np.asarray(p["delta_v"]), self.n)    # NESTML's voltage_reset_add
        cm = np.asarray(p["cm"])
        if self.kind == CURRENT:
            self.P_V = _compact(np.exp(-a_m * h), self.n)
            self.P_V_I = _compact(-np.expm1(-a_m * h) * np.asarray(p["tau_m"]) / cm, self.n)
            self.P_V_x = {key: _compact(coupling(a_m, rates[key], h) / cm, self.n)
                          for key in self.keys + ("asc1", "asc2")}
            if self.alpha:
                for key in self.keys:
                    self.P_V_x["d_" + key] = _compact(coupling2(a_m, rates[key], h) / cm, self.n)
            self._theta_v_propagators(a_m, rates)
        else:
            self._quadrature = Quadrature(self, rates)
        s = self.state
        self.active = {   # False: the term is exactly zero for the whole run and is skipped
            "syn": self.has_input or any(np.any(s[k] != 0) for k in self.syn_names + self.d_names),
            "asc1": bool(np.any(p["delta_asc1"] != 0) or np.any(s["i_asc1"] != 0)),
            "asc2": bool(np.any(p["delta_asc2"] != 0) or np.any(s["i_asc2"] != 0)),
            "theta": bool(np.any(p["delta_theta"] != 0) or np.any(s["theta"] != 0)),
            "theta_v": bool(np.any(p["a_theta_v"] != 0) or np.any(s["theta_v"] != 0)),
            "drive": self.has_stim or bool(np.any(p["i_offset"] != 0)),
        }
        self.active["refr"] = self.max_refr > 0 or bool(np.any(self.counter > 0))
        self.active["escape"] = bool(np.any(p["delta_u"] > 0))
        if self.active["escape"]:     # as the NESTML internals: lambda_0_h = 0.001 lambda_0 h
            self._escape = EscapeNoise(self.rng, 0.001 * np.asarray(p["lambda0"]) * h, p["delta_u"], self.n)
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
        if self._refr_pending:       # counters left when the parameters changed count down in full
            self._refr_until = max(self._refr_until, step_index + self._refr_pending)
            self._refr_pending = 0
        s, p, act, (t1, t2, t3) = self.state, self.params, self.active, self._tmp
        v = s["v"]
        refractory = act["refr"] and step_index <= self._refr_until and self._refractory_mask()
        new_v = t3 if refractory else v
        tv = s["theta_v"]
        new_tv = (self._tv_new if refractory else tv) if act["theta_v"] else None
        if self.kind == CURRENT:
            if new_tv is not None:
                self._propagate_theta_v_current(v, new_tv)
            self._propagate_v_current(v, new_v)
        else:
            self._quadrature.advance(v, new_v, tv, new_tv)
        if refractory:
            np.logical_not(self._refr, out=self._free)
            np.copyto(v, new_v, where=self._free)
            if new_tv is not None:
                np.copyto(tv, new_tv, where=self._free)
        for key, name in zip(self.keys, self.syn_names):
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
        if act["theta"] or act["theta_v"]:
            threshold = np.add(p["v_thresh"], s["theta"], out=t1)     # NESTML: V_th + theta_s + theta_v
            threshold += tv
        else:
            threshold = p["v_thresh"]
        if act["escape"]:
            self._escape.apply(v, threshold, self._mask)
        else:
            np.greater(v, threshold, out=self._mask)
        if refractory:
            self._mask &= self._free
        if not self._mask.any():
            return None
        idx = np.flatnonzero(self._mask)
        self._reset(idx)
        self._refr_until = step_index + self.max_refr + 1
        return idx

    def _refractory_mask(self) -> bool:
        np.greater(self.counter, 0, out=self._refr)
        if not self._refr.any():
            return False
        np.subtract(self.counter, 1, out=self.counter, where=self._refr)
        return True

    def _propagate_v_current(self, v: np.ndarray, out: np.ndarray) -> None:
        """``E_L + P_V (V - E_L) + P_V_I (I_e + I_stim) + P_V_exc I_exc (+ P_V_dexc dI_exc) - P_V_inh I_inh
        (- P_V_dinh dI_inh) + P_V_asc1 I_asc1 + P_V_asc2 I_asc2`` (N-port: ``+ P_V_k I_k (+ P_V_dk dI_k)`` per
        port), in the order of the generated C++ (skipping zero terms)."""
        s, act, t1 = self.state, self.active, self._tmp[0]
        el = self.params["v_rest"]
        np.subtract(v, el, out=out)
        out *= self.P_V
        out += el
        if act["drive"]:
            out += self._drive
        terms = []
        if act["syn"]:
            for receptor, name in zip(self.receptors, self.syn_names):
                terms += [(self.P_V_x[receptor.key], s[name], receptor.sign)]
                if self.alpha:
                    terms += [(self.P_V_x["d_" + receptor.key], s["d_" + receptor.key], receptor.sign)]
        terms += [(self.P_V_x[k], s["i_" + k], 1) for k in ("asc1", "asc2") if act[k]]
        for factor, value, sign in terms:
            np.multiply(factor, value, out=t1)
            if sign > 0:
                out += t1
            else:
                out -= t1

    def _theta_v_propagators(self, a_m: np.ndarray, rates: dict) -> None:
        """theta_v's row of the propagator (NESTML internals ``P_tv*``), current flavours."""
        p, h, cm = self.params, self.dt, np.asarray(self.params["cm"])
        a_v, b_v = np.asarray(p["a_theta_v"]), rates["theta_v"]
        self.P_tv = {"V": _compact(a_v * coupling(a_m, b_v, h), self.n),
                     "I": _compact(a_v * elementwise(chain3, 0.0, a_m, b_v, h=h) / cm, self.n)}
        for key in self.keys + ("asc1", "asc2"):
            self.P_tv[key] = _compact(a_v * elementwise(chain3, rates[key], a_m, b_v, h=h) / cm, self.n)
        if self.alpha:
            for key in self.keys:
                self.P_tv["d_" + key] = _compact(
                    a_v * elementwise(chain4, rates[key], rates[key], a_m, b_v, h=h) / cm, self.n)

    def _propagate_theta_v_current(self, v: np.ndarray, out: np.ndarray) -> None:
        """``P_tv theta_v + P_tv_V (V - E_L) + P_tv_I (I_e + I_stim) + P_tv_exc I_exc - P_tv_inh I_inh
        (+ the alpha derivative terms, after all currents) + P_tv_asc1 I_asc1 + P_tv_asc2 I_asc2`` (N-port:
        ``+ P_tv_k I_k`` per port), in the order of the generated C++."""
        s, t1, P = self.state, self._tmp[0], self.P_tv
        np.multiply(self.decay["theta_v"], s["theta_v"], out=out)
        if np.all(self.params["a_theta_v"] == 0):      # NESTML: theta_v *= P_tv
            return
        np.subtract(v, self.params["v_rest"], out=t1)
        t1 *= P["V"]
        out += t1
        np.multiply(P["I"], self._i_total, out=t1)
        out += t1
        keys = [(r.key, name, r.sign) for r, name in zip(self.receptors, self.syn_names)]
        if self.alpha:
            keys += [("d_" + r.key, "d_" + r.key, r.sign) for r in self.receptors]
        for key, name, sign in keys + [("asc1", "i_asc1", 1), ("asc2", "i_asc2", 1)]:
            np.multiply(P[key], s[name], out=t1)
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

    def port_channel(self, receptor, weights: np.ndarray) -> np.ndarray:
        """Receptor channel (0-based) of connections with ``weights`` on ``receptor`` (``'synK'`` or K) of
        this N-port group; ValueError for another name or, for conductances, a negative weight."""
        names = [r.name for r in self.receptors]
        if isinstance(receptor, (int, np.integer)) and not isinstance(receptor, bool) and 1 <= receptor <= len(names):
            port = int(receptor)
        elif receptor in names:
            port = names.index(receptor) + 1
        else:
            raise ValueError(f"receptor {receptor!r} is not a port of this {len(names)}-port population; give one of "
                             f"{', '.join(names)} (or its number 1 ... {len(names)})")
        if self.kind == CONDUCTANCE and np.any(weights < 0):
            raise ValueError(f"conductance weights must be >= 0 (receptor {names[port - 1]}); a port's reversal "
                             "potential e_rev_k makes it inhibitory")
        return np.full(len(weights), port - 1, np.int64)

    def receive(self, *totals: np.ndarray) -> None:
        """Phase 4: add the summed weights arriving in this step, one array per receptor (nA or uS;
        excitatory/inhibitory types: inhibition as magnitudes)."""
        s = self.state
        for key, name, total in zip(self.keys, self.syn_names, totals):
            if self.alpha:       # the derivative state jumps by w e / tau_syn: the PSC peaks at w
                np.multiply(total, self.unit[key], out=self._tmp[0])
                s["d_" + key] += self._tmp[0]
            else:
                s[name] += total
