"""One small network per connector, buildable on pyNN.nest (either construction path) and on the reference.

Shared by tests/test_fast_projections.py and the MPI script tests/mpi/fast_projections.py.

Populations: ``src`` (SpikeSourceArray, 40), ``A`` (GLIF_curr_exp, 40), ``B`` (GLIF_cond_alpha, 40).
Every connector makes the same five projections, so that each meets scalar, array and random
weights and delays, both receptor types, the current and the conductance flavour, recurrent
projections (no self-connections), views, and a random distribution that shares the
connector's generator (PyNN draws it column by column, interleaved with the connectivity):

====  ===============  ===========  ==================================  ===============================
name  pre -> post      receptor     weight                              delay
====  ===============  ===========  ==================================  ===============================
P1    src -> A         excitatory   scalar                              array (40 x 40)
P2    A -> A           inhibitory   array (negative: current type)      random (own generator)
P3    A -> B           excitatory   random (own generator)              scalar
P4    B -> B           inhibitory   random (the connector's generator)  random (the connector's)
P5    src[10:30] ->    inhibitory   scalar                              scalar
      B[5:25]
====  ===============  ===========  ==================================  ===============================

FromListConnector gives arrays as list columns (an array over all pairs does not fit its
per-target evaluation); DistanceDependentProbabilityConnector adds P6, A -> B with weight and
delay as expressions of distance.
"""
from __future__ import annotations

import numpy as np
from pyNN.random import NumpyRNG, RandomDistribution

N = 40
CONNECTORS = ("AllToAllConnector", "OneToOneConnector", "FixedProbabilityConnector", "FixedNumberPreConnector",
              "FixedNumberPostConnector", "FromListConnector", "DistanceDependentProbabilityConnector")
SEED = 20260611


def _connector(sim, name: str, index: int, recurrent: bool, rng, columns=None):
    self_ok = not recurrent
    if name == "AllToAllConnector":
        return sim.AllToAllConnector(allow_self_connections=self_ok)
    if name == "OneToOneConnector":
        return sim.OneToOneConnector()
    if name == "FixedProbabilityConnector":
        return sim.FixedProbabilityConnector(0.3, allow_self_connections=self_ok, rng=rng)
    if name in ("FixedNumberPreConnector", "FixedNumberPostConnector"):
        # with replacement in every other projection: repeated pairs (multapses) appear
        return getattr(sim, name)(6, allow_self_connections=self_ok, with_replacement=index % 2 == 1, rng=rng)
    if name == "DistanceDependentProbabilityConnector":
        return sim.DistanceDependentProbabilityConnector("exp(-d / 10.0)", allow_self_connections=self_ok, rng=rng)
    if name == "FromListConnector":
        pairs = np.random.default_rng(SEED + index).integers(0, 20 if index == 5 else N, size=(150, 2))
        if recurrent:
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        values = [] if columns is None else [columns[k][pairs[:, 0], pairs[:, 1]] for k in sorted(columns)]
        return sim.FromListConnector(np.column_stack([pairs.astype(float), *values]),
                                     column_names=tuple(sorted(columns or ())))
    raise ValueError(f"no test case for {name}")


def build(sim, types, name: str) -> tuple[dict, NumpyRNG]:
    """The projections P1..P5 (P6) for connector ``name``; the connectors' generator, for its final state.

    ``sim`` is pyNN.nest or glif_pynn.reference, set up already; ``types`` has the attributes
    ``GLIF_curr_exp`` and ``GLIF_cond_alpha`` (glif_pynn.nest, or the reference module itself).
    """
    arrays = np.random.default_rng(SEED)
    delay_array = np.round(arrays.uniform(0.5, 2.5, (N, N)), 1)
    weight_array = -arrays.uniform(0.01, 0.1, (N, N))          # inhibitory onto a current type
    rng = NumpyRNG(seed=SEED)                                   # the connectors' generator
    own_w, own_d = NumpyRNG(seed=SEED + 1), NumpyRNG(seed=SEED + 2)

    src = sim.Population(N, sim.SpikeSourceArray(spike_times=[5.0, 12.0]), label="src")
    a = sim.Population(N, types.GLIF_curr_exp(), label="A")
    b = sim.Population(N, types.GLIF_cond_alpha(), label="B")
    from_list = name == "FromListConnector"
    specs = [  # pre, post, receptor, weight, delay, (FromList: list columns instead of arrays)
        (src, a, "excitatory", 0.05, delay_array, {"delay": delay_array}),
        (a, a, "inhibitory", weight_array, RandomDistribution("uniform", (0.5, 3.0), rng=own_d),
         {"weight": weight_array}),
        (a, b, "excitatory", RandomDistribution("uniform", (0.001, 0.01), rng=own_w), 1.5, None),
        (b, b, "inhibitory", RandomDistribution("uniform", (0.001, 0.01), rng=rng),
         RandomDistribution("uniform", (0.2, 2.0), rng=rng), None),
        (src[10:30], b[5:25], "inhibitory", 0.002, 0.7, None),
    ]
    if name == "DistanceDependentProbabilityConnector":
        specs.append((a, b, "excitatory", "0.001 + 0.0002 * d", "0.5 + 0.1 * d", None))
    projections = {}
    for index, (pre, post, receptor, weight, delay, columns) in enumerate(specs, start=1):
        if from_list and columns is not None:   # the list's columns replace these placeholders
            weight = -0.05 if "weight" in columns else weight
            delay = 1.0 if "delay" in columns else delay
        connector = _connector(sim, name, index, pre is post, rng, columns if from_list else None)
        projections[f"P{index}"] = sim.Projection(pre, post, connector, sim.StaticSynapse(weight=weight, delay=delay),
                                                  receptor_type=receptor, label=f"{name} P{index}")
    return projections, rng


def sorted_list(projection, gather=True) -> np.ndarray:
    """(pre index, post index, weight, delay) of every connection, as an array sorted by all four columns."""
    rows = np.array(projection.get(["weight", "delay"], format="list", gather=gather), dtype=float).reshape(-1, 4)
    return rows[np.lexsort(rows.T[::-1])]
