"""The chimera set-ups as PyNN networks of GLIF cells: a ring and two populations.

Both follow the model of Olmi, Politi & Torcini (2010, EPL 92:60007): identical leaky
integrate-and-fire neurons with a supra-threshold drive, coupled by excitatory alpha
pulses. In their dimensionless units (time in membrane time constants, voltage from
reset 0 to threshold 1)::

    x_i' = a - x_i + g E_i(t);   x_i > 1: spike, x_i <- 0
    E_i(t) = (1 / K) sum over the spikes t_n of the K cells coupled to i of alpha^2 (t - t_n) exp(-alpha (t - t_n))

Each pulse has unit area, so a spike brings a charge ``g / K`` (in units of threshold x
capacitance) to each of its K targets. Olmi et al. use a = 1.3 (the neurons fire on their
own, with period ln(a / (a - 1)) = 1.466) and alpha = 9; two populations couple with a
self coupling g_s (K = N, the cell itself included) and a cross coupling g_c < g_s.

Mapping onto ``GLIF_curr_alpha`` (PyNN units; :class:`Units`, defaults in brackets):

* time: t = tau_m s (tau_m = 20 ms, so the uncoupled period is 29.3 ms, 34 Hz);
* voltage: V = v_rest + (v_thresh - v_rest) x (v_rest = -65 mV = reset, v_thresh = -50 mV);
  the reset to x = 0 is ``f_v = 0, delta_v = 0``: V <- v_rest;
* drive: ``i_offset = a cm (v_thresh - v_rest) / tau_m`` (cm = 0.25 nF: 0.24375 nA for a = 1.3);
* pulse: ``tau_syn_E = tau_m / alpha`` (2.22 ms): NEST's and PyNN's alpha current
  ``w (t / tau) exp(1 - t / tau)`` has area ``w e tau``, so
  ``weight = g alpha cm (v_thresh - v_rest) / (e K tau_m)`` (nA) gives the charge g / K;
* GLIF1 = LIF: no after-spike currents (``delta_asc1 = delta_asc2 = 0``), no threshold
  adaptation (``delta_theta = 0``), no refractory period; the GLIF mechanisms are switched
  on only in the variants of :data:`MECHANISMS`;
* delays: one time step (0.1 ms = 0.005 tau_m); Olmi et al.'s model has none.

The ring: N cells, each coupled to its R = round(r N) nearest neighbours on each side
(K = 2 R, itself excluded), started half synchronised (cells 0 .. N/2 - 1 at x = 0.5 +-
0.005, the rest uniform in [0, 1); ``start='random'``: all uniform). Two populations: N
cells each, all-to-all within (g_self) and between (g_cross), started uniform in [0, 1).
The seed draws the initial values (numpy, the same on every backend).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from glif_pynn import synchrony
from glif_pynn.parameters import CURRENT, default_parameters


@dataclass(frozen=True)
class Units:
    """The dimensionless model in PyNN units (module docstring)."""

    tau_m: float = 20.0        # ms: one dimensionless time unit
    cm: float = 0.25           # nF
    v_rest: float = -65.0      # mV: x = 0 (rest and reset)
    v_thresh: float = -50.0    # mV: x = 1

    @property
    def current(self) -> float:
        """nA of one dimensionless unit of drive: cm (v_thresh - v_rest) / tau_m."""
        return self.cm * (self.v_thresh - self.v_rest) / self.tau_m

    def voltage(self, x):
        return self.v_rest + (self.v_thresh - self.v_rest) * np.asarray(x, float)

    def weight(self, g: float, alpha: float, fan_in: int) -> float:
        """nA per synapse for coupling g spread over ``fan_in`` inputs."""
        return g * alpha * self.current / (math.e * fan_in)


# GLIF mechanisms for the variant scan, in units of the model: after-spike current jumps in
# units of Units.current, threshold jumps in units of (v_thresh - v_rest), both decaying in
# 50 ms (2.5 tau_m). At the uncoupled rate each settles near 2.3 jumps.
MECHANISMS = {
    "LIF": {},
    "ASC": {"delta_asc1": -0.02, "k_asc1": 1 / 50.0},       # adapting after-spike current
    "theta": {"delta_theta": 0.02, "b_theta": 1 / 50.0},    # threshold adaptation
    "ASC+theta": {"delta_asc1": -0.02, "k_asc1": 1 / 50.0, "delta_theta": 0.02, "b_theta": 1 / 50.0},
}


def cell_parameters(units: Units, a: float, alpha: float, mechanism: str = "LIF") -> dict:
    """``GLIF_curr_alpha`` parameters (PyNN names and units) for drive ``a`` and pulse ``alpha``."""
    _check_drive(a, alpha, mechanism)
    theta = units.v_thresh - units.v_rest
    params = dict(cm=units.cm, tau_m=units.tau_m, v_rest=units.v_rest, v_thresh=units.v_thresh,
                  i_offset=a * units.current, tau_refrac=0.0, f_v=0.0, delta_v=0.0,
                  delta_asc1=0.0, delta_asc2=0.0, delta_theta=0.0, a_theta_v=0.0,
                  tau_syn_E=units.tau_m / alpha, tau_syn_I=units.tau_m / alpha)
    # the rates are set whether a mechanism is on or not, so that the cells of several mechanisms can share
    # one Population (run_batch); with a jump of 0 the rate has no effect
    defaults = default_parameters(CURRENT)
    params.update(k_asc1=defaults["k_asc1"], f_asc1=1.0, b_theta=defaults["b_theta"])
    extra = MECHANISMS[mechanism]
    if "delta_asc1" in extra:
        params.update(delta_asc1=extra["delta_asc1"] * units.current, k_asc1=extra["k_asc1"])
    if "delta_theta" in extra:
        params.update(delta_theta=extra["delta_theta"] * theta, b_theta=extra["b_theta"])
    return params


def _check_drive(a: float, alpha: float, mechanism: str) -> None:
    """A finite drive ``a``, a finite pulse rate ``alpha`` > 0 and a known mechanism, or a ValueError naming it."""
    if not math.isfinite(a):
        raise ValueError(f"a (the drive) must be a finite number, got {a}")
    if not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be > 0 (the pulse's inverse width), got {alpha}")
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown mechanism {mechanism!r}; choose one of {', '.join(MECHANISMS)}")


def _check_model(setup, couplings: dict) -> None:
    """What a Ring and TwoPopulations share: excitatory couplings >= 0 and :func:`_check_drive`."""
    for name, g in couplings.items():
        if not (math.isfinite(g) and g >= 0):
            raise ValueError(f"{name} must be a finite coupling >= 0 (the pulses are excitatory), got {g}")
    _check_drive(setup.a, setup.alpha, setup.mechanism)


@dataclass(frozen=True)
class Ring:
    """N cells on a ring, each coupled to the R = round(r N) nearest on each side."""

    n: int = 1000
    coupling_range: float = 0.2     # r
    g: float = 0.2
    alpha: float = 9.0
    a: float = 1.3
    mechanism: str = "LIF"
    start: str = "half"             # 'half': half synchronised, half random; 'random': all random

    @property
    def neighbours(self) -> int:
        return max(1, int(round(self.coupling_range * self.n)))

    def __post_init__(self):
        if not isinstance(self.n, (int, np.integer)) or self.n < 10:
            raise ValueError(f"a ring needs a whole number of at least 10 cells, got n = {self.n!r}")
        _check_model(self, {"g": self.g})
        if not 0 < self.coupling_range < 0.5 or 2 * self.neighbours >= self.n:
            raise ValueError(f"coupling_range must be in (0, 0.5) with 2 R < n, got r = {self.coupling_range} "
                             f"(R = {self.neighbours}, n = {self.n})")
        if self.start not in ("half", "random"):
            raise ValueError(f"start must be 'half' or 'random', got {self.start!r}")

    def connections(self) -> np.ndarray:
        """(pre, post) index pairs: every cell to its R neighbours on each side."""
        r = self.neighbours
        post = np.repeat(np.arange(self.n), 2 * r)
        offsets = np.tile(np.concatenate([np.arange(-r, 0), np.arange(1, r + 1)]), self.n)
        return np.column_stack([(post + offsets) % self.n, post])


@dataclass(frozen=True)
class TwoPopulations:
    """Two populations of N cells, all-to-all within (g_self) and between (g_cross)."""

    n: int = 400
    g_self: float = 0.1
    g_cross: float = 0.05
    alpha: float = 9.0
    a: float = 1.3
    mechanism: str = "LIF"

    def __post_init__(self):
        if not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise ValueError(f"each population needs a whole number of at least 1 cell, got n = {self.n!r}")
        _check_model(self, {"g_self": self.g_self, "g_cross": self.g_cross})


# The documented chimera points (docs/guide/chimera.md) and the analysis schedule: the first
# TRANSIENT ms are left out, the rest is classified in windows of at least WINDOW ms; a run is a
# persistent chimera when every window is one.
RING_CHIMERA = Ring(n=400, coupling_range=0.2, g=0.2)
TWO_CHIMERA = TwoPopulations(n=200, g_self=0.1, g_cross=0.05)
TRANSIENT = 2000.0
WINDOW = 2000.0


def schedule(duration: float) -> tuple[float, int]:
    """(transient, number of windows) for a run of ``duration`` ms: TRANSIENT and windows of at
    least WINDOW ms (the rest split evenly) when the run is long enough, else a third of it and one window."""
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be > 0 ms, got {duration}")
    if duration >= TRANSIENT + WINDOW:
        return TRANSIENT, int((duration - TRANSIENT) // WINDOW)
    return duration / 3, 1


def _connector(sim, seed: int):
    """All-to-all with autapses. On pyNN.nest a probability-1 connector with NEST's own RNG
    makes NEST build the block itself (several times faster than PyNN's per-cell path);
    the connections are the same."""
    if hasattr(sim, "NativeRNG"):
        return sim.FixedProbabilityConnector(1.0, allow_self_connections=True, rng=sim.NativeRNG(seed))
    return sim.AllToAllConnector(allow_self_connections=True)


def _sizes(setup) -> list:
    """The populations of one set-up, as sizes."""
    if isinstance(setup, Ring):
        return [setup.n]
    if isinstance(setup, TwoPopulations):
        return [setup.n, setup.n]
    raise TypeError(f"setup must be a Ring or TwoPopulations, got {type(setup).__name__}")


def _initial_x(setup, seed: int) -> np.ndarray:
    """Initial dimensionless voltages of one set-up (module docstring), drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0.0, 1.0, sum(_sizes(setup)))
    if isinstance(setup, Ring) and setup.start == "half":
        x0[:setup.n // 2] = 0.5 + rng.uniform(-0.005, 0.005, setup.n // 2)
    return x0


def _connect(sim, cells_of, setup, seed: int, units: Units, dt: float) -> None:
    """The projections of one set-up between the views ``cells_of`` (one per population)."""
    if isinstance(setup, Ring):
        ring = cells_of[0]
        weight = units.weight(setup.g, setup.alpha, 2 * setup.neighbours)
        sim.Projection(ring, ring, sim.FromListConnector(setup.connections().astype(float)),
                       sim.StaticSynapse(weight=weight, delay=dt), receptor_type="excitatory")
        return
    for pre in cells_of:
        for post in cells_of:
            g = setup.g_self if pre is post else setup.g_cross
            if g > 0:
                synapse = sim.StaticSynapse(weight=units.weight(g, setup.alpha, setup.n), delay=dt)
                sim.Projection(pre, post, _connector(sim, seed), synapse, receptor_type="excitatory")


def run_batch(sim, cells, runs, duration: float, units: Units = Units(), dt: float = 0.1,
              label: str = "chimera") -> list:
    """Run several independent networks in one simulation on the PyNN backend ``sim``.

    ``runs``: a list of ``(setup, seed)`` with ``setup`` a :class:`Ring` or
    :class:`TwoPopulations`; ``cells``: the module holding the backend's GLIF types. All
    cells live in one Population (parameters per cell), each network in its own views of
    it, with no connection between networks: one simulation gives what one simulation per
    network would, at a fraction of the per-step cost. Returns, for each run, its spike
    trains (neo SpikeTrains; for two populations the first N are population A)."""
    if not duration > 0:
        raise ValueError(f"duration must be > 0 ms, got {duration}")
    if not runs:
        raise ValueError("nothing to run")
    sizes = [_sizes(setup) for setup, _ in runs]
    per_cell = {}
    for (setup, _), size in zip(runs, sizes):
        for name, value in cell_parameters(units, setup.a, setup.alpha, setup.mechanism).items():
            per_cell.setdefault(name, []).append(np.full(sum(size), value))
    params = {name: (values[0][0] if len(np.unique(np.concatenate(values))) == 1 else np.concatenate(values))
              for name, values in per_cell.items()}
    sim.setup(timestep=dt, min_delay=dt)
    everything = sim.Population(sum(map(sum, sizes)), cells.GLIF_curr_alpha(**params), label=label)
    everything.initialize(v=units.voltage(np.concatenate([_initial_x(setup, seed) for setup, seed in runs])))
    bounds, start = [], 0
    for (setup, seed), size in zip(runs, sizes):
        views = []
        for n in size:
            views.append(everything[start:start + n])
            start += n
        bounds.append((start - sum(size), start))
        _connect(sim, views, setup, seed, units, dt)
    everything.record("spikes")
    sim.run(duration)
    trains = everything.get_data().segments[0].spiketrains
    sim.end()
    return [trains[lo:hi] for lo, hi in bounds]


def run(sim, cells, setup, duration: float, seed: int, units: Units = Units(), dt: float = 0.1) -> list:
    """Spike trains of one set-up and seed (:func:`run_batch` with one run)."""
    return run_batch(sim, cells, [(setup, seed)], duration, units, dt)[0]


def phase_grid(trains, t_start: float, t_stop: float, sample_ms: float = 2.0):
    """Sample times (ms) in [t_start, t_stop) where every cell has a phase, and the phases there."""
    trains = synchrony.as_trains(trains)
    first, last = synchrony.phase_window(trains)
    lo, hi = max(t_start, first), min(t_stop, last)
    if hi - lo < 10 * sample_ms:
        raise ValueError(f"too little time with a phase for every cell ({lo:g}-{hi:g} ms); run longer")
    times = np.arange(lo, hi, sample_ms)
    return times, synchrony.spike_phases(trains, times)


@dataclass
class Analysis:
    """Measures of one run over ``[t_start, t_stop]``, split into ``len(states)`` windows."""

    times: np.ndarray                 # sample times (ms)
    omega: np.ndarray                 # rad/s per cell, 2 pi n_i / T over the whole window
    phase_velocity: np.ndarray        # rad/s per cell, from the interpolated phases
    states: list                      # state of each window
    summary: dict = field(default_factory=dict)
    local_order: Optional[np.ndarray] = None     # ring: Z_i(t)
    coherent: Optional[np.ndarray] = None        # ring: coherent cells over the whole window
    order: Optional[np.ndarray] = None           # two populations: R_A(t), R_B(t) as rows

    @property
    def persistent_chimera(self) -> bool:
        return all(state == "chimera" for state in self.states)


def _check_windows(windows: int, sample_ms: float) -> None:
    if not (isinstance(windows, (int, np.integer)) and windows >= 1):
        raise ValueError(f"windows must be a whole number >= 1, got {windows!r}")
    if not (math.isfinite(sample_ms) and sample_ms > 0):
        raise ValueError(f"sample_ms must be > 0, got {sample_ms}")


def _split(values: np.ndarray, windows: int, axis: int = 0) -> list:
    """``values`` in ``windows`` parts along ``axis``, each of at least 2 samples."""
    if 2 * windows > values.shape[axis]:
        raise ValueError(f"{windows} windows of {values.shape[axis]} samples leave fewer than 2 samples per window; "
                         "use fewer windows or a smaller sample_ms")
    return np.array_split(values, windows, axis=axis)


def analyse_ring(trains, t_start: float, t_stop: float, windows: int = 4, half_width: Optional[int] = None,
                 sample_ms: float = 2.0) -> Analysis:
    """Omega profile, local order parameter (``half_width`` default N // 40) and the domain
    classification over the whole window and in each of ``windows`` parts."""
    _check_windows(windows, sample_ms)
    times, phases = phase_grid(trains, t_start, t_stop, sample_ms)
    n = phases.shape[1]
    half_width = max(1, n // 40) if half_width is None else half_width
    whole = synchrony.classify_ring(phases)
    states = [synchrony.classify_ring(part).state for part in _split(phases, windows)]
    omega = synchrony.omega_profile(trains, t_start, t_stop).magnitude
    summary = {"state": whole.state, "window_states": states, "coherent_fraction": whole.coherent_fraction,
               "largest_coherent": whole.largest_coherent, "largest_incoherent": whole.largest_incoherent,
               "coherent_domains": whole.n_coherent_domains, "global_order": whole.global_order,
               "rate_hz": float(omega.mean() / (2 * np.pi))}
    velocity = synchrony.phase_velocity(phases, times).magnitude
    if whole.coherent.any() and not whole.coherent.all():
        drift = velocity[~whole.coherent].mean() - velocity[whole.coherent].mean()
        summary["omega_incoherent_minus_coherent"] = float(drift)
    return Analysis(times, omega, velocity, states, summary, synchrony.local_order_parameter(phases, half_width),
                    whole.coherent)


def analyse_two_populations(trains, n: int, t_start: float, t_stop: float, windows: int = 4,
                            sample_ms: float = 1.0) -> Analysis:
    """Kuramoto R of each population against time and the state in each of ``windows`` parts; ``trains``
    holds population A's ``n`` cells, then population B's."""
    _check_windows(windows, sample_ms)
    count = len(trains)
    if not (isinstance(n, (int, np.integer)) and n >= 1 and count == 2 * n):
        raise ValueError(f"give 2 n spike trains (population A's n, then B's): n = {n!r}, {count} trains")
    times, phases = phase_grid(trains, t_start, t_stop, sample_ms)
    order = np.vstack([synchrony.order_parameter(phases, cells) for cells in (slice(0, n), slice(n, 2 * n))])
    states = [synchrony.classify_populations(part.mean(axis=1)) for part in _split(order, windows, axis=1)]
    omega = synchrony.omega_profile(trains, t_start, t_stop).magnitude
    means = order.mean(axis=1)
    summary = {"state": synchrony.classify_populations(means), "window_states": states,
               "order_mean": [float(m) for m in means], "order_min": [float(m) for m in order.min(axis=1)],
               "rate_hz": [float(omega[:n].mean() / (2 * np.pi)), float(omega[n:].mean() / (2 * np.pi))]}
    return Analysis(times, omega, synchrony.phase_velocity(phases, times).magnitude, states, summary, order=order)
