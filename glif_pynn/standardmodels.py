"""Simulator-neutral PyNN cell types: GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha,
and their N-port variants (:func:`with_ports`: ``GLIF_curr_alpha_4ports`` ...).

Everything here is read from :mod:`glif_pynn.parameters` (the one parameter table):
default values, units, recordables, initial values. A backend subclasses these
types and adds its mapping (for NEST: :mod:`glif_pynn.nest.cells`).

Model (DESIGN §1; the source document's equations, j = 1, 2)::

    I_j'     = -k_j I_j
    V'       = (I_e + I_stim + I_syn + I_1 + I_2 - G (V - E_L)) / C      with G = cm / tau_m
    Theta_s' = -b_s Theta_s
    theta_v' = a_theta_v (V - v_rest) - b_theta_v theta_v          (GLIF5; a_theta_v = 0: off)

A spike is emitted when ``V > v_thresh + Theta_s + theta_v``; then ``I_j <- f_j I_j + delta_j``,
``V <- v_rest + f_v (V - v_rest) - delta_v``, ``Theta_s <- Theta_s + delta_theta``, and V and
theta_v are held for ``round(tau_refrac / dt)`` steps (default 0).

Receptor ports
--------------
The four types have PyNN's two receptor types, ``"excitatory"`` and ``"inhibitory"`` (the sign of
a current weight may also select them). ``with_ports(GLIF_curr_alpha, N)`` is the same model with
N receptor ports named ``"syn1"`` ... ``"synN"`` (NEST receptor types 1 ... N, as in NEST's
``glif_psc`` and BMTK's SONATA files), each with its own ``tau_syn_k`` (and ``e_rev_k`` for the
conductance types) and state ``isyn_k`` / ``gsyn_k``. Current weights may have either sign on
every port (as in ``glif_psc``); conductance weights must be >= 0.

Validation
----------
Every value is checked by :func:`glif_pynn.parameters.validate` before any backend sees
it: numbers and arrays when the cell type is created, and everything in ``translate()``,
which every path to a simulator goes through (``Population`` creation, ``Population.set``,
``PopulationView.set``, ``Assembly.set``, ``ID.set_parameters``). Random distributions and
functions of the cell index are evaluated there, once the number of cells is known, as
PyNN would evaluate them next; the checked values are the values used. A failure is a
``ValueError`` naming the parameter, the value and the allowed range.
"""
from __future__ import annotations

import functools
import numbers
from copy import deepcopy
from functools import partial
from typing import Callable, Optional

import numpy as np
from lazyarray import larray
from pyNN.parameters import LazyArray, ParameterSpace
from pyNN.standardmodels import StandardCellType

from glif_pynn import parameters as table
from glif_pynn.model_sources import check_port_count

_DEFAULTS_DOC = """
    Defaults are the values of NEST's ``glif_psc``: a GLIF fit to a mouse visual-cortex cell
    of the Allen Cell Types Database (Teeter C et al. 2018, Generalized leaky
    integrate-and-fire models classify multiple neuron types, Nature Communications
    9:709), with its reset rule, after-spike currents and spike-induced threshold on (a
    GLIF4; NEST's own default switches them off) and the refractory period off, as in the
    source document's model.
    See :mod:`glif_pynn.parameters` for every parameter, unit and allowed range.

    The initial membrane potential is ``v_rest`` when ``v_rest`` is given as a number or an
    array (otherwise the default ``v_rest``); every other state starts at 0.
"""


def _check_evaluated(name: str, flavour: str, ports: Optional[int], values):
    """Validate values of one parameter once PyNN has evaluated them; return them unchanged."""
    table.validate({name: values}, flavour, ports)
    return values


def _is_concrete(array: larray) -> bool:
    """True for a lazy array made of numbers only (no random distribution, no function of the index)."""
    if not isinstance(array.base_value, (numbers.Number, np.ndarray)):
        return False
    return all(not isinstance(arg, larray) or _is_concrete(arg) for _, arg in array.operations)


