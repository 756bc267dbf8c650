"""Projections of the reference backend: PyNN's connectors, StaticSynapse connections in the engine.

The connector's connections are gathered, kept as arrays (for ``get``, ``len``) and handed to the
engine (:meth:`glif_pynn.reference.engine.Network.connect`) per pair of top-level Populations;
weights and delays are fixed once connected.
"""
from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.space import Space

from glif_pynn.reference import simulator
from glif_pynn.reference.neurons import steps
from glif_pynn.reference.simulator import state, unsupported
from glif_pynn.reference.standardmodels.synapses import StaticSynapse


def _split(cells, indices):
    """Yield (top Population, indices in it, positions in ``indices``) for indices into a
    Population, PopulationView or Assembly (whose indices run through its populations in order)."""
    indices = np.asarray(indices, int)
    parts = cells.populations if isinstance(cells, common.Assembly) else [cells]
    bounds = np.cumsum([0] + [part.size for part in parts])
    which = np.searchsorted(bounds, indices, side="right") - 1
    for k, part in enumerate(parts):
        positions = np.flatnonzero(which == k)
        if len(positions):
            local = indices[positions] - bounds[k]
            if hasattr(part, "parent"):
                yield part.grandparent, part.index_in_grandparent(local), positions
            else:
                yield part, local, positions


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse      # PyNN's default synapse_type, as on pyNN.nest

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=Space(), label=None):
        if synapse_type is not None and type(synapse_type) is not StaticSynapse:
            unsupported(f"the synapse type {type(synapse_type).__name__} (only this backend's StaticSynapse)")
        if source is not None:
            unsupported("the Projection argument 'source'")
        super().__init__(presynaptic_population, postsynaptic_population, connector, synapse_type, source,
                         receptor_type, space, label)
        self._parts = []
        connector.connect(self)
        i, j, w, d = (np.concatenate(x) if self._parts else np.zeros(0) for x in zip(*self._parts or [[]] * 4))
        # the delays used: whole steps, rounded as the engine and NEST round them (get('delay') reports these)
        d = state.network.time_of(steps(d, state.dt))
        if state.delay_limit is not None and len(d) and d.max() > state.delay_limit * (1 + 1e-12):
            raise ValueError(f"a delay of {d.max():g} ms exceeds max_delay = {state.delay_limit:g} ms given to "
                             "setup(); give setup() a larger max_delay (pyNN.nest refuses such delays too)")
        self._arrays = {"presynaptic_index": i.astype(int), "postsynaptic_index": j.astype(int),
                        "weight": w, "delay": d}
        for pre, gi, at_i in _split(self.pre, i):
            for post, gj, at_j in _split(self.post, j[at_i]):
                state.network.connect(pre._engine, post._engine, gi[at_j], gj, w[at_i][at_j], d[at_i][at_j],
                                      receptor=self.receptor_type)

    def __len__(self):
        return len(self._arrays["weight"])

    def set(self, **attributes):
        unsupported("Projection.set (weights and delays are fixed once connected)")

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters):
        if location_selector is not None:
            unsupported("multicompartment location selectors")
        n = len(presynaptic_indices)
        extra = set(connection_parameters) - {"weight", "delay"}
        if extra:
            unsupported(f"the connection parameters {sorted(extra)}")
        self._parts.append((np.asarray(presynaptic_indices), np.full(n, postsynaptic_index),
                            np.broadcast_to(np.asarray(connection_parameters["weight"], float), (n,)),
                            np.broadcast_to(np.asarray(connection_parameters["delay"], float), (n,))))

    def _get_attributes_as_list(self, names):
        # Python floats, indices included, as pyNN.nest gives them (NEST's GetStatus)
        return list(zip(*(np.asarray(self._arrays[n], float).tolist() for n in names)))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        combine = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        out = []
        for n in names:
            values = np.full((self.pre.size, self.post.size), np.nan)
            key = n[:-1] if n.endswith("s") else n
            arrays = self._arrays
            for i, j, v in zip(arrays["presynaptic_index"], arrays["postsynaptic_index"], arrays[key]):
                values[i, j] = v if np.isnan(values[i, j]) else combine(values[i, j], v)
            out.append(values)
        return out
