"""GLIF neurons for NEST: the NESTML-built module and the PyNN cell types for pyNN.nest.

``install()`` loads ``glifmodule`` into the running NEST kernel, building it first
when the cache has no valid copy (see :mod:`glif_pynn.build`).

Importing this package also makes the module part of ``pyNN.nest``: every
``pyNN.nest.setup()`` loads it (see :mod:`glif_pynn.nest.hooks`), so that::

    import pyNN.nest as sim
    from glif_pynn.nest import GLIF_cond_exp
    sim.setup()
    sim.Population(10, GLIF_cond_exp())

needs no further call.

The N-port types (several receptor ports, each with its own time constant) are
``GLIF_curr_alpha_4ports`` etc., for the port counts the module is built with (default 4), or
``with_ports(GLIF_curr_alpha, N)``.
"""
import warnings

from glif_pynn._quiet import ignore_third_party_warnings
from glif_pynn.standardmodels import ports_type_lookup

with warnings.catch_warnings():
    # pyNN.nest's import warns about its own use of NEST (nest-config, deprecated calls):
    # not the user's concern (see glif_pynn._quiet).
    ignore_third_party_warnings()
    from glif_pynn.nest.module import install, is_installed, MODEL_NAMES
    from glif_pynn.nest.cells import (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha, CELL_TYPES,
                                      with_ports)
    from glif_pynn.nest.hooks import install_hooks

install_hooks()

__all__ = ["install", "is_installed", "MODEL_NAMES", "GLIF_curr_exp", "GLIF_curr_alpha", "GLIF_cond_exp",
           "GLIF_cond_alpha", "CELL_TYPES", "with_ports"]


#: ``GLIF_curr_alpha_4ports`` and the like: :func:`with_ports` of the named type
__getattr__ = ports_type_lookup(__name__, CELL_TYPES, with_ports)
