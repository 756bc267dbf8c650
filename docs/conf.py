"""Sphinx configuration of the glif-pynn documentation (MyST Markdown pages, numpydoc docstrings).

Build: ``make docs`` (HTML in docs/_build/html). CI builds it with warnings as errors
through tests/test_docs.py. The pages import the package (autodoc) and therefore NEST
and PyNN, as installed by ``make setup``; the NEST module need not be built.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))              # the checkout, before any installed copy
sys.path.insert(0, str(HERE / "_ext"))

from glif_pynn._quiet import quiet_third_parties  # noqa: E402

quiet_third_parties()                      # no NEST banner or pyNN/NEST chatter in the build log

project = "glif-pynn"
author = "the glif-pynn developers"
copyright = "the glif-pynn developers"
release = "0.1.0"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "glif_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["dollarmath", "deflist", "colon_fence"]
myst_heading_anchors = 3

# numpydoc-style docstrings, as the code writes them
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_inherit_docstrings = False         # PyNN's base-class docstrings are not ours to check
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "alabaster"
html_title = "glif-pynn"
html_theme_options = {
    "description": "GLIF neurons in NESTML for NEST and PyNN, with a numpy reference",
    "fixed_sidebar": True,
    "sidebar_collapse": True,
    "page_width": "1200px",
    "body_max_width": "none",
}
html_static_path = []
