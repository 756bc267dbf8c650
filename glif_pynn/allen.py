"""Allen Cell Types Database GLIF models (and NEST ``glif_psc`` dictionaries) as PyNN GLIF parameters.

The Allen Institute publishes a GLIF fit of levels 1-5 (Teeter et al. 2018) for many cells as
a ``neuron_config`` JSON file, simulated by ``allensdk.model.glif.glif_neuron.GlifNeuron``.
Its values are in SI units (V, s, A, F, Ohm), voltages relative to ``El_reference`` (the
measured resting potential, absolute); this module converts one to this package's PyNN parameters
(mV, ms, nA, nF, 1/ms), following the AllenSDK code (``glif_neuron.py`` and
``glif_neuron_methods.py``)::

    v_rest     = (El_reference + El) 1e3                 cm   = C coeffs["C"] 1e9
    v_thresh   = (El_reference + th_inf coeffs["th_inf"]) 1e3
    tau_m      = C coeffs["C"] / G 1e3   with   G = coeffs["G"] / R_input
    tau_refrac = spike_cut_length dt 1e3                 (V is held for the spike cut)
    k_asc_j    = 1e-3 / asc_tau_array[j]                 f_asc_j = r[j]
    delta_asc_j = asc_amp_array[j] coeffs["asc_amp_array"][j] 1e9 exp(k_asc_j tau_refrac)
    f_v = a,  delta_v = ((1 - a) El - b) 1e3             ("v_before": V <- a V + b)
    f_v = 0,  delta_v = El 1e3                           ("zero": V <- El_reference)
    b_theta = b_spike 1e-3,  delta_theta = a_spike 1e3 exp(b_theta tau_refrac)
    a_theta_v = a_voltage coeffs["a"] 1e-3,  b_theta_v = b_voltage coeffs["b"] 1e-3   (GLIF5)

The exponential factors: Allen freezes the simulation for ``spike_cut_length`` steps after a
spike and sets the state at the end of the cut to ``I_j <- r_j I_j exp(-k_j t_cut) + A_j``,
``theta_s <- theta_s exp(-b_s t_cut) + a_spike``; this package applies the jumps at the spike
and lets them decay while V is held, which gives the same values at the end of the refractory
period when the jumps are scaled by ``exp(k t_ref)``. ``theta_v`` is held through the cut in
both. Simulate with a time step that divides ``tau_refrac`` (the fit's ``dt``, 0.05 ms, does).

Accepted methods (AllenSDK names): voltage dynamics ``linear_forward_euler`` / ``linear_exact``
(integrated exactly here, so traces differ from Allen's forward Euler by O(dt)); voltage reset
``zero`` / ``v_before``; after-spike currents ``none``+``none`` / ``exp``+``sum``; threshold
dynamics+reset ``inf``+``inf``, ``spike_component``+``three_components`` and
``three_components_exact``+``three_components``. Anything else is a ``ValueError`` naming the
key, as are a missing key (``El`` included: the AllenSDK needs it too; ``coeffs`` may be left out,
every coefficient is then 1), a NaN, a method's ``params`` or ``coeffs`` that is not a dictionary,
``v_before`` with ``a`` outside [0, 1] (NEST's ``voltage_reset_fraction`` has the same limit),
non-zero ``init_AScurrents`` and an ``init_voltage`` other than ``El`` (the PyNN cell types start at
rest with no after-spike current; set these in the file, or with ``Population.initialize`` after
loading). So are values that are wrong whatever the model: a threshold at or below rest
(``th_inf * coeffs["th_inf"] <= El``: the cell would fire at rest), and values in the wrong unit
(Allen's times are in seconds): ``dt`` above :data:`MAX_DT` (1 ms), a spike cut
(``spike_cut_length * dt``) above :data:`MAX_SPIKE_CUT_MS`, an ``asc_tau_array`` entry above
:data:`MAX_ASC_TAU` (10 s), and any jump whose ``exp(k t_ref)`` overflows. A file that is not
UTF-8 JSON is a ``ValueError`` naming the file; so is every refusal of a file's content.

Ignored, because the AllenSDK simulator does not use them either: ``init_threshold`` (every
threshold method recomputes the threshold from ``th_inf``), ``th_adapt``,
``extrapolation_method_name`` and ``dt_multiplier`` (fitting options), ``type``. A
``UserWarning`` names anything else that is ignored: unknown keys or coefficients, the
``a_voltage``/``b_voltage`` of ``spike_component`` (which it ignores) and a dynamics ``a_spike``
that differs from the reset's (only the reset's is used).

A NEST ``glif_psc``/``glif_cond`` dictionary (keys such as ``C_m``, ``g``, ``V_th``,
``asc_amps``) is converted with :func:`glif_pynn.convert.from_nest_glif`.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from glif_pynn.allen_json import METHODS, coefficients, method_of, read_config, real_value, real_values
from glif_pynn.convert import from_nest_glif
from glif_pynn.parameters import BY_NAME, CONDUCTANCE, CURRENT, validate

#: PyNN cell type -> flavour
CELL_TYPES = {"GLIF_curr_exp": CURRENT, "GLIF_curr_alpha": CURRENT,
              "GLIF_cond_exp": CONDUCTANCE, "GLIF_cond_alpha": CONDUCTANCE}
#: Allen's names of the five published GLIF levels
LEVELS = {"LIF": 1, "LIF-R": 2, "LIF-ASC": 3, "LIF-R-ASC": 4, "LIF-R-ASC-A": 5}

_THRESHOLD_PAIRS = {("inf", "inf"), ("spike_component", "three_components"),
                    ("three_components_exact", "three_components")}
_KNOWN_KEYS = set(METHODS) | {"El_reference", "El", "C", "R_input", "th_inf", "dt", "spike_cut_length",
                               "asc_tau_array", "asc_amp_array", "coeffs", "init_voltage", "init_AScurrents",
                               "init_threshold", "th_adapt", "extrapolation_method_name", "dt_multiplier", "type"}
#: the neuron_config keys that describe the model: every known key but the generic ``dt`` and ``type``
MODEL_KEYS = frozenset(_KNOWN_KEYS - {"dt", "type"})
_ALLEN_MARKERS = {"El_reference", "R_input", "th_inf", "spike_cut_length", "coeffs", "asc_tau_array"}
_NEST_MARKERS = {"C_m", "g", "g_m", "V_th", "E_L", "t_ref", "V_reset", "asc_amps", "asc_decay", "asc_r", "th_spike_add",
                 "th_spike_decay", "voltage_reset_fraction", "voltage_reset_add", "th_voltage_index",
                 "th_voltage_decay", "spike_dependent_threshold", "after_spike_currents", "adapting_threshold"}
#: the largest plausible fit time step ``dt`` in s (the published fits: 5e-05 s); 0.05 is 0.05 ms given as s
MAX_DT = 1e-3
#: the longest plausible spike cut ``spike_cut_length * dt`` in ms (the published fits: 1.5 to 5.5 ms)
MAX_SPIKE_CUT_MS = 100.0
#: the longest plausible after-spike current time constant in s (the published fits: 0.0033 to 0.33 s)
MAX_ASC_TAU = 10.0
_NEST_LEVELS = {(False, False, False): 1, (True, False, False): 2, (False, True, False): 3,
                (True, True, False): 4, (True, True, True): 5}


@dataclass(frozen=True)
class GLIFConfig:
    """A GLIF parameter set converted to PyNN.

    Attributes
    ----------
    cell_type : str
        PyNN cell type name (``GLIF_curr_exp`` ...).
    parameters : dict
        PyNN names and units; validated for ``cell_type``.
    level : int or None
        GLIF level 1-5, or None for a combination of mechanisms that is none of the five.
    name : str
        Allen's name of the mechanisms: ``LIF``, ``LIF-R``, ``LIF-ASC``, ``LIF-R-ASC``, ``LIF-R-ASC-A``.
    source : str
        ``"Allen neuron_config"`` or ``"NEST glif_psc"``.
    model_id : str or None
        Allen's neuronal model id when the file is wrapped as ``{id: config}``.
    dt : float or None
        The fit's time step in ms (Allen only): a time step that divides ``tau_refrac``.
    """

    cell_type: str
    parameters: dict
    level: Optional[int]
    name: str
    source: str
    model_id: Optional[str] = None
    dt: Optional[float] = None

    @property
    def level_text(self) -> str:
        return f"GLIF{self.level} ({self.name})" if self.level else f"{self.name} (not one of GLIF levels 1-5)"

    def summary(self) -> str:
        """The level and every parameter with its unit, one per line."""
        ident = f" {self.model_id}" if self.model_id else ""
        fit = f", fitted at dt = {self.dt:g} ms" if self.dt else ""
        lines = [f"{self.source}{ident}: {self.level_text} as {self.cell_type}{fit}"]
        lines += [f"  {name:<11} {value:>12.6g} {BY_NAME[name].unit}".rstrip()
                  for name, value in self.parameters.items()]
        return "\n".join(lines)


def load_neuron_config(config: Union[str, Path, Mapping[str, Any]],
                       cell_type: Optional[str] = None) -> tuple[str, dict]:
    """(PyNN cell type name, PyNN parameters) for an Allen ``neuron_config`` or a NEST dictionary.

    Parameters
    ----------
    config : str, Path or dict
        Path of a JSON file, or the parsed dictionary: an Allen Cell Types Database GLIF
        ``neuron_config`` (GLIF levels 1-5; bare or wrapped as ``{model_id: config}``), or a NEST
        ``glif_psc``/``glif_cond`` parameter dictionary.
    cell_type : str, optional
        One of :data:`CELL_TYPES`. Default: ``GLIF_curr_exp`` for an Allen configuration (Allen's
        GLIFs are current-based and have no synapses; the synaptic parameters keep their
        defaults), the alpha-shaped type of NEST's model for a NEST dictionary
        (``GLIF_cond_alpha`` when it has ``E_rev``, else ``GLIF_curr_alpha``).

    Returns
    -------
    tuple
        The cell type name and the validated parameters. :func:`describe_config` returns the
        GLIF level as well.

    Raises
    ------
    ValueError
        For anything this model cannot honour (see the module docstring), naming the key.
    """
    described = describe_config(config, cell_type)
    return described.cell_type, described.parameters


def describe_config(config: Union[str, Path, Mapping[str, Any]], cell_type: Optional[str] = None) -> GLIFConfig:
    """Like :func:`load_neuron_config`, with the GLIF level, the source and the fit's time step."""
    data, model_id = read_config(config)
    # a file's refusals name the file; the conversion itself stays in this frame (the warnings' stacklevel)
    where = f"{config}: " if isinstance(config, (str, Path)) else ""
    try:
        allen, nest = _ALLEN_MARKERS & data.keys(), _NEST_MARKERS & data.keys()
        if allen and nest:
            raise ValueError(f"ambiguous configuration: Allen neuron_config keys ({', '.join(sorted(allen))}) and "
                             f"NEST glif_psc keys ({', '.join(sorted(nest))}) together")
        if not allen and not nest:
            raise ValueError("neither an Allen neuron_config (keys El_reference, C, R_input, th_inf, ...) nor a NEST "
                             f"glif_psc dictionary (keys C_m, g, V_th, ...); keys found: {', '.join(sorted(data))}")
        if cell_type is not None and cell_type not in CELL_TYPES:
            raise ValueError(f"unknown cell type {cell_type!r}; choose one of {', '.join(CELL_TYPES)}")
        if allen:
            chosen = cell_type or "GLIF_curr_exp"
            params, name, dt = _from_allen(data)
            source = "Allen neuron_config"
        else:
            chosen = cell_type or ("GLIF_cond_alpha" if "E_rev" in data else "GLIF_curr_alpha")
            params, name, dt = _from_nest(data, CELL_TYPES[chosen]), _nest_level_name(data), None
            source = "NEST glif_cond" if "E_rev" in data else "NEST glif_psc"
        try:
            validate(params, CELL_TYPES[chosen])
        except ValueError as err:
            raise ValueError(f"{source}{f' {model_id}' if model_id else ''} cannot be expressed: {err}") from err
    except ValueError as err:
        if where:
            raise ValueError(f"{where}{err}") from err
        raise
    except OverflowError as err:     # a safety net: the conversions check their exponents themselves
        raise ValueError(f"{where}{'Allen neuron_config' if allen else 'NEST glif_psc dictionary'}: a value "
                         f"overflows ({err}); check the units of the time constants and rates") from err
    return GLIFConfig(chosen, params, LEVELS.get(name), name, source, model_id, dt)


