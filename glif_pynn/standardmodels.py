"""Simulator-neutral PyNN cell types: GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha.

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

import numbers
from copy import deepcopy
from functools import partial
from typing import Optional

import numpy as np
from lazyarray import larray
from pyNN.parameters import LazyArray, ParameterSpace
from pyNN.standardmodels import StandardCellType

from glif_pynn import parameters as table

_DEFAULTS_DOC = """
    Defaults are those of NEST's ``glif_psc``: a GLIF fit to a mouse visual-cortex cell
    of the Allen Cell Types Database (Teeter C et al. 2018, Generalized leaky
    integrate-and-fire models classify multiple neuron types, Nature Communications
    9:709), with the refractory period off, as in the source document's model.
    See :mod:`glif_pynn.parameters` for every parameter, unit and allowed range.

    The initial membrane potential is ``v_rest`` when ``v_rest`` is given as a number or an
    array (otherwise the default ``v_rest``); every other state starts at 0.
"""


def _check_evaluated(name: str, flavour: str, values):
    """Validate values of one parameter once PyNN has evaluated them; return them unchanged."""
    table.validate({name: values}, flavour)
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
    """Base class of the four GLIF cell types; subclasses set ``flavour`` and ``synapse_shape``."""

    #: ``glif_pynn.parameters.CURRENT`` or ``CONDUCTANCE``
    flavour: str = ""
    #: "exp" or "alpha": the time course of a post-synaptic current or conductance
    synapse_shape: str = ""
    receptor_types = ("excitatory", "inhibitory")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "flavour" not in cls.__dict__:
            return   # a backend's subclass inherits everything below
        params, states = table.parameters_for(cls.flavour), table.states_for(cls.flavour)
        cls.default_parameters = table.default_parameters(cls.flavour)
        cls.units = dict({p.name: p.unit or "dimensionless" for p in params},
                         **{s.name: s.unit for s in states})
        cls.recordable = ["spikes"] + [s.name for s in states]
        cls.default_initial_values = {s.name: table.BY_NAME[s.initial].default if s.initial else 0.0
                                      for s in states}
        cls.conductance_based = cls.flavour == table.CONDUCTANCE
        cls._initial_from = {s.name: s.initial for s in states if s.initial}

    def __init__(self, **parameters):
        table.validate({name: value for name, value in parameters.items() if name in self.default_parameters},
                       self.flavour)
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
                    table.validate({name: values}, self.flavour)
                else:   # size not known yet: check whenever it is evaluated
                    fresh.apply(partial(_check_evaluated, name, self.flavour))
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

__all__ = ["GLIFCellType", "GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp", "GLIF_cond_alpha", "CELL_TYPES"]
