"""The one table of GLIF parameters and state variables: PyNN names, units, defaults, checks.

Every backend reads this table: the PyNN cell types (defaults, units), the NEST
translations (NESTML names and scale factors) and the numpy reference engine
(which works in PyNN units throughout). :func:`validate` is the one validator.

PyNN units: mV, ms, nA, nF, uS (so that nA / nF = mV / ms and uS * mV = nA).
The NESTML models use NEST units: mV, ms, pA, pF, nS.

Defaults are those of NEST's ``glif_psc``, a GLIF fit to a mouse visual-cortex
cell from the Allen Cell Types Database (Teeter et al. 2018, Nature Communications
9:709), with the refractory period off (the source document's model).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

CURRENT, CONDUCTANCE = "current", "conductance"
BOTH = (CURRENT, CONDUCTANCE)


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes
    ----------
    name, unit, default
        PyNN name, PyNN unit, default value in that unit.
    nest_name, nest_scale
        NESTML parameter and the factor from the PyNN value to the NESTML one.
        ``nest_name`` None means the NEST value is computed from several
        parameters (``tau_m`` becomes ``g_L = cm / tau_m``).
    low, high, low_open, high_open
        Allowed range; an open end excludes the bound.
    plausible
        Largest magnitude that is physically plausible in the PyNN unit; a larger
        value almost always means a value given in another unit (pF for nF).
    flavours
        The synapse types that have the parameter.
    """

    name: str
    unit: str
    default: float
    nest_name: Optional[str]
    nest_scale: float
    doc: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    plausible: Optional[float] = None
    flavours: tuple = BOTH

    def range_text(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"{left}{self.low:g}, {self.high:g}{right} {self.unit}".rstrip()


_POS = dict(low=0.0, low_open=True)
_NONNEG = dict(low=0.0)
_FRACTION = dict(low=0.0, high=1.0)

PARAMETERS: tuple[Parameter, ...] = (
    Parameter("cm", "nF", 0.05872, "C_m", 1e3, "membrane capacitance C", plausible=10.0, **_POS),
    Parameter("tau_m", "ms", 58.72 / 9.43, None, 1.0, "membrane time constant C / G", plausible=1e5, **_POS),
    Parameter("v_rest", "mV", -78.85, "E_L", 1.0, "resting potential E_L", plausible=1e3),
    Parameter("v_thresh", "mV", -51.68, "V_th", 1.0, "threshold at rest Theta_inf", plausible=1e3),
    Parameter("i_offset", "nA", 0.0, "I_e", 1e3, "constant input current I_e", plausible=1e3),
    Parameter("tau_refrac", "ms", 0.0, "t_ref", 1.0, "refractory period (V held)", plausible=1e4, **_NONNEG),
    Parameter("k_asc1", "1/ms", 0.003, "asc_decay1", 1.0, "decay rate of after-spike current 1", **_POS),
    Parameter("k_asc2", "1/ms", 0.1, "asc_decay2", 1.0, "decay rate of after-spike current 2", **_POS),
    Parameter("f_asc1", "", 1.0, "asc_r1", 1.0, "fraction of after-spike current 1 kept at a spike", **_FRACTION),
    Parameter("f_asc2", "", 1.0, "asc_r2", 1.0, "fraction of after-spike current 2 kept at a spike", **_FRACTION),
    Parameter("delta_asc1", "nA", -0.00918, "asc_amp1", 1e3, "jump of after-spike current 1", plausible=1e3),
    Parameter("delta_asc2", "nA", -0.19894, "asc_amp2", 1e3, "jump of after-spike current 2", plausible=1e3),
    Parameter("f_v", "", 0.2, "voltage_reset_fraction", 1.0, "fraction of V - E_L kept at reset", **_FRACTION),
    Parameter("delta_v", "mV", -18.51, "voltage_reset_add", -1.0, "voltage subtracted at reset", plausible=1e3),
    Parameter("b_theta", "1/ms", 0.009, "th_spike_decay", 1.0, "decay rate of the spike-induced threshold", **_POS),
    Parameter("delta_theta", "mV", 0.37, "th_spike_add", 1.0, "jump of the spike-induced threshold", plausible=1e3),
    Parameter("a_theta_v", "1/ms", 0.0, "th_voltage_index", 1.0,
              "coupling of the voltage-dependent threshold theta_v to V - v_rest (GLIF5; 0: off)", plausible=1e3),
    Parameter("b_theta_v", "1/ms", 0.09, "th_voltage_decay", 1.0, "decay rate of the voltage-dependent threshold",
              plausible=1e3, **_POS),
    Parameter("lambda0", "Hz", 0.0, "lambda_0", 1.0, "escape noise: firing intensity when V is at the threshold",
              plausible=1e5, **_NONNEG),
    Parameter("delta_u", "mV", 0.0, "Delta_V", 1.0, "escape noise: softness of the threshold (0: hard threshold)",
              plausible=100.0, **_NONNEG),
    Parameter("tau_syn_E", "ms", 2.0, "tau_syn_exc", 1.0, "excitatory synaptic time constant", plausible=1e5, **_POS),
    Parameter("tau_syn_I", "ms", 2.0, "tau_syn_inh", 1.0, "inhibitory synaptic time constant", plausible=1e5, **_POS),
    Parameter("e_rev_E", "mV", 0.0, "E_rev_exc", 1.0, "excitatory reversal potential", plausible=1e3,
              flavours=(CONDUCTANCE,)),
    Parameter("e_rev_I", "mV", -85.0, "E_rev_inh", 1.0, "inhibitory reversal potential", plausible=1e3,
              flavours=(CONDUCTANCE,)),
)
BY_NAME = {p.name: p for p in PARAMETERS}


@dataclass(frozen=True)
class StateVariable:
    """A recordable state: PyNN name and unit, NESTML name, factor from NEST to PyNN units."""

    name: str
    unit: str
    nest_name: str
    from_nest: float
    initial: Optional[str]      # initial value: a parameter name, or None for 0
    flavours: tuple = BOTH


STATE_VARIABLES: tuple[StateVariable, ...] = (
    StateVariable("v", "mV", "V_m", 1.0, "v_rest"),
    StateVariable("theta", "mV", "theta_s", 1.0, None),
    StateVariable("theta_v", "mV", "theta_v", 1.0, None),
    StateVariable("i_asc1", "nA", "I_asc1", 1e-3, None),
    StateVariable("i_asc2", "nA", "I_asc2", 1e-3, None),
    StateVariable("isyn_exc", "nA", "I_syn_exc", 1e-3, None, (CURRENT,)),
    # negative, as pyNN.nest's IF_curr_* record it: the NESTML state holds the magnitude
    StateVariable("isyn_inh", "nA", "I_syn_inh", -1e-3, None, (CURRENT,)),
    StateVariable("gsyn_exc", "uS", "g_exc", 1e-3, None, (CONDUCTANCE,)),
    StateVariable("gsyn_inh", "uS", "g_inh", 1e-3, None, (CONDUCTANCE,)),
)
STATE_BY_NAME = {s.name: s for s in STATE_VARIABLES}


def parameters_for(flavour: str) -> tuple[Parameter, ...]:
    return tuple(p for p in PARAMETERS if flavour in p.flavours)


def states_for(flavour: str) -> tuple[StateVariable, ...]:
    return tuple(s for s in STATE_VARIABLES if flavour in s.flavours)


def default_parameters(flavour: str) -> dict[str, float]:
    return {p.name: p.default for p in parameters_for(flavour)}


def leak_conductance_nS(cm_nF, tau_m_ms):
    """NEST's leak conductance g_L (nS) for PyNN's cm (nF) and tau_m (ms)."""
    return BY_NAME["cm"].nest_scale * cm_nF / tau_m_ms


def nest_values(values: Mapping[str, float]) -> dict[str, float]:
    """NESTML parameter values (NEST names and units) for PyNN-named values.

    For raw PyNEST use; the PyNN cell types reach the same values through their
    translations (glif_pynn.nest.cells). ``tau_m`` needs ``cm`` beside it.
    """
    out = {BY_NAME[name].nest_name: value * BY_NAME[name].nest_scale
           for name, value in values.items() if BY_NAME[name].nest_name}
    if "tau_m" in values:
        out["g_L"] = leak_conductance_nS(values["cm"], values["tau_m"])
    return out


def validate(values: Mapping[str, object], flavour: Optional[str] = None) -> None:
    """Check parameter values (scalars or arrays, PyNN units) against the table.

    Raises
    ------
    ValueError
        Naming the parameter, the offending value and the allowed range, for a
        NaN or infinite value, a value out of range (a non-positive time constant,
        a fraction outside [0, 1]) or a magnitude that suggests a wrong unit.
    KeyError
        For a name that is not a GLIF parameter (of this flavour, when given).
    """
    known = BY_NAME if flavour is None else {p.name: p for p in parameters_for(flavour)}
    for name, value in values.items():
        if name not in known:
            raise KeyError(f"{name!r} is not a GLIF parameter"
                           f"{'' if flavour is None else f' of the {flavour}-based types'}; "
                           f"valid names: {', '.join(known)}")
        _check(known[name], value)


def _unit(param: Parameter) -> str:
    return f" {param.unit}" if param.unit else ""


def _check(param: Parameter, value: object) -> None:
    if not isinstance(value, (int, float, np.ndarray, np.number, list, tuple)) or isinstance(value, bool):
        return   # lazy values (random distributions) are checked once evaluated
    array = np.asarray(value, dtype=float)
    for bad, what in ((np.isnan(array), "NaN"), (np.isinf(array), "infinite")):
        if bad.any():
            raise ValueError(f"GLIF parameter {param.name} is {what}; allowed range {param.range_text()}")
    too_low = array <= param.low if param.low_open else array < param.low
    too_high = array >= param.high if param.high_open else array > param.high
    bad = too_low | too_high
    if bad.any():
        raise ValueError(f"GLIF parameter {param.name} = {array[bad].flat[0]:g}{_unit(param)} is out of range: "
                         f"allowed {param.range_text()} ({param.doc})")
    if param.plausible is not None and (np.abs(array) > param.plausible).any():
        worst = array.flat[int(np.argmax(np.abs(array)))]
        raise ValueError(f"GLIF parameter {param.name} = {worst:g}{_unit(param)} is implausibly large (more than "
                         f"{param.plausible:g} {param.unit}): PyNN gives {param.name} in {param.unit}; "
                         f"was the value given in another unit?")

