"""What the example scripts share: the backend switch, the common options, rank 0, saving a figure.

``--backend nest`` runs on pyNN.nest with the cell types of glif_pynn.nest;
``--backend reference`` on glif_pynn.reference, the pure-numpy PyNN backend (imported
only when asked for). The scripts use nothing but the PyNN API, so the switch is all
that changes.
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

BACKENDS = ("nest", "reference")


def load_backend(name: str):
    """(sim, cells): the PyNN backend module and the module holding its GLIF cell types."""
    if name == "nest":
        import pyNN.nest as sim
        import glif_pynn.nest as cells
        return sim, cells
    if name == "reference":
        sim = importlib.import_module("glif_pynn.reference")
        missing = [attr for attr in ("setup", "Population", "run", "GLIF_curr_exp") if not hasattr(sim, attr)]
        if missing:
            raise SystemExit(f"glif_pynn.reference is not usable as a PyNN backend here (it lacks "
                             f"{', '.join(missing)}); use --backend nest")
        return sim, sim
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def main_process(sim) -> bool:
    """True on MPI rank 0, and on a single process: where PyNN gathers the recorded data, so the one process that
    reports and draws (under ``mpirun`` the others take part in the simulation and the gathering only)."""
    return sim.rank() == 0


def parser(name: str, description: str, duration: float) -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    result.add_argument("--backend", choices=BACKENDS, default="nest", help="simulator (default: %(default)s)")
    result.add_argument("--output", default=f"results/{name}.png", help="figure path (default: %(default)s)")
    result.add_argument("--duration", type=float, default=duration, help="simulated time in ms (default: %(default)s)")
    return result


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(figure, path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    print(f"figure: {path}")
