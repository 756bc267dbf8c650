"""Wrapping a function of PyNN's once, however often glif_pynn installs itself (both backends use it)."""
from __future__ import annotations

import functools
from typing import Callable


def wrap_once(owner: object, name: str, wrap: Callable[[Callable], Callable], mark: str) -> None:
    """Replace ``owner.name`` (a class's method or a module's function) by ``wrap(original)``, marked with the
    attribute ``mark``, unless it already is such a wrapper."""
    original = getattr(owner, name)
    if not getattr(original, mark, False):
        wrapper = functools.update_wrapper(wrap(original), original)
        setattr(wrapper, mark, True)
        setattr(owner, name, wrapper)
