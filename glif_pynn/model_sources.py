"""The NESTML sources of the GLIF models, rendered from one template.

``nestml_models/glif_neuron.nestml.jinja`` is the single source of truth of every NEST
model (the numpy reference mirrors it). It is rendered for

* the four **excitatory/inhibitory** models ``glif_psc_exp_neuron``, ``glif_psc_alpha_neuron``,
  ``glif_cond_exp_neuron``, ``glif_cond_alpha_neuron``: one NEST receptor (0), the sign of the
  weight selects the excitatory or the inhibitory synapse (PyNN's convention);
* the **N-port** models ``glif_psc_exp_4ports_neuron`` etc.: N receptor ports (NEST receptor
  types 1 ... N, as NEST's ``glif_psc``), each with its own time constant ``tau_syn_k`` and, in
  the conductance flavours, reversal potential ``E_rev_k``; current weights of either sign on
  every port. Every port is one more linear source of V_m and theta_v, with its own exact
  propagators (``coupling``/``coupling2``/``chain3``/``chain4`` at the port's rate).

The port counts built are :data:`DEFAULT_PORT_COUNTS` (BMTK's Allen V1 models use 4 ports), or
those listed in the environment variable ``GLIF_PYNN_RECEPTOR_PORTS`` (e.g. ``"4,8"``; each set
is its own cache entry of the module). ``python -m glif_pynn.model_sources DIR`` writes the
rendered files into ``DIR`` for reading; the build keeps them in the cache beside the C++.
"""
from __future__ import annotations

import numbers
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

MODEL_DIR = Path(__file__).resolve().parent.parent / "nestml_models"
TEMPLATE = MODEL_DIR / "glif_neuron.nestml.jinja"
#: NEST flavour names (as in ``glif_psc_exp_neuron``) and their PyNN counterparts.
FLAVOURS = {"psc_exp": "curr_exp", "psc_alpha": "curr_alpha", "cond_exp": "cond_exp", "cond_alpha": "cond_alpha"}
DEFAULT_PORT_COUNTS = (4,)
PORTS_ENV = "GLIF_PYNN_RECEPTOR_PORTS"
_TITLES = {"psc_exp": "exponential PSCs", "psc_alpha": "alpha-shaped PSCs",
           "cond_exp": "exponential synaptic conductances", "cond_alpha": "alpha-shaped synaptic conductances"}


@dataclass(frozen=True)
class Port:
    """One receptor port as the template writes it."""

    key: str            # suffix of the port's names: I_syn_<key>, tau_syn_<key>, P_V_<key>, ...
    input: str          # NESTML input port
    qualifier: str      # "excitatory", "inhibitory" or "" (a port that takes either sign)
    sign: str           # "+" or "-": how the state enters V_m (inhibition is held as a magnitude)
    label: str          # for comments: "Excitatory", "Port 3"
    e_rev: str          # default reversal potential (mV), conductance flavours


EXC_INH = (Port("exc", "exc_spikes", "excitatory", "+", "Excitatory", "0"),
           Port("inh", "inh_spikes", "inhibitory", "-", "Inhibitory", "-85"))


def numbered_ports(n: int) -> tuple[Port, ...]:
    return tuple(Port(str(k), f"spikes_{k}", "", "+", f"Port {k}", "0") for k in range(1, n + 1))


@dataclass(frozen=True)
class ModelSpec:
    """One NEST model: a flavour (``psc_exp`` ...) and ``ports`` (None: excitatory/inhibitory)."""

    flavour: str
    ports: Optional[int] = None

    def __post_init__(self):
        if self.flavour not in FLAVOURS:
            raise ValueError(f"unknown GLIF flavour {self.flavour!r}; valid: {', '.join(FLAVOURS)}")
        if self.ports is not None:
            check_port_count(self.ports)

    @property
    def name(self) -> str:
        return model_name(self.flavour, self.ports)


def check_port_count(n: object) -> int:
    """``n`` as an int if it is a valid number of receptor ports (2 or more), else ValueError."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"a number of receptor ports must be an integer >= 2, got {n!r} (with one port, "
                         "NEST would number it 0, not 1; use two and leave one unconnected)")
    return int(n)


def model_name(flavour: str, ports: Optional[int] = None) -> str:
    """``glif_psc_exp_neuron`` (excitatory/inhibitory) or ``glif_psc_exp_4ports_neuron``."""
    return f"glif_{flavour}_neuron" if ports is None else f"glif_{flavour}_{ports}ports_neuron"


def port_counts() -> tuple[int, ...]:
    """The N-port models built: ``$GLIF_PYNN_RECEPTOR_PORTS`` (comma-separated) or :data:`DEFAULT_PORT_COUNTS`."""
    text = os.environ.get(PORTS_ENV, "").strip()
    if not text:
        return DEFAULT_PORT_COUNTS
    try:
        counts = sorted({int(item) for item in text.split(",") if item.strip()})
    except ValueError:
        raise ValueError(f"{PORTS_ENV}={text!r}: expected comma-separated port counts such as '4,8'") from None
    for n in counts:
        check_port_count(n)
    return tuple(counts)


def model_specs(counts: Optional[Iterable[int]] = None) -> tuple[ModelSpec, ...]:
    """The four excitatory/inhibitory models, then the four flavours for each port count."""
    counts = port_counts() if counts is None else tuple(counts)
    return tuple(ModelSpec(f) for f in FLAVOURS) + tuple(ModelSpec(f, n) for n in counts for f in FLAVOURS)


def render(spec: ModelSpec) -> str:
    """The NESTML text of one model."""
    import jinja2   # NESTML's own dependency

    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined, autoescape=False)
    template = environment.from_string(TEMPLATE.read_text())
    kind = "psc" if spec.flavour.startswith("psc") else "cond"
    title = f"generalized leaky integrate-and-fire neuron, {_TITLES[spec.flavour]}"
    if spec.ports is not None:
        title += f", {spec.ports} receptor ports"
    others = [model_name(f, spec.ports) for f in FLAVOURS if f != spec.flavour]
    if spec.ports is not None:
        others.append(model_name(spec.flavour))
    model = {"name": spec.name, "title": title, "current": kind == "psc", "alpha": spec.flavour.endswith("alpha"),
             "two_port": spec.ports is None, "ports": EXC_INH if spec.ports is None else numbered_ports(spec.ports),
             "see_also": others + [f"glif_{kind} (NEST)"]}
    return template.render(m=model)


def render_all(specs: Optional[Iterable[ModelSpec]] = None) -> dict[str, str]:
    """``{file name: NESTML text}`` of every model built (see :func:`model_specs`)."""
    return {f"{spec.name}.nestml": render(spec) for spec in (model_specs() if specs is None else specs)}


def write_sources(directory: Path, specs: Optional[Iterable[ModelSpec]] = None) -> list[Path]:
    """Write the rendered ``.nestml`` files into ``directory``; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render_all(specs).items():
        (directory / name).write_text(text)
        paths.append(directory / name)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m glif_pynn.model_sources OUTPUT_DIR")
    for path in write_sources(Path(sys.argv[1])):
        print(path)
