"""SONATA networks (as BMTK builds them) on glif-pynn: pyNN.nest or the numpy reference.

::

    import pyNN.nest as sim
    import glif_pynn.sonata

    config = glif_pynn.sonata.read_config("simulation_config.json")
    edges = glif_pynn.sonata.read_edges(config)
    sim.setup(timestep=config.dt, min_delay=glif_pynn.sonata.min_delay(edges, config.dt))
    net = glif_pynn.sonata.load(config, sim, edges)   # populations, projections, node ids
    ...
    glif_pynn.sonata.run("simulation_config.json", backend="nest")  # the whole config, as BMTK's PointNet

or ``glif-pynn sonata simulation_config.json [--backend nest|reference]``.

Nodes (:mod:`~glif_pynn.sonata.nodes`): ``nest:glif_psc`` / ``nest:glif_cond`` with NEST parameters, or
BMTK's Allen templates with a ``neuron_config``, become glif-pynn's N-port GLIF types; virtual nodes
become spike sources driven by SONATA spike files. Edges (:mod:`~glif_pynn.sonata.edges`): BMTK
PointNet's conventions (``syn_weight * nsyns`` in pA or nS, ``delay``, ``receptor_type`` = NEST port).
The configs (:mod:`~glif_pynn.sonata.config`): BMTK's layout, manifest and built-in variables.
Spikes (:mod:`~glif_pynn.sonata.spikes`): SONATA's ``/spikes/<population>`` layout. The reading of the
node type and edge files is pyNN's (``pyNN.serialization.sonata``); what it lacks is listed in each module.
"""
from glif_pynn.sonata.config import SonataConfig, SonataError, read_config
from glif_pynn.sonata.edges import read_edges
from glif_pynn.sonata.network import SonataNetwork, load, min_delay
from glif_pynn.sonata.runner import run

__all__ = ["load", "run", "read_config", "read_edges", "min_delay", "SonataConfig", "SonataError", "SonataNetwork"]
