"""The numpy reference engine: a network of GLIF neuron groups, sources and synapses.

One step ``n`` covers ``(n dt, (n + 1) dt]``. :meth:`Network.run_steps` does, in this
order (the order of the generated NEST code; the neuron part is in
:mod:`glif_pynn.reference.neurons`):

- (1-3) every neuron group advances: refractory cells count down and keep V, the others
  advance V; all other states propagate exactly; ``V > v_thresh + theta`` (strict, and
  not refractory at the start of the step; with escape noise, a draw) emits a spike stamped
  ``(n + 1) dt`` and resets. Spike sources emit their spikes stamped ``(n + 1) dt``.
  The spikes of step ``n`` go into the ring buffer: a connection with delay ``d``
  (``D = round(d / dt)`` steps, halves up, at least 1) into the slot of step ``n + D``;
- (4) the slot of step ``n`` is added to the synaptic states (one channel per receptor;
  excitatory/inhibitory types hold inhibition as magnitudes, N-port types signed values).
  So an event emitted in step ``m`` with delay ``D`` acts on V from step ``m + D + 1``
  on: the synaptic current jumps at ``t + d`` for a spike stamped ``t``, as in NEST
  (checked spike for spike in tests/test_reference_vs_nest.py);
- (5) the continuous current for step ``n + 1`` is set from the current sources (a
  source's value at time ``(n + 1) dt``; see :mod:`glif_pynn.reference.sources`);
- (6) recorders sample the state at time ``(n + 1) dt`` (sample 0 is the initial state).

All connections live in one CSR table over presynaptic nodes
(:class:`~glif_pynn.reference.sources.Synapses`, 12 bytes per synapse plus row pointers);
delivery is one gather and one ``np.add.at`` per step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

from glif_pynn.parameters import STATE_BY_NAME
from glif_pynn.reference.neurons import NeuronGroup, is_whole_steps, steps
from glif_pynn.reference.sources import CurrentSource, PoissonSource, SpikeArraySource, Synapses


@dataclass(eq=False)
class Population:
    """A handle on ``size`` nodes of a :class:`Network` (neurons or spike sources)."""

    network: "Network"
    size: int
    node_offset: int                        # first presynaptic (node) id
    group: Optional[NeuronGroup] = None     # neurons only
    source: object = None                   # spike sources only
    neuron_offset: int = -1                 # first postsynaptic (neuron) index, neurons only
    recording: Optional["_Recording"] = None

    @property
    def is_neuron(self) -> bool:
        return self.group is not None


@dataclass(eq=False)
class _Recording:
    variables: tuple
    indices: np.ndarray
    every: int                               # sampling interval in steps
    pending: bool = True                     # the state at the start of the next run is still to be sampled
    first_step: int = 0                      # where the recording (re)started: samples every ``every`` steps from
    #                                          here (PyNN labels them from here); spike arrays: spikes emitted since
    times: list = field(default_factory=list)
    samples: dict = field(default_factory=dict)


class Network:
    """A simulation: neurons, sources, connections, recorders and the step loop.

    Parameters
    ----------
    dt : float
        Time step in ms. Default: 0.1.
    seed : int, optional
        Seed of the network's ``numpy.random.Generator`` (Poisson sources, noise).
    """

    def __init__(self, dt: float = 0.1, seed: Optional[int] = None) -> None:
        if not dt > 0:
            raise ValueError(f"dt must be > 0 ms, got {dt}")
        self.dt = float(dt)
        self.rng = np.random.default_rng(seed)
        self.step_index = 0
        self.populations: list[Population] = []
        self.n_nodes = self.n_neurons = 0
        self._pending: list[tuple] = []              # connections not yet compiled
        self._synapses: Optional[Synapses] = None  # the compiled connections
        self._currents: list[tuple[CurrentSource, np.ndarray]] = []
        self._built = False

    @property
    def t(self) -> float:
        """Current time (ms)."""
        return float(self.time_of(self.step_index))

    def time_of(self, step):
        """Time (ms) of the end of step ``step - 1``: ``step dt``, computed as NEST does (exact
        multiples of dt when 1/dt is a whole number: 451 steps of 0.1 ms are 45.1 ms, not
        45.100000000000001)."""
        per_ms = round(1.0 / self.dt)
        if abs(per_ms * self.dt - 1.0) < 1e-12:
            return np.asarray(step, dtype=float) / per_ms
        return np.asarray(step, dtype=float) * self.dt

    # -- building --------------------------------------------------------------------------
    def add_source(self, source) -> Population:
        """A population for a spike source object (:mod:`glif_pynn.reference.sources`)."""
        return self._add(source.n, source=source)

    def _add(self, size: int, **kwargs) -> Population:
        pop = Population(self, int(size), self.n_nodes, **kwargs)
        self.n_nodes += pop.size
        self.populations.append(pop)
        self._built = False
        return pop

    def create(self, flavour: str, n: int, ports: Optional[int] = None, **params) -> Population:
        """``n`` GLIF neurons (``curr_exp``, ``curr_alpha``, ``cond_exp``, ``cond_alpha``), PyNN units;
        ``ports`` None: excitatory and inhibitory receptors, N: N receptor ports."""
        if n < 1:
            raise ValueError("a population needs at least one neuron")
        group = NeuronGroup(flavour, n, params, self.dt, rng=self.rng, ports=ports)
        pop = self._add(n, group=group, neuron_offset=self.n_neurons)
        self.n_neurons += pop.size
        return pop

    def create_spike_source_array(self, spike_times: Sequence[Sequence[float]],
                                  min_delay: Optional[float] = None) -> Population:
        """One spike source per entry of ``spike_times`` (ms; each spike stamped ``ceil(t / dt) dt``).

        With ``min_delay`` (ms) the spikes are emitted as pyNN.nest's SpikeSourceArray emits
        them (shifted by ``-min_delay``, stamped by NEST, relayed by a parrot neuron; see
        :func:`~glif_pynn.reference.sources.spike_steps`) and recorded at the requested times."""
        return self._add(len(spike_times), source=SpikeArraySource(spike_times, self.dt, min_delay))

    def create_poisson_source(self, n: int, rate=1.0, start=0.0, duration=math.inf) -> Population:
        """``n`` Poisson sources (rate in Hz, start and duration in ms), drawn from the network's RNG."""
        return self._add(n, source=PoissonSource(n, self.dt, rate, start, duration))

    def connect(self, pre: Population, post: Population, i, j, weight, delay,
                receptor=None) -> None:
        """Connections ``pre[i] -> post[j]`` (arrays or scalars broadcast together).

        Parameters
        ----------
        weight : float or array
            nA (current flavours) or uS (conductance flavours).
        delay : float or array
            ms, rounded to whole steps (halves up); at least one step.
        receptor : {'excitatory', 'inhibitory', None} or 'synK' or int K
            Excitatory/inhibitory types: ``None``, the sign decides, as in NEST (negative
            weights inhibit); with 'excitatory' weights must be >= 0; with 'inhibitory' their
            magnitude is used. N-port types: the port, ``'synK'`` or ``K`` (1 ... N); weights
            are used as they are (current types: either sign; conductance types: >= 0).
        """
        if not post.is_neuron:
            raise ValueError("connection targets must be neurons")
        i, j, w, d = np.broadcast_arrays(np.asarray(i), np.asarray(j), np.asarray(weight, float),
                                         np.asarray(delay, float))
        i, j, w = i.ravel().astype(np.int64), j.ravel().astype(np.int64), w.ravel()
        d = steps(d.ravel(), self.dt)
        for name, idx, pop in (("pre", i, pre), ("post", j, post)):
            if len(idx) and (idx.min() < 0 or idx.max() >= pop.size):
                raise IndexError(f"{name} index out of range for a population of {pop.size}")
        if len(d) and d.min() < 1:
            raise ValueError(f"delays must be at least one time step ({self.dt} ms)")
        if not np.all(np.isfinite(w)):
            raise ValueError("weights must be finite")
        if post.group.ports is not None:
            channel = post.group.port_channel(receptor, w)
        elif receptor == "excitatory":
            if np.any(w < 0):
                raise ValueError("excitatory weights must be >= 0 (use receptor='inhibitory')")
            channel, w = np.zeros(len(w), np.int64), np.abs(w)
        elif receptor == "inhibitory":
            channel, w = np.ones(len(w), np.int64), np.abs(w)
        elif receptor is None:
            channel, w = (w < 0).astype(np.int64), np.abs(w)
        else:
            raise ValueError(f"receptor must be 'excitatory', 'inhibitory' or None, not {receptor!r}")
        self._pending.append((i + pre.node_offset, j + post.neuron_offset, w, d, channel))
        self._built = False

    def inject(self, source: CurrentSource, post: Population, indices=None) -> None:
        """Inject ``source`` into ``post`` (all neurons, or the given local indices; each once)."""
        if not post.is_neuron:
            raise ValueError("current sources inject into neurons only")
        idx = np.arange(post.size) if indices is None else np.unique(np.asarray(indices, np.int64))
        source.bind(self.dt, len(idx))
        self._currents.append((source, idx + post.neuron_offset))
        self._built = False

    def reset(self) -> None:
        """Back to t = 0: every neuron state to its initial value (V = v_rest, the rest 0),
        no spikes in transit. Connections, sources and recorders stay; the random number
        generator is not rewound (Poisson sources and noise draw new values, as in NEST)."""
        self.step_index = 0
        if getattr(self, "_ring", None) is not None:
            self._ring[...] = 0.0
            self._dirty[...] = False
        for pop in self.populations:
            if pop.is_neuron:
                group = pop.group
                for name, value in group.state.items():
                    value[...] = group.params["v_rest"] if name == "v" else 0.0
                group.counter[...] = 0
                group._refr_until, group._refr_pending = -(1 << 40), 0
                group._prepared = False
            if pop.recording is not None:
                pop.recording.pending = True
        self._built = False

    def replace_source(self, pop: Population, source) -> None:
        """Give the spike-source population ``pop`` a new source of the same size (new parameters)."""
        if pop.is_neuron or getattr(source, "n", None) != pop.size:
            raise ValueError("replace_source needs a spike-source population and a source of its size")
        rec = pop.recording
        if rec is not None and "spikes" in rec.variables and isinstance(pop.source, SpikeArraySource):
            # keep what the old source emitted; the new one is recorded from now on
            rec.samples.setdefault("emitted", []).append(self._array_spikes(pop.source, rec))
            rec.first_step = self.step_index
        pop.source = source
        self._built = False

    def replace_current(self, old: CurrentSource, new: CurrentSource) -> None:
        """Put ``new`` where ``old`` was injected (new parameters of a current source)."""
        for k, (src, idx) in enumerate(self._currents):
            if src is old:
                new.bind(self.dt, len(idx))
                self._currents[k] = (new, idx)
        self._built = False

    def clear_recording(self, pop: Population, stop: bool = False) -> None:
        """Forget the data recorded from ``pop`` (the next run samples its state first); ``stop``
        also ends the recording."""
        rec = pop.recording
        if rec is not None:
            rec.times, rec.pending = [], True
            rec.samples = {"spikes": []} if "spikes" in rec.variables else {}
        if stop:
            pop.recording = None
            self._built = False

    def initialize(self, pop: Population, indices=None, **values) -> None:
        """Set state variables of ``pop`` (PyNN names, units and signs; scalars or arrays), of all
        its neurons or of those at ``indices``."""
        where = slice(None) if indices is None else np.asarray(indices, np.int64)
        for name, value in values.items():
            if not pop.is_neuron or name not in pop.group.state:
                raise ValueError(f"{name!r} is not a state variable here")
            pop.group.set_state(name, where, _recorded_sign(name) * np.asarray(value, float))
        if pop.is_neuron:
            pop.group._prepared = False

    def record(self, pop: Population, variables: Iterable[str], indices=None,
               sampling_interval: Optional[float] = None) -> None:
        """Record ``variables`` (state names of ``parameters.STATE_VARIABLES`` and/or 'spikes')."""
        variables = tuple(variables)
        allowed = ("spikes",) + (tuple(pop.group.state) if pop.is_neuron else ())
        for name in variables:
            if name not in allowed:
                raise ValueError(f"cannot record {name!r} here; recordable: {', '.join(allowed)}")
        every = 1 if sampling_interval is None else int(steps(sampling_interval, self.dt))
        if sampling_interval is not None and not (every >= 1 and is_whole_steps(sampling_interval, self.dt)):
            raise ValueError(f"sampling_interval = {sampling_interval} ms is not a whole number of time steps "
                             f"({self.dt} ms); choose a multiple of the time step (NEST refuses it too)")
        idx = np.arange(pop.size) if indices is None else np.asarray(indices, np.int64)
        rec = _Recording(variables, idx, max(1, every))
        if "spikes" in variables:
            rec.samples["spikes"] = []
        pop.recording = rec
        self._built = False

    # -- compilation ----------------------------------------------------------------------
    def _compile_synapses(self) -> None:
        """All connections into one CSR table over presynaptic nodes (see :class:`Synapses`)."""
        parts = list(self._pending)
        if self._synapses is not None:
            parts.append(self._synapses.decompile())
        self._pending = []
        self._synapses = Synapses(parts, self.n_nodes, self.n_neurons, self._channels()) if parts else None

    def _channels(self) -> int:
        """Ring-buffer channels per neuron: the largest number of receptors of any group (at least 2)."""
        return max([2] + [len(p.group.keys) for p in self.populations if p.is_neuron])

    def synapse_bytes(self) -> int:
        """Bytes held by the compiled connection table."""
        self._build()
        return 0 if self._synapses is None else self._synapses.nbytes

    @property
    def n_synapses(self) -> int:
        self._build()
        return 0 if self._synapses is None else len(self._synapses.weights)

    def _build(self) -> None:
        if self._built:
            return
        syn = self._synapses
        channels = self._channels()
        if self._pending or (syn is not None and (syn.n_neurons, syn.n_nodes, syn.channels)
                             != (self.n_neurons, self.n_nodes, channels)):
            self._compile_synapses()
            syn = self._synapses
        length = 2 if syn is None else syn.max_delay + 1
        old = getattr(self, "_ring", None)
        if old is None or old.shape != (length, channels * self.n_neurons):
            if old is not None and old.any():
                raise RuntimeError("cannot change the network's size or delays while spikes are in transit")
            self._ring = np.zeros((length, channels * self.n_neurons))
            self._dirty = np.zeros(length, bool)
        self.i_stim = np.zeros(self.n_neurons)
        targeted = np.zeros(self.n_neurons, bool)
        for _, idx in self._currents:
            targeted[idx] = True
        receiving = np.zeros(self.n_neurons, bool)
        if syn is not None:
            receiving[syn.posts()] = True
        for pop in self.populations:
            if pop.is_neuron:
                sl = slice(pop.neuron_offset, pop.neuron_offset + pop.size)
                pop.group.i_stim = self.i_stim[sl]
                pop.group.has_stim = bool(targeted[sl].any())
                pop.group.has_input = bool(receiving[sl].any())
                pop.group.prepare()
        self._neuron_pops = [p for p in self.populations if p.is_neuron]
        self._receiving = [p for p in self._neuron_pops if p.group.has_input]
        self._arrays = [p for p in self.populations if isinstance(p.source, SpikeArraySource)]
        self._poissons = [p for p in self.populations if isinstance(p.source, PoissonSource)]
        steps_ = [p.source.steps for p in self._arrays]
        ev_steps = np.concatenate(steps_) if steps_ else np.zeros(0, np.int64)
        ev_nodes = np.concatenate([p.source.ids + p.node_offset for p in self._arrays]) if steps_ \
            else np.zeros(0, np.int64)
        order = np.argsort(ev_steps, kind="stable")
        self._ev_steps, self._ev_nodes = ev_steps[order], ev_nodes[order]
        self._recorded = [p for p in self.populations if p.recording is not None]
        self._update_currents(self.step_index, force=True)
        self._built = True

    # -- running ---------------------------------------------------------------------------
    def run(self, t_stop: float) -> None:
        """Advance to ``t_stop`` ms (absolute time; rounded to whole steps)."""
        self.run_steps(int(steps(t_stop, self.dt)) - self.step_index)

    def run_steps(self, n_steps: int) -> None:
        """Advance by ``n_steps`` steps."""
        self._build()
        ring, dirty, n_neurons = self._ring, self._dirty, self.n_neurons
        length = ring.shape[0]
        ev_steps, ev_nodes = self._ev_steps, self._ev_nodes
        ev_pos = int(np.searchsorted(ev_steps, self.step_index))
        for pop in self._recorded:          # the state at the start (set by initialize)
            if pop.recording.pending:
                pop.recording.pending, pop.recording.first_step = False, self.step_index
                self._sample(pop, pop.recording, self.step_index)
        for n in range(self.step_index, self.step_index + n_steps):
            fired = []
            for pop in self._neuron_pops:
                idx = pop.group.step(n)
                if idx is not None:
                    fired.append(idx + pop.node_offset)
                    if pop.recording is not None and "spikes" in pop.recording.samples:
                        pop.recording.samples["spikes"].append((n, idx))
            end = ev_pos
            while end < len(ev_steps) and ev_steps[end] == n:
                end += 1
            if end > ev_pos:
                fired.append(ev_nodes[ev_pos:end])
                ev_pos = end
            for pop in self._poissons:
                ids = pop.source.draw(n, self.rng)
                if ids is not None:
                    fired.append(ids + pop.node_offset)
                    if pop.recording is not None and "spikes" in pop.recording.samples:
                        pop.recording.samples["spikes"].append((n, ids))
            if fired:
                self._deliver(n, fired[0] if len(fired) == 1 else np.concatenate(fired))
            slot = n % length
            if dirty[slot]:
                for pop in self._receiving:
                    lo = pop.neuron_offset
                    pop.group.receive(*(ring[slot, c * n_neurons + lo:c * n_neurons + lo + pop.size]
                                        for c in range(len(pop.group.keys))))
                ring[slot] = 0.0
                dirty[slot] = False
            if self._currents:
                self._update_currents(n + 1)
            self.step_index = n + 1
            for pop in self._recorded:
                self._sample(pop, pop.recording, n + 1)

    def _deliver(self, n: int, spikers: np.ndarray) -> None:
        """Write the synaptic events of the nodes ``spikers`` (repeats allowed) into the ring buffer."""
        syn = self._synapses
        if syn is None:
            return
        starts, stops = syn.indptr[spikers], syn.indptr[spikers + 1]
        counts = stops - starts
        total = int(counts.sum())
        if total == 0:
            return
        if len(spikers) <= 32:
            rows = [(a, b) for a, b in zip(starts.tolist(), stops.tolist()) if b > a]
            if len(rows) == 1:
                codes, w = syn.codes[rows[0][0]:rows[0][1]], syn.weights[rows[0][0]:rows[0][1]]
            else:
                codes = np.concatenate([syn.codes[a:b] for a, b in rows])
                w = np.concatenate([syn.weights[a:b] for a, b in rows])
        else:
            ends = np.cumsum(counts)
            sel = np.repeat(starts - ends + counts, counts) + np.arange(total)
            codes, w = syn.codes[sel], syn.weights[sel]
        length = self._ring.shape[0]
        base = n % length
        flat = codes + base * syn.width                 # slot (n + D) mod length, flattened
        np.subtract(flat, syn.wrap, out=flat, where=flat >= syn.wrap)
        np.add.at(self._ring.reshape(-1), flat, w)
        self._dirty[(base + syn.delays) % length] = True

    def _update_currents(self, step: int, force: bool = False) -> None:
        changed = [src.update(step, self.rng) for src, _ in self._currents]
        if force or any(changed):
            self.i_stim.fill(0.0)
            for src, idx in self._currents:
                self.i_stim[idx] += src.current
            for pop in self._neuron_pops:
                pop.group.update_drive()

    def _sample(self, pop: Population, rec: _Recording, step: int) -> None:
        if (step - rec.first_step) % rec.every or not pop.is_neuron or rec.variables == ("spikes",):
            return
        rec.times.append(step)
        full = len(rec.indices) == pop.size
        for name in rec.variables:
            if name != "spikes":
                value = pop.group.state[name]
                value = value.copy() if full else value[rec.indices]
                if _recorded_sign(name) < 0:
                    np.negative(value, out=value)
                rec.samples.setdefault(name, []).append(value)

    # -- results ---------------------------------------------------------------------------
    def _array_spikes(self, src: SpikeArraySource, rec: _Recording) -> tuple[np.ndarray, np.ndarray]:
        """(ids, times) that the spike-array source ``src`` emitted since ``rec.first_step``, by time."""
        done = (src.steps < self.step_index) & (src.steps >= rec.first_step)
        order = np.argsort(src.steps[done], kind="stable")
        times = src.times[done][order] if src.min_delay is not None else self.time_of(src.steps[done][order] + 1)
        return src.ids[done][order], times

    def get_recording(self, pop: Population) -> dict:
        """Recorded data of ``pop``: ``times`` (ms), one (samples x indices) array per state
        variable, ``indices``, and ``spikes`` as ``(local indices, times)`` sorted by time."""
        rec = pop.recording
        if rec is None:
            raise ValueError("nothing was recorded from this population")
        out = {"indices": rec.indices, "times": self.time_of(np.asarray(rec.times, float))}
        for name in rec.variables:
            if name == "spikes" and isinstance(pop.source, SpikeArraySource):
                parts = rec.samples.get("emitted", []) + [self._array_spikes(pop.source, rec)]
                ids, times = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
                keep = np.isin(ids, rec.indices)
                out["spikes"] = (ids[keep], times[keep])
            elif name == "spikes":
                pairs = rec.samples["spikes"]
                ids = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0, np.int64)
                times = np.concatenate([np.full(len(p[1]), self.time_of(p[0] + 1)) for p in pairs]) \
                    if pairs else np.zeros(0)
                keep = np.isin(ids, rec.indices)
                out["spikes"] = (ids[keep], times[keep])
            else:
                out[name] = np.array(rec.samples.get(name, []))
        return out


def _recorded_sign(name: str) -> float:
    """-1 for a state the engine holds as a magnitude but PyNN reports negative (``isyn_inh``,
    as pyNN.nest's IF_curr_* types record it; see parameters.STATE_VARIABLES)."""
    state = STATE_BY_NAME.get(name)
    return -1.0 if state is not None and state.from_nest < 0 else 1.0