def _from_nest(data: Mapping, flavour: str) -> dict:
    try:
        params = dict(from_nest_glif(data))
    except KeyError as err:
        raise ValueError(f"NEST glif_psc dictionary: missing key {err}") from err
    except (ValueError, TypeError) as err:
        raise ValueError(f"NEST glif_psc dictionary cannot be expressed: {err}{_nest_culprits(data)}") from err
    except OverflowError as err:
        raise ValueError(f"NEST glif_psc dictionary cannot be expressed: a value overflows ({err}); NEST gives "
                         f"times in ms and rates in 1/ms: check t_ref, asc_decay, th_spike_decay, "
                         f"th_voltage_decay") from err
    if flavour == CURRENT and {"e_rev_E", "e_rev_I"} & params.keys():
        warnings.warn("NEST dictionary: E_rev ignored by a current-based cell type", UserWarning, stacklevel=4)
        params = {k: v for k, v in params.items() if not k.startswith("e_rev")}
    return params


def _nest_culprits(data: Mapping) -> str:
    """The NEST keys whose values are neither numbers nor lists of numbers, for an error message."""
    def numeric(value) -> bool:
        if isinstance(value, (list, tuple)):
            return all(numeric(v) for v in value)
        return isinstance(value, (int, float))
    bad = [f"{key} = {data[key]!r}" for key in sorted(_NEST_MARKERS & data.keys()) if not numeric(data[key])]
    return f" (not a number: {', '.join(bad)})" if bad else ""


