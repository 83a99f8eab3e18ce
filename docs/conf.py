"""Sphinx configuration for mlkit's documentation."""

from importlib.metadata import version as _version

project = "mlkit"
author = "mlkit developers"
copyright = "2026, mlkit developers"
release = _version("mlkit")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
# benchmarks/ holds generated tables that guide pages {include}.
exclude_patterns = ["_build", "benchmarks"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# numpydoc-style docstrings, rendered by napoleon.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"

# No network here or in CI: cross-links to other projects resolve only when
# their inventories can be fetched, so the mapping stays empty.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# Docstring examples run under pytest --doctest-modules; Sphinx tests the
# {doctest} blocks of the guide pages only.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import numpy as np\nimport pandas as pd"

html_theme = "furo"
html_title = f"mlkit {release}"
