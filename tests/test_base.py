"""What the two estimators share through ``_BaseSparseAutoencoder``."""

import inspect

import pytest
from sklearn.utils._repr_html.estimator import estimator_html_repr

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer
from skl_sparseae._base import _BaseSparseAutoencoder


def _defaults(cls):
    return {
        name: parameter.default
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }


@pytest.mark.parametrize(
    "cls", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_parameters_defaults_and_constraints_cannot_drift_apart(cls):
    base = _defaults(_BaseSparseAutoencoder)
    own = _defaults(cls)
    # Every shared parameter, with the base's default, in the base's order.
    assert {name: own[name] for name in base} == base
    assert [name for name in own if name in base] == list(base)
    for name in base:
        assert (
            cls._parameter_constraints[name]
            is (_BaseSparseAutoencoder._parameter_constraints[name])
        )
    # Nothing but the detector's contamination is extra.
    assert set(own) - set(base) == (
        {"contamination"} if cls is SparseAutoencoderOutlierDetector else set()
    )
    assert set(cls._parameter_constraints) == set(own)


def test_the_detector_documents_every_parameter_and_attribute_as_the_transformer():
    numpydoc = pytest.importorskip("numpydoc.docscrape")
    transformer = numpydoc.ClassDoc(SparseAutoencoderTransformer)
    detector = numpydoc.ClassDoc(SparseAutoencoderOutlierDetector)
    for section in ("Parameters", "Attributes"):
        shared = {p.name: p for p in transformer[section]}
        for entry in detector[section]:
            if entry.name in shared:
                assert entry.desc == shared[entry.name].desc
        assert set(shared) <= {entry.name for entry in detector[section]}


@pytest.mark.parametrize(
    "cls", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_html_repr_links_to_the_api_page(cls):
    estimator = cls(n_components=3)
    link = estimator._get_doc_link()
    assert link.endswith(f"/generated/skl_sparseae.{cls.__name__}.html")
    html = estimator_html_repr(estimator)
    assert link in html
    # Each parameter's description, from the docstring, as its tooltip.
    assert "Target mean activation of each hidden unit" in html


def test_doc_link_follows_the_environment(monkeypatch):
    import skl_sparseae._base as base

    monkeypatch.setenv("SKL_SPARSEAE_DOC_URL", "file:///docs/_build/html/")
    assert base._doc_link_template() == (
        "file:///docs/_build/html/generated/skl_sparseae.{estimator_name}.html"
    )
    monkeypatch.delenv("SKL_SPARSEAE_DOC_URL")
    assert base._doc_link_template() == base.DEFAULT_DOC_LINK_TEMPLATE


def test_the_detector_refuses_an_unknown_parameter_by_its_own_name():
    # Its signature is the base's parameters shown through __signature__:
    # a misspelt one is reported as for an explicit signature.
    with pytest.raises(TypeError, match=r"^SparseAutoencoderOutlierDetector\.__init__"):
        SparseAutoencoderOutlierDetector(rhoo=0.1)
    detector = SparseAutoencoderOutlierDetector(3, rho=0.2, contamination=0.1)
    assert detector.get_params()["rho"] == 0.2
    assert detector.n_components == 3 and detector.contamination == 0.1