def _nest_level_name(data: Mapping) -> str:
    flags = tuple(bool(data.get(key, False))
                  for key in ("spike_dependent_threshold", "after_spike_currents", "adapting_threshold"))
    level = _NEST_LEVELS.get(flags)
    return next(name for name, number in LEVELS.items() if number == level) if level else "unsupported mechanisms"


def _from_allen(config: Mapping) -> tuple[dict, str, float]:
    """PyNN parameters, Allen's level name and the fit's dt (ms) of an Allen neuron_config."""
    unknown = sorted(set(config) - _KNOWN_KEYS)
    if unknown:
        warnings.warn(f"Allen neuron_config: {', '.join(unknown)} ignored (not used by the AllenSDK GLIF neuron)",
                      UserWarning, stacklevel=3)
    if config.get("type", "GLIF") != "GLIF":
        raise ValueError(f"Allen neuron_config: type {config['type']!r} is not 'GLIF'")
    methods = {key: method_of(config, key) for key in METHODS}
    coeffs = coefficients(config)
    if "El" not in config:       # GlifNeuron.from_dict reads d['El'] too
        raise ValueError("Allen neuron_config: missing key 'El' (the resting potential relative to El_reference, "
                         "in V; 0.0 in the published fits)")
    el_ref, el = real_value(config, "El_reference"), real_value(config, "El")
    resistance, dt, cut = (real_value(config, key) for key in ("R_input", "dt", "spike_cut_length"))
    for label, value in (("R_input", resistance), ("dt", dt), ("coeffs.G", coeffs["G"])):
        if value <= 0:
            raise ValueError(f"Allen neuron_config: {label} = {value:g} must be positive")
    if dt > MAX_DT:
        raise ValueError(f"Allen neuron_config: dt = {dt:g} s is implausibly long for the fit's time step (more "
                         f"than {MAX_DT:g} s = {MAX_DT * 1e3:g} ms): Allen gives dt in seconds (5e-05 s = 0.05 ms "
                         "in the published fits); was it given in ms?")
    if cut < 0 or cut != int(cut):
        raise ValueError(f"Allen neuron_config: spike_cut_length = {cut:g} must be a whole number of steps >= 0")
    t_ref = cut * dt * 1e3
    if t_ref > MAX_SPIKE_CUT_MS:
        raise ValueError(f"Allen neuron_config: spike_cut_length = {cut:g} steps of dt = {dt:g} s hold V for "
                         f"{t_ref:g} ms after each spike, implausibly long (more than {MAX_SPIKE_CUT_MS:g} ms; the "
                         "published fits hold it for a few ms): spike_cut_length counts time steps, dt is in seconds")
    th_inf = real_value(config, "th_inf")
    if th_inf * coeffs["th_inf"] <= el:
        raise ValueError(f"Allen neuron_config: th_inf = {th_inf:g} V times coeffs.th_inf = {coeffs['th_inf']:g} "
                         f"gives a threshold of {th_inf * coeffs['th_inf']:g} V, at or below rest (El = {el:g} V; "
                         "both relative to El_reference): the cell would fire at rest; th_inf * coeffs.th_inf must "
                         "exceed El")
    capacitance = real_value(config, "C") * coeffs["C"]
    conductance = coeffs["G"] / resistance
    p = {"cm": capacitance * 1e9, "tau_m": capacitance / conductance * 1e3, "v_rest": (el_ref + el) * 1e3,
         "v_thresh": (el_ref + th_inf * coeffs["th_inf"]) * 1e3, "tau_refrac": t_ref}
    _check_initial_state(config, el)
    p.update(_after_spike_currents(config, methods, coeffs, t_ref))
    p.update(_voltage_reset(methods["voltage_reset_method"], el))
    p.update(_threshold(methods, coeffs, t_ref))
    return p, _level_name(methods), dt * 1e3


