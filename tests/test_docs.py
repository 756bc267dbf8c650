"""The documentation cannot rot: it builds with warnings as errors, its tables hold their sources, its snippets run.

One Sphinx build (``-W --keep-going``, HTML into a temporary directory, about 20-40 s on
2 cores) is shared by the tests that read the built pages. The Python snippets of each
page (and of README.md) run in one fresh process per page, in order, from the
repository root (a few seconds per page); a block preceded by ``<!-- no-run: reason -->``
is skipped. See docs/internals/docs.md.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from comparisons.summary import BEGIN, END, headline_markdown, readme_block
from glif_pynn.parameters import PARAMETERS, STATE_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
NO_RUN = "<!-- no-run:"


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               PYNEST_QUIET="1", MPLBACKEND="Agg")
    return env


@pytest.fixture(scope="session")
def html(tmp_path_factory) -> Path:
    """The HTML site, built once per session with warnings as errors."""
    out = tmp_path_factory.mktemp("docs")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                             "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                            capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=600)
    assert result.returncode == 0, f"sphinx-build -W failed:\n{result.stderr[-5000:]}\n{result.stdout[-2000:]}"
    return out / "html"


def test_docs_build_with_warnings_as_errors(html):
    assert (html / "index.html").is_file()
    pages = {p.relative_to(html).as_posix() for p in html.rglob("*.html")}
    sources = {p.relative_to(DOCS).with_suffix(".html").as_posix() for p in DOCS.rglob("*.md")
               if "_build" not in p.parts}
    assert sources <= pages, f"pages not built: {sorted(sources - pages)}"


# -- generated tables ------------------------------------------------------------------------------
class _Tables(HTMLParser):
    """The text of every cell of every table of an HTML page: [[row, ...], ...] per table."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _table(page: Path, *headers: str) -> dict[str, dict[str, str]]:
    """The first table of ``page`` that has all ``headers``, as {first cell: {header: cell}}."""
    parser = _Tables()
    parser.feed(page.read_text())
    for rows in parser.tables:
        if rows and set(headers) <= set(rows[0]):
            return {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    raise AssertionError(f"{page.name} has no table with the headers {headers}")


def test_generated_parameter_table_holds_every_parameter(html):
    rows = _table(html / "guide" / "pynn.html", "PyNN name", "unit", "default", "NESTML parameter")
    names = [p.name for p in PARAMETERS]
    assert len(names) > 20, "non-trivial: the parameter table of glif_pynn/parameters.py was read"
    missing = [name for name in names if name not in rows]
    assert not missing, f"parameters of glif_pynn/parameters.py missing from the generated table: {missing}"
    assert set(rows) == set(names), f"rows that are no parameter: {sorted(set(rows) - set(names))}"
    for p in PARAMETERS:
        row = rows[p.name]
        assert row["unit"] == (p.unit or "1"), f"{p.name}: unit {row['unit']!r} in the table, {p.unit!r} in the source"
        assert math.isclose(float(row["default"]), p.default, rel_tol=1e-5, abs_tol=1e-12), \
            f"{p.name}: default {row['default']} in the table, {p.default} in the source"
        assert p.nest_name is None or p.nest_name in row["NESTML parameter"], f"{p.name}: NESTML name"


def test_generated_recordables_table_holds_every_state(html):
    rows = _table(html / "guide" / "pynn.html", "PyNN name", "unit", "NESTML state")
    assert len(STATE_VARIABLES) >= 9, "non-trivial: the state table of glif_pynn/parameters.py was read"
    missing = [s.name for s in STATE_VARIABLES if s.name not in rows]
    assert not missing, f"states of glif_pynn/parameters.py missing from the recordables table: {missing}"
    assert len(rows) == len(STATE_VARIABLES), sorted(rows)
    for s in STATE_VARIABLES:
        assert rows[s.name]["unit"] == s.unit and rows[s.name]["NESTML state"] == s.nest_name, rows[s.name]


def test_measured_figures_come_from_the_report(html):
    page = (html / "comparisons" / "index.html").read_text()
    for line in headline_markdown().splitlines()[2:-2]:
        study = line.split("|")[1].strip().replace("`", "")
        assert study.split()[0] in page, f"headline row {study!r} missing from comparisons/index"
    report = (html / "comparisons" / "report.html").read_text()
    images = [name for name in ("convergence", "single_neuron", "conductance_network", "coupled_spiking")
              if (html / "_images" / f"{name}.png").is_file()]
    assert len(images) == 4, f"the report's figures were not copied into the site: {images}"
    assert "_images/convergence.png" in report, "the included report shows its convergence figure"


# -- README ----------------------------------------------------------------------------------------
def test_readme_headline_is_the_reports():
    text = README.read_text()
    start, end = readme_block(text)
    assert text[start:end].strip() == headline_markdown().strip(), (
        "README.md's headline figures differ from comparisons/report/: run `python -m comparisons.summary`")
    assert BEGIN in text and END in text


def test_readme_is_a_front_page_whose_links_exist():
    text = README.read_text()
    assert len(text.splitlines()) <= 150, f"README.md has {len(text.splitlines())} lines; keep it a front page"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert len(local) >= 10, "non-trivial: README links into the docs"
    broken = [link for link in local if not (ROOT / link).exists()]
    assert not broken, f"README.md links to missing files: {broken}"


# -- API reference and gallery -----------------------------------------------------------------------
def _public_modules() -> list[str]:
    names = []
    for package in ("glif_pynn", "comparisons"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if len(parts) > 1 and not any(part.startswith("_") for part in parts):   # the packages are the pages
                names.append(".".join(parts))
    return names


def test_every_public_module_is_in_the_api_reference():
    documented = set(re.findall(r"^\.\. automodule:: (\S+)", "\n".join(
        p.read_text() for p in (DOCS / "api").glob("*.md")), re.M))
    modules = _public_modules()
    assert "glif_pynn.parameters" in modules and "comparisons.report" in modules, modules
    missing = sorted(set(modules) - documented)
    assert not missing, f"public modules missing from docs/api/*.md (add an automodule section): {missing}"
    assert documented <= set(modules), f"docs/api names modules that do not exist: {sorted(documented - set(modules))}"


def test_every_example_has_a_gallery_page_with_source_and_figure(html):
    examples = sorted(p.stem for p in (ROOT / "examples").glob("*.py") if not p.stem.startswith("_"))
    assert len(examples) >= 3, examples
    for name in examples:
        page = DOCS / "examples" / f"{name}.md"
        assert page.is_file(), f"examples/{name}.py has no gallery page docs/examples/{name}.md"
        text = page.read_text()
        assert f"literalinclude}} ../../examples/{name}.py" in text, f"{page.name} does not show the script"
        assert f"comparisons/report/{name}.png" in text, f"{page.name} does not show the figure"
        assert (html / "_images" / f"{name}.png").is_file(), f"the figure of {name} is not in the site"


# -- snippets --------------------------------------------------------------------------------------
def python_blocks(page: Path) -> list[dict]:
    """The ```python blocks of a Markdown page that are meant to run, with their first line (1-based)."""
    lines = page.read_text().splitlines()
    blocks = []
    for token in MarkdownIt("commonmark").parse(page.read_text()):
        if token.type != "fence" or token.info.strip() != "python":
            continue
        first = token.map[0]
        if first > 0 and lines[first - 1].strip().startswith(NO_RUN):
            continue
        blocks.append({"line": first + 2, "code": token.content})
    return blocks


PAGES = [p for p in [README, *sorted(DOCS.rglob("*.md"))] if "_build" not in p.parts and python_blocks(p)]

DRIVER = """
import json, sys
namespace = {"__name__": "__main__"}
for block in json.loads(sys.argv[2]):
    exec(compile("\\n" * (block["line"] - 1) + block["code"], sys.argv[1], "exec"), namespace)
"""


def test_snippet_collection_sees_the_pages():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"README.md", "docs/getting-started.md", "docs/guide/pynn.md"} <= names, sorted(names)


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_snippets_run(page):
    blocks = python_blocks(page)
    result = subprocess.run([sys.executable, "-c", DRIVER, str(page.relative_to(ROOT)), json.dumps(blocks)],
                            capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=600)
    assert result.returncode == 0, (f"a snippet of {page.relative_to(ROOT)} failed (line numbers are the page's):\n"
                                    f"{result.stderr[-4000:]}")
