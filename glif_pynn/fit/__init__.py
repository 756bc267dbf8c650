"""Fitting GLIF models (levels 1-5, Teeter et al. 2018) to current-clamp recordings.

::

    from glif_pynn.fit import fit
    result = fit(block.segments[:8], level=4, test=block.segments[8:])
    print(result.summary())                       # Gamma, explained variance, V RMSE
    result.to_neuron_config("neuron_config.json") # Allen format, read by glif_pynn.allen
    cells = sim.Population(1, getattr(glif_pynn.nest, result.cell_type)(**result.parameters))

See :mod:`glif_pynn.fit.pipeline` for the stages and docs/guide/fitting.md for the guide.
"""
from glif_pynn.fit.data import Sweep, read_recording
from glif_pynn.fit.pipeline import fit
from glif_pynn.fit.result import FitResult

__all__ = ["fit", "FitResult", "Sweep", "read_recording"]
