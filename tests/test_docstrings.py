"""numpydoc validation of every public class, function and method.

Runs numpydoc's own validator (the one scikit-learn runs on its API) on the
names in ``skl_sparseae.__all__`` and their public methods defined in this
package. Checks left out, as scikit-learn leaves them out: ES01 (extended
summary), SA01 (See Also), EX01 (Examples; the classes have them, the
methods need not) and RT02 (it misreads numpydoc's own ``name : type``
Returns entries as a type followed by text).
"""

import inspect

import pytest

import skl_sparseae

numpydoc_validate = pytest.importorskip(
    "numpydoc.validate", reason="numpydoc (the 'test' extra) validates docstrings"
)

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
    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(name)["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)
