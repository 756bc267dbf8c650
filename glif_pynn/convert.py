"""Convert between PyNN GLIF parameters and NEST's hand-written ``glif_psc`` / ``glif_cond``.

NEST's models (Teeter et al. 2018, as implemented in NEST 3) differ from DESIGN §1 in
ways a converter can partly absorb (see docs/model.md, "Differences from NEST's glif_psc and glif_cond"):

* **Mapped exactly.** NEST applies the after-spike-current and threshold jumps at the
  *end* of the refractory period (``I_j <- f_j I_j exp(-k_j t_ref) + dI_j``,
  ``Theta_s <- Theta_s exp(-b_s t_ref) + dTheta_s``), this package at the spike, after
  which they decay through the refractory period while V is held. The end-of-refractory
  values agree when ``dI_j(ours) = dI_j(NEST) exp(k_j t_ref)`` and
  ``dTheta_s(ours) = dTheta_s(NEST) exp(b_s t_ref)``. GLIF1/3 reset to ``V_reset``:
  ``f_v = 0`` and ``delta_v = E_L - V_reset``.
* **GLIF5** (``adapting_threshold``): the voltage-dependent threshold component
  ``theta_v' = a_theta_v (V - E_L) - b_theta_v theta_v`` is held with V during the
  refractory period in both models, so ``th_voltage_index`` and ``th_voltage_decay``
  (1/ms) are ``a_theta_v`` and ``b_theta_v`` unchanged. NEST accepts
  ``adapting_threshold`` only together with ``spike_dependent_threshold`` and
  ``after_spike_currents`` (its GLIF5); :func:`to_nest_glif` sets all three when
  ``a_theta_v`` is non-zero (with zero jumps these mechanisms change nothing).
* **Not mappable, to be quantified.** NEST resets V from the voltage at the start of the
  crossing step (this package: at the crossing); NEST integrates V with the input and
  the mean after-spike current held constant over the step (O(h^2)).

Both directions use PyNN names and units (nA, nF, uS, mV, ms) on this package's side
and NEST's names and units (pA, pF, nS, mV, ms) on NEST's side. ``t_ref`` should be a
multiple of the resolution (NEST holds V for ``round(t_ref / h)`` steps).
"""
from __future__ import annotations

import math
from typing import Mapping, Optional

import numpy as np

from glif_pynn.parameters import BY_NAME, parameter, receptors, validate

#: glif_psc keys with a direct counterpart: NEST name -> (PyNN name, factor NEST -> PyNN).
_DIRECT = {"C_m": ("cm", 1e-3), "E_L": ("v_rest", 1.0), "V_th": ("v_thresh", 1.0), "t_ref": ("tau_refrac", 1.0),
           "th_spike_decay": ("b_theta", 1.0), "voltage_reset_fraction": ("f_v", 1.0)}
_PSC_DEFAULTS = {"C_m": 58.72, "g": 9.43, "E_L": -78.85, "V_th": -51.68, "V_reset": -78.85, "t_ref": 3.75,
                 "V_m": -78.85, "asc_amps": [-9.18, -198.94], "asc_decay": [0.003, 0.1], "asc_r": [1.0, 1.0],
                 "th_spike_add": 0.37, "th_spike_decay": 0.009, "voltage_reset_fraction": 0.2,
                 "voltage_reset_add": 18.51, "th_voltage_index": 0.005, "th_voltage_decay": 0.09, "tau_syn": [2.0]}
