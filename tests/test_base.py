"""What the two estimators share through ``_BaseSparseAutoencoder``."""

import inspect
import re

import pytest
from sklearn.utils._repr_html.estimator import estimator_html_repr
from sklearn.utils._testing import assert_docstring_consistency

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer
from skl_sparseae._base import _BaseSparseAutoencoder


def _parameters(function):
    return [
        (name, parameter.kind)
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "self"
    ]


@pytest.mark.parametrize(
    "cls", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_parameters_defaults_and_constraints_cannot_drift_apart(cls):
    # Each public class writes its parameters out and passes the shared ones
    # to the base's abstract __init__: the same names, kinds and order, each
    # with the base's constraint. (The defaults of the two public classes are
    # compared in test_outlier_detector.py.)
    base = _parameters(_BaseSparseAutoencoder.__init__)
    own = _parameters(cls.__init__)
    assert [entry for entry in own if entry[0] != "contamination"] == base
    for name, _ in base:
        assert (
            cls._parameter_constraints[name]
            is (_BaseSparseAutoencoder._parameter_constraints[name])
        )
    # Nothing but the detector's contamination is extra.
    assert {name for name, _ in own} - {name for name, _ in base} == (
        {"contamination"} if cls is SparseAutoencoderOutlierDetector else set()
    )
    assert set(cls._parameter_constraints) == {name for name, _ in own}
    assert not any(kind is inspect.Parameter.VAR_KEYWORD for _, kind in own)


def test_the_base_class_is_not_an_estimator_of_its_own():
    with pytest.raises(TypeError, match="abstract"):
        _BaseSparseAutoencoder(3)


# An entry missing from one of the docstrings is skipped with this warning.
@pytest.mark.filterwarnings("error:Checking was skipped")
def test_the_detector_documents_every_parameter_and_attribute_as_the_transformer():
    pytest.importorskip(
        "numpydoc", reason="numpydoc (the 'test' extra) parses docstrings"
    )
    # Every entry, its type and its text, written out the same in both.
    assert_docstring_consistency(
        [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector],
        include_params=True,
        exclude_params=["contamination"],
        include_attrs=True,
        exclude_attrs=["offset_"],
    )


@pytest.mark.parametrize(
    "cls", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_a_misspelt_parameter_is_reported_under_the_class_name(cls):
    message = f"{cls.__name__}.__init__() got an unexpected keyword argument 'rhoo'"
    with pytest.raises(TypeError, match=f"^{re.escape(message)}"):
        cls(rhoo=0.1)
    estimator = cls(3, rho=0.2)
    assert estimator.get_params()["rho"] == 0.2 and estimator.n_components == 3


@pytest.mark.parametrize(
    "cls", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_html_repr_has_no_documentation_link(cls):
    # The documentation has no public address, and no address is guessed.
    estimator = cls(n_components=3)
    assert estimator._get_doc_link() == ""
    html = estimator_html_repr(estimator)
    # Neither the "?" button nor the parameters' links to their entries.
    assert "href=" not in html


def test_the_detectors_docs_name_no_method_it_lacks():
    # The detector has no partial_fit: its shared parameter and attribute
    # texts must not promise one.
    assert not hasattr(SparseAutoencoderOutlierDetector(solver="adam"), "partial_fit")
    assert "partial_fit" not in SparseAutoencoderOutlierDetector.__doc__
