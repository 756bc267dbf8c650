"""Figures of comparisons/chimera.py: the two phase diagrams, the GLIF-mechanism scan, the example."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from glif_pynn import chimera

COLOURS = {"chimera": "tab:red", "synchronous": "tab:blue", "coherent": "tab:cyan", "fragmented": "tab:olive",
           "incoherent": "0.6", "generalised chimera": "tab:orange", "partial synchrony": "tab:green",
           "asynchronous": "0.6"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _panel(ax, points, xkey, ykey, xs, ys, title, xlabel, ylabel):
    from matplotlib.patches import Patch, Rectangle
    by = {(p[xkey], p[ykey]): p for p in points}
    seen = []
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            p = by[(x, y)]
            ax.add_patch(Rectangle((i - 0.5, j - 0.5), 1, 1, color=COLOURS[p["state"]], alpha=0.75))
            ax.text(i, j, f"{p['persistent_chimeras']}/{p['seeds']}", ha="center", va="center", fontsize=8)
            if p["state"] not in seen:
                seen.append(p["state"])
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(handles=[Patch(color=COLOURS[s], alpha=0.75, label=s) for s in seen], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.0, 1.0))


def diagram_figure(result: dict, path: Path) -> None:
    """Ring (g x r) and two populations (g_self x g_cross / g_self): colour = most common final
    state over the seeds, text = seeds with a persistent chimera / seeds."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    ring, two = result["ring"], result["two"]
    _panel(axes[0], ring["points"], "g", "coupling_range", ring["grid"]["g"], ring["grid"]["coupling_range"],
           f"ring, N = {chimera.RING_CHIMERA.n}, alpha = {chimera.RING_CHIMERA.alpha:g}, "
           f"a = {chimera.RING_CHIMERA.a:g} "
           f"({ring['wall_s']:.0f} s for {len(ring['rows'])} networks)", "coupling g", "coupling range r = R / N")
    _panel(axes[1], two["points"], "g_self", "ratio", two["grid"]["g_self"], two["grid"]["ratio"],
           f"two populations, N = {chimera.TWO_CHIMERA.n} each ({two['wall_s']:.0f} s for {len(two['rows'])} networks)",
           "self coupling g_self", "g_cross / g_self")
    fig.suptitle(f"Chimera states of GLIF1 cells on the numpy reference: state of the last {chimera.WINDOW / 1000:g} s "
                 f"window of {ring['duration_ms'] / 1000:g} s; numbers: seeds whose every window is a chimera",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def variants_figure(variants: dict, path: Path) -> None:
    """Fraction of seeds with a persistent chimera against the coupling, per GLIF mechanism."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, points, key, label in ((axes[0], variants["ring"], "g", f"ring coupling g (r = "
                                    f"{chimera.RING_CHIMERA.coupling_range:g})"),
                                   (axes[1], variants["two"], "g_cross", f"cross coupling g_cross (g_self = "
                                    f"{chimera.TWO_CHIMERA.g_self:g})")):
        for k, mechanism in enumerate(chimera.MECHANISMS):
            rows = sorted((p for p in points if p["mechanism"] == mechanism), key=lambda p: p[key])
            ax.plot([p[key] for p in rows], [p["persistent_chimeras"] / p["seeds"] + 0.015 * (k - 1.5) for p in rows],
                    "o-", label=mechanism)
        ax.set_xlabel(label)
        ax.set_ylabel("fraction of seeds: persistent chimera")
        ax.set_ylim(-0.08, 1.08)
        ax.legend(fontsize=8)
    fig.suptitle("What the GLIF mechanisms do to the chimera (numpy reference; lines offset slightly)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def example_figure(trains: list, duration: float, path: Path) -> None:
    """examples/chimera.py's figure for the two chimera points (pyNN.nest, seed 0)."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    if str(examples) not in sys.path:
        sys.path.insert(0, str(examples))
    spec = importlib.util.spec_from_file_location("chimera_example", examples / "chimera.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    transient, windows = chimera.schedule(duration)
    ring, two = chimera.RING_CHIMERA, chimera.TWO_CHIMERA
    ring_run = chimera.analyse_ring(trains[0], transient, duration, windows)
    two_run = chimera.analyse_two_populations(trains[1], two.n, transient, duration, windows)
    fig = module.draw(ring, trains[0], ring_run, two, trains[1], two_run, duration,
                      f"Chimera states in GLIF networks (pyNN.nest, seed 0; classified from {transient / 1000:g} s "
                      f"in {windows} windows)")
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
