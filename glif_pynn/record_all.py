"""``record("all")``: every variable the cell type can record, on both backends.

PyNN reads ``get_data("all")`` and ``write_data(io, "all")`` as "everything recorded", and scripts written
for other PyNN backends (sPyNNaker's among them) call ``population.record("all")`` too. PyNN 0.13's
recorder takes that string for a list of names and fails on the first letter ("a" cannot be recorded from
a GLIF_curr_exp). One wrapper of the method that turns the names into PyNN's ``Variable``\\ s, in the
recorder class both backends inherit, reads "all" as the cell type's ``recordable`` (spikes and every state
variable; a spike source's: spikes); everything else passes through unchanged.

:func:`install` is called by :mod:`glif_pynn.nest` and :mod:`glif_pynn.reference` at import.
"""
from __future__ import annotations

from glif_pynn._wrapping import wrap_once

_MARK = "_glif_pynn_record_all"
#: The PyNN versions whose recorder this was written against (and tested with); as pyNN.nest's mends.
PYNN_VERSIONS = ("0.13.",)


def _all_is_every_recordable(original):
    """``"all"`` stands for every variable the population's cell type can record."""
    def wrapper(self, variables, locations):
        if isinstance(variables, str) and variables == "all":
            variables = list(self.population.celltype.recordable)
        return original(self, variables, locations)
    return wrapper


def install() -> bool:
    """Wrap ``pyNN.recording.Recorder._localize_variables`` (once); False, wrapping nothing, for a PyNN whose
    recorder this was not written against."""
    import pyNN
    from pyNN.recording import Recorder

    if not pyNN.__version__.startswith(PYNN_VERSIONS):
        return False
    wrap_once(Recorder, "_localize_variables", _all_is_every_recordable, _MARK)
    return True
