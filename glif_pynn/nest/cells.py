"""The GLIF cell types on pyNN.nest: translations to the NESTML models, recordables, units.

The four excitatory/inhibitory types use NEST receptor 0 (the weight's sign selects the synapse:
``standard_receptor_type``); the N-port types (:func:`with_ports`, ``GLIF_curr_alpha_4ports`` ...)
map PyNN's ``receptor_type="synK"`` to NEST receptor type K, as pyNN.nest does for its
multi-synapse cells (``get_receptor_type``).

Built from :mod:`glif_pynn.parameters`: each parameter's NESTML name and PyNN -> NEST
factor (nA -> pA, nF -> pF, uS -> nS; ``delta_v`` -> ``voltage_reset_add`` with the sign
flipped), the membrane time constant as the leak conductance
``g_L [nS] = 1000 cm [nF] / tau_m [ms]`` (and back, ``tau_m = C_m / g_L``), and each state
variable's NESTML name and NEST -> PyNN factor (``variable_map``, ``scale_factors``).

``cm`` is a computed translation too, so that ``set(cm=...)`` rewrites ``g_L`` and keeps
``tau_m``: PyNN parameters are independent, NEST's ``C_m`` and ``g_L`` are not.

Initial values: PyNN's ``initialize()`` maps names through ``variable_map`` but does not
scale; :mod:`glif_pynn.nest.hooks` divides by ``scale_factors`` for these types, so
``initialize(i_asc1=0.1)`` means 0.1 nA (100 pA in NEST).
"""
from __future__ import annotations

from pyNN.standardmodels import build_translations

import functools

from glif_pynn import model_sources
from glif_pynn import parameters as table
from glif_pynn import standardmodels
from glif_pynn.nest import module

_CM_TO_NEST = table.BY_NAME["cm"].nest_scale      # nF -> pF


def _cm_forward(**p):
    return p["cm"] * _CM_TO_NEST


def _cm_reverse(**p):
    return p["C_m"] / _CM_TO_NEST


def _g_leak(**p):
    """g_L [nS] = C_m [pF] / tau_m [ms]."""
    return table.leak_conductance_nS(p["cm"], p["tau_m"])


def _tau_m(**p):
    """tau_m [ms] = C_m [pF] / g_L [nS]."""
    return p["C_m"] / p["g_L"]


def nest_translations(flavour: str, ports=None) -> dict:
    """PyNN translations (PyNN name -> NESTML name and transform) from the parameter table."""
    items = []
    for param in table.parameters_for(flavour, ports):
        if param.name == "cm":
            items.append(("cm", param.nest_name, _cm_forward, _cm_reverse))
        elif param.name == "tau_m":
            items.append(("tau_m", "g_L", _g_leak, _tau_m))
        elif param.nest_name is None:
            raise ValueError(f"no NEST translation for the computed parameter {param.name!r}")
        elif param.nest_scale == 1.0:
            items.append((param.name, param.nest_name))
        else:
            items.append((param.name, param.nest_name, param.nest_scale))
    return build_translations(*items)


def nest_state_maps(flavour: str, ports=None) -> tuple[dict, dict]:
    """``variable_map`` (PyNN -> NESTML state name) and ``scale_factors`` (NEST -> PyNN units)."""
    states = table.states_for(flavour, ports)
    return ({s.name: s.nest_name for s in states}, {s.name: s.from_nest for s in states})


class GLIFNestCellType(standardmodels.GLIFCellType):
    """What the NEST cell types share: the module is loaded when a cell type is made."""

    standard_receptor_type = True     # one spike port: the sign of the weight selects exc / inh

    def __init__(self, **parameters):
        super().__init__(**parameters)     # validation first: nothing invalid reaches NEST
        ensure_module_loaded()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "nest_model" in cls.__dict__:
            cls.translations = nest_translations(cls.flavour, cls.ports)
            cls.variable_map, cls.scale_factors = nest_state_maps(cls.flavour, cls.ports)
            cls.nest_name = {"on_grid": cls.nest_model, "off_grid": cls.nest_model}
            cls.standard_receptor_type = cls.ports is None

    def get_receptor_type(self, name: str) -> int:
        """NEST receptor type of the PyNN receptor ``name`` (N-port types: ``synK`` -> K)."""
        if self.ports is None:
            return 0
        return self.receptor_types.index(name) + 1


def ensure_module_loaded() -> None:
    """Load the GLIF module now if the kernel lacks it (normally pyNN.nest.setup() has done it).

    Raises
    ------
    RuntimeError
        When the kernel lacks the module and already holds nodes, so that NEST cannot
        load it any more: the message says what to do.
    """
    if module.is_installed():
        return
    import nest
    if nest.GetKernelStatus("network_size") > 0:
        raise RuntimeError(
            "the GLIF NEST module is not loaded in this NEST kernel, and NEST cannot load a module once "
            "nodes exist (PyNN creates recorders and populations). Import glif_pynn.nest before calling "
            "pyNN.nest.setup(): every setup() then loads the module before anything is created.")
    module.install()


class GLIF_curr_exp(GLIFNestCellType, standardmodels.GLIF_curr_exp):
    __doc__ = standardmodels.GLIF_curr_exp.__doc__
    nest_model = "glif_psc_exp_neuron"


class GLIF_curr_alpha(GLIFNestCellType, standardmodels.GLIF_curr_alpha):
    __doc__ = standardmodels.GLIF_curr_alpha.__doc__
    nest_model = "glif_psc_alpha_neuron"


class GLIF_cond_exp(GLIFNestCellType, standardmodels.GLIF_cond_exp):
    __doc__ = standardmodels.GLIF_cond_exp.__doc__
    nest_model = "glif_cond_exp_neuron"


class GLIF_cond_alpha(GLIFNestCellType, standardmodels.GLIF_cond_alpha):
    __doc__ = standardmodels.GLIF_cond_alpha.__doc__
    nest_model = "glif_cond_alpha_neuron"


CELL_TYPES = (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha)


@functools.lru_cache(maxsize=None)
def with_ports(cell_type: type, ports: int) -> type:
    """The pyNN.nest N-port variant of one of :data:`CELL_TYPES`, e.g. ``with_ports(GLIF_curr_alpha, 4)``.

    Raises
    ------
    ValueError
        For fewer than two ports, or a port count that the NEST module was not built with
        (``$GLIF_PYNN_RECEPTOR_PORTS``, default 4; see :mod:`glif_pynn.model_sources`).
    """
    if cell_type not in CELL_TYPES:
        raise ValueError(f"with_ports takes one of {', '.join(c.__name__ for c in CELL_TYPES)}, "
                         f"not {getattr(cell_type, '__name__', cell_type)!r}")
    built = model_sources.port_counts()
    if model_sources.check_port_count(ports) not in built:
        raise ValueError(f"the GLIF NEST module has models with {', '.join(map(str, built))} receptor ports, not "
                         f"{ports}: set {model_sources.PORTS_ENV}={','.join(map(str, sorted({*built, ports})))} "
                         "before importing glif_pynn (the module is rebuilt once for that set, then cached)")
    neutral = standardmodels.with_ports(next(c for c in standardmodels.CELL_TYPES
                                             if c.__name__ == cell_type.__name__), ports)
    flavour = ("psc_" if cell_type.flavour == table.CURRENT else "cond_") + cell_type.synapse_shape
    return type(neutral.__name__, (GLIFNestCellType, neutral),
                {"__doc__": neutral.__doc__, "__module__": __name__,
                 "nest_model": model_sources.model_name(flavour, ports)})


__getattr__ = standardmodels.ports_type_lookup(__name__, CELL_TYPES, with_ports)
