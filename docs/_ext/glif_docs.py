"""Sphinx directives that generate the documentation's tables from their one source.

- ``glif-parameters``: every parameter of :data:`glif_pynn.parameters.PARAMETERS`
  (PyNN name, unit, default, meaning, allowed range, NESTML name and factor, types);
- ``glif-recordables``: every state variable of :data:`glif_pynn.parameters.STATE_VARIABLES`;
- ``glif-cell-types``: the PyNN cell types of :mod:`glif_pynn.nest` and their NEST models;
- ``glif-headline``, ``glif-levels`` and ``glif-speed``: the measured figures of ``comparisons/report/``
  (:mod:`comparisons.summary`).

Each directive writes Markdown and parses it in place, so the tables look like any other
table of the pages; tests/test_docs.py checks the built pages against the sources.
Used in a MyST page as::

    ```{glif-parameters}
    ```
"""
from __future__ import annotations

import math

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from comparisons.summary import REPORT_DIR, headline_markdown, levels_markdown, network_markdown, speed_markdown
from comparisons.tables import markdown_table
from glif_pynn import parameters as table

#: Parameters whose NEST value is computed from several PyNN parameters (``nest_name`` None).
COMPUTED = {"tau_m": "`g_L` = 1000 `cm` / `tau_m` (nS)"}


def _types(flavours: tuple) -> str:
    return "all" if set(flavours) == set(table.BOTH) else ", ".join(f"{f}-based" for f in flavours)


def _nest(param: table.Parameter) -> str:
    if param.nest_name is None:
        if param.name not in COMPUTED:
            raise ValueError(f"glif_docs: say in COMPUTED how NEST's value of {param.name!r} is computed")
        return COMPUTED[param.name]
    factor = "" if param.nest_scale == 1.0 else f" = {param.nest_scale:g} x `{param.name}`"
    return f"`{param.nest_name}`{factor}"


def _range(param: table.Parameter) -> str:
    """The allowed range in the parameter's unit, and the magnitude above which a wrong unit is suspected."""
    text = "any" if param.low == -math.inf and param.high == math.inf else param.range_text().removesuffix(param.unit)
    if param.plausible is not None:
        text = text.rstrip() + f"; magnitude ≤ {param.plausible:g}"
    return text.strip()


def parameters_markdown() -> str:
    """The parameter table, one row per entry of :data:`glif_pynn.parameters.PARAMETERS`."""
    rows = [{"name": f"`{p.name}`", "unit": p.unit or "1", "default": f"{p.default:.6g}", "doc": p.doc,
             "range": _range(p), "nest": _nest(p), "types": _types(p.flavours)} for p in table.PARAMETERS]
    return markdown_table(rows, [("name", "PyNN name", "s"), ("unit", "unit", "s"), ("default", "default", "s"),
                                 ("doc", "meaning", "s"), ("range", "allowed", "s"),
                                 ("nest", "NESTML parameter", "s"), ("types", "cell types", "s")])


def recordables_markdown() -> str:
    """The table of recordable states, one row per entry of :data:`glif_pynn.parameters.STATE_VARIABLES`."""
    rows = [{"name": f"`{s.name}`", "unit": s.unit, "nest": f"`{s.nest_name}`",
             "factor": f"{s.from_nest:g}", "initial": f"`{s.initial}`" if s.initial else "0",
             "types": _types(s.flavours)} for s in table.STATE_VARIABLES]
    return markdown_table(rows, [("name", "PyNN name", "s"), ("unit", "unit", "s"), ("nest", "NESTML state", "s"),
                                 ("factor", "NEST to PyNN factor", "s"), ("initial", "initial value", "s"),
                                 ("types", "cell types", "s")])


def cell_types_markdown() -> str:
    """The four PyNN cell types with their synapses and NEST models (imports pyNN.nest)."""
    from glif_pynn.nest import CELL_TYPES
    shapes = {"exp": ("exponential", ""), "alpha": ("alpha-shaped", ", peak = weight")}
    rows = [{"name": f"`{c.__name__}`", "synapses": f"{shapes[c.synapse_shape][0]} "
             f"{'currents (nA)' if c.flavour == table.CURRENT else 'conductances (uS)'}{shapes[c.synapse_shape][1]}",
             "nest": f"`{c.nest_model}`"} for c in CELL_TYPES]
    return markdown_table(rows, [("name", "PyNN cell type", "s"), ("synapses", "synapses (weight unit)", "s"),
                                 ("nest", "NEST model", "s")])


class _MarkdownTable(SphinxDirective):
    """Base: parse the Markdown of :meth:`markdown` where the directive stands."""

    has_content = False

    def markdown(self) -> str:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container(classes=["glif-generated", self.name])
        self.state.nested_parse(StringList(self.markdown().splitlines(), source="(generated)"),
                                self.content_offset, container)
        return [container]


class Parameters(_MarkdownTable):
    def markdown(self) -> str:
        self.env.note_dependency(table.__file__)
        return parameters_markdown()


class Recordables(_MarkdownTable):
    def markdown(self) -> str:
        self.env.note_dependency(table.__file__)
        return recordables_markdown()


class CellTypes(_MarkdownTable):
    def markdown(self) -> str:
        return cell_types_markdown()


class Headline(_MarkdownTable):
    def markdown(self) -> str:
        for path in REPORT_DIR.glob("*.json"):
            self.env.note_dependency(str(path))
        return headline_markdown()


class Levels(_MarkdownTable):
    """``glif-levels agreement_glif_psc`` (or ``agreement_glif_cond``): the study's figures per GLIF level."""

    required_arguments = 1

    def markdown(self) -> str:
        self.env.note_dependency(str(REPORT_DIR / f"{self.arguments[0]}.json"))
        return levels_markdown(self.arguments[0])


class Speed(_MarkdownTable):
    def markdown(self) -> str:
        self.env.note_dependency(str(REPORT_DIR / "performance.json"))
        return speed_markdown()


class Network(_MarkdownTable):
    def markdown(self) -> str:
        self.env.note_dependency(str(REPORT_DIR / "network.json"))
        return network_markdown()


def setup(app: Sphinx) -> dict:
    for name, directive in (("glif-parameters", Parameters), ("glif-recordables", Recordables),
                            ("glif-cell-types", CellTypes), ("glif-headline", Headline), ("glif-levels", Levels),
                            ("glif-speed", Speed), ("glif-network", Network)):
        app.add_directive(name, directive)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
