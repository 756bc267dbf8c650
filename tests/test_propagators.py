"""The divided-difference propagators (glif_pynn.reference.propagators, mirrored statement for
statement by the NESTML functions chain3/chain4) against 40-digit matrix exponentials.

x_n(h) of the chain x_1' = -r_1 x_1, x_k' = -r_k x_k + x_(k-1), x_1(0) = 1 is entry (n, 1) of
expm(h A) with A lower bidiagonal (diagonal -r, sub-diagonal 1); mpmath computes it to 40 digits.
Cases: coinciding rates (the series branch), rates within 1e-7 of each other, spreads just
below and above 1 / h (the switch between series and recursion), a zero rate (the constant
input), very fast rates (tau_syn far below h) and the GLIF defaults.
"""
import itertools

import pytest

from glif_pynn.reference.propagators import chain3, chain4, coupling, coupling2

mp = pytest.importorskip("mpmath")
mp.mp.dps = 40

#: Largest relative error allowed: a few ulp, from exp(-lo h) and the sum (observed <= 3e-15).
REL_TOL = 1e-14
RATES = [0.0, 0.003, 0.009, 0.09, 0.1, 1 / 6.2269, 0.5, 0.5 + 1e-7, 9.99, 10.0, 10.0 + 1e-7, 19.0, 21.0, 1e3]
STEPS = [0.1, 0.01]


def exact(rates, h):
    n = len(rates)
    a = mp.zeros(n)
    for i, r in enumerate(rates):
        a[i, i] = -mp.mpf(r)
        if i:
            a[i, i - 1] = 1
    return mp.expm(a * mp.mpf(h))[n - 1, 0]


def assert_close(value, rates, h):
    reference = exact(rates, h)
    assert abs(value - reference) <= REL_TOL * abs(reference), (rates, h, value, float(reference))


@pytest.mark.parametrize("h", STEPS)
def test_chain3_is_exact_to_a_few_ulp(h):
    for rates in itertools.combinations_with_replacement(RATES, 3):
        for order in {rates, rates[::-1], (rates[1], rates[0], rates[2])}:
            assert_close(chain3(*order, h), order, h)


@pytest.mark.parametrize("h", STEPS)
def test_chain4_is_exact_to_a_few_ulp(h):
    for rates in itertools.combinations_with_replacement(RATES[::2] + [0.5 + 1e-7, 10.0 + 1e-7], 4):
        assert_close(chain4(*rates, h), rates, h)


def test_two_and_three_rate_chains_agree_with_coupling_and_coupling2():
    """coupling(a, b) is the chain b -> a; coupling2(a, b) the chain b -> b -> a (alpha PSC)."""
    h = 0.1
    for a, b in itertools.product(RATES, repeat=2):
        assert_close(float(coupling(a, b, h)), (b, a), h)
        if abs(a - b) * h < 700:
            assert abs(float(coupling2(a, b, h)) - chain3(b, b, a, h)) <= 1e-13 * chain3(b, b, a, h)
