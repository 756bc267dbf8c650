"""The synapse type of the reference backend: PyNN's StaticSynapse (the only one it supports)."""
from __future__ import annotations

from pyNN.standardmodels import synapses as _synapses

from glif_pynn.reference.simulator import state
from glif_pynn.reference.standardmodels import identity_translations


class StaticSynapse(_synapses.StaticSynapse):
    __doc__ = _synapses.StaticSynapse.__doc__
    translations = identity_translations(_synapses.StaticSynapse)

    def _get_minimum_delay(self):
        return state.dt