def _level_name(methods: Mapping) -> str:
    """Allen's name of the mechanisms: LIF, then R (reset rules), ASC (after-spike currents), A (adaptation)."""
    reset_rules = methods["voltage_reset_method"][0] == "v_before"
    spike_threshold = methods["threshold_dynamics_method"][0] != "inf"
    parts = ["LIF"] + ["R"] * (reset_rules or spike_threshold)
    parts += ["ASC"] * (methods["AScurrent_dynamics_method"][0] == "exp")
    parts += ["A"] * (methods["threshold_dynamics_method"][0] == "three_components_exact")
    name = "-".join(parts)
    if reset_rules and not spike_threshold:
        name += " (reset rule v_before without a spike-dependent threshold)"
    elif spike_threshold and not reset_rules:
        name += " (spike-dependent threshold with reset to rest)"
    return name


def _check_initial_state(config: Mapping, el: float) -> None:
    if "init_AScurrents" in config and any(real_values(config, "init_AScurrents")):
        raise ValueError(f"Allen neuron_config: init_AScurrents = {config['init_AScurrents']} cannot be expressed "
                         "by PyNN parameters (the cells start without after-spike current); set them to 0 in the "
                         "file, then Population.initialize(i_asc1=..., i_asc2=...) in nA")
    if "init_voltage" in config and real_value(config, "init_voltage") != el:
        raise ValueError(f"Allen neuron_config: init_voltage = {config['init_voltage']} V differs from El = {el} V; "
                         "PyNN parameters cannot express it (the cells start at v_rest): set it to El in the file, "
                         "then Population.initialize(v=...) in mV")


