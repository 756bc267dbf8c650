"""The simulator state of the reference backend: one engine network, the time step, the delays.

As ``pyNN.nest.simulator``: ``state`` (the one simulator state), ``ID`` and ``name``,
which PyNN's base classes reach through ``_simulator``. One process, one thread (``mpi_rank`` 0,
``num_processes`` 1).
"""
from __future__ import annotations

from typing import NoReturn, Optional

from pyNN import common
from pyNN.common.control import DEFAULT_TIMESTEP

from glif_pynn.reference import engine
from glif_pynn.reference.neurons import is_whole_steps

name = "glif_pynn.reference"


class ID(int, common.IDMixin):
    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class _State(common.control.BaseState):
    """The simulator state: one engine :class:`~glif_pynn.reference.engine.Network`."""

    def __init__(self):
        super().__init__()
        self.mpi_rank, self.num_processes = 0, 1
        self.dt, self.min_delay, self.max_delay = DEFAULT_TIMESTEP, DEFAULT_TIMESTEP, 10.0
        self.delay_limit = None      # ms: the max_delay given to setup(), which longer delays may not exceed
        self.clear()

    @property
    def t(self) -> float:
        return self.network.t

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        if not is_whole_steps(tstop, self.dt):
            raise ValueError(f"cannot run until {tstop} ms: not a whole number of time steps ({self.dt} ms); "
                             "NEST refuses it too")
        self.network.run(tstop)
        self.running = True

    def clear(self, seed: Optional[int] = None):
        self.network = engine.Network(self.dt, seed=seed)
        self.recorders, self.write_on_end = set(), []
        self.id_counter, self.segment_counter = 0, -1
        self.reset()

    def reset(self):
        if getattr(self, "running", False):
            self.network.reset()
            for recorder in self.recorders:
                recorder._clear_simulator()
            for pop in getattr(self, "populations", []):
                for variable, value in pop.initial_values.items():
                    pop._set_initial_value_array(variable, value)
        self.populations = getattr(self, "populations", [])
        self.running, self.t_start = False, 0.0
        self.segment_counter += 1


state = _State()


def unsupported(what: str) -> NoReturn:
    """Raise NotImplementedError naming ``what`` and this backend."""
    raise NotImplementedError(f"{what} is not supported by the numpy reference backend ({name})")
