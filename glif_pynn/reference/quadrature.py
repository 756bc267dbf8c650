"""V (and theta_v) over one step for the conductance flavours of the numpy reference.

Gauss-Legendre quadrature of the variation-of-constants formula, in which the
conductances, after-spike currents and the integrated conductance are exact closed
forms; see :class:`Quadrature`.
"""
from __future__ import annotations

import math
from typing import Optional, Protocol

import numpy as np

GAUSS_NODES = 4
PANEL_RATE_STEP = 0.75     # largest (rate x panel length) in a panel: error on V below 1e-8 mV per step
_X, _W = np.polynomial.legendre.leggauss(GAUSS_NODES)


def compact(value, n: int):
    """A float when all ``n`` values are equal (cheaper in ufuncs), else a float array."""
    array = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    return np.array(array[0]) if n and np.all(array == array[0]) else np.array(array)


def at(value, index):
    """A :func:`compact` value (or any scalar or per-cell array) at the cells ``index``."""
    return value if np.ndim(value) == 0 else value[index]


class StepGroup(Protocol):
    """What :class:`Quadrature` reads from its neuron group (a
    :class:`glif_pynn.reference.neurons.NeuronGroup`), spelled out here so that this module
    depends on nothing of the engine and ``neurons`` alone imports ``quadrature``."""

    n: int
    dt: float
    alpha: bool
    params: dict
    state: dict
    active: dict
    _drive: np.ndarray


