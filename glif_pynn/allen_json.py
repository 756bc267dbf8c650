"""Reading an Allen Cell Types Database ``neuron_config``: the JSON file, its methods and coefficients.

Every value is checked as it is read: a missing key, a value that is not a finite number, a method
that :mod:`glif_pynn.allen` cannot convert, or a method's ``params`` or the ``coeffs`` that are not
dictionaries is a ``ValueError`` naming the key; a file that is not UTF-8 JSON is one naming the file.
What the values mean is :mod:`glif_pynn.allen`'s business.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Mapping, Optional

#: The methods (AllenSDK names) that :mod:`glif_pynn.allen` converts, per method key
METHODS = {"voltage_dynamics_method": ("linear_forward_euler", "linear_exact"),
           "voltage_reset_method": ("zero", "v_before"),
           "AScurrent_dynamics_method": ("none", "exp"),
           "AScurrent_reset_method": ("none", "sum"),
           "threshold_dynamics_method": ("inf", "spike_component", "three_components_exact"),
           "threshold_reset_method": ("inf", "three_components")}
#: The coefficients the AllenSDK neuron uses (1 when left out)
COEFFS = ("C", "G", "th_inf", "a", "b", "asc_amp_array")


def read_config(config) -> tuple[dict, Optional[str]]:
    """The configuration dictionary, unwrapped from ``{model_id: config}``, and the model id."""
    if isinstance(config, (str, Path)):
        path = Path(config)
        raw = path.read_bytes()      # an OSError (missing file, a folder) names the path itself
        try:
            data = json.loads(raw)   # UTF-8 (or -16, -32) JSON, as json.load would read it
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from err
        except UnicodeDecodeError as err:
            raise ValueError(f"{path} is not a JSON text file (byte {raw[err.start]:#04x} at {err.start} is not "
                             f"{err.encoding}): a neuron_config is a JSON file; was a binary file (a pickle, a "
                             "recording) given?") from err
        except (ValueError, RecursionError) as err:   # e.g. an integer of more than 4300 digits, deep nesting
            raise ValueError(f"{path} cannot be read as JSON: {err}") from err
    elif isinstance(config, Mapping):
        data = config
    else:
        raise TypeError(f"expected a path or a dictionary, got {type(config).__name__}")
    if not isinstance(data, Mapping):
        raise ValueError(f"a GLIF configuration is a JSON object, got {type(data).__name__}")
    if len(data) == 1:
        (key, value), = data.items()
        if isinstance(value, Mapping):
            return dict(value), str(key)
    return dict(data), None


def field(mapping: Mapping, key: str, label: str):
    if key not in mapping:
        raise ValueError(f"Allen neuron_config: missing key {label!r}")
    return mapping[key]


def real_value(mapping: Mapping, key: str, label: Optional[str] = None) -> float:
    label = label or key
    value = field(mapping, key, label)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Allen neuron_config: {label} = {value!r} is not a number")
    try:
        number = float(value)
    except OverflowError:       # an int beyond the float range
        raise ValueError(f"Allen neuron_config: {label} is an integer too large for a float (must be a finite "
                         "number)") from None
    if not math.isfinite(number):
        raise ValueError(f"Allen neuron_config: {label} is {number} (must be a finite number)")
    return number


def real_values(mapping: Mapping, key: str, label: Optional[str] = None) -> list[float]:
    label = label or key
    values = field(mapping, key, label)
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"Allen neuron_config: {label} = {values!r} is not a list of numbers")
    return [real_value({f"{label}[{i}]": v}, f"{label}[{i}]") for i, v in enumerate(values)]


def method_of(config: Mapping, key: str) -> tuple[str, dict]:
    method = field(config, key, key)
    if not isinstance(method, Mapping) or "name" not in method:
        raise ValueError(f"Allen neuron_config: {key} must be {{'name': ..., 'params': {{...}}}}, got {method!r}")
    name, params = method["name"], method.get("params")
    if name not in METHODS[key]:
        raise ValueError(f"Allen neuron_config: {key} {name!r} cannot be converted; this model expresses "
                         f"{', '.join(METHODS[key])}")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValueError(f"Allen neuron_config: {key}.params = {params!r} must be a dictionary of named values "
                         f"({{'a': ..., 'b': ...}}), or {{}} when the method has none")
    return name, dict(params)


def coefficients(config: Mapping) -> dict:
    coeffs = config.get("coeffs")
    if coeffs is None:           # the AllenSDK's default: every coefficient 1
        coeffs = {}
    if not isinstance(coeffs, Mapping):
        raise ValueError(f"Allen neuron_config: coeffs = {coeffs!r} must be a dictionary of coefficients "
                         f"({{'C': ..., 'G': ..., 'th_inf': ...}}), or be left out (every coefficient 1)")
    coeffs = dict(coeffs)
    unknown = sorted(set(coeffs) - set(COEFFS))
    if unknown:
        warnings.warn(f"Allen neuron_config: coeffs {', '.join(unknown)} ignored (the AllenSDK neuron does not use "
                      "them)", UserWarning, stacklevel=4)
    out = {key: real_value(coeffs, key, f"coeffs.{key}") if key in coeffs else 1.0 for key in COEFFS[:-1]}
    scale = coeffs.get("asc_amp_array")
    out["asc_amp_array"] = None if scale is None else real_values(coeffs, "asc_amp_array", "coeffs.asc_amp_array")
    return out
