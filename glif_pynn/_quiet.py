"""Silence what the user of the command line cannot act on; keep every warning about their input.

Three kinds of output come from other packages' own business, not from anything the
user typed or wrote, and bury the progress lines of ``glif-pynn compare``:

- NEST's start-up banner, printed when ``nest`` is imported unless the environment
  variable ``PYNEST_QUIET`` is set (NEST's own switch; child processes inherit it);
- pyNN.nest's "Cannot find nest-config" or "Problem running cmake" warning at import: pyNN
  tries to build its own extensions, which this package does not use (and the pip wheel's
  nest-config is wrong anyway; :mod:`glif_pynn.toolchain` corrects it for the build);
- NEST's deprecation warnings for calls that pyNN makes (``SetStatus``, ``GetStatus``,
  ``set_verbosity``), issued by NEST's ``deprecated`` helper.

The filters match these messages from these modules only: a warning about a parameter,
a file or a time step given by the user (from glif_pynn, pyNN's checks or elsewhere)
is still shown. :func:`quiet_third_parties` is called once by :func:`glif_pynn.cli.main`
before anything imports NEST; :mod:`glif_pynn.nest` applies :func:`ignore_third_party_warnings`
while it imports pyNN.nest.
"""
from __future__ import annotations

import os
import warnings

#: (message regex, module regex) of the warnings silenced; every one is a UserWarning.
THIRD_PARTY_WARNINGS = (
    (r"Cannot find nest-config", r"pyNN\.nest\.simulator"),
    (r"Problem running cmake", r"pyNN\.nest\.simulator"),     # the same extensions, where nest-config is found
    # NEST prefixes its deprecation texts with a line feed (nest/lib/hl_api_helper.py)
    (r"\s*\S+ is deprecated and will be removed in a future version of NEST", r"nest\.lib\.hl_api_helper"),
    (r"\s*Provided for backward compatibility only", r"nest\.lib\.hl_api_helper"),
)


def ignore_third_party_warnings() -> None:
    """Add the filters of :data:`THIRD_PARTY_WARNINGS` to the current warning filters."""
    for message, module in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning, module=module)


def quiet_third_parties() -> None:
    """Before NEST is imported: no banner (``PYNEST_QUIET``), no third-party warnings above."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    ignore_third_party_warnings()
