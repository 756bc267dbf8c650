"""Fixtures shared by the test modules."""
import pytest


@pytest.fixture
def sim_():
    """pyNN.nest, set up afresh: 0.1 ms steps, min_delay 0.1 ms."""
    sim = pytest.importorskip("pyNN.nest")
    from pynn_support import DT
    sim.setup(timestep=DT, min_delay=DT, verbosity="error")
    return sim
