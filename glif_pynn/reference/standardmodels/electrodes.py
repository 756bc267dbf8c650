"""The current sources of the reference backend: PyNN's four, backed by :mod:`glif_pynn.reference.sources`.

One engine source per target population; new parameters replace the engine sources in place.
"""
from __future__ import annotations

from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import electrodes as _electrodes

from glif_pynn.reference import sources as _sources
from glif_pynn.reference.neurons import steps as _engine_steps
from glif_pynn.reference.simulator import state, unsupported
from glif_pynn.reference.standardmodels import identity_translations


class _CurrentSource:
    """A PyNN current source backed by engine sources (one per target population)."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_injected", [])      # engine sources
        super().__init__(**parameters)
        self.set_native_parameters(self.native_parameters)

    def _engine_source(self):
        p = {k: (v.value if isinstance(v, Sequence) else v) for k, v in self._params.items()}
        return self._engine_class(**{self._engine_names.get(k, k): v for k, v in p.items()})

    def set_native_parameters(self, parameters):
        parameters.shape = (1,)
        parameters.evaluate(simplify=True)
        self._params.update({k: (v if isinstance(v, Sequence) else float(v)) for k, v in parameters.items()})
        for k, old in enumerate(self._injected):
            new = self._engine_source()
            new.first_step = old.first_step      # pyNN.nest's rule of inject_into still holds
            state.network.replace_current(old, new)
            self._injected[k] = new

    def get_native_parameters(self):
        return ParameterSpace(dict(self._params), self.get_schema(), (1,))

    def inject_into(self, cells):
        by_parent = {}
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError("Can't inject current into a spike source.")
            by_parent.setdefault(cell.parent, []).append(cell.parent.id_to_index(cell))
        for parent, indices in by_parent.items():
            source = self._engine_source()
            # as pyNN.nest: its devices start min_delay early and reach the cells over min_delay,
            # and cannot start before t = 0, so nothing arrives before step min_delay / dt + 1
            source.first_step = int(_engine_steps(state.min_delay, state.dt)) + 1
            state.network.inject(source, parent._engine, indices)
            self._injected.append(source)

    def record(self):
        unsupported("recording the current of a current source")


def _electrode(base, engine_class, names=None):
    return type(base.__name__, (_CurrentSource, base), {
        "__doc__": base.__doc__, "translations": identity_translations(base), "_engine_class": engine_class,
        "_engine_names": names or {}})


DCSource = _electrode(_electrodes.DCSource, _sources.DCSource)
StepCurrentSource = _electrode(_electrodes.StepCurrentSource, _sources.StepCurrentSource)
ACSource = _electrode(_electrodes.ACSource, _sources.ACSource)
NoisyCurrentSource = _electrode(_electrodes.NoisyCurrentSource, _sources.NoisyCurrentSource)
