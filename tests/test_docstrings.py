"""The public signatures and their docstrings.

Runs numpydoc's own validator (the one scikit-learn runs on its API) on the
names in ``skl_sparseae.__all__`` and their public methods defined in this
package. Checks left out, as scikit-learn leaves them out: ES01 (extended
summary), SA01 (See Also), EX01 (Examples; the classes have them, the
methods need not) and RT02 (it misreads numpydoc's own ``name : type``
Returns entries as a type followed by text).

Every public constructor lists its parameters explicitly, as scikit-learn's
do: what static checkers, editors and ``python -OO`` rely on.
"""

import inspect
import re

import pytest
from sklearn.utils._testing import assert_docstring_consistency

import skl_sparseae
from skl_sparseae import (
    FilterDisplay,
    SparseAutoencoderOutlierDetector,
    SparseAutoencoderTransformer,
    SparsityDisplay,
)

from ._helpers import run_python

IGNORED = {"ES01", "SA01", "EX01", "RT02"}


def _public_names():
    for name in skl_sparseae.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(skl_sparseae, name)
        yield f"skl_sparseae.{name}"
        if not inspect.isclass(obj):
            continue
        for attribute in sorted(dir(obj)):
            if attribute.startswith("_"):
                continue
            member = inspect.getattr_static(obj, attribute)
            function = getattr(member, "fn", member)  # available_if's method
            if isinstance(function, (classmethod, staticmethod)):
                function = function.__func__
            if inspect.isfunction(function) and function.__module__.startswith(
                "skl_sparseae"
            ):
                yield f"skl_sparseae.{name}.{attribute}"


NAMES = list(_public_names())


def test_the_public_api_is_covered():
    assert "skl_sparseae.SparseAutoencoderTransformer.partial_fit" in NAMES
    assert "skl_sparseae.SparseAutoencoderOutlierDetector.score_samples" in NAMES
    assert "skl_sparseae.FilterDisplay.from_estimator" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_docstring(name):
    numpydoc_validate = pytest.importorskip(
        "numpydoc.validate", reason="numpydoc (the 'test' extra) validates docstrings"
    )
    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(name)["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)


# An entry missing from one of the docstrings is skipped with this warning.
@pytest.mark.filterwarnings("error:Checking was skipped")
@pytest.mark.parametrize("display", [FilterDisplay, SparsityDisplay])
def test_from_estimator_documents_plots_parameters_as_plot(display):
    pytest.importorskip(
        "numpydoc", reason="numpydoc (the 'test' extra) parses docstrings"
    )
    plot_parameters = list(inspect.signature(display.plot).parameters)[1:]
    assert_docstring_consistency(
        [display.plot, display.from_estimator.__func__],
        include_params=plot_parameters,
        include_returns=True,
    )


CONSTRUCTORS = {
    "SparseAutoencoderTransformer.__init__": SparseAutoencoderTransformer,
    "SparseAutoencoderOutlierDetector.__init__": SparseAutoencoderOutlierDetector,
    "FilterDisplay.from_estimator": FilterDisplay.from_estimator,
    "SparsityDisplay.from_estimator": SparsityDisplay.from_estimator,
}


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_constructors_list_their_parameters(name):
    constructor = CONSTRUCTORS[name]
    kinds = {p.kind for p in inspect.signature(constructor).parameters.values()}
    assert not kinds & {inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL}
    # A misspelt keyword is refused by Python itself, under the callee's name.
    arguments = () if inspect.isclass(constructor) else (None,)
    message = f"{name}() got an unexpected keyword argument 'typo'"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}"):
        constructor(*arguments, typo=1)


def test_import_and_fit_without_docstrings():
    # python -OO strips every docstring, as some deployments run.
    code = (
        "import sys; import numpy as np; "
        "from skl_sparseae import FilterDisplay, SparsityDisplay, "
        "SparseAutoencoderOutlierDetector as D, SparseAutoencoderTransformer as T; "
        "X = np.random.RandomState(0).rand(60, 6); "
        "T(n_components=3, max_iter=5, random_state=0).fit(X).transform(X); "
        "labels = D(n_components=3, max_iter=5, random_state=0).fit(X).predict(X); "
        # -OO strips assert statements too: print what is checked.
        "print(sys.flags.optimize, T.__doc__, labels.shape)"
    )
    result = run_python("-OO", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 None (60,)"