class Quadrature:
    """V over one step for the conductance flavours, by Gauss-Legendre panels.

    ``V(H) = V0 exp(-Phi(H)) + integral_0^H exp(Phi(s) - Phi(H)) A(s) / C ds`` with
    ``Phi(s) = integral_0^s (g_L + g_exc + g_inh) / C`` and ``A = I_e + I_stim + g_L E_L +
    g_exc E_rev_E + g_inh E_rev_I + I_asc1 + I_asc2`` (N-port types: a ``g_k``, ``g_k E_rev_k``
    pair per port), all exact closed forms over the panel.
    The nodes are the rows of (nodes x neurons) arrays; a panel costs two exponentials per
    node and neuron. With theta_v on, ``theta_v(H) = exp(-b H) theta_v0 + a integral_0^H
    exp(-b (H - s)) (V(s) - E_L) ds`` by the same nodes, V at each node from a sub-panel
    ``[0, s_k]`` (five panels' work per panel).
    """

    def __init__(self, group: StepGroup, rates: dict) -> None:
        self.group = group
        p, n = group.params, group.n
        self.keys = group.keys           # the receptor ports: "exc", "inh" or "1" ... "N"
        self.rates = {k: np.asarray(rates[k]) for k in self.keys + ("asc1", "asc2")}
        self.cm = p["cm"]
        self.g_l = compact(np.asarray(p["cm"]) / np.asarray(p["tau_m"]), n)
        self.base_leak = compact(np.asarray(self.g_l) * np.asarray(p["v_rest"]), n)
        self.e_rev = {r.key: p[r.e_rev] for r in group.receptors}
        self.min_cm = float(np.min(p["cm"]))
        self.theta_v = (np.asarray(p["a_theta_v"]), np.asarray(rates["theta_v"]))
        self.max_static_rate = float(max(np.max(np.asarray(self.g_l) / np.asarray(p["cm"])),
                                          *(np.max(r) for r in self.rates.values()), np.max(self.theta_v[1])))
        self._panels: dict[float, dict] = {}
        self._grid = [np.empty((GAUSS_NODES, n)) for _ in range(3)]
        self._buf = [np.empty(n) for _ in range(7)]
        self._port_buf = [np.empty(n) for _ in range(2 * len(self.keys))]   # g E_rev and dg E_rev per port
        self._v_buf = [np.empty(n) for _ in range(3)]

    def _factors(self, big_h: float) -> dict:
        """Closed-form factors at the nodes (rows) and at the end of a panel of length ``big_h`` (cached)."""
        if big_h not in self._panels:
            s = np.append(0.5 * big_h * (_X + 1.0), big_h)[:, None]       # last row: the panel end
            f = {"w": 0.5 * big_h * _W, "H": big_h, "s": s[:-1, 0], "gs": np.asarray(self.g_l) * s}
            decay = self.theta_v[1]
            f["tv_end"] = np.exp(-decay * big_h)
            for key, rate in self.rates.items():
                e = np.exp(-s * rate)                                     # (nodes + 1) x (1 or n)
                f["E_" + key] = e
                if key in self.keys:
                    tau = 1.0 / rate
                    f["c1_" + key] = tau * -np.expm1(-s * rate)           # int_0^s exp(-u / tau) du
                    f["c2_" + key] = tau * f["c1_" + key] - tau * s * e   # int_0^s u exp(-u / tau) du
                    f["sE_" + key] = s * e
            f = {k: (v if np.ndim(v) < 2 else (np.ascontiguousarray(v[:-1]), v[-1])) for k, v in f.items()}
            # weights of the theta_v integral: w_k exp(-b (H - s_k)), (nodes x (1 or n))
            f["tv_w"] = f["w"][:, None] * np.exp(-decay * (big_h - s[:-1]))
            self._panels[big_h] = f
        return self._panels[big_h]

    def _panel_count(self) -> int:
        s, g = self.group.state, self.group
        top = float(sum(np.max(s[name]) for name in g.syn_names))
        if g.alpha:     # g(s) <= g0 + s dg0 for an alpha conductance
            top += g.dt * float(sum(np.max(s[name]) for name in g.d_names))
        rate = top / self.min_cm + self.max_static_rate
        return max(1, int(math.ceil(rate * g.dt / PANEL_RATE_STEP)))

    def advance(self, v0: np.ndarray, out: np.ndarray, theta_v0: Optional[np.ndarray] = None,
                theta_v_out: Optional[np.ndarray] = None) -> None:
        """Write V at the end of the step (from ``v0`` at its start) into ``out``, and theta_v
        (from ``theta_v0``) into ``theta_v_out`` unless that is None."""
        g, s = self.group, self.group.state
        panels = self._panel_count()
        f = self._factors(g.dt / panels)
        cur = {**{key: s[name] for key, name in zip(self.keys, g.syn_names)}, "asc1": s["i_asc1"], "asc2": s["i_asc2"]}
        if g.alpha:
            cur.update({"d_" + key: s[name] for key, name in zip(self.keys, g.d_names)})
        if panels > 1:      # local copies, advanced panel by panel
            cur = {k: v.copy() for k, v in cur.items()}
        np.copyto(out, v0)
        if theta_v_out is not None:
            np.copyto(theta_v_out, theta_v0)
        for _ in range(panels):
            if theta_v_out is not None:
                self._theta_v_panel(f, cur, out, theta_v_out)
            self._v_panel(f, cur, out)
            if panels > 1:
                self._advance_panel(f, cur)

    def _theta_v_panel(self, f: dict, cur: dict, v: np.ndarray, theta_v: np.ndarray) -> None:
        """theta_v over one panel, from ``v`` and ``theta_v`` at its start (``theta_v`` in place)."""
        v_node, acc = self._v_buf[0], self._v_buf[1]
        acc.fill(0.0)
        for k, s_k in enumerate(f["s"]):
            np.copyto(v_node, v)
            self._v_panel(self._factors(float(s_k)), cur, v_node)          # V(s_k)
            v_node -= self.group.params["v_rest"]
            v_node *= f["tv_w"][k]
            acc += v_node
        acc *= self.theta_v[0]
        theta_v *= f["tv_end"]
        theta_v += acc

    def _v_panel(self, f: dict, cur: dict, v: np.ndarray) -> None:
        """V over one panel with the factors ``f``, from ``v`` at its start (in place)."""
        g, b = self.group, self._buf
        base = g._drive if g.active["drive"] else self.base_leak
        phi, amp, tmp = self._grid
        phi_end, acc = b[5], b[6]
        # A(s) at the nodes: base + I_asc terms + g(s) E_rev, with g(s) = g0 E (+ dg0 s E)
        terms = [(cur["asc1"], "E_asc1"), (cur["asc2"], "E_asc2")]
        for i, key in enumerate(self.keys):
            terms.append((np.multiply(cur[key], self.e_rev[key], out=self._port_buf[2 * i]), "E_" + key))
            if g.alpha:
                terms.append((np.multiply(cur["d_" + key], self.e_rev[key], out=self._port_buf[2 * i + 1]),
                              "sE_" + key))
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
        v *= phi_end
        acc /= self.cm
        v += acc

    def _phi(self, f: dict, cur: dict, row: int, out: np.ndarray, tmp: np.ndarray) -> None:
        """``C Phi``: ``g_L s + g_exc c1 + g_inh c1 (+ dg c2 for alpha)`` at the nodes (row 0) or the end (1)."""
        out[...] = f["gs"][row]
        for key in self.keys:
            names = (("c1_", key), ("c2_", "d_" + key)) if self.group.alpha else (("c1_", key),)
            for prefix, state in names:
                np.multiply(f[prefix + key][row], cur[state], out=tmp)
                out += tmp

    def _advance_panel(self, f: dict, cur: dict) -> None:
        """Exact propagation of the local conductances and currents over one panel."""
        for key in self.keys:
            e = f["E_" + key][1]
            if self.group.alpha:          # g = (g + H dg) exp(-H / tau); dg = dg exp(-H / tau)
                cur[key] += cur["d_" + key] * f["H"]
                cur["d_" + key] *= e
            cur[key] *= e
        for key in ("asc1", "asc2"):
            cur[key] *= f["E_asc" + key[-1]][1]
