"""Write the intersphinx inventories shipped in docs/_inventories.

The docs build must not touch the network, so intersphinx reads inventories
from this repository instead of downloading them. They are generated from the
installed packages (the public names and where their upstream docs put them)
and need regenerating only to link to names they do not yet hold::

    .venv/bin/python docs/tools/make_inventories.py
"""

import importlib
import inspect
import pathlib
import zlib

import matplotlib
import sklearn

HERE = pathlib.Path(__file__).resolve().parent.parent / "_inventories"

# scikit-learn glossary terms that docstrings here refer to with :term:.
SKLEARN_TERMS = [
    "estimator",
    "fit",
    "fit_transform",
    "random_state",
    "transform",
    "transformer",
    "n_jobs",
    "warm_start",
    "score_samples",
    "inverse_transform",
    "cross-validation",
    "outlier detector",
    "feature",
    "sample",
]
# Labels that the docstrings of scikit-learn's mixins (inherited by our
# estimator and shown in its API page) refer to with :ref:.
SKLEARN_LABELS = [
    ("metadata_routing", "metadata_routing.html#metadata-routing", "Metadata Routing"),
    (
        "df_output_transform",
        "modules/df_output_transform.html#df-output-transform",
        "Pandas/Polars Output for Transformers with set_output API",
    ),
    (
        "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
        "auto_examples/miscellaneous/plot_set_output.html"
        "#sphx-glr-auto-examples-miscellaneous-plot-set-output-py",
        "Introducing the set_output API",
    ),
]
MATPLOTLIB_NAMES = {
    "py:class": ["matplotlib.axes.Axes", "matplotlib.figure.Figure"],
    "py:method": [
        f"matplotlib.axes.Axes.{name}" for name in ("hist", "imshow", "plot", "text")
    ],
}


def write_inventory(path, project, version, entries):
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    # Entries are (name, role, uri) or (name, role, uri, display name).
    entries = sorted(
        set(entry if len(entry) == 4 else (*entry, "-") for entry in entries)
    )
    body = "".join(
        f"{name} {role} 1 {uri} {display}\n" for name, role, uri, display in entries
    )
    path.write_bytes(header.encode() + zlib.compress(body.encode(), 9))
    print(f"{path}: {len(entries)} entries")


def sklearn_entries():
    entries = []
    for module_name in sklearn.__all__:
        try:
            module = importlib.import_module(f"sklearn.{module_name}")
        except ImportError:
            continue
        for name in getattr(module, "__all__", []):
            try:
                obj = getattr(module, name, None)
            except ImportError:  # experimental names need an explicit enable
                continue
            full = f"sklearn.{module_name}.{name}"
            page = f"modules/generated/{full}.html"
            if inspect.isclass(obj):
                entries.append((full, "py:class", f"{page}#{full}"))
                for member, value in vars(obj).items():
                    if not member.startswith("_") and callable(value):
                        role = "py:method"
                        entries.append(
                            (f"{full}.{member}", role, f"{page}#{full}.{member}")
                        )
            elif callable(obj):
                entries.append((full, "py:function", f"{page}#{full}"))
    for term in SKLEARN_TERMS:
        entries.append(
            (term, "std:term", f"glossary.html#term-{term.replace(' ', '-')}")
        )
    entries.append(("glossary", "std:doc", "glossary.html"))
    for label, uri, title in SKLEARN_LABELS:
        entries.append((label, "std:label", uri, title))
    return entries


def matplotlib_entries():
    return [
        (name, role, f"api/_as_gen/{name}.html#{name}")
        for role, names in MATPLOTLIB_NAMES.items()
        for name in names
    ]


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    write_inventory(
        HERE / "sklearn.inv", "scikit-learn", sklearn.__version__, sklearn_entries()
    )
    write_inventory(
        HERE / "matplotlib.inv",
        "Matplotlib",
        matplotlib.__version__,
        matplotlib_entries(),
    )
