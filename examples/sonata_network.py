"""An Allen-style SONATA network (as BMTK builds it) on glif-pynn: raster and rates by GLIF level.

Without ``--config`` the script first builds a small network with BMTK's own NetworkBuilder
(``comparisons/bmtk_network.py``; needs ``pip install bmtk==1.2.0``, the ``test`` extra): 210 cells
taken from Allen Cell Types Database GLIF fits (levels 1-5) and NEST ``glif_psc`` parameter sets, four
receptor ports with BMTK's Allen V1 time constants (5.5, 8.5, 2.8, 5.8 ms), and virtual excitatory and
inhibitory Poisson inputs. Any SONATA simulation config whose cells are ``nest:glif_psc`` /
``nest:glif_cond`` or BMTK's Allen GLIF templates can be given instead.

The network is built in PyNN with ``glif_pynn.sonata.load`` (the cells become ``GLIF_curr_alpha_4ports``
populations; each edge's ``receptor_type`` K becomes PyNN's receptor type ``synK``), run, and its
spikes plotted; ``glif_pynn.sonata.run(config)`` (or ``glif-pynn sonata CONFIG``) would do all of it
and write the spikes in SONATA's format instead.

    python examples/sonata_network.py [--backend nest|reference] [--config simulation_config.json]
                                      [--output PATH] [--duration MS]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from _backend import load_backend, parser, pyplot, save

ROOT = Path(__file__).resolve().parent.parent


def demo_network(directory: Path, duration: float) -> Path:
    """Build the demo network with BMTK into ``directory``; return its simulation config."""
    sys.path.insert(0, str(ROOT))
    try:
        from comparisons.bmtk_network import build_network
        return build_network(directory, duration=duration)
    except ImportError as err:
        raise SystemExit(f"building the demo network needs bmtk ({err}); pip install bmtk==1.2.0, or give --config")


def main(argv=None) -> dict:
    args = parser("sonata_network", __doc__.splitlines()[0], duration=1000.0)
    args.add_argument("--config", default=None, help="SONATA simulation config (default: build the demo network)")
    args = args.parse_args(argv)
    import glif_pynn.sonata

    config = Path(args.config) if args.config else demo_network(Path(args.output).with_suffix(""), args.duration)
    cfg = glif_pynn.sonata.read_config(config)
    duration = min(args.duration, cfg.tstop)
    sim, _ = load_backend(args.backend)
    edges = glif_pynn.sonata.read_edges(cfg)            # NEST exchanges spikes once per min_delay:
    sim.setup(timestep=cfg.dt, min_delay=glif_pynn.sonata.min_delay(edges, cfg.dt))   # the smallest delay
    net = glif_pynn.sonata.load(cfg, sim, edges)
    for pop in net.neurons().values():
        pop.record("spikes")
    sim.run(duration)
    spikes = net.spikes()
    levels = _levels(net)
    print(f"{cfg.path.name} on {args.backend} (dt = {cfg.dt:g} ms): "
          + ", ".join(f"{label} {pop.size} cells" for label, pop in net.populations.items())
          + f"; {len(net.projections)} projections, {sum(len(t) for _, t in spikes.values())} spikes in {duration:g} ms")
    rates = {}
    plt = pyplot()
    figure, (raster, bars) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1]})
    for population, (ids, times) in spikes.items():
        level = levels.get(population, {})
        for value in sorted(set(level.values())) or [None]:
            cells = [node for node, lv in level.items() if lv == value] if value is not None else np.unique(ids)
            mask = np.isin(ids, cells)
            name = f"GLIF{value}" if value is not None else population
            raster.plot(times[mask], ids[mask], ".", markersize=1.5, label=name)
            rates[name] = float(mask.sum() / len(cells) / (duration / 1e3)) if len(cells) else 0.0
            print(f"  {name}: {len(cells)} cells, {rates[name]:.2f} Hz")
    raster.set_xlabel("time (ms)")
    raster.set_ylabel("node id")
    raster.legend(markerscale=6, fontsize=8, loc="upper right")
    raster.set_title(f"{cfg.path.name} on {args.backend}")
    bars.bar(range(len(rates)), list(rates.values()))
    bars.set_xticks(range(len(rates)), list(rates), rotation=45)
    bars.set_ylabel("mean rate (Hz)")
    figure.tight_layout()
    save(figure, args.output)
    sim.end()
    return rates


def _levels(net) -> dict:
    """``{node population: {node id: GLIF level}}`` from the node types' ``glif_level`` column, when present."""
    from pyNN.serialization.sonata import read_types_file
    import h5py

    out: dict = {}
    for entry in net.config.networks["nodes"]:
        types = read_types_file(entry["node_types_file"], "node")
        with h5py.File(entry["nodes_file"], "r") as handle:
            for population, group in handle["nodes"].items():
                for node, type_id in zip(group["node_id"][()], group["node_type_id"][()]):
                    level = types[int(type_id)].get("glif_level")
                    if level not in (None, "NULL") and types[int(type_id)].get("model_type") != "virtual":
                        out.setdefault(population, {})[int(node)] = int(level)
    return out


if __name__ == "__main__":
    main()
