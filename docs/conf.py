"""Sphinx configuration of cbce's documentation: `sphinx-build -W docs docs/_build/html`.

Build it against an INSTALLED cbce (`pip install ".[docs]"`): the source folder has no compiled
kernels. Constants the pages state (parallel threshold, block size, ABI version, accuracy
contract) are substituted from the code by _ext/cbce_facts.py; the performance page's figures are
rendered from a benchmark JSON by benchmarks/report.py when one is found (_ext/cbce_bench.py).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import cbce  # noqa: E402  (the installed package; _ext needs it)
import cbce_facts  # noqa: E402

project = "cbce"
author = "the cbce developers"
copyright = "the cbce developers, BSD-3-Clause"
release = version = cbce.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "cbce_bench",
]

# Optional integrations: documented whether or not their library is installed. autodoc imports
# cbce.torch / cbce.dask; a missing library is mocked so the API pages still list every name.
autodoc_mock_imports = [m for m in ("torch", "dask", "distributed", "xgboost", "lightgbm")
                        if not cbce_facts.importable(m)]

autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False  # a module page lists exactly its __all__
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Docstrings cross-reference names in prose ("``out``"); numpydoc's validation is
# tests/test_docstrings.py's job, not the build's.
numpydoc_validation_checks = set()

myst_enable_extensions = ["substitution", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_substitutions = cbce_facts.substitutions()

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
suppress_warnings = ["myst.header"]  # the changelog's and the benchmark report's own headings

html_theme = "pydata_sphinx_theme"
html_title = f"cbce {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # No icon links or version switcher: they fetch from the network, and CI builds offline.
    "icon_links": [],
}
html_sidebars = {"changelog": []}

# The pages' `>>>` examples run as doctests: `pytest --doctest-glob="*.md" docs` (tools/check_docs.sh);
# the docstrings' examples: tests/test_docstrings.py.