def _after_spike_currents(config: Mapping, methods: Mapping, coeffs: Mapping, t_ref: float) -> dict:
    dynamics, reset = methods["AScurrent_dynamics_method"][0], methods["AScurrent_reset_method"]
    if (dynamics, reset[0]) not in {("none", "none"), ("exp", "sum")}:
        raise ValueError(f"Allen neuron_config: AScurrent_dynamics_method {dynamics!r} with AScurrent_reset_method "
                         f"{reset[0]!r} cannot be converted (expected none+none or exp+sum)")
    out = {}
    for j in (1, 2):
        out.update({f"k_asc{j}": BY_NAME[f"k_asc{j}"].default, f"f_asc{j}": 1.0, f"delta_asc{j}": 0.0})
    if dynamics == "none":
        return out
    taus, amps = real_values(config, "asc_tau_array"), real_values(config, "asc_amp_array")
    ratios = real_values(reset[1], "r", "AScurrent_reset_method.params.r")
    scale = coeffs["asc_amp_array"] or [1.0] * len(amps)
    if not len(taus) == len(amps) == len(ratios) == len(scale):
        raise ValueError("Allen neuron_config: asc_tau_array, asc_amp_array, AScurrent_reset_method.params.r and "
                         "coeffs.asc_amp_array must have the same length")
    if len(taus) > 2:
        raise ValueError(f"Allen neuron_config: {len(taus)} after-spike currents; this model has two")
    for j, (tau, amp, ratio, factor) in enumerate(zip(taus, amps, ratios, scale), start=1):
        if tau <= 0:
            raise ValueError(f"Allen neuron_config: asc_tau_array[{j - 1}] = {tau:g} s must be positive")
        if tau > MAX_ASC_TAU:
            raise ValueError(f"Allen neuron_config: asc_tau_array[{j - 1}] = {tau:g} s is implausibly long (more than "
                             f"{MAX_ASC_TAU:g} s; the published fits have 0.0033 to 0.33 s): Allen gives the "
                             "after-spike current time constants in seconds; was it given in ms?")
        k = 1e-3 / tau
        growth = _growth(k, t_ref, f"asc_tau_array[{j - 1}] = {tau:g} s")
        out.update({f"k_asc{j}": k, f"f_asc{j}": ratio, f"delta_asc{j}": amp * factor * 1e9 * growth})
    return out


