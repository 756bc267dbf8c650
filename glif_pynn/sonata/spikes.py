"""SONATA spike files: reading the inputs of virtual nodes, writing the simulated spikes.

Layout (SONATA 0.x, as BMTK 1.2 writes and reads it): ``/spikes/<population>/node_ids`` and
``/spikes/<population>/timestamps`` (ms, attribute ``units``), the population group's attribute
``sorting`` (``by_time``, ``by_id`` or ``none``). pyNN's ``SonataIO`` reads and writes an older layout
(``/spikes/gids``, ``/spikes/timestamps``, one population), which BMTK no longer writes.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np

from glif_pynn.sonata.config import SonataError

SORTING = {"time": "by_time", "by_time": "by_time", "id": "by_id", "by_id": "by_id", "gid": "by_id",
           "none": "none"}


def read_spikes(path: Path, population: str) -> tuple[np.ndarray, np.ndarray]:
    """(node ids, times in ms) of ``population`` in the SONATA spike file ``path``.

    Raises
    ------
    SonataError
        For a missing file, a file without that population (the message lists those it has), or a population
        without ``node_ids`` and ``timestamps`` datasets of one length.
    """
    import h5py
    try:
        handle = h5py.File(path, "r")
    except (FileNotFoundError, OSError) as err:
        raise SonataError(f"spike file not found or unreadable: {path} ({err})") from None
    with handle:
        spikes = handle.get("spikes")
        if spikes is None or population not in spikes or not isinstance(spikes[population], h5py.Group):
            found = sorted(k for k in (spikes or {}) if isinstance(spikes[k], h5py.Group))
            raise SonataError(f"{path}: no /spikes/{population} (node_ids, timestamps); populations found: "
                              f"{', '.join(found) or 'none (an old /spikes/gids layout?)'}")
        group = spikes[population]
        missing = [key for key in ("node_ids", "timestamps") if not isinstance(group.get(key), h5py.Dataset)]
        if missing:
            raise SonataError(f"{path}: /spikes/{population} has no {' and no '.join(missing)} dataset")
        try:
            ids = np.asarray(group["node_ids"][()], np.int64)
            times = np.asarray(group["timestamps"][()], float)
        except (TypeError, ValueError) as err:
            raise SonataError(f"{path}: /spikes/{population}: node_ids or timestamps are not numbers ({err})") from None
        if ids.ndim != 1 or times.shape != ids.shape:
            raise SonataError(f"{path}: /spikes/{population} has {ids.size} node_ids and {times.size} timestamps; "
                              "expected one of each per spike")
        units = group["timestamps"].attrs.get("units", "ms")
    units = units.decode() if isinstance(units, bytes) else str(units)
    if units not in ("ms", "s"):
        raise SonataError(f"{path}: timestamps in {units!r}; expected ms or s")
    return ids, times * (1e3 if units == "s" else 1.0)


def write_spikes(path: Path, spikes: Mapping[str, tuple[np.ndarray, np.ndarray]], sorting: str = "time") -> Path:
    """Write ``{population: (node ids, times in ms)}`` as a SONATA spike file, atomically.

    The file appears complete or not at all (written to a temporary file, then renamed).
    """
    import h5py
    if sorting not in SORTING:
        raise SonataError(f"spikes_sort_order {sorting!r}: expected one of {', '.join(SORTING)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        with h5py.File(temporary, "w") as out:
            root = out.create_group("spikes")
            for population, (ids, times) in spikes.items():
                ids, times = np.asarray(ids, np.uint64), np.asarray(times, float)
                order = {"by_time": np.lexsort((ids, times)), "by_id": np.lexsort((times, ids)),
                         "none": np.arange(len(ids))}[SORTING[sorting]]
                group = root.create_group(population)
                group.attrs["sorting"] = SORTING[sorting]
                group.create_dataset("node_ids", data=ids[order])
                group.create_dataset("timestamps", data=times[order]).attrs["units"] = "ms"
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
