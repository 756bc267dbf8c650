"""The one table of GLIF parameters and state variables: PyNN names, units, defaults, checks.

Every backend reads this table: the PyNN cell types (defaults, units), the NEST
translations (NESTML names and scale factors) and the numpy reference engine
(which works in PyNN units throughout). :func:`validate` is the one validator.

PyNN units: mV, ms, nA, nF, uS (so that nA / nF = mV / ms and uS * mV = nA).
The NESTML models use NEST units: mV, ms, pA, pF, nS.

Defaults are those of NEST's ``glif_psc``, a GLIF fit to a mouse visual-cortex
cell from the Allen Cell Types Database (Teeter et al. 2018, Nature Communications
9:709), with the refractory period off (the source document's model).

Receptor ports: the types with an excitatory and an inhibitory receptor (``ports=None``
below, PyNN's convention) have ``tau_syn_E``/``tau_syn_I`` (and ``e_rev_E``/``e_rev_I``); the
N-port types (``ports=N``) have instead one ``tau_syn_k`` (and ``e_rev_k``) per port
k = 1 ... N, generated from :data:`PORT_PARAMETERS`, and the states ``isyn_k``/``gsyn_k`` from
:data:`PORT_STATES`. :func:`receptors` names the ports of either kind.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
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
    smallest
        Smallest value that is physically plausible for a positive parameter; a smaller
        one almost always means a value given in another unit (uF or F for nF, s for ms).
    flavours
        The synapse types that have the parameter.
    exc_inh_only
        True for the parameters of the excitatory and inhibitory receptors, which the
        N-port types replace by per-port ones.
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
    smallest: Optional[float] = None
    flavours: tuple = BOTH
    exc_inh_only: bool = False

    def range_text(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"{left}{self.low:g}, {self.high:g}{right} {self.unit}".rstrip()


_POS = dict(low=0.0, low_open=True)
_NONNEG = dict(low=0.0)
_FRACTION = dict(low=0.0, high=1.0)

PARAMETERS: tuple[Parameter, ...] = (
    # smallest: 0.1 pF, below any cell (a capacitance in uF or F given as nF is 1e3 or 1e9 times too small);
    # 0.05 ms, below any membrane (a time constant in s given as ms is 1e3 times too small)
    Parameter("cm", "nF", 0.05872, "C_m", 1e3, "membrane capacitance C", plausible=10.0, smallest=1e-4, **_POS),
    Parameter("tau_m", "ms", 58.72 / 9.43, None, 1.0, "membrane time constant C / G", plausible=1e5,
              smallest=0.05, **_POS),
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
    Parameter("tau_syn_E", "ms", 2.0, "tau_syn_exc", 1.0, "excitatory synaptic time constant", plausible=1e5,
              exc_inh_only=True, **_POS),
    Parameter("tau_syn_I", "ms", 2.0, "tau_syn_inh", 1.0, "inhibitory synaptic time constant", plausible=1e5,
              exc_inh_only=True, **_POS),
    Parameter("e_rev_E", "mV", 0.0, "E_rev_exc", 1.0, "excitatory reversal potential", plausible=1e3,
              flavours=(CONDUCTANCE,), exc_inh_only=True),
    Parameter("e_rev_I", "mV", -85.0, "E_rev_inh", 1.0, "inhibitory reversal potential", plausible=1e3,
              flavours=(CONDUCTANCE,), exc_inh_only=True),
)
BY_NAME = {p.name: p for p in PARAMETERS}

#: The parameters of each receptor port k of the N-port types ("{k}" is replaced by 1 ... N).
PORT_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("tau_syn_{k}", "ms", 2.0, "tau_syn_{k}", 1.0, "synaptic time constant of receptor port {k}",
              plausible=1e5, **_POS),
    Parameter("e_rev_{k}", "mV", 0.0, "E_rev_{k}", 1.0, "reversal potential of receptor port {k}", plausible=1e3,
              flavours=(CONDUCTANCE,)),
)
_PORT_NAME = re.compile(r"(?P<stem>[a-z_]+_)(?P<k>[1-9][0-9]*)$")


def _for_port(template, k: int):
    """A port parameter or state of :data:`PORT_PARAMETERS` / :data:`PORT_STATES` for port ``k``."""
    fields = {f: getattr(template, f).format(k=k) for f in ("name", "nest_name", "doc") if hasattr(template, f)}
    return replace(template, **fields)


@dataclass(frozen=True)
class Receptor:
    """A receptor port of a GLIF type, as PyNN names it (``receptor_type``) and as the states name it.

    ``sign`` is how the port's state enters V: the excitatory/inhibitory types hold inhibition as
    a magnitude (-1); every port of the N-port types takes weights of either sign (+1).
    """

    name: str          # PyNN receptor_type: "excitatory", "inhibitory", "syn1", ...
    key: str           # suffix of the state names: isyn_<key>, gsyn_<key>
    tau_syn: str       # PyNN parameter of its time constant
    e_rev: str         # PyNN parameter of its reversal potential (conductance types)
    sign: int


def receptors(ports: Optional[int] = None) -> tuple[Receptor, ...]:
    """The receptor ports: excitatory and inhibitory (``ports`` None), or ``syn1`` ... ``synN``."""
    if ports is None:
        return (Receptor("excitatory", "exc", "tau_syn_E", "e_rev_E", 1),
                Receptor("inhibitory", "inh", "tau_syn_I", "e_rev_I", -1))
    return tuple(Receptor(f"syn{k}", str(k), f"tau_syn_{k}", f"e_rev_{k}", 1) for k in range(1, ports + 1))


def parameter(name: str) -> Parameter:
    """The table entry of ``name``, per-port names (``tau_syn_3``) included; KeyError if unknown."""
    if name in BY_NAME:
        return BY_NAME[name]
    match = _PORT_NAME.fullmatch(name)
    for template in PORT_PARAMETERS:
        if match and template.name == match["stem"] + "{k}":
            return _for_port(template, int(match["k"]))
    raise KeyError(f"{name!r} is not a GLIF parameter")


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
#: The states of each receptor port k of the N-port types (signed: no magnitudes).
PORT_STATES: tuple[StateVariable, ...] = (
    StateVariable("isyn_{k}", "nA", "I_syn_{k}", 1e-3, None, (CURRENT,)),
    StateVariable("gsyn_{k}", "uS", "g_{k}", 1e-3, None, (CONDUCTANCE,)),
)
_EXC_INH_STATES = ("isyn_exc", "isyn_inh", "gsyn_exc", "gsyn_inh")


def parameters_for(flavour: str, ports: Optional[int] = None) -> tuple[Parameter, ...]:
    """The parameters of the ``flavour`` types: excitatory/inhibitory (``ports`` None) or N-port."""
    shared = tuple(p for p in PARAMETERS if flavour in p.flavours and not (ports and p.exc_inh_only))
    if not ports:
        return shared
    return shared + tuple(_for_port(t, k) for k in range(1, ports + 1) for t in PORT_PARAMETERS
                          if flavour in t.flavours)


def states_for(flavour: str, ports: Optional[int] = None) -> tuple[StateVariable, ...]:
    shared = tuple(s for s in STATE_VARIABLES if flavour in s.flavours and not (ports and s.name in _EXC_INH_STATES))
    if not ports:
        return shared
    return shared + tuple(_for_port(t, k) for k in range(1, ports + 1) for t in PORT_STATES if flavour in t.flavours)


def default_parameters(flavour: str, ports: Optional[int] = None) -> dict[str, float]:
    return {p.name: p.default for p in parameters_for(flavour, ports)}


def leak_conductance_nS(cm_nF, tau_m_ms):
    """NEST's leak conductance g_L (nS) for PyNN's cm (nF) and tau_m (ms)."""
    return BY_NAME["cm"].nest_scale * cm_nF / tau_m_ms


def nest_values(values: Mapping[str, float]) -> dict[str, float]:
    """NESTML parameter values (NEST names and units) for PyNN-named values.

    For raw PyNEST use; the PyNN cell types reach the same values through their
    translations (glif_pynn.nest.cells). ``tau_m`` needs ``cm`` beside it.
    """
    out = {parameter(name).nest_name: value * parameter(name).nest_scale
           for name, value in values.items() if parameter(name).nest_name}
    if "tau_m" in values:
        out["g_L"] = leak_conductance_nS(values["cm"], values["tau_m"])
    return out


def validate(values: Mapping[str, object], flavour: Optional[str] = None, ports: Optional[int] = None) -> None:
    """Check parameter values (scalars or arrays, PyNN units) against the table.

    ``flavour`` (``"current"``/``"conductance"``) and ``ports`` (None: the excitatory/inhibitory
    types; N: the N-port types) select the parameters that exist; ``flavour`` None allows those
    of both flavours.

    Raises
    ------
    ValueError
        Naming the parameter, the offending value and the allowed range, for a
        NaN or infinite value, a value out of range (a non-positive time constant,
        a fraction outside [0, 1]) or a magnitude that suggests a wrong unit.
    KeyError
        For a name that is not a GLIF parameter (of this flavour, when given).
    """
    known = {p.name: p for f in ((flavour,) if flavour else BOTH) for p in parameters_for(f, ports)}
    for name, value in values.items():
        if name not in known:
            kind = f"{flavour}-based " if flavour else ""
            kind += f"{ports}-port " if ports else "excitatory/inhibitory "
            raise KeyError(f"{name!r} is not a GLIF parameter of the {kind}types; valid names: {', '.join(known)}")
        _check(known[name], value)


def _unit(param: Parameter) -> str:
    return f" {param.unit}" if param.unit else ""


def _check(param: Parameter, value: object) -> None:
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ValueError(f"GLIF parameter {param.name} must be a number{_unit(param)}, got {value!r}")
    if not isinstance(value, (int, float, np.ndarray, np.number, list, tuple)):
        return   # lazy values (random distributions) are checked once evaluated
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf":      # strings, booleans or objects, which float() would take silently
        raise ValueError(f"GLIF parameter {param.name} must be numbers{_unit(param)}, got {raw.dtype} values "
                         f"{raw.ravel()[:3].tolist()}")
    array = raw.astype(float)
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
    if param.smallest is not None and (array < param.smallest).any():
        worst = array.flat[int(np.argmin(array))]
        raise ValueError(f"GLIF parameter {param.name} = {worst:g}{_unit(param)} is implausibly small (less than "
                         f"{param.smallest:g} {param.unit}): PyNN gives {param.name} in {param.unit}; "
                         f"was the value given in another unit?")

