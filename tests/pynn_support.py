"""Shared helpers of the pyNN.nest tests (tests/test_pynn_*.py): the four types, units, readers of neo data.

PyNN units throughout (mV, ms, nA, nF, uS). Recorded signals start at t = 0 with the initial values and
are sampled every step; a spike found in the step ending at t is stamped t, and the states recorded at
t are those after the reset. Tolerances: 1e-9 or tighter where the NESTML model applies exact
propagators (current flavours; every linear state of the conductance flavours); 1e-5 mV for V of the
conductance flavours, which GSL's RKF45 integrates to 1e-6.
"""
from pathlib import Path

import nest
import numpy as np

from glif_pynn.nest import GLIF_cond_alpha, GLIF_cond_exp, GLIF_curr_alpha, GLIF_curr_exp

ROOT = Path(__file__).resolve().parent.parent
DT = 0.1
ALL_TYPES = (GLIF_curr_exp, GLIF_curr_alpha, GLIF_cond_exp, GLIF_cond_alpha)
CURRENT_TYPES = (GLIF_curr_exp, GLIF_curr_alpha)
TYPE_IDS = [t.__name__ for t in ALL_TYPES]
#: A leaky neuron that never fires: no after-spike currents, threshold far away.
QUIET = dict(cm=0.25, tau_m=20.0, v_rest=-70.0, v_thresh=0.0, delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0)


#: Largest allowed difference of V (mV) between the NEST model and a closed form or the numpy reference, by
#: kind. Current flavours: exact propagators on both sides, so they differ by rounding: ~2e-14 mV per step at
#: |V| ~ 80 mV, carried on by at most 1 / (1 - exp(-dt / tau_m)) <= 130 steps in these tests, ~3e-12 mV
#: (observed 2e-13). Conductance flavours: NEST's RKF45 keeps each step's local error below 1e-6 (absolute
#: and relative; observed at most 8e-7 mV against the reference).
V_TOL = {"current": 1e-9, "conductance": 1e-5}


def v_tolerance(celltype):
    """V of the conductance flavours is integrated by GSL's RKF45 (tolerance 1e-6); the rest is exact."""
    return V_TOL["conductance" if celltype.conductance_based else "current"]


def nest_recorders(cell, states, dt):
    """A multimeter of ``states`` (``StateVariable``s) every ``dt`` and a spike recorder, connected to
    ``cell``: (multimeter, spike recorder)."""
    meter = nest.Create("multimeter", params={"interval": dt, "record_from": [s.nest_name for s in states]})
    recorder = nest.Create("spike_recorder")
    nest.Connect(meter, cell)
    nest.Connect(cell, recorder)
    return meter, recorder


def assert_reference_matches_nest(data, meter, states, kind, label, moving=(), floor=1.0):
    """Every state of one reference cell (``data`` of ``Network.get_recording``, sampled from t = 0) against
    NEST's ``meter`` (sampled from dt): V and theta_v (which integrates V, so it carries NEST's RKF45 error
    too) within ``V_TOL[kind]``, every other state within 1e-9 of ``max(floor, its largest magnitude)``
    (exact propagators on both sides). The states named in ``moving`` must move by more than 1e-3
    (non-trivial). Returns the number of NEST samples."""
    events = meter.events
    k = len(events["times"])
    for s in states:
        ours, theirs = data[s.name][1:k + 1, 0], events[s.nest_name] * s.from_nest
        tol = V_TOL[kind] if s.name in ("v", "theta_v") else 1e-9 * max(floor, np.abs(theirs).max())
        if s.name in moving:
            assert np.ptp(theirs) > 1e-3, f"non-trivial: {s.name} moves"
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol, err_msg=f"{label}: {s.name}")
    return k


def signal(population, name, segment=0):
    """(times in ms, values as an array [time, cell], the neo signal) of one recorded variable."""
    block = population.get_data(name)
    sig = block.segments[segment].filter(name=name)[0]
    return sig.times.rescale("ms").magnitude, np.asarray(sig.magnitude), sig


def spike_times(population, segment=0):
    return [st.rescale("ms").magnitude for st in population.get_data("spikes").segments[segment].spiketrains]


def nest_values(population, *names):
    return {name: np.array(nest.GetStatus(population.node_collection, name), dtype=float) for name in names}


def assert_nest_values(population, **expected):
    """Every cell's NEST value of each name (NEST units) equals the expected one to 1e-13."""
    got = nest_values(population, *expected)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-13, err_msg=f"NEST {name}")
