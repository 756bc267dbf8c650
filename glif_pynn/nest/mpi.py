"""Correct MPI runs on NEST 3.10: guard against its target-exchange bug.

NEST 3.10's MPI exchange of connection targets can hand a rank stale entries of an
earlier exchange as targets, so that spikes are delivered through synapses of neurons
that never fired (``comparisons/upstream/nest-target-exchange-bug.md``). It needs more
than one MPI process, compressed spikes (NEST's default) and an earlier exchange:
``GetConnections`` (which pyNN.nest's ``Projection`` calls) or a ``Simulate`` between
two ``Connect`` calls.

:func:`protect` runs at the end of every ``pyNN.nest.setup()`` (see
:mod:`glif_pynn.nest.hooks`), before any connection exists. On more than one process it
asks :func:`kernel_has_fix` whether the running kernel carries the fix; if it does not,
it sets ``nest.use_compressed_spikes = False``, which takes the other, correct exchange
path, and says so once per process, in the log and as a :class:`NestMPIBugWarning`
(``warnings.filterwarnings("ignore", category=NestMPIBugWarning)`` silences it).

The fix is recognised by the symbol ``nest_target_data_end_marker_fix`` that
``scripts/patches/nest-3.10.0-target-data-end-markers.patch`` exports from NEST's kernel
(the NEST that ``make mpi`` builds carries it). A version number cannot tell: a
cluster's NEST 3.10 may or may not be patched.

``GLIF_PYNN_MPI_WORKAROUND`` overrides the choice: ``auto`` (default), ``on`` (always
turn compressed spikes off on several processes), ``off`` (never; for a kernel fixed
some other way).
"""
from __future__ import annotations

import ctypes
import logging
import os
import warnings
from pathlib import Path
from typing import Optional

FIX_SYMBOL = "nest_target_data_end_marker_fix"
#: Set by the patch's test switch: the patched kernel then behaves as an unpatched one.
UNFIX_VARIABLE = "NEST_UNFIXED_TARGET_DATA_END_MARKERS"
OVERRIDE_VARIABLE = "GLIF_PYNN_MPI_WORKAROUND"

logger = logging.getLogger("glif_pynn")
_announced = False


class NestMPIBugWarning(UserWarning):
    """glif-pynn turned NEST's compressed spikes off to avoid NEST 3.10's MPI target-exchange bug."""


def loaded_kernel_libraries() -> list[Path]:
    """The NEST kernel libraries mapped into this process (Linux: read from /proc/self/maps)."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and "nestkernel" in os.path.basename(fields[5]) and ".so" in fields[5]:
            path = Path(fields[5].strip())
            if path not in found:
                found.append(path)
    return found


def kernel_has_fix(libraries: Optional[list[Path]] = None) -> bool:
    """True when the running NEST kernel carries the target-exchange fix (and its test switch is not set)."""
    if os.environ.get(UNFIX_VARIABLE) is not None:     # the kernel's switch: set at all, even empty
        return False
    handles = []
    for library in libraries if libraries is not None else loaded_kernel_libraries():
        try:
            handles.append(ctypes.CDLL(str(library)))
        except OSError:
            continue
    try:
        handles.append(ctypes.CDLL(None))     # symbols loaded with RTLD_GLOBAL
    except OSError:
        pass
    return any(hasattr(handle, FIX_SYMBOL) for handle in handles)


def workaround_needed(num_processes: int) -> bool:
    """Whether compressed spikes must be turned off for a run on ``num_processes`` MPI processes."""
    choice = os.environ.get(OVERRIDE_VARIABLE, "auto").strip().lower()
    if choice not in ("auto", "on", "off"):
        raise ValueError(f"{OVERRIDE_VARIABLE}={choice!r} is not understood: use auto, on or off")
    if num_processes <= 1 or choice == "off":
        return False
    return choice == "on" or not kernel_has_fix()


def protect(nest) -> bool:
    """Turn NEST's compressed spikes off when this MPI run needs it; return True when it did.

    Must run before the first connection is made (NEST refuses the change afterwards).
    """
    global _announced
    if not workaround_needed(nest.NumProcesses()):
        return False
    nest.use_compressed_spikes = False
    if not _announced:
        _announced = True
        _say("glif-pynn: this NEST kernel lacks the fix for NEST 3.10's MPI target-exchange bug, which "
             "delivers spikes through wrong synapses on several processes; compressed spikes are turned "
             "off (nest.use_compressed_spikes = False), which avoids it. Use the NEST that `make mpi` "
             "builds, or patch yours with scripts/patches/nest-3.10.0-target-data-end-markers.patch. "
             "NEST's disconnect() does not work without compressed spikes (NEST issue #3532).")
    return True


def _say(message: str) -> None:
    """``message`` in the log and as a :class:`NestMPIBugWarning` pointing at the caller of the public function."""
    logger.warning(message)
    warnings.warn(message, NestMPIBugWarning, stacklevel=3)


def protect_late(nest) -> bool:
    """:func:`protect` for a kernel that ``pyNN.nest.setup()`` prepared before :mod:`glif_pynn.nest` was
    imported: protects it if no connection exists yet; otherwise warns that this run is exposed to the bug
    (NEST no longer accepts the change). Return True when it protected the kernel."""
    if not workaround_needed(nest.NumProcesses()):
        return False
    if nest.GetKernelStatus("num_connections") == 0:
        return protect(nest)
    _say("glif-pynn: glif_pynn.nest was imported after connections were made, on several MPI processes "
         "with a NEST kernel that lacks the fix for NEST 3.10's MPI target-exchange bug: compressed spikes "
         "can no longer be turned off, and spikes may be delivered through wrong synapses. Import "
         "glif_pynn.nest before pyNN.nest.setup() (or before any connection), or use the NEST that "
         "`make mpi` builds.")
    return False
