"""Sphinx configuration for the skl_sparseae documentation.

Build with ``.ci/build_docs`` (or ``sphinx-build -W -b html docs docs/_build/html``
after ``pip install -e ".[docs]"``). The build never touches the network:
intersphinx reads the inventories shipped in ``_inventories/`` and the gallery
uses only data that scikit-learn bundles.
"""

import os
import pathlib
import sys

import skl_sparseae

# Local extensions (script-output: the output of docs/snippets/*.py, run at
# build time).
sys.path.insert(0, str(pathlib.Path(__file__).parent / "_ext"))

# The gallery draws with matplotlib; never open windows during a build.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skl_sparseae"
author = "The skl_sparseae developers"
copyright = "The skl_sparseae developers"
release = skl_sparseae.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_copybutton",
    "script_output",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_ext",
    "figures",
    "snippets",
    "tools",
    "Thumbs.db",
    ".DS_Store",
]
default_role = "literal"

# -- API reference ----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
# The right-hand "On this page" list names methods without their class.
toc_object_entries_show_parents = "hide"

# -- Cross-references, offline ----------------------------------------------
# Local inventories (see tools/make_inventories.py): links point to the
# upstream docs, but nothing is fetched while building.
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "_inventories/sklearn.inv"),
    "matplotlib": ("https://matplotlib.org/stable/", "_inventories/matplotlib.inv"),
    "python": ("https://docs.python.org/3/", "_inventories/python.inv"),
    "joblib": ("https://joblib.readthedocs.io/en/stable/", "_inventories/joblib.inv"),
    "dask": ("https://docs.dask.org/en/stable/", "_inventories/dask.inv"),
    "distributed": (
        "https://distributed.dask.org/en/stable/",
        "_inventories/distributed.inv",
    ),
}
intersphinx_disabled_reftypes = ["std:doc"]
# Every cross-reference must resolve: one that does not would render as plain
# code, silently. (FilterDisplay's docstring refers to its own ``ax_``
# attribute, which numpydoc does not make a link target.)
nitpicky = True
nitpick_ignore = [("py:attr", "ax_")]

# -- Gallery ----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skl_sparseae",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skl_sparseae": None},
    # Basic to advanced (docs/_ext/gallery_order.py), not alphabetical.
    "within_subsection_order": "gallery_order.GalleryOrder",
    "matplotlib_animations": False,
    # matplotlib's scraper, after a check that fails the example when a
    # figure's text reaches past its edges (docs/_ext/figure_check.py): the
    # figures are saved at their own size, where a cut-off label is lost.
    "image_scrapers": ("figure_check.checked_matplotlib_scraper",),
    "remove_config_comments": True,
    # A failing example must fail the build.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "show_memory": False,
    # Figures at twice their pixels too, for high-density screens.
    "image_srcset": ["2x"],
    # Timings go to the build log; a generated page would land in the
    # source tree.
    "write_computation_times": False,
}

# -- Figures drawn at build time ---------------------------------------------
# ``.. plot:: figures/<script>.py`` runs the script and shows its figure, and
# nothing else: no source, no download links. Twice the pixels for sharp
# lines on high-density screens; the page shows it at its size at 100 dpi.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 200)]
plot_rcparams = {"savefig.bbox": "tight"}

# -- Copy button ---------------------------------------------------------------
# The button on every code block copies the code without the ``>>> `` and
# ``... `` prompts of the doctests, and without their output, so that it
# pastes into a Python session as it is (scikit-learn's settings).
copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True

# -- Math, offline -----------------------------------------------------------
# MathJax 3.2.2 (tex-svg.js, from the npm package, Apache-2.0; see
# _static/mathjax/LICENSE) ships with the site: formulas render without a
# network. SVG output needs no web fonts, which browsers refuse to load from
# file:// pages.
mathjax_path = "mathjax/tex-svg.js"

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skl_sparseae {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # The top bar lists HEADER_PAGES and puts the other pages of the index's
    # toctree under "More" (_templates/navbar-header-links.html).
    "navbar_center": ["navbar-header-links"],
    # A search icon (Ctrl+K still opens the search) instead of the search
    # field, which wraps the top bar to a second row at 1024 px.
    "navbar_persistent": ["search-button"],
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
# The pages a scikit-learn user looks for first, in the top bar. The
# toctree of the index page orders the guides before the examples and the
# API reference, for the previous / next links at the foot of every page;
# the theme's own top bar would show the first pages of that order instead.
# With more than four links the search button wraps to a second row at
# 1280 px.
HEADER_PAGES = ["getting_started", "user_guide", "auto_examples/index", "api"]


def add_header_links(app, pagename, templatename, context, doctree):
    env = app.env
    titles = {doc: env.titles[doc].astext() for doc in env.titles}
    toctree = env.toctree_includes[app.config.root_doc]
    context["header_pages"] = [(doc, titles[doc]) for doc in HEADER_PAGES]
    context["more_pages"] = [
        (doc, titles[doc]) for doc in toctree if doc not in HEADER_PAGES
    ]
    # The entry of the page and of each page above it in the toctrees.
    relations = env.collect_relations()
    current, doc = set(), pagename
    while doc is not None:
        current.add(doc)
        doc = relations.get(doc, [None])[0]
    context["header_current"] = current


# No left sidebar on any page. Most pages have no sub-pages, and the theme
# would show an empty "Section Navigation" heading there; the gallery's index
# and the API reference list their sub-pages themselves, and the width goes to
# the code of the examples and of the docstrings (lines of up to 88
# characters, the flake8 limit), which then fits at 1280 px. Every page links
# to the previous and the next one at its foot.
html_sidebars = {"**": []}
html_show_sourcelink = False

# The public address of the source repository, once it has one: it then
# appears as an icon link in the top bar. Until then the API pages' [source]
# links (sphinx.ext.viewcode) show the code of the documented version.
repository_url = None
if repository_url:
    html_theme_options["icon_links"] = [
        {"name": "Source", "url": repository_url, "icon": "fa-brands fa-github"}
    ]

# -- "Read more in the User Guide" -------------------------------------------
# scikit-learn's API pages point from each class to its user guide section,
# right after the one-line summary. The docstrings stay free of Sphinx labels;
# the link is added here.
USER_GUIDE_SECTIONS = {
    "skl_sparseae.SparseAutoencoderTransformer": "user_guide",
    "skl_sparseae.FilterDisplay": "visualising",
    "skl_sparseae.SparsityDisplay": "visualising",
}


def add_user_guide_link(app, what, name, obj, options, lines):
    label = USER_GUIDE_SECTIONS.get(name)
    if what != "class" or label is None or not lines:
        return
    # After the summary: the first blank line after the first text.
    position = next(i for i, line in enumerate(lines) if line.strip())
    while position < len(lines) and lines[position].strip():
        position += 1
    lines[position:position] = ["", f"Read more in the :ref:`User Guide <{label}>`."]


def setup(app):
    app.connect("autodoc-process-docstring", add_user_guide_link)
    app.connect("html-page-context", add_header_links)
