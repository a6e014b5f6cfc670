"""Tests for the displays in skl_sparseae._plotting."""

import pathlib
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import (
    FilterDisplay,
    SparseAutoencoderOutlierDetector,
    SparseAutoencoderTransformer,
    SparsityDisplay,
)
from skl_sparseae.metrics import unit_activity

from ._helpers import ignore_convergence_warnings, run_python

# The model the displays draw is a short fit that stops on max_iter.
pytestmark = ignore_convergence_warnings


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; figures closed afterwards."""
    # Only the drawing tests need matplotlib; the ImportError test below runs
    # whether or not it is installed.
    pytest.importorskip(
        "matplotlib", reason="drawing needs matplotlib (the 'plot' extra)"
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


@pytest.fixture(scope="module")
def fitted_sae(digits):
    X, _ = digits
    return SparseAutoencoderTransformer(
        n_components=12, beta=3.0, max_iter=15, random_state=0
    ).fit(X)


def test_filter_display_from_estimator(pyplot, fitted_sae):
    display = FilterDisplay.from_estimator(fitted_sae, image_shape=(8, 8), n_cols=4)
    assert isinstance(display, FilterDisplay)
    # 12 tiles in 3 rows of 4, 8x8 each with 1-pixel borders.
    assert display.mosaic_.shape == (3 * 9 + 1, 4 * 9 + 1)
    assert display.figure_ is display.ax_.figure
    assert display.im_.axes is display.ax_
    np.testing.assert_array_equal(display.im_.get_array(), display.mosaic_)


def test_filter_display_tiles_are_the_normalised_filters(pyplot, fitted_sae):
    display = FilterDisplay.from_estimator(fitted_sae, n_cols=4, padding=2)
    for index in (0, 5, 11):
        row, col = divmod(index, 4)
        top, left = 2 + row * 10, 2 + col * 10
        tile = display.mosaic_[top : top + 8, left : left + 8]
        expected = fitted_sae.components_[index].reshape(8, 8).astype(np.float64)
        expected = expected - expected.mean()
        expected /= np.abs(expected).max()
        np.testing.assert_allclose(tile, expected, rtol=1e-6, atol=1e-12)
    # Borders are black: the lowest value of the [-1, 1] grey scale.
    assert np.all(display.mosaic_[:2] == -1.0)
    assert display.mosaic_.min() == -1.0 and display.mosaic_.max() <= 1.0


def test_filter_display_shared_scale(pyplot):
    filters = np.array([[0.0, 1.0, 2.0, 4.0], [0.0, 0.5, 0.5, 1.0]])
    display = FilterDisplay(filters, image_shape=(2, 2)).plot(
        normalize=False, padding=0, n_cols=2
    )
    np.testing.assert_allclose(display.mosaic_[:, :2], [[0.0, 0.25], [0.5, 1.0]])
    np.testing.assert_allclose(display.mosaic_[:, 2:], [[0.0, 0.125], [0.125, 0.25]])


@pytest.mark.parametrize(
    "n_filters, n_cols, expected_width",
    [
        (16, None, 4.0),  # a square mosaic in a square figure
        (8, 4, 4.0 * 33 / 17),  # two rows of four 7x7 tiles, 1-pixel borders
        (40, 40, 12.0),  # one long row: the width is capped
    ],
)
def test_filter_display_new_figure_has_the_mosaic_aspect(
    pyplot, n_filters, n_cols, expected_width
):
    filters = np.random.RandomState(0).normal(size=(n_filters, 7 * 7))
    display = FilterDisplay(filters, image_shape=(7, 7)).plot(n_cols=n_cols)
    np.testing.assert_allclose(display.figure_.get_size_inches(), (expected_width, 4.0))


def test_filter_display_uses_given_ax_and_colour(pyplot):
    fig, (ax1, ax2) = pyplot.subplots(1, 2)
    filters = np.random.RandomState(0).normal(size=(5, 4 * 4 * 3))
    display = FilterDisplay(filters, image_shape=(4, 4, 3)).plot(ax=ax2)
    assert display.ax_ is ax2 and display.figure_ is fig
    # 5 tiles of 4x4 in 2 rows of 3.
    assert display.mosaic_.shape == (2 * 5 + 1, 3 * 5 + 1, 3)
    assert 0.0 <= display.mosaic_.min() and display.mosaic_.max() <= 1.0
    assert not ax1.images


def test_filter_display_decoder_weights(pyplot, fitted_sae):
    display = FilterDisplay.from_estimator(
        fitted_sae, weights="decoder", normalize=False, padding=0, n_cols=12
    )
    expected = (
        fitted_sae.decoder_components_ / np.abs(fitted_sae.decoder_components_).max()
    )
    np.testing.assert_allclose(
        display.mosaic_[:, :8], expected[0].reshape(8, 8), rtol=1e-6
    )


def test_filter_display_pipeline_and_other_estimators(pyplot, digits):
    X, y = digits
    pca = PCA(n_components=6).fit(X)
    assert FilterDisplay.from_estimator(pca).mosaic_.shape == (19, 28)
    with pytest.raises(ValueError, match="needs a fitted estimator"):
        FilterDisplay.from_estimator(pca, weights="decoder")
    pipe = make_pipeline(MinMaxScaler(), PCA(n_components=4), LogisticRegression())
    pipe.fit(X, y)
    display = FilterDisplay.from_estimator(pipe, max_filters=2, n_cols=2)
    assert display.mosaic_.shape == (10, 19)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_shape": (7, 7)}, "holds 49 values"),
        ({"image_shape": (4, 4, 4)}, "image_shape must be"),
        ({"n_cols": 0}, "n_cols == 0, must be >= 1"),
        ({"max_filters": 0}, "max_filters == 0, must be >= 1"),
        ({"weights": "hidden"}, "weights must be"),
    ],
)
def test_filter_display_errors(pyplot, fitted_sae, kwargs, message):
    with pytest.raises(ValueError, match=message):
        FilterDisplay.from_estimator(fitted_sae, **kwargs)


# Issue 13, item 10: each of these used to fail deep inside numpy or
# matplotlib with a message that named no parameter ("'int' object is not
# iterable", a reshape error, a ZeroDivisionError), or to draw something
# other than what was asked ((4.5, 4) drawn as (4, 4)).
_FILTERS = np.random.RandomState(0).normal(size=(4, 16))


@pytest.mark.parametrize(
    "filters, image_shape, error, message",
    [
        (_FILTERS, 4, TypeError, r"image_shape must be .* got 4 of type int"),
        (_FILTERS, None, TypeError, r"image_shape must be .* got None"),
        (_FILTERS, "44", TypeError, r"image_shape must be .* got '44'"),
        (_FILTERS, (4.5, 4), TypeError, r"int sizes; got \(4.5, 4\)"),
        (_FILTERS, (4.0, 4.0), TypeError, r"int sizes; got \(4.0, 4.0\)"),
        (_FILTERS[:, :1], (True, True), TypeError, "int sizes"),
        (_FILTERS, (-4, -4), ValueError, r"positive sizes; got \(-4, -4\)"),
        (_FILTERS, (16, 1, 1), ValueError, "3 channels"),
        (_FILTERS, (2, 2, 2, 2), ValueError, r"got \(2, 2, 2, 2\)"),
        (_FILTERS, (4, 3), ValueError, "holds 12 values"),
        (_FILTERS[:0], (4, 4), ValueError, r"empty \(shape \(0, 16\)\)"),
        (np.zeros((3, 0)), (1, 1), ValueError, "filters is empty"),
        (_FILTERS[0], (4, 4), ValueError, "filters must be a 2-D array"),
        (np.full((2, 16), np.nan), (4, 4), ValueError, "filters contains NaN"),
        (np.full((2, 16), np.inf), (4, 4), ValueError, "filters contains infinity"),
        ([["a"] * 16], (4, 4), ValueError, "filters must be an array of numbers"),
    ],
)
def test_filter_display_checks_filters_and_image_shape(
    pyplot, filters, image_shape, error, message
):
    with pytest.raises(error, match=message):
        FilterDisplay(filters, image_shape=image_shape).plot()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_cols": 2.0}, TypeError, "n_cols must be an instance of int, not float"),
        ({"n_cols": True}, TypeError, "n_cols must be a number, not bool"),
        ({"n_cols": -1}, ValueError, "n_cols == -1, must be >= 1"),
        ({"padding": True}, TypeError, "padding must be a number, not bool"),
        ({"padding": 1.5}, TypeError, "padding must be an instance of int"),
        ({"padding": -1}, ValueError, "padding == -1, must be >= 0"),
        ({"normalize": "no"}, TypeError, "normalize must be an instance of .*bool"),
        ({"imshow_kw": [1]}, TypeError, "imshow_kw must be a dict"),
    ],
)
def test_filter_display_checks_plot_arguments(pyplot, kwargs, error, message):
    display = FilterDisplay(_FILTERS, image_shape=(4, 4))
    with pytest.raises(error, match=message):
        display.plot(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"image_shape": 8}, TypeError, "image_shape must be"),
        ({"image_shape": (8.5, 8)}, TypeError, "int sizes"),
        ({"max_filters": True}, TypeError, "max_filters must be a number, not bool"),
        ({"max_filters": 2.0}, TypeError, "max_filters must be an instance of int"),
        ({"weights": ["encoder"]}, ValueError, "weights must be"),
    ],
)
def test_filter_display_from_estimator_checks_arguments(
    pyplot, fitted_sae, kwargs, error, message
):
    with pytest.raises(error, match=message):
        FilterDisplay.from_estimator(fitted_sae, **kwargs)


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_array])
def test_filter_display_sparse_filters(pyplot, container):
    # Sparse filters used to fail with "setting an array element with a
    # sequence"; they are drawn as their dense equivalent.
    filters = _FILTERS * (np.abs(_FILTERS) > 1)
    expected = FilterDisplay(filters, image_shape=(4, 4)).plot().mosaic_
    display = FilterDisplay(container(filters), image_shape=(4, 4)).plot()
    np.testing.assert_array_equal(display.mosaic_, expected)

    class SparseComponents:
        components_ = container(filters)

    # The first two filters: the first row of the 2 x 2 mosaic above.
    display = FilterDisplay.from_estimator(SparseComponents(), max_filters=2)
    np.testing.assert_array_equal(display.mosaic_, expected[:6])


def test_filter_display_non_square_needs_image_shape(pyplot):
    pca = PCA(n_components=2).fit(np.random.RandomState(0).normal(size=(10, 6)))
    with pytest.raises(ValueError, match="not a perfect square"):
        FilterDisplay.from_estimator(pca)
    # Two 2x3 tiles side by side, with 1-pixel borders.
    display = FilterDisplay.from_estimator(pca, image_shape=(2, 3))
    assert display.mosaic_.shape == (2 + 2, 2 * 4 + 1)


def test_displays_need_a_fitted_estimator(pyplot):
    with pytest.raises(NotFittedError):
        FilterDisplay.from_estimator(SparseAutoencoderTransformer())
    with pytest.raises(NotFittedError):
        SparsityDisplay.from_estimator(SparseAutoencoderTransformer())


def test_sparsity_display_from_estimator(pyplot, fitted_sae):
    display = SparsityDisplay.from_estimator(fitted_sae, bins=10)
    assert display.ax_.shape == (2,)
    hist_ax, loss_ax = display.ax_
    assert display.figure_ is hist_ax.figure is loss_ax.figure
    heights = [bar.get_height() for bar in display.bars_]
    assert sum(heights) == fitted_sae.n_components
    assert display.rho_line_.get_xdata()[0] == fitted_sae.rho
    np.testing.assert_allclose(
        display.mean_line_.get_xdata()[0], fitted_sae.mean_activation_.mean(), rtol=1e-6
    )
    np.testing.assert_allclose(display.loss_line_.get_ydata(), fitted_sae.loss_curve_)
    # A log scale only for a loss that falls by a decade or more.
    curve = np.asarray(fitted_sae.loss_curve_)
    expected = "log" if curve.max() >= 10 * curve.min() else "linear"
    assert loss_ax.get_yscale() == expected


@pytest.mark.parametrize(
    "loss_curve, scale",
    [([30.0, 5.0, 2.9], "log"), ([3.0, 2.9, 2.93], "linear"), ([1.0, -0.5], "linear")],
)
def test_sparsity_display_loss_scale(pyplot, loss_curve, scale):
    display = SparsityDisplay(mean_activation=[0.1], rho=0.1, loss_curve=loss_curve)
    assert display.plot().ax_[1].get_yscale() == scale


@pytest.mark.parametrize("width", [9.0, 4.0])
def test_sparsity_display_loss_ticks_do_not_overlap(pyplot, width):
    # 240 iterations on the loss panel of a wide figure, and of a narrow
    # panel such as a subplot beside a filter mosaic.
    display = SparsityDisplay(
        mean_activation=[0.05, 0.06], rho=0.05, loss_curve=np.geomspace(60, 0.7, 240)
    )
    fig, ax = pyplot.subplots(figsize=(width, 3.5), layout="constrained")
    loss_ax = display.plot(ax=ax).ax_[1]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [
        label.get_window_extent(renderer)
        for label in loss_ax.get_xticklabels()
        if label.get_visible()
        and label.get_text()
        and loss_ax.get_xlim()[0] <= label.get_position()[0] <= loss_ax.get_xlim()[1]
    ]
    assert len(boxes) >= 2
    for left, right in zip(boxes, boxes[1:]):
        assert left.x1 < right.x0, [
            label.get_text() for label in loss_ax.get_xticklabels()
        ]


def test_sparsity_display_on_new_data_and_pipeline(pyplot, digits, fitted_sae):
    X, _ = digits
    display = SparsityDisplay.from_estimator(fitted_sae, X[:50])
    expected = fitted_sae.transform(X[:50]).mean(axis=0).mean()
    np.testing.assert_allclose(display.mean_line_.get_xdata()[0], expected, rtol=1e-6)
    pipe = make_pipeline(fitted_sae)
    assert SparsityDisplay.from_estimator(pipe).ax_.shape == (2,)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_sparsity_display_on_new_data_of_an_outlier_detector(
    pyplot, digits, fitted_sae, container
):
    # The detector fits the same model as the transformer but has no
    # transform: its activations come from the same fitted weights.
    X, _ = digits
    detector = SparseAutoencoderOutlierDetector(**fitted_sae.get_params()).fit(X)
    np.testing.assert_array_equal(detector.components_, fitted_sae.components_)
    display = SparsityDisplay.from_estimator(detector, container(X[:50]))
    # The same computation as transform's, so the same bits.
    np.testing.assert_array_equal(
        display.mean_activation, fitted_sae.transform(container(X[:50])).mean(axis=0)
    )
    np.testing.assert_allclose(display.loss_line_.get_ydata(), detector.loss_curve_)

    # A pipeline takes its own input: the scaler transforms it first.
    pipe = make_pipeline(
        MinMaxScaler(), SparseAutoencoderOutlierDetector(**fitted_sae.get_params())
    ).fit(X * 16.0)
    display = SparsityDisplay.from_estimator(pipe, X[:50] * 16.0)
    scaled = pipe[0].transform(X[:50] * 16.0)
    expected = expit(scaled @ pipe[-1].components_.T + pipe[-1].intercept_hidden_)
    np.testing.assert_allclose(display.mean_activation, expected.mean(axis=0))
    # The checks of transform: the number of features.
    with pytest.raises(ValueError, match="features"):
        SparsityDisplay.from_estimator(detector, X[:50, :10])


def _legend_title(display):
    return display.ax_[0].get_legend().get_title().get_text()


def test_sparsity_display_states_the_activity_figures(pyplot, digits, fitted_sae):
    X, _ = digits
    display = SparsityDisplay.from_estimator(fitted_sae, X[:200])
    expected = unit_activity(fitted_sae, X[:200])
    assert display.activity.keys() == expected.keys()
    assert display.activity.mean_active_units == expected.mean_active_units
    np.testing.assert_array_equal(display.activity.dead_units, expected.dead_units)
    assert 0 < expected.mean_active_units < fitted_sae.n_components
    assert _legend_title(display) == (
        f"{expected.mean_active_units:.3g} of 12 units active per sample\n"
        f"dead units: {len(expected.dead_units)}, "
        f"dense units: {len(expected.dense_units)}"
    )
    # Without data there are no activity figures to state.
    display = SparsityDisplay.from_estimator(fitted_sae)
    assert display.activity is None
    assert _legend_title(display) == ""


def test_sparsity_display_counts_dead_and_dense_units(pyplot):
    activity = {
        "mean_active_units": 12.345,
        "dead_units": [0, 1, 2],
        "dense_units": np.array([5]),
    }
    display = SparsityDisplay(
        mean_activation=np.linspace(0, 0.5, 36), rho=0.05, activity=activity
    ).plot()
    assert _legend_title(display) == (
        "12.3 of 36 units active per sample\ndead units: 3, dense units: 1"
    )


def test_sparsity_display_pipeline_takes_the_raw_input(pyplot, digits):
    # As in scikit-learn's displays, a pipeline is given its own input; the
    # autoencoder may sit before a classifier.
    X, y = digits
    pipe = make_pipeline(
        MinMaxScaler(),
        SparseAutoencoderTransformer(
            n_components=12, beta=3.0, max_iter=15, random_state=0
        ),
        LogisticRegression(max_iter=200),
    ).fit(X * 16.0, y)
    display = SparsityDisplay.from_estimator(pipe, X[:100] * 16.0)
    np.testing.assert_allclose(
        display.mean_activation, pipe[:2].transform(X[:100] * 16.0).mean(axis=0)
    )
    # The same figures as the metrics, which take the pipeline's input too.
    expected = unit_activity(pipe[:2], X[:100] * 16.0)
    assert display.activity.mean_active_units == expected.mean_active_units
    np.testing.assert_array_equal(
        display.activity.active_fraction, expected.active_fraction
    )


@pytest.mark.parametrize(
    "activity, error, message",
    [
        ([1.0, [], []], TypeError, "activity must be a dict .* got list"),
        ({"mean_active_units": 1.0}, ValueError, "lacks dead_units, dense_units"),
        (
            {"mean_active_units": "a", "dead_units": [], "dense_units": []},
            TypeError,
            r"activity\['mean_active_units'\] must be an instance of",
        ),
        (
            {"mean_active_units": 3.0, "dead_units": [], "dense_units": []},
            ValueError,
            r"activity\['mean_active_units'\] == 3.0, must be <= 2",
        ),
        (
            {"mean_active_units": np.nan, "dead_units": [], "dense_units": []},
            ValueError,
            "must be finite",
        ),
        (
            {"mean_active_units": 1.0, "dead_units": [[0]], "dense_units": []},
            ValueError,
            r"activity\['dead_units'\] must be a 1-D array .* shape \(1, 1\)",
        ),
        (
            {"mean_active_units": 1.0, "dead_units": [], "dense_units": [0, 1, 0]},
            ValueError,
            r"activity\['dense_units'\] holds 3 units; mean_activation has only 2",
        ),
    ],
)
def test_sparsity_display_checks_activity(pyplot, activity, error, message):
    display = SparsityDisplay(mean_activation=[0.1, 0.2], rho=0.1, activity=activity)
    with pytest.raises(error, match=message):
        display.plot()


def test_sparsity_display_axes(pyplot):
    fig, axes = pyplot.subplots(2, 2)
    display = SparsityDisplay(mean_activation=[0.1, 0.2], rho=0.1).plot(ax=axes[1])
    assert list(display.ax_) == list(axes[1])
    assert display.loss_line_ is None and display.bounding_ax_ is None

    display = SparsityDisplay(
        mean_activation=[0.1, 0.2], rho=0.1, loss_curve=[2.0, 1.0]
    ).plot(ax=axes[0, 0])
    assert display.bounding_ax_ is axes[0, 0]
    assert not axes[0, 0].axison
    assert display.figure_ is fig
    assert all(ax not in axes.ravel() for ax in display.ax_)

    with pytest.raises(ValueError, match="one Axes or two Axes"):
        SparsityDisplay(mean_activation=[0.1], rho=0.1).plot(ax=axes.ravel()[:3])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"rho": "a"}, TypeError, "rho must be an instance of float, not str"),
        ({"rho": None}, TypeError, "rho must be an instance of float, not NoneType"),
        ({"rho": True}, TypeError, "rho must be a number, not bool"),
        ({"rho": np.array([0.1])}, TypeError, "rho must be an instance of float"),
        ({"rho": -1}, ValueError, "rho == -1, must be > 0"),
        ({"rho": 1.0}, ValueError, "rho == 1.0, must be < 1"),
        ({"mean_activation": []}, ValueError, "mean_activation is empty"),
        ({"mean_activation": [[0.1, 0.2]]}, ValueError, r"1-D .* shape \(1, 2\)"),
        ({"mean_activation": [np.nan]}, ValueError, "mean_activation contains NaN"),
        ({"mean_activation": [2.0, 3.0]}, ValueError, r"got values in \[2, 3\]"),
        (
            {"mean_activation": sp.csr_matrix([[0.1, 0.2]])},
            TypeError,
            "mean_activation must be a dense 1-D array-like",
        ),
        ({"mean_activation": "ab"}, ValueError, "must be an array of numbers"),
        ({"loss_curve": [[2.0, 1.0]]}, ValueError, "loss_curve must be a 1-D array"),
        ({"loss_curve": [np.nan, 1.0]}, ValueError, "loss_curve contains NaN"),
    ],
)
def test_sparsity_display_checks_arguments(pyplot, kwargs, error, message):
    # Neighbouring arguments: these used to raise bare numpy errors
    # ("could not convert string to float", "only 0-dimensional arrays ..."),
    # or to draw silently wrong panels (2-D input flattened, values outside
    # the histogram's [0, 1] range dropped, NaN turning the plot blank).
    params = {"mean_activation": [0.1, 0.2], "rho": 0.1, **kwargs}
    with pytest.raises(error, match=message):
        SparsityDisplay(**params).plot()


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"bins": 0}, ValueError, "bins == 0, must be >= 1"),
        ({"bins": 2.5}, TypeError, "bins must be an int, a sequence of bin edges"),
        ({"bins": True}, TypeError, "bins must be an int"),
        ({"bins": [0.1]}, ValueError, "at least 2 bin edges"),
        ({"hist_kw": [1]}, TypeError, "hist_kw must be a dict"),
        ({"line_kw": "red"}, TypeError, "line_kw must be a dict"),
    ],
)
def test_sparsity_display_checks_plot_arguments(pyplot, kwargs, error, message):
    display = SparsityDisplay(mean_activation=[0.1, 0.2], rho=0.1, loss_curve=[2, 1])
    with pytest.raises(error, match=message):
        display.plot(**kwargs)


def test_sparsity_display_bins_rule_and_edges(pyplot):
    # A binning rule used to fail in int("auto"); it goes to matplotlib.
    display = SparsityDisplay(mean_activation=[0.1, 0.2, 0.3], rho=0.1)
    assert len(display.plot(bins="auto").bars_) >= 1
    assert len(display.plot(bins=[0.0, 0.15, 0.5]).bars_) == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda est: FilterDisplay.from_estimator(est),
        lambda est: FilterDisplay(est.components_, image_shape=(8, 8)).plot(),
        lambda est: SparsityDisplay.from_estimator(est),
        lambda est: SparsityDisplay(mean_activation=[0.1], rho=0.1).plot(),
    ],
)
def test_missing_matplotlib_names_the_extra(monkeypatch, fitted_sae, call):
    # A None entry in sys.modules makes "import matplotlib" raise ImportError,
    # as it would without the package installed.
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        call(fitted_sae)


def test_import_does_not_need_matplotlib():
    # The package must import without the optional extra; checked in a clean
    # interpreter so that earlier imports cannot hide a top-level import.
    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "import skl_sparseae; print(skl_sparseae.FilterDisplay.__name__)"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FilterDisplay"


# The figure check that the documentation build applies to every gallery
# figure (docs/_ext/figure_check.py), applied here to the displays' own
# layouts.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "docs" / "_ext"))
import figure_check  # noqa: E402


def _drawn_tick_labels(axis):
    """The tick labels drawn: those of ticks inside the view limits."""
    low, high = sorted(axis.get_view_interval())
    return [
        (tick.get_loc(), tick.label1)
        for tick in axis.get_major_ticks()
        if low <= tick.get_loc() <= high and tick.label1.get_text()
    ]


def _sparsity_layouts(plt, display):
    """Draw ``display`` in each layout the documentation uses."""
    yield display.plot()
    _, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
    yield display.plot(ax=axes)
    _, axes = plt.subplots(2, 2, figsize=(7, 6), layout="constrained")
    yield display.plot(ax=axes[1])
    _, axes = plt.subplots(2, 1, figsize=(9, 7), layout="constrained")
    yield display.plot(ax=axes[0])


# A cluster just above rho, as on natural image patches (rho = 0.01), a
# spread of dense units, and units on both sides of a large rho.
_ACTIVATIONS = {
    "cluster": (0.0100 + 0.001 * np.random.RandomState(0).rand(49), 0.01),
    "dense": (np.random.RandomState(1).beta(2, 3, size=64), 0.05),
    "large rho": (np.random.RandomState(2).uniform(0.6, 1.0, size=30), 0.8),
}


@pytest.mark.parametrize("case", list(_ACTIVATIONS))
def test_sparsity_display_histogram_reads_against_rho(pyplot, case):
    mean_activation, rho = _ACTIVATIONS[case]
    n_units = len(mean_activation)
    # The widest figures the title can show: two-digit counts, and a mean
    # written with four digits.
    activity = {
        "mean_active_units": 0.0123,
        "dead_units": np.arange(n_units - 10),
        "dense_units": np.arange(10),
    }
    display = SparsityDisplay(
        mean_activation=mean_activation,
        rho=rho,
        loss_curve=np.geomspace(3, 0.1, 50),
        activity=activity,
    )
    for drawn in _sparsity_layouts(pyplot, display):
        hist_ax = drawn.ax_[0]
        figure = drawn.figure_
        figure.draw_without_rendering()
        renderer = figure.canvas.get_renderer()
        # The axis starts at zero and holds rho with room on both sides of
        # it, so that a unit's distance to the target reads against rho.
        low, high = hist_ax.get_xlim()
        assert low == 0.0
        assert high >= min(2 * rho, 1.0) and high >= mean_activation.max()
        # Tick labels: distinct numbers, written as their positions, apart.
        ticks = _drawn_tick_labels(hist_ax.xaxis)
        assert len(ticks) >= 3
        texts = [label.get_text().replace("\N{MINUS SIGN}", "-") for _, label in ticks]
        assert len(set(texts)) == len(texts)
        for (loc, _), text in zip(ticks, texts):
            assert float(text) == pytest.approx(loc, abs=1e-12), texts
        boxes = [label.get_window_extent(renderer) for _, label in ticks]
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 < right.x0, texts
        # The legend is above the plot area, clear of every bar.
        legend_box = hist_ax.get_legend().get_window_extent(renderer)
        assert legend_box.y0 >= hist_ax.get_window_extent(renderer).y1 - 1
        for bar in drawn.bars_:
            if bar.get_height() > 0:
                assert not legend_box.overlaps(bar.get_window_extent(renderer))
        assert figure_check.texts_outside(figure) == []
        pyplot.close(figure)


def _fit(digits, **params):
    X, _ = digits
    return SparseAutoencoderTransformer(
        n_components=8, beta=3.0, max_iter=4, tol=0, random_state=0, **params
    ).fit(X)


@pytest.mark.parametrize(
    "solver, expected", [("lbfgs", "L-BFGS iteration"), ("adam", "epoch")]
)
def test_sparsity_display_names_the_iterations_of_the_solver(
    pyplot, digits, solver, expected
):
    sae = _fit(digits, solver=solver)
    display = SparsityDisplay.from_estimator(sae)
    loss_ax = display.ax_[1]
    assert display.iteration_label == expected
    assert loss_ax.get_xlabel() == expected
    display.figure_.draw_without_rendering()
    # One point per iteration: whole-number ticks only.
    ticks = _drawn_tick_labels(loss_ax.xaxis)
    assert ticks and all(float(loc).is_integer() for loc, _ in ticks)
    labels = [label.get_text() for _, label in ticks]
    assert all(text.isdigit() for text in labels), labels

    X, _ = digits
    detector = SparseAutoencoderOutlierDetector(
        n_components=8, max_iter=3, solver=solver, random_state=0
    ).fit(X)
    assert SparsityDisplay.from_estimator(detector).iteration_label == expected


def test_sparsity_display_iteration_label_of_partial_fit(pyplot, digits):
    X, _ = digits
    sae = SparseAutoencoderTransformer(n_components=8, solver="sgd", random_state=0)
    for start in range(0, 400, 100):
        sae.partial_fit(X[start : start + 100])
    display = SparsityDisplay.from_estimator(sae, iteration_label="partial_fit call")
    assert display.ax_[1].get_xlabel() == "partial_fit call"
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), [1, 2, 3, 4])
    with pytest.raises(TypeError, match="iteration_label must be a str; got 3"):
        SparsityDisplay(mean_activation=[0.1], rho=0.1, iteration_label=3).plot()


@pytest.mark.parametrize(
    "draw",
    [
        lambda plt, est: FilterDisplay.from_estimator(est),
        lambda plt, est: FilterDisplay.from_estimator(
            est, ax=plt.subplots(figsize=(4, 4), layout="constrained")[1]
        ),
        lambda plt, est: SparsityDisplay.from_estimator(est),
        lambda plt, est: SparsityDisplay.from_estimator(
            est, ax=plt.subplots(1, 2, figsize=(7, 3), layout="constrained")[1]
        ),
        lambda plt, est: SparsityDisplay.from_estimator(
            est, ax=plt.subplots(2, 2, figsize=(7, 6), layout="constrained")[1][0]
        ),
        lambda plt, est: SparsityDisplay.from_estimator(
            est, ax=plt.subplots(figsize=(9, 3.5), layout="constrained")[1]
        ),
    ],
    ids=[
        "filters",
        "filters-4x4",
        "sparsity",
        "sparsity-1x2",
        "sparsity-2x2",
        "sparsity-bounding",
    ],
)
def test_display_figures_keep_their_text_inside(pyplot, fitted_sae, draw):
    display = draw(pyplot, fitted_sae)
    assert figure_check.texts_outside(display.figure_) == []


def test_figure_check_finds_text_cut_off(pyplot):
    # A gallery figure as it once was: a narrow figure without a layout
    # engine loses its y label on the left.
    fig, ax = pyplot.subplots(figsize=(6, 3))
    ax.plot([1, 2, 3], [0.41, 0.32, 0.3])
    ax.set_yscale("log")
    ax.set_ylabel("mean minibatch objective")
    fig.text(0.9, 0.5, "past the right edge")
    problems = figure_check.texts_outside(fig)
    assert any("past the right edge" in line for line in problems), problems
    assert any(
        "the y axis (labelled 'mean minibatch objective')" in p for p in problems
    )
    # The same figure with a constrained layout and its text inside.
    fig, ax = pyplot.subplots(figsize=(6, 3), layout="constrained")
    ax.plot([1, 2, 3], [0.41, 0.32, 0.3])
    ax.set_yscale("log")
    ax.set_ylabel("mean minibatch objective")
    assert figure_check.texts_outside(fig) == []