#: NEST's defaults of the glif_psc / glif_cond parameters (``nest.GetDefaults`` of NEST 3.10; NEST units:
#: pF, nS, mV, ms, pA, 1/ms). V_th, V_reset and V_m are absolute: they do not follow a changed E_L.
NEST_GLIF_DEFAULTS = {
    "glif_psc": _PSC_DEFAULTS,
    "glif_cond": {**{k: v for k, v in _PSC_DEFAULTS.items() if k != "g"}, "g_m": 9.43, "tau_syn": [0.2, 2.0],
                  "E_rev": [0.0, -85.0]},
}
_FLAGS = ("spike_dependent_threshold", "after_spike_currents", "adapting_threshold")
#: The keys of a NEST glif_psc / glif_cond parameter dictionary that :func:`from_nest_glif` reads
#: (NEST's parameters of these models, their mechanism flags, and the states V_m and asc_init). NEST
#: refuses any other key ("Unaccessed elements in params").
NEST_GLIF_KEYS = {model: frozenset(defaults) | frozenset(_FLAGS) | {"asc_init"}
                  for model, defaults in NEST_GLIF_DEFAULTS.items()}


def to_nest_glif(params: Mapping[str, float], conductance: bool = False, ports: Optional[int] = None) -> dict:
    """NEST ``glif_psc`` (or ``glif_cond``) parameters equivalent to PyNN GLIF parameters.

    ``ports`` None: the excitatory/inhibitory types' ``tau_syn_E``/``tau_syn_I`` (and ``e_rev_*``)
    become NEST's receptor ports 1 and 2; N: the N-port types' ``tau_syn_1`` ... ``tau_syn_N``
    (and ``e_rev_k``) become ports 1 ... N.

    The GLIF level follows from the values: after-spike currents are switched on when
    either jump is non-zero, the spike-dependent threshold (with NEST's voltage reset
    rule) when ``delta_theta`` or ``f_v`` is non-zero; otherwise V resets to
    ``V_reset = v_rest - delta_v``. A non-zero ``a_theta_v`` makes it GLIF5:
    ``adapting_threshold`` with ``th_voltage_index = a_theta_v`` and
    ``th_voltage_decay = b_theta_v``, and (as NEST requires) the spike-dependent
    threshold and the after-spike currents switched on too.

    Raises
    ------
    ValueError
        For invalid values (see :func:`glif_pynn.parameters.validate`); for a
        non-zero ``i_offset`` (``glif_psc`` has no constant current parameter;
        drive it with a ``dc_generator`` instead); for ``tau_refrac = 0`` (NEST
        requires ``t_ref > 0``); for escape noise, ``delta_u > 0`` (NEST's GLIF
        models are deterministic).
    """
    names = [r for r in receptors(ports)]
    shared = [name for name, param in BY_NAME.items() if not param.exc_inh_only]
    wanted = shared + [r.tau_syn for r in names] + ([r.e_rev for r in names] if conductance else [])
    p = {name: float(params.get(name, parameter(name).default)) for name in wanted}
    validate(p, ports=ports)
    if p["i_offset"] != 0:
        raise ValueError(f"i_offset = {p['i_offset']:g} nA has no counterpart in glif_psc (it has no I_e): "
                         "connect a dc_generator of that amplitude to both models instead")
    if p["delta_u"] != 0:
        raise ValueError(f"delta_u = {p['delta_u']:g} mV (escape noise) has no counterpart in glif_psc/glif_cond, "
                         "whose threshold is hard: compare with delta_u = 0")
    t_ref = p["tau_refrac"]
    if t_ref <= 0:
        raise ValueError("tau_refrac = 0 has no counterpart in glif_psc/glif_cond (NEST requires t_ref > 0): "
                         "give tau_refrac of at least one time step to both models")
    adapting = p["a_theta_v"] != 0
    asc = p["delta_asc1"] != 0 or p["delta_asc2"] != 0 or adapting
    sdt = p["delta_theta"] != 0 or p["f_v"] != 0 or adapting
    nest = {"C_m": p["cm"] * 1e3, "g": p["cm"] / p["tau_m"] * 1e3, "E_L": p["v_rest"], "V_th": p["v_thresh"],
            "t_ref": t_ref, "V_m": p["v_rest"], "after_spike_currents": asc, "spike_dependent_threshold": sdt,
            "adapting_threshold": adapting, "th_voltage_index": p["a_theta_v"], "th_voltage_decay": p["b_theta_v"],
            "asc_decay": [p["k_asc1"], p["k_asc2"]],
            "asc_r": [p["f_asc1"], p["f_asc2"]], "th_spike_decay": p["b_theta"],
            "asc_amps": [p[f"delta_asc{j}"] * 1e3 * math.exp(-p[f"k_asc{j}"] * t_ref) for j in (1, 2)],
            "th_spike_add": p["delta_theta"] * math.exp(-p["b_theta"] * t_ref),
            "voltage_reset_fraction": p["f_v"], "voltage_reset_add": -p["delta_v"],
            "V_reset": p["v_rest"] - p["delta_v"]}
    nest["tau_syn"] = [p[r.tau_syn] for r in names]
    if conductance:   # glif_cond names the membrane conductance g_m (its g is the synaptic state)
        nest["g_m"] = nest.pop("g")
        nest["E_rev"] = [p[r.e_rev] for r in names]
    return nest


