"""The standard models of the reference backend: cell types, synapse types, current sources.

As ``pyNN.nest.standardmodels``, one module per kind. The engine takes PyNN's names and units,
so every translation is the identity (:func:`identity_translations`).
"""
from __future__ import annotations

from pyNN.standardmodels import build_translations


def identity_translations(cls: type) -> dict:
    """PyNN translations that map each of ``cls``'s default parameters to itself."""
    return build_translations(*[(p, p) for p in cls.default_parameters])