def _concrete_values(array: larray) -> Optional[np.ndarray]:
    """The values of a concrete lazy array, or None when they are known only on evaluation."""
    if not _is_concrete(array):
        return None
    if array.shape is None:
        return None if array.operations else np.asarray(array.base_value, dtype=float)
    return np.asarray(array.evaluate(simplify=True), dtype=float)


class GLIFCellType(StandardCellType):
    """Base class of the GLIF cell types; subclasses set ``flavour``, ``synapse_shape`` (and ``ports``)."""

    #: ``glif_pynn.parameters.CURRENT`` or ``CONDUCTANCE``
    flavour: str = ""
    #: "exp" or "alpha": the time course of a post-synaptic current or conductance
    synapse_shape: str = ""
    #: None: an excitatory and an inhibitory receptor; N: N receptor ports "syn1" ... "synN"
    ports: Optional[int] = None
    receptor_types = ("excitatory", "inhibitory")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "flavour" not in cls.__dict__:
            return   # a backend's subclass inherits everything below
        params, states = table.parameters_for(cls.flavour, cls.ports), table.states_for(cls.flavour, cls.ports)
        cls.receptor_types = tuple(r.name for r in table.receptors(cls.ports))
        cls.default_parameters = table.default_parameters(cls.flavour, cls.ports)
        cls.units = dict({p.name: p.unit or "dimensionless" for p in params},
                         **{s.name: s.unit for s in states})
        cls.recordable = ["spikes"] + [s.name for s in states]
        cls.default_initial_values = {s.name: table.BY_NAME[s.initial].default if s.initial else 0.0
                                      for s in states}
        cls.conductance_based = cls.flavour == table.CONDUCTANCE
        cls._initial_from = {s.name: s.initial for s in states if s.initial}

    def __init__(self, **parameters):
        table.validate({name: value for name, value in parameters.items() if name in self.default_parameters},
                       self.flavour, self.ports)
        super().__init__(**parameters)
        initial = dict(type(self).default_initial_values)
        for state, source in self._initial_from.items():
            value = self.parameter_space[source]
            if isinstance(value.base_value, (numbers.Number, np.ndarray)) and not value.operations:
                initial[state] = value.base_value
        self.default_initial_values = initial

    def translate(self, parameters, copy=True):
        """Translate to the backend's names and units, validating every value on the way.

        Numbers and arrays are checked as they are. Random distributions and functions
        of the cell index are evaluated here when the number of cells is known (as PyNN
        would evaluate them next, for all cells), and the values are checked and passed
        on; otherwise they are checked whenever they are evaluated. ``copy`` as in PyNN:
        when False the caller's lazy arrays are not copied (their random number
        generators are shared) but never modified.
        """
        if copy:
            parameters = deepcopy(parameters)
        checked = ParameterSpace({}, schema=parameters.schema, shape=parameters.shape,
                                 component=parameters.component)
        for name, value in parameters.items():
            fresh = LazyArray(value.base_value, shape=value.shape, dtype=value.dtype)
            fresh.operations = list(value.operations)
            if name in self.default_parameters:
                values = _concrete_values(fresh)
                if values is None and fresh.shape is not None:
                    # A random distribution or a function of the index, for a known number of
                    # cells: evaluate it here, as PyNN would have done next (all cells, then
                    # this process's share), so that the values checked are the values used.
                    values = fresh.evaluate()
                    fresh = values
                if values is not None:
                    table.validate({name: values}, self.flavour, self.ports)
                else:   # size not known yet: check whenever it is evaluated
                    fresh.apply(partial(_check_evaluated, name, self.flavour, self.ports))
            checked[name] = fresh
        return super().translate(checked, copy=False)


class GLIF_curr_exp(GLIFCellType):
    __doc__ = """GLIF neuron with exponentially decaying post-synaptic currents.

    Weights in nA; inhibitory weights are negative, as for every current-based PyNN
    type. ``isyn_exc`` / ``isyn_inh`` jump by the weight's magnitude and decay with
    ``tau_syn_E`` / ``tau_syn_I``.
    """ + _DEFAULTS_DOC
    flavour = table.CURRENT
    synapse_shape = "exp"


