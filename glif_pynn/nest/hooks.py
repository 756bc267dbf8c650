"""Make the GLIF module part of pyNN.nest: loaded by every setup(), initial values in PyNN units.

Wrappers, installed once when :mod:`glif_pynn.nest` is imported (idempotent):

1. ``pyNN.nest.setup()`` resets the NEST kernel, which unloads every module, and NEST
   refuses to load a module once any node exists (PyNN creates recorder nodes before a
   population's cells). The one reliable moment is the end of ``setup()``, where PyNN
   0.13 calls its own post-reset step for NESTML modules,
   ``pyNN.nest.nestml._compile_and_resolve()``. Wrapped, it also loads ``glifmodule``
   (built once, then cached: see :mod:`glif_pynn.build`). This holds for every call of
   ``setup()``, whatever its ``threads``; ``pyNN.nest.reset()`` keeps the kernel, and so
   the module. Under MPI every rank loads the module; one builds it, the others wait on
   the build lock. On several MPI processes it also guards against NEST 3.10's
   target-exchange bug (:mod:`glif_pynn.nest.mpi`), at import too, for a kernel that setup() prepared
   before the import. Should a PyNN version lack that step, the kernel reset inside
   ``setup()`` (``simulator.state.clear``) is wrapped instead. For scripts that import
   this package only after ``setup()``, the module is also loaded at import (if built)
   or when the first GLIF cell type is made, as long as the kernel is still empty.

2. ``Population.initialize()`` maps a PyNN variable name to a NEST name but passes the
   value on unscaled. For the GLIF types the value is divided by the NEST -> PyNN
   factor of that variable on its way to NEST (``i_asc1=0.1`` nA -> ``I_asc1=100`` pA),
   lazily, so that random distributions draw from their own generator as before and
   ``pyNN.nest.reset()`` restores the same PyNN-unit values.

3. ``pyNN.nest.reset()`` restores the states PyNN knows (``v``, ``isyn_exc``, ...) but not the
   model's other states, so a cell could start the next run still refractory, or with the rate of
   change of an alpha PSC or conductance left from the last. For the GLIF types these
   (``refr_counts``, ``escape_budget``, ``dI_syn_*``, ``g_*__d``) go back to the model's defaults
   too, so that a run after ``reset()`` starts as the first one did (as on the reference backend).

It also installs three things that are not about the GLIF types: glif-pynn's fast construction path for
projections (:mod:`glif_pynn.nest.projections`), the mends of pyNN.nest's own gaps (ranks that hold no cell
of a population or no connection of a projection, record() after run(), the recorded sample at t = 0, a
refused reset(); :mod:`glif_pynn.nest.pynn_mends`) and ``record("all")`` (:mod:`glif_pynn.record_all`).
"""
from __future__ import annotations

import re

import numpy as np
from pyNN.parameters import LazyArray

from glif_pynn.build import BuildError, is_current_build_cached
from glif_pynn import record_all
from glif_pynn.nest import module, mpi, projections, pynn_mends
from glif_pynn._wrapping import wrap_once
from glif_pynn.toolchain import ToolchainError

_MARK = "_glif_pynn_hook"


def _load_module_after_reset(original):
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        module.install()
        import nest
        mpi.protect(nest)      # before any connection: compressed spikes off where NEST's MPI bug bites
        return result
    return wrapper


def _scale_initial_values(original):
    from glif_pynn.nest.cells import GLIFNestCellType

    def wrapper(self, variable, value):
        if isinstance(self.celltype, GLIFNestCellType):
            value = to_nest_units(value, self.celltype.scale_factors[variable])
        return original(self, variable, value)
    return wrapper


#: NESTML states that PyNN does not know and so does not restore at reset()
_HIDDEN_STATE = re.compile(r"refr_counts|escape_budget|dI_syn_\w+|g_\w+__d")


def _reset_hidden_states(original):
    from glif_pynn.nest.cells import GLIFNestCellType

    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        import nest
        for population in self.populations:
            if isinstance(population.celltype, GLIFNestCellType) and population.local_size:
                defaults = nest.GetDefaults(population.celltype.nest_model)
                local = population.node_collection[np.asarray(population._mask_local, bool)]   # this rank's
                local.set({k: v for k, v in defaults.items() if _HIDDEN_STATE.fullmatch(k)})
        return result
    return wrapper


def to_nest_units(value: LazyArray, from_nest: float) -> LazyArray:
    """A lazy array of ``value / from_nest`` that shares ``value``'s base (and random generator)."""
    if from_nest == 1.0:
        return value
    scaled = LazyArray(value.base_value, shape=value.shape, dtype=value.dtype)
    scaled.operations = list(value.operations) + [(np.true_divide, from_nest)]
    return scaled


def install_hooks() -> None:
    """Wrap pyNN.nest's post-reset step and its initial-value setter (once); load a cached module now."""
    import nest
    from pyNN.nest import nestml, populations, simulator

    state_class = type(simulator.state)      # pyNN.nest deletes the name simulator._State
    if hasattr(nestml, "_compile_and_resolve"):
        wrap_once(nestml, "_compile_and_resolve", _load_module_after_reset, _MARK)
    else:
        wrap_once(state_class, "clear", _load_module_after_reset, _MARK)
    wrap_once(state_class, "reset", _reset_hidden_states, _MARK)
    wrap_once(populations.Population, "_set_initial_value_array", _scale_initial_values, _MARK)
    pynn_mends.install()      # pyNN.nest's own gaps (module docstring of pynn_mends)
    record_all.install()      # record("all"): every recordable variable, as on the reference backend
    projections.install()     # projections built with PyNN's own draws and one nest.Connect each
    _load_now_if_built(nest)
    mpi.protect_late(nest)    # imported after setup(): the wrapped post-reset step did not run for this kernel


def _load_now_if_built(nest) -> None:
    """For scripts that call setup() before importing glif_pynn.nest: load the module now, while NEST can.

    Only a module already in the cache: a build (a minute) and its errors belong to the
    moment the module is needed, the next setup() or the first GLIF cell type, not to an
    import. A NEST whose build tools cannot be described is reported there too.
    """
    if module.is_installed() or nest.GetKernelStatus("network_size") > 0:
        return
    try:
        cached = is_current_build_cached()
    except (BuildError, ToolchainError):
        return     # raised again, with its explanation, when the module is needed
    if cached:
        module.install()