def _growth(rate: float, t_ref: float, label: str) -> float:
    """exp(rate t_ref), the factor that makes a jump at the spike decay to Allen's value at the end of the cut."""
    try:
        return math.exp(rate * t_ref)
    except OverflowError:
        raise ValueError(f"Allen neuron_config: {label} over the spike cut of {t_ref:g} ms (spike_cut_length * dt) "
                         f"gives exp({rate * t_ref:g}), beyond the float range: check the units (Allen gives times "
                         "in s and rates in 1/s)") from None


def _voltage_reset(method: tuple[str, dict], el: float) -> dict:
    name, params = method
    if name == "zero":       # V <- 0 relative to El_reference
        return {"f_v": 0.0, "delta_v": el * 1e3}
    a = real_value(params, "a", "voltage_reset_method.params.a")
    b = real_value(params, "b", "voltage_reset_method.params.b")
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"Allen neuron_config: voltage_reset_method.params.a = {a:g} cannot be expressed: the "
                         "fraction f_v of V - v_rest kept at reset must lie in [0, 1] (as NEST's "
                         "voltage_reset_fraction)")
    return {"f_v": a, "delta_v": ((1.0 - a) * el - b) * 1e3}


def _threshold(methods: Mapping, coeffs: Mapping, t_ref: float) -> dict:
    (dynamics, dyn), (reset, rst) = methods["threshold_dynamics_method"], methods["threshold_reset_method"]
    if (dynamics, reset) not in _THRESHOLD_PAIRS:
        raise ValueError(f"Allen neuron_config: threshold_dynamics_method {dynamics!r} with threshold_reset_method "
                         f"{reset!r} cannot be converted (expected inf+inf, spike_component+three_components or "
                         "three_components_exact+three_components)")
    out = {"b_theta": BY_NAME["b_theta"].default, "delta_theta": 0.0, "a_theta_v": 0.0,
           "b_theta_v": BY_NAME["b_theta_v"].default}
    if dynamics == "inf":
        return out
    a_spike = real_value(rst, "a_spike", "threshold_reset_method.params.a_spike")
    b_spike = real_value(rst, "b_spike", "threshold_reset_method.params.b_spike")
    b_dynamics = real_value(dyn, "b_spike", "threshold_dynamics_method.params.b_spike")
    if b_dynamics != b_spike:
        raise ValueError(f"Allen neuron_config: threshold_dynamics_method.params.b_spike = {b_dynamics:g} differs "
                         f"from threshold_reset_method.params.b_spike = {b_spike:g}; this model has one decay rate")
    if "a_spike" in dyn and real_value(dyn, "a_spike", "threshold_dynamics_method.params.a_spike") != a_spike:
        warnings.warn("Allen neuron_config: threshold_dynamics_method.params.a_spike ignored; the jump is "
                      "threshold_reset_method.params.a_spike, as in the AllenSDK", UserWarning, stacklevel=4)
    out["b_theta"] = b_spike * 1e-3
    out["delta_theta"] = a_spike * 1e3 * _growth(out["b_theta"], t_ref,
                                                 f"threshold_reset_method.params.b_spike = {b_spike:g} 1/s")
    if dynamics == "spike_component":
        ignored = [key for key in ("a_voltage", "b_voltage") if key in dyn and
                   real_value(dyn, key, f"threshold_dynamics_method.params.{key}") != 0]
        if ignored:
            warnings.warn(f"Allen neuron_config: threshold_dynamics_method.params {', '.join(ignored)} ignored: "
                          "spike_component has no voltage-dependent threshold", UserWarning, stacklevel=4)
        return out
    a_v = real_value(dyn, "a_voltage", "threshold_dynamics_method.params.a_voltage") * coeffs["a"]
    b_v = real_value(dyn, "b_voltage", "threshold_dynamics_method.params.b_voltage") * coeffs["b"]
    out["a_theta_v"] = a_v * 1e-3
    if a_v != 0 or b_v != 0:
        out["b_theta_v"] = b_v * 1e-3
    return out