class GLIF_curr_alpha(GLIFCellType):
    __doc__ = """GLIF neuron with alpha-shaped post-synaptic currents, peak = weight at t = tau_syn.

    Weights in nA; inhibitory weights are negative, as for every current-based PyNN type.
    """ + _DEFAULTS_DOC
    flavour = table.CURRENT
    synapse_shape = "alpha"


class GLIF_cond_exp(GLIFCellType):
    __doc__ = """GLIF neuron with exponentially decaying synaptic conductances.

    ``I_syn = gsyn_exc (e_rev_E - V) + gsyn_inh (e_rev_I - V)``. Weights in uS, positive
    for both receptor types, as for every conductance-based PyNN type.
    """ + _DEFAULTS_DOC
    flavour = table.CONDUCTANCE
    synapse_shape = "exp"


class GLIF_cond_alpha(GLIFCellType):
    __doc__ = """GLIF neuron with alpha-shaped synaptic conductances, peak = weight at t = tau_syn.

    ``I_syn = gsyn_exc (e_rev_E - V) + gsyn_inh (e_rev_I - V)``. Weights in uS, positive
    for both receptor types.
    """ + _DEFAULTS_DOC
    flavour = table.CONDUCTANCE
    synapse_shape = "alpha"


CELL_TYPES = (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha)


def ports_type_name(cell_type: type, ports: int) -> str:
    """``GLIF_curr_alpha_4ports`` for ``GLIF_curr_alpha`` and 4."""
    return f"{cell_type.__name__}_{ports}ports"


def parse_ports_type_name(name: str, cell_types) -> Optional[tuple]:
    """``(cell type, N)`` for a name such as ``GLIF_curr_alpha_4ports`` (``cell_types``: a backend's
    four types), or None when ``name`` is not of that form."""
    base, _, count = name.rpartition("_")
    if not (count.endswith("ports") and count[:-5].isdigit()):
        return None
    match = [c for c in cell_types if c.__name__ == base]
    return (match[0], int(count[:-5])) if match else None


def ports_type_lookup(module: str, cell_types, make) -> Callable[[str], type]:
    """A module ``__getattr__`` giving ``GLIF_curr_alpha_4ports`` and the like (``make(cell type, N)``), for the
    module that such classes name as their ``__module__``: pickle finds them there."""
    def __getattr__(name: str) -> type:
        parsed = parse_ports_type_name(name, cell_types)
        if parsed is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return make(*parsed)
    return __getattr__


@functools.lru_cache(maxsize=None)
def with_ports(cell_type: type, ports: int) -> type:
    """The simulator-neutral N-port variant of one of :data:`CELL_TYPES` (one class per pair).

    Raises
    ------
    ValueError
        For a cell type that is not one of the four, or fewer than two ports.
    """
    if cell_type not in CELL_TYPES:
        raise ValueError(f"with_ports takes one of {', '.join(c.__name__ for c in CELL_TYPES)}, "
                         f"not {getattr(cell_type, '__name__', cell_type)!r}")
    check_port_count(ports)
    names = ", ".join(f"syn{k}" for k in range(1, ports + 1))
    doc = (f"{cell_type.__doc__.splitlines()[0].rstrip('.')}, with {ports} receptor ports.\n\n"
           f"    Receptor types {names} (NEST receptor types 1 to {ports}), each with its own ``tau_syn_k``"
           f"{' and ``e_rev_k``' if cell_type.flavour == table.CONDUCTANCE else ''}; recordables ``"
           f"{'isyn' if cell_type.flavour == table.CURRENT else 'gsyn'}_k``. "
           f"{'Weights in nA, of either sign on every port.' if cell_type.flavour == table.CURRENT else 'Weights in uS, >= 0.'}\n"
           + _DEFAULTS_DOC)
    return type(ports_type_name(cell_type, ports), (cell_type,),
                {"flavour": cell_type.flavour, "synapse_shape": cell_type.synapse_shape, "ports": ports,
                 "__doc__": doc, "__module__": __name__})


__getattr__ = ports_type_lookup(__name__, CELL_TYPES, with_ports)

__all__ = ["GLIFCellType", "GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp", "GLIF_cond_alpha", "CELL_TYPES",
           "with_ports", "ports_type_name", "parse_ports_type_name", "ports_type_lookup"]
