"""Exact one-step propagators of the GLIF current flavours, as the NESTML internals write them.

Every entry of the propagator of a chain of first-order linear systems
``x_1' = -r_1 x_1``, ``x_k' = -r_k x_k + x_{k-1}`` with ``x_1(0) = 1`` is, at time ``h``,
``x_n(h) = (-1)**(n-1) exp(-h x)[r_1, ..., r_n]``: a divided difference of the
exponential, symmetric in the rates and finite when rates coincide. The GLIF model
needs chains of two (any current -> V; V -> theta_v), three (current -> V -> theta_v;
alpha PSC derivative -> PSC -> V) and four rates (alpha derivative -> PSC -> V -> theta_v).

:func:`coupling` and :func:`coupling2` are vectorised; :func:`chain3` and :func:`chain4`
are scalar functions written statement for statement as the NESTML functions of the same
name (``nestml_models/glif_neuron.nestml.jinja``) and applied element-wise by
:func:`elementwise`: they run once per parameter set, not per step.
"""
from __future__ import annotations

import math

import numpy as np


def coupling(a, b, h):
    """``integral_0^h exp(-a (h - s)) exp(-b s) ds``, exact to rounding also for ``a == b``.

    The NESTML function ``coupling``: ``h exp(-min(a, b) h) expm1(x) / x`` with
    ``x = -|a - b| h`` (the ratio is 1 at ``x == 0``).
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    x = -np.abs(a - b) * h
    ratio = np.ones_like(x)
    np.divide(np.expm1(x), x, out=ratio, where=x != 0)
    return h * np.exp(-np.minimum(a, b) * h) * ratio


def coupling2(a, b, h):
    """``integral_0^h exp(-a (h - s)) s exp(-b s) ds = h**2 exp(-b h) psi((b - a) h)``.

    ``psi(x) = (expm1(x) - x) / x**2``, by the NESTML model's Taylor series (nested
    exactly as there) for ``|x| < 0.1`` and in closed form elsewhere. Where ``expm1(x)``
    overflows (``x > 700``, e.g. ``tau_syn < dt / 700``; the NESTML form, and NEST, give
    NaN there) the equal form ``h**2 (exp(-a h) - exp(-b h) (1 + x)) / x**2`` is used.
    """
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    x = (b - a) * h
    series = (1. + x * (1. + x * (1. + x * (1. + x * (1. + x * (1. + x * (1. + x * (1. + x / 10.) / 9.) / 8.)
                                                             / 7.) / 6.) / 5.) / 4.) / 3.) / 2.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        closed = h ** 2 * np.exp(-b * h) * ((np.expm1(x) - x) / x ** 2)
        huge = h ** 2 * (np.exp(-a * h) - np.exp(-b * h) * (1.0 + x)) / x ** 2
    return np.where(np.abs(x) < 0.1, h ** 2 * np.exp(-b * h) * series, np.where(x > 700.0, huge, closed))


def _coupling(a: float, b: float, h: float) -> float:
    x = -abs(a - b) * h
    ratio = math.expm1(x) / x if x != 0 else 1.0
    return h * math.exp(-min(a, b) * h) * ratio


def _without(rates: tuple, value: float) -> tuple:
    """``rates`` less one entry equal to ``value`` (the first, as the NESTML if-chains pick it)."""
    k = rates.index(value)
    return rates[:k] + rates[k + 1:]


def chain3(p: float, q: float, r: float, h: float) -> float:
    """``x_3(h)`` of the chain ``p -> q -> r`` (see the module docstring).

    With ``spread = (max - min) h`` below 1: the series ``exp(-lo h) h**2 sum_j (-1)**j
    H_j(z) / (j + 2)!`` with ``z = (rates - lo) h`` and ``H_j`` the complete homogeneous
    symmetric polynomials, to ``j = 20`` (the rest is below 1e-18 of the sum). From 1
    up: the divided-difference recursion on the two extreme rates, which loses at most
    a few bits there and cannot overflow.
    """
    rates = (p, q, r)
    lo, hi = min(p, min(q, r)), max(p, max(q, r))
    if (hi - lo) * h >= 1:
        return (_coupling(*_without(rates, hi), h) - _coupling(*_without(rates, lo), h)) / (hi - lo)
    zp, zq, zr = (p - lo) * h, (q - lo) * h, (r - lo) * h
    hp = hpq = hpqr = 1.0
    total, sign, factorial = 0.0, 1.0, 2.0
    for j in range(21):
        total += sign * hpqr / factorial
        hp *= zp
        hpq = hp + zq * hpq
        hpqr = hpq + zr * hpqr
        sign = -sign
        factorial *= j + 3
    return h ** 2 * math.exp(-lo * h) * total


def chain4(p: float, q: float, r: float, w: float, h: float) -> float:
    """``x_4(h)`` of the chain ``p -> q -> r -> w``: as :func:`chain3`, series to ``j = 22``."""
    rates = (p, q, r, w)
    lo, hi = min(min(p, q), min(r, w)), max(max(p, q), max(r, w))
    if (hi - lo) * h >= 1:
        return (chain3(*_without(rates, hi), h) - chain3(*_without(rates, lo), h)) / (hi - lo)
    zp, zq, zr, zw = (p - lo) * h, (q - lo) * h, (r - lo) * h, (w - lo) * h
    hp = hpq = hpqr = hpqrw = 1.0
    total, sign, factorial = 0.0, 1.0, 6.0
    for j in range(23):
        total += sign * hpqrw / factorial
        hp *= zp
        hpq = hp + zq * hpq
        hpqr = hpq + zr * hpqr
        hpqrw = hpqr + zw * hpqrw
        sign = -sign
        factorial *= j + 4
    return h ** 3 * math.exp(-lo * h) * total


def elementwise(function, *rates, h: float) -> np.ndarray:
    """``function(*rates, h)`` for broadcast arrays of rates (a 0-d array when all are scalars)."""
    arrays = np.broadcast_arrays(*(np.asarray(r, float) for r in rates))
    out = np.empty(arrays[0].shape)
    for index in np.ndindex(out.shape):
        out[index] = function(*(float(a[index]) for a in arrays), h)
    return out
