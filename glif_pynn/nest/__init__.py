"""GLIF neurons for NEST: the NESTML-built module and (later) PyNN cell types.

``install()`` loads ``glifmodule`` into the running NEST kernel, building it first
when the cache has no valid copy (see :mod:`glif_pynn.build`).
"""
from glif_pynn.nest.module import install, MODEL_NAMES

__all__ = ["install", "MODEL_NAMES"]
