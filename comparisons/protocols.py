"""Input protocols shared by the comparison studies, as NEST generator specifications.

Each protocol returns a list of ``(model, params, syn_spec)`` generators in NEST units
(pA, ms). Spike input goes to receptor "exc" (positive weight) or "inh" (negative);
the studies translate that to each neuron model's receptor ports.
"""
from __future__ import annotations

import numpy as np

DURATION = 1000.0   # ms


def current_steps() -> list:
    return [("step_current_generator", {"amplitude_times": [100.0, 300.0, 550.0, 800.0],
                                        "amplitude_values": [300.0, 450.0, 280.0, 0.0]}, None)]


def current_ramp() -> list:
    times = np.round(np.arange(100.0, 900.0, 1.0), 1)
    return [("step_current_generator", {"amplitude_times": times,
                                        "amplitude_values": np.linspace(150.0, 600.0, len(times))}, None)]


def spike_input(seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    exc = np.unique(np.round(rng.uniform(1.0, DURATION, 900), 1))
    inh = np.unique(np.round(rng.uniform(1.0, DURATION, 300), 1))
    both = exc[::10]                                    # simultaneous excitation and inhibition
    inh = np.unique(np.concatenate([inh, both]))
    return [("spike_generator", {"spike_times": exc}, ("exc", 80.0)),
            ("spike_generator", {"spike_times": inh}, ("inh", -60.0)),
            ("dc_generator", {"amplitude": 150.0}, None)]


def poisson_drive(seed: int = 2, rate_exc: float = 2000.0, rate_inh: float = 800.0) -> list:
    """Poisson trains drawn once (seeded), so that both neurons receive the same spikes."""
    rng = np.random.default_rng(seed)

    def train(rate):
        n = rng.poisson(rate * DURATION / 1000.0)
        return np.unique(np.round(rng.uniform(0.1, DURATION, n), 1))
    return [("spike_generator", {"spike_times": train(rate_exc)}, ("exc", 45.0)),
            ("spike_generator", {"spike_times": train(rate_inh)}, ("inh", -45.0)),
            ("dc_generator", {"amplitude": 180.0}, None)]


PROTOCOLS = {"current steps": current_steps, "current ramp": current_ramp,
             "excitatory/inhibitory spikes": spike_input, "Poisson drive": poisson_drive}
