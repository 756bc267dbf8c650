"""Load the GLIF NEST module into the running kernel."""
from __future__ import annotations

from glif_pynn.build import MODEL_NAMES, ensure_module


def is_installed() -> bool:
    """True when the GLIF models are known to the current NEST kernel."""
    import nest
    return MODEL_NAMES[0] in nest.node_models


def install() -> None:
    """Make the GLIF models available in the current NEST kernel.

    Builds the module on first use (cached afterwards) and loads it. Idempotent,
    and to be called again after ``nest.ResetKernel()``, which unloads modules.
    NEST refuses to load a module once any node exists: install before creating
    nodes (``pyNN.nest.setup()`` does this by itself once glif_pynn.nest is imported).
    """
    import nest
    if is_installed():
        return
    library = ensure_module()
    if nest.GetKernelStatus("network_size") > 0:
        raise RuntimeError("glif_pynn.nest.install() must run before any node is created in the "
                           "kernel (NEST cannot load a module into a populated network): call it "
                           "right after nest.ResetKernel() or pyNN's setup().")
    nest.Install(str(library.with_suffix("")))