def from_nest_glif(nest: Mapping[str, object], ports: Optional[int] = None,
                   conductance: Optional[bool] = None) -> dict:
    """PyNN GLIF parameters equivalent to a NEST ``glif_psc`` / ``glif_cond`` dictionary.

    Missing keys take NEST's own defaults (:data:`NEST_GLIF_DEFAULTS`, ``nest.GetDefaults`` of NEST
    3.10): ``t_ref`` 3.75 ms, ``V_reset`` -78.85 mV (absolute: it does not follow ``E_L``), ``C_m`` 58.72
    pF, ``g`` (``g_m``) 9.43 nS, the after-spike current and threshold parameters of NEST's GLIF5
    example cell, ``tau_syn`` [2] ms (``glif_cond``: [0.2, 2] ms with ``E_rev`` [0, -85] mV).
    ``conductance`` None: a ``glif_cond`` dictionary is recognised by ``g_m`` or ``E_rev``.
    ``ports`` None: the synaptic time constants map from the
    first two receptor ports (port 1 excitatory, port 2 inhibitory; a single port serves both),
    for the excitatory/inhibitory types. ``ports`` N: NEST's port k becomes ``tau_syn_k`` (and
    ``e_rev_k``) of the N-port types, for every port of ``tau_syn``; ports beyond those keep the
    table's defaults (nothing can reach them in NEST).
    Without ``adapting_threshold``, ``a_theta_v`` is 0 (no voltage-dependent threshold) and
    ``b_theta_v`` is ``th_voltage_decay`` when positive, else the table's default.
    Keys are not checked against NEST's (:data:`NEST_GLIF_KEYS` lists them).

    Raises
    ------
    ValueError
        For values that are invalid here (see :func:`glif_pynn.parameters.validate`), more
        NEST ports than ``ports``, ``E_rev`` and ``tau_syn`` of different lengths (``glif_cond``),
        after-spike current lists that are not of length 2, a non-zero ``asc_init``, a mechanism
        flag that is not true or false, or a NEST parameter that is not a number (a string, say).
    """
    if conductance is None:
        conductance = "g_m" in nest or "E_rev" in nest
    given = dict(nest)
    if not conductance and "g_m" in given and "g" not in given:
        given["g"] = given.pop("g_m")          # tolerated here (glif_pynn.allen); NEST's glif_psc has g
    if conductance and "g" in given and "g_m" not in given:
        given["g_m"] = given.pop("g")
    values = {**NEST_GLIF_DEFAULTS["glif_cond" if conductance else "glif_psc"], **given}
    for key, value in given.items():
        if key not in _FLAGS and key in NEST_GLIF_KEYS["glif_cond"] | NEST_GLIF_KEYS["glif_psc"] \
                and np.asarray(value).dtype.kind not in "iuf":
            raise ValueError(f"{key} = {value!r} is not a number (or a list of numbers)")
    flags = {}
    for key in ("after_spike_currents", "spike_dependent_threshold", "adapting_threshold"):
        flag = values.get(key, False)
        if not isinstance(flag, (bool, np.bool_)) and flag not in (0, 1):
            raise ValueError(f"{key} = {flag!r}: expected true or false")
        flags[key] = bool(flag)
    out = {pynn: float(values[key]) * factor for key, (pynn, factor) in _DIRECT.items()}
    out["tau_m"] = out["cm"] * 1e3 / float(values["g_m" if conductance else "g"])
    t_ref, e_l = out["tau_refrac"], out["v_rest"]
    asc = {key: [float(x) for x in np.atleast_1d(values[key])] for key in ("asc_amps", "asc_decay", "asc_r")}
    asc_init = [float(x) for x in np.atleast_1d(values.get("asc_init", [0.0, 0.0]))]
    if any(x != 0 for x in asc_init):
        raise ValueError(f"asc_init = {asc_init}: initial after-spike currents other than 0 are not supported")
    if flags["after_spike_currents"]:
        wrong = {key: len(v) for key, v in asc.items() if len(v) != 2}
        if wrong:
            raise ValueError("the GLIF types have two after-spike currents; "
                             + ", ".join(f"{key} has {n} values" for key, n in wrong.items()))
        for j in (1, 2):
            decay = asc["asc_decay"][j - 1]
            out[f"k_asc{j}"] = decay
            out[f"f_asc{j}"] = asc["asc_r"][j - 1]
            out[f"delta_asc{j}"] = asc["asc_amps"][j - 1] * 1e-3 * math.exp(decay * t_ref)
    else:
        out.update(delta_asc1=0.0, delta_asc2=0.0, f_asc1=1.0, f_asc2=1.0)
    if flags["spike_dependent_threshold"]:
        b = out["b_theta"]
        out["delta_theta"] = float(values["th_spike_add"]) * math.exp(b * t_ref)
        out["f_v"] = float(values["voltage_reset_fraction"])
        out["delta_v"] = -float(values["voltage_reset_add"])
    else:
        out.update(delta_theta=0.0, f_v=0.0, delta_v=e_l - float(values["V_reset"]))
    if flags["adapting_threshold"]:
        out["a_theta_v"], out["b_theta_v"] = float(values["th_voltage_index"]), float(values["th_voltage_decay"])
    else:   # no voltage-dependent threshold; keep a valid decay rate for a round trip
        decay = float(values["th_voltage_decay"])
        out["a_theta_v"], out["b_theta_v"] = 0.0, decay if decay > 0 else BY_NAME["b_theta_v"].default
    tau_syn = [float(t) for t in np.atleast_1d(values["tau_syn"])]
    if not tau_syn:
        raise ValueError("tau_syn is empty (NEST needs at least one receptor port)")
    e_rev = [float(e) for e in np.atleast_1d(values["E_rev"])] if conductance else None
    if conductance and len(e_rev) != len(tau_syn):
        raise ValueError(f"E_rev has {len(e_rev)} values and tau_syn {len(tau_syn)}: glif_cond needs one "
                         "reversal potential per receptor port (NEST refuses arrays of different sizes)")
    if ports is None:
        out["tau_syn_E"], out["tau_syn_I"] = tau_syn[0], tau_syn[min(1, len(tau_syn) - 1)]
        if e_rev is not None:
            out["e_rev_E"], out["e_rev_I"] = e_rev[0], e_rev[min(1, len(e_rev) - 1)]
    else:
        if len(tau_syn) > ports:
            raise ValueError(f"the NEST dictionary has {len(tau_syn)} receptor ports (tau_syn); the cell type "
                             f"has {ports}")
        out.update({f"tau_syn_{k}": value for k, value in enumerate(tau_syn, 1)})
        out.update({f"e_rev_{k}": value for k, value in enumerate(e_rev or (), 1)})
    out["lambda0"], out["delta_u"] = 0.0, 0.0      # NEST's GLIF models are deterministic: the hard threshold
    validate(out, ports=ports)
    return out
