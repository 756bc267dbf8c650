"""Recording in the reference backend: PyNN's Recorder over the engine's recordings.

What a Population records (spikes, any state variable, at a sampling interval) is kept by the
engine (:meth:`glif_pynn.reference.engine.Network.record`); the Recorder turns it into the ids and
arrays PyNN's ``get_data`` builds its ``neo.Block`` from.
"""
from __future__ import annotations

import numpy as np
import quantities as pq
from pyNN import recording

from glif_pynn.reference import simulator
from glif_pynn.reference.simulator import state, unsupported


class Recorder(recording.Recorder):
    _simulator = simulator

    def _engine(self):
        return self.population._engine

    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        engine = self._engine()
        if engine.recording is not None and (engine.recording.times or engine.recording.samples.get("spikes")):
            unsupported("changing what is recorded once data has been recorded")
        if engine.recording is None:          # a recording that starts after a run starts now
            self._recording_start_time = state.t * pq.ms
        ids = set().union(*self.recorded.values())
        indices = np.sort([self.population.id_to_index(i) for i in ids])
        names = sorted({v.name for v in self.recorded})
        state.network.record(engine, names, indices, self.sampling_interval)

    def _get_spiketimes(self, ids, clear=False):
        idx, times = state.network.get_recording(self._engine())["spikes"]
        id_array = np.asarray(self.population.all_cells, int)[idx]
        keep = np.isin(id_array, np.asarray(list(ids), int))
        return id_array[keep], times[keep]

    def _get_all_signals(self, variable, ids, clear=False):
        data = state.network.get_recording(self._engine())
        column = {int(k): c for c, k in enumerate(data["indices"])}
        cols = [column[self.population.id_to_index(i)] for i in ids]
        return data[variable.name][:, cols], None

    def _local_count(self, variable, filter_ids=None):
        ids, _ = self._get_spiketimes(self.filter_recorded(variable, filter_ids))
        counts = dict.fromkeys((int(i) for i in self.filter_recorded(variable, filter_ids)), 0)
        for i, c in zip(*np.unique(ids, return_counts=True)):
            counts[int(i)] = int(c)
        return counts

    def _clear_simulator(self):
        state.network.clear_recording(self._engine())

    def _reset(self):
        state.network.clear_recording(self._engine(), stop=True)
