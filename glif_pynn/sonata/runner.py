"""Run a SONATA simulation config the way BMTK's PointNet run script does, on pyNN.nest or the reference.

Reads the config (``run``: ``tstop`` or ``duration``, ``dt``, ``n_thread``; ``inputs``: SONATA spike
files for virtual nodes; ``output``: ``output_dir``, ``spikes_file``, ``spikes_sort_order``), builds
the network (:func:`glif_pynn.sonata.network.load`), records the spikes of every point neuron, runs
and writes them where the config says, in SONATA's format. Membrane and other reports are not
supported and are named in a warning. The output path, ``spikes_sort_order`` and the run's ``tstop`` and
``dt`` are checked before anything is built, so that a bad value does not cost the simulation.
"""
from __future__ import annotations

import importlib
import os
import time
import warnings
from pathlib import Path
from typing import Callable, Optional

from glif_pynn.sonata.config import ConfigLike, SonataError, read_config
from glif_pynn.sonata.edges import read_edges
from glif_pynn.sonata.network import load, min_delay
from glif_pynn.sonata.spikes import SORTING, write_spikes

BACKENDS = {"nest": "pyNN.nest", "reference": "glif_pynn.reference"}


def backend_module(backend: str):
    """The PyNN backend module of ``backend`` ("nest" or "reference"), with glif-pynn's types loaded."""
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "nest":
        importlib.import_module("glif_pynn.nest")          # loads the module at every setup()
    return importlib.import_module(BACKENDS[backend])


def run(config: ConfigLike, backend: str = "nest", progress: Optional[Callable[[str], None]] = None) -> dict:
    """Simulate the SONATA simulation config ``config`` and write its spikes; return a summary.

    Returns
    -------
    dict
        ``spikes_file`` (path written, on rank 0), ``n_spikes`` (of every cell on rank 0; under MPI the other
        ranks' count is not the network's), ``n_cells``, ``n_connections`` (all ranks'), ``build_s`` and ``run_s``
        (wall-clock seconds), ``backend``, ``dt``, ``tstop``, ``rank`` (this process's MPI rank). Under MPI only
        rank 0 reports progress.

    Raises
    ------
    SonataError
        For a config or network glif-pynn cannot run (the message names the item and the file).
    """
    say = progress or (lambda line: None)
    cfg = read_config(config)
    if float(cfg.run.get("tstart", 0.0)) != 0.0:
        raise SonataError(f"{cfg.path}: run.tstart = {cfg.run['tstart']} ms; only simulations from 0 are supported")
    if "output_dir" not in cfg.output:
        raise SonataError(f"{cfg.path}: output.output_dir is missing (where the spikes go)")
    path = _spikes_path(cfg)
    sorting = cfg.output.get("spikes_sort_order", "time")
    if not isinstance(sorting, str) or sorting not in SORTING:
        raise SonataError(f"{cfg.path}: output.spikes_sort_order {sorting!r}: expected one of {', '.join(SORTING)}")
    tstop, dt = cfg.tstop, cfg.dt                    # both checked before anything is built
    threads = cfg.run.get("n_thread", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SonataError(f"{cfg.path}: run.n_thread = {threads!r}; expected a whole number >= 1")
    for name in cfg.reports:
        warnings.warn(f"report {name!r} of {cfg.path} is not supported and is skipped (spikes only)", UserWarning,
                      stacklevel=2)
    sim = backend_module(backend)
    rank = sim.rank()
    if rank != 0:
        say = lambda line: None       # noqa: E731 (one voice under MPI: rank 0's, which has the gathered spikes)
    started = time.perf_counter()
    extra = {"threads": threads} if backend == "nest" and "n_thread" in cfg.run else {}
    edges = read_edges(cfg)
    sim.setup(timestep=dt, min_delay=min_delay(edges, dt), **extra)
    say(f"building {cfg.path.name} on {backend} (dt = {dt:g} ms)")
    net = load(cfg, sim, edges)
    for pop in net.neurons().values():
        pop.record("spikes")
    built = time.perf_counter()
    n_cells = sum(pop.size for pop in net.neurons().values())
    n_connections = sum(prj.size(gather=True) for prj in net.projections)     # len(): this rank's only
    say(f"{n_cells} cells, {n_connections} connections; running {tstop:g} ms")
    sim.run(tstop)
    ran = time.perf_counter()
    spikes = net.spikes()
    if rank == 0:
        write_spikes(path, spikes, sorting)
        say(f"{sum(len(t) for _, t in spikes.values())} spikes written to {path}")
    sim.end()
    return {"spikes_file": str(path), "n_spikes": int(sum(len(t) for _, t in spikes.values())), "n_cells": n_cells,
            "n_connections": int(n_connections), "build_s": built - started, "run_s": ran - built,
            "backend": backend, "dt": dt, "tstop": tstop, "rank": rank}


def _spikes_path(cfg) -> Path:
    """The spike file the config names, checked before the simulation: a file that can be created there (every
    existing folder above it a writable folder, the path itself no folder)."""
    spikes_file = cfg.output.get("spikes_file", "spikes.h5")
    if not isinstance(spikes_file, str) or not spikes_file:
        raise SonataError(f"{cfg.path}: output.spikes_file = {spikes_file!r}; expected a file name")
    path = Path(cfg.output["output_dir"]) / spikes_file
    if path.is_dir():
        raise SonataError(f"{cfg.path}: the spike file {path} (output.output_dir / spikes_file) is a folder")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise SonataError(f"{cfg.path}: the spike file {path} cannot be written: {folder} is a file, not a folder "
                          "(output.output_dir)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SonataError(f"{cfg.path}: the spike file {path} cannot be written: no write permission in {folder} "
                          "(output.output_dir)")
    return path
