"""Write the intersphinx inventories shipped in docs/_inventories.

The docs build must not touch the network, so intersphinx reads inventories
from this repository instead of downloading them. They are generated from the
installed packages (the public names, and where each project's upstream docs
put them) and need regenerating only to link to names they do not yet hold::

    .venv/bin/python docs/tools/make_inventories.py

Nothing here is downloaded: the page addresses follow each project's
documentation layout (scikit-learn's and dask's ``generated/`` pages, the
Python library reference, distributed's single API page).
"""

import builtins
import importlib
import inspect
import pathlib
import sys
import zlib

import dask
import distributed
import joblib
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
    # The set_*_request methods that scikit-learn adds for sample_weight.
    "meta-estimator",
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


def public_names(module):
    """``__all__``, or a module's public names that come from its own package."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    package = module.__name__.split(".")[0]
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and (getattr(obj, "__module__", None) or "").split(".")[0] == package
    ]


# scikit-learn modules without an ``__all__``, or not in ``sklearn.__all__``,
# whose names our pages or inherited docstrings refer to.
SKLEARN_EXTRA_MODULES = ["base", "utils", "utils.metadata_routing", "utils.validation"]


def sklearn_class_entries(full, obj, page):
    entries = [(full, "py:class", f"{page}#{full}")]
    for member, value in vars(obj).items():
        if not member.startswith("_") and callable(value):
            method = f"{full}.{member}"
            entries.append((method, "py:method", f"{page}#{method}"))
    return entries


def sklearn_entries():
    entries = []
    # Top-level functions (sklearn.set_config, ...); sklearn.clone is
    # documented as sklearn.base.clone.
    for name in sklearn.__all__:
        obj = getattr(sklearn, name, None)
        if inspect.isfunction(obj):
            canonical = "sklearn.base.clone" if name == "clone" else f"sklearn.{name}"
            page = f"modules/generated/{canonical}.html#{canonical}"
            for alias in {f"sklearn.{name}", canonical}:
                entries.append((alias, "py:function", page))
    for module_name in SKLEARN_EXTRA_MODULES:
        module = importlib.import_module(f"sklearn.{module_name}")
        name = module.__name__
        entries.append((name, "py:module", f"api/{name}.html#module-{name}"))
        for name in public_names(module):
            obj = getattr(module, name, None)
            full = f"{module.__name__}.{name}"
            page = f"modules/generated/{full}.html"
            if inspect.isclass(obj):
                entries.extend(sklearn_class_entries(full, obj, page))
            elif inspect.isfunction(obj):
                entries.append((full, "py:function", f"{page}#{full}"))
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
                entries.extend(sklearn_class_entries(full, obj, page))
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


def python_entries():
    """Built-in exceptions, functions, types and constants."""
    entries = []
    for name, obj in vars(builtins).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            entries.append((name, "py:exception", f"library/exceptions.html#{name}"))
        elif inspect.isclass(obj):
            in_stdtypes = name in {"dict", "list", "tuple", "set"}
            page = "stdtypes" if in_stdtypes else "functions"
            entries.append((name, "py:class", f"library/{page}.html#{name}"))
        elif inspect.isbuiltin(obj):
            entries.append((name, "py:function", f"library/functions.html#{name}"))
    for name in ("None", "True", "False", "NotImplemented", "Ellipsis"):
        entries.append((name, "py:data", f"library/constants.html#{name}"))
    for name in ("pickle", "warnings", "os"):
        entries.append((name, "py:module", f"library/{name}.html#module-{name}"))
    for name in ("warn", "filterwarnings", "simplefilter", "catch_warnings"):
        role = "py:class" if name == "catch_warnings" else "py:function"
        entries.append(
            (f"warnings.{name}", role, f"library/warnings.html#warnings.{name}")
        )
    return entries


def dask_entries():
    """dask.array's public API (``generated/`` pages) and LocalCluster.

    distributed.LocalCluster is documented in dask's docs, not distributed's.
    """
    import dask.array

    entries = [("dask.array", "py:module", "array.html#module-dask.array")]
    for name in public_names(dask.array):
        obj = getattr(dask.array, name, None)
        full = f"dask.array.{name}"
        page = f"generated/{full}.html"
        if inspect.isclass(obj):
            entries.append((full, "py:class", f"{page}#{full}"))
            for member, value in vars(obj).items():
                if not member.startswith("_") and callable(value):
                    entries.append(
                        (
                            f"{full}.{member}",
                            "py:method",
                            f"generated/{full}.{member}.html#{full}.{member}",
                        )
                    )
        elif callable(obj):
            entries.append((full, "py:function", f"{page}#{full}"))
    local = "deploying-python.html#distributed.deploy.local.LocalCluster"
    for name in ("distributed.LocalCluster", "distributed.deploy.local.LocalCluster"):
        entries.append((name, "py:class", local))
    return entries


def distributed_entries():
    """distributed's API page: Client and its methods, the top-level functions."""
    entries = [("distributed", "py:module", "api.html#module-distributed")]
    for name in ("Client", "Future"):
        obj = getattr(distributed, name)
        full = f"distributed.{name}"
        entries.append((full, "py:class", f"api.html#{full}"))
        for member, value in vars(obj).items():
            if not member.startswith("_") and callable(value):
                method = f"{full}.{member}"
                entries.append((method, "py:method", f"api.html#{method}"))
    for name in ("wait", "as_completed", "get_client", "get_worker", "worker_client"):
        full = f"distributed.{name}"
        entries.append((full, "py:function", f"api.html#{full}"))
    return entries


def joblib_entries():
    """joblib's public names, each on its ``generated/`` page."""
    entries = [("joblib", "py:module", "index.html#module-joblib")]
    for name in joblib.__all__:
        obj = getattr(joblib, name)
        full = f"joblib.{name}"
        page = f"generated/{full}.html#{full}"
        if inspect.isclass(obj):
            entries.append((full, "py:class", page))
        elif callable(obj):
            entries.append((full, "py:function", page))
    return entries


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
    python_version = ".".join(map(str, sys.version_info[:2]))
    write_inventory(HERE / "python.inv", "Python", python_version, python_entries())
    write_inventory(HERE / "dask.inv", "Dask", dask.__version__, dask_entries())
    write_inventory(
        HERE / "distributed.inv",
        "Dask.distributed",
        distributed.__version__,
        distributed_entries(),
    )
    write_inventory(HERE / "joblib.inv", "joblib", joblib.__version__, joblib_entries())
