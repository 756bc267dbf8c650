"""The cell types of the reference backend: the four GLIF types, their N-port variants, spike sources.

The GLIF types are :mod:`glif_pynn.standardmodels`'s simulator-neutral ones with identity
translations and the engine's name for their flavour (:meth:`GLIFMixin.engine_flavour`);
``GLIF_curr_alpha_4ports`` and the like are :func:`with_ports` of the named type.
"""
from __future__ import annotations

import functools
from typing import Optional

from pyNN.standardmodels import cells as _cells

from glif_pynn import standardmodels as _glif
from glif_pynn.reference.standardmodels import identity_translations


class GLIFMixin:
    """What this backend adds to a GLIF cell type: the engine flavour it is built as."""

    def engine_flavour(self) -> str:
        return ("curr_" if self.flavour == "current" else "cond_") + self.synapse_shape


def _glif_type(base):
    return type(base.__name__, (GLIFMixin, base),
                {"translations": identity_translations(base), "__doc__": base.__doc__})


GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha = (_glif_type(c) for c in _glif.CELL_TYPES)
CELL_TYPES = (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha)


@functools.lru_cache(maxsize=None)
def with_ports(cell_type: type, ports: int) -> type:
    """The N-port variant of one of this backend's four GLIF types (any N >= 2), e.g.
    ``with_ports(GLIF_curr_alpha, 4)`` is ``GLIF_curr_alpha_4ports``: receptor types ``syn1`` ... ``synN``."""
    if cell_type not in CELL_TYPES:
        raise ValueError(f"with_ports takes one of {', '.join(c.__name__ for c in CELL_TYPES)}, "
                         f"not {getattr(cell_type, '__name__', cell_type)!r}")
    neutral = next(c for c in _glif.CELL_TYPES if c.__name__ == cell_type.__name__)
    return _glif_type(_glif.with_ports(neutral, ports))


def ports_type(attr: str) -> Optional[type]:
    """The N-port type ``attr`` names (``GLIF_curr_alpha_4ports`` is ``with_ports(GLIF_curr_alpha, 4)``),
    or None where ``attr`` is no such name."""
    parsed = _glif.parse_ports_type_name(attr, CELL_TYPES)
    return None if parsed is None else with_ports(*parsed)


class SpikeSourceArray(_cells.SpikeSourceArray):
    __doc__ = _cells.SpikeSourceArray.__doc__
    translations = identity_translations(_cells.SpikeSourceArray)


class SpikeSourcePoisson(_cells.SpikeSourcePoisson):
    __doc__ = _cells.SpikeSourcePoisson.__doc__
    translations = identity_translations(_cells.SpikeSourcePoisson)


def list_standard_models() -> list:
    """The StandardCellType classes this backend provides."""
    return [c.__name__ for c in (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha,
                                 SpikeSourceArray, SpikeSourcePoisson)]


#: ``GLIF_curr_alpha_4ports`` and the like, here too: the module their ``__module__`` names (pickle looks there)
__getattr__ = _glif.ports_type_lookup(__name__, CELL_TYPES, with_ports)
