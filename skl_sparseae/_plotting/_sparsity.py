"""Mean hidden activations against the sparsity target, and the loss curve."""

# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import validate_data

from .._inference import encode
from .._sklearn_compat import check_matplotlib_support
from ..metrics import unit_activity
from ._utils import check_1d, check_kwargs, check_number, find_fitted_step

# What one entry of loss_curve_ is, for each solver.
_ITERATION_LABELS = {"lbfgs": "L-BFGS iteration", "adam": "epoch", "sgd": "epoch"}


class SparsityDisplay:
    """Sparsity diagnostics of a fitted sparse autoencoder.

    Two panels: the histogram of the hidden units' mean activations with the
    target ``rho`` marked, and the objective after each iteration of the
    solver (an L-BFGS iteration or an epoch). A well-tuned model has its
    histogram bunched around ``rho`` and a loss curve that has flattened out.
    With ``activity``, the title of the histogram's legend states how many
    units are active per sample and how many are dead or dense: a healthy
    sparse code has few active units per sample and no dead units. It is
    recommended to create it with :meth:`from_estimator`; all parameters are
    stored as attributes.

    Read more in the :ref:`User Guide <monitoring_output>`.

    Parameters
    ----------
    mean_activation : array-like of shape (n_components,)
        Mean activation of each hidden unit, in [0, 1], for instance
        ``mean_activation_`` of a fitted
        :class:`~skl_sparseae.SparseAutoencoderTransformer`.

    rho : float
        Target mean activation, in (0, 1).

    loss_curve : array-like of shape (n_iter,), default=None
        Objective after each iteration. None leaves the loss panel empty.

    iteration_label : str, default="iteration"
        What one entry of ``loss_curve`` is, written under the loss panel's
        x axis: for instance "L-BFGS iteration", "epoch" or
        "partial_fit call".

    activity : dict, default=None
        Activity figures of the hidden units on some data, such as the
        :class:`~sklearn.utils.Bunch` that
        :func:`skl_sparseae.metrics.unit_activity` returns: the mean number
        of active units per sample (``"mean_active_units"``) and the number
        of dead and of dense units (the lengths of ``"dead_units"`` and
        ``"dense_units"``) are the title of the histogram's legend, at the
        threshold the figures were measured with. None shows no figures.

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        The histogram's bars.

    rho_line_ : matplotlib Line2D
        Vertical line at ``rho``.

    mean_line_ : matplotlib Line2D
        Vertical line at the average of ``mean_activation``.

    loss_line_ : matplotlib Line2D or None
        The loss curve; None when there is no loss curve to draw.

    ax_ : ndarray of shape (2,), dtype=object
        The histogram's axes and the loss curve's axes.

    figure_ : matplotlib Figure
        Figure containing both panels.

    bounding_ax_ : matplotlib Axes or None
        The single axes given as ``ax``, inside which both panels are drawn;
        None otherwise.

    See Also
    --------
    SparsityDisplay.from_estimator : Plot the diagnostics of a fitted model.
    FilterDisplay : The learned filters as image tiles.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skl_sparseae import SparsityDisplay
    >>> display = SparsityDisplay(
    ...     mean_activation=[0.04, 0.05, 0.06],
    ...     rho=0.05,
    ...     loss_curve=[3.0, 2.0, 1.5],
    ...     iteration_label="epoch",
    ... ).plot()
    >>> display.ax_.shape
    (2,)
    >>> display.ax_[1].get_xlabel()
    'epoch'
    """

    def __init__(
        self,
        *,
        mean_activation,
        rho,
        loss_curve=None,
        iteration_label="iteration",
        activity=None,
    ):
        self.mean_activation = mean_activation
        self.rho = rho
        self.loss_curve = loss_curve
        self.iteration_label = iteration_label
        self.activity = activity

    def plot(self, *, ax=None, bins=20, hist_kw=None, line_kw=None):
        """Plot the histogram and the loss curve.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of two Axes, default=None
            Where to draw. None creates a new figure with two side-by-side
            axes. Two axes receive the histogram and the loss curve. A single
            axes is used as a bounding box: it is hidden and the two panels
            are drawn inside its area (it must belong to a grid of subplots).
            The legend sits above the histogram, outside the bars: a figure
            made with ``layout="constrained"`` leaves room for it.

        bins : int, sequence of float or str, default=20
            Histogram bins, passed to :meth:`matplotlib.axes.Axes.hist`. An
            integer means that many equal bins from 0 to twice ``rho`` or to
            the largest mean activation, whichever is larger: the x axis
            starts at zero, so that the gap between a unit and the target
            reads against ``rho`` itself. A sequence gives the bin edges, a
            string one of NumPy's binning rules (such as "auto").

        hist_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.hist`.

        line_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the loss curve.

        Returns
        -------
        display : :class:`~skl_sparseae.SparsityDisplay`
            The display, with the artists, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        mean_activation = check_1d(
            self.mean_activation, "mean_activation", allow_empty=False
        )
        if mean_activation.min() < 0 or mean_activation.max() > 1:
            raise ValueError(
                "mean_activation must hold mean activations of sigmoid units, in "
                f"[0, 1]; got values in [{mean_activation.min():.6g}, "
                f"{mean_activation.max():.6g}]."
            )
        rho = _check_rho(self.rho)
        loss_curve = (
            None if self.loss_curve is None else check_1d(self.loss_curve, "loss_curve")
        )
        if not isinstance(self.iteration_label, str):
            label = self.iteration_label
            raise TypeError(
                "iteration_label must be a str; got "
                f"{label!r} of type {type(label).__name__}."
            )
        if isinstance(bins, str):
            pass  # a binning rule, checked by matplotlib
        elif np.ndim(bins) == 0:
            if not isinstance(bins, Integral) or isinstance(bins, (bool, np.bool_)):
                raise TypeError(
                    "bins must be an int, a sequence of bin edges or the name of a "
                    f"binning rule; got {bins!r} of type {type(bins).__name__}."
                )
            bins = check_number(bins, "bins", Integral, min_val=1)
        else:
            bins = check_1d(bins, "bins")
            if bins.size < 2:
                raise ValueError(
                    f"bins must hold at least 2 bin edges; got {bins.size}."
                )
        hist_kw = check_kwargs(hist_kw, "hist_kw")
        line_kw = check_kwargs(line_kw, "line_kw")
        activity = _activity_title(self.activity, mean_activation.size)

        hist_ax, loss_ax = self._make_axes(ax, plt)
        computed_bins = isinstance(bins, Integral)
        if computed_bins:
            # From zero and at least to 2 * rho: a zoom onto the data would
            # put rho at the edge of the axis, far from bars that are close
            # to it, and crowd the tick labels with digits.
            high = min(1.0, max(2.0 * rho, 1.05 * float(mean_activation.max())))
            bins = np.linspace(0.0, high, bins + 1)
        hist_kw = {"color": "tab:blue", "alpha": 0.8, **hist_kw}
        _, edges, self.bars_ = hist_ax.hist(mean_activation, bins=bins, **hist_kw)
        self.rho_line_ = hist_ax.axvline(
            rho, color="tab:red", linestyle="-", label=f"rho = {rho:.3g}"
        )
        average = float(mean_activation.mean())
        self.mean_line_ = hist_ax.axvline(
            average, color="black", linestyle="--", label=f"average = {average:.3g}"
        )
        hist_ax.set(
            xlabel="mean activation of a hidden unit",
            ylabel="number of hidden units",
        )
        if computed_bins:
            hist_ax.set_xlim(edges[0], edges[-1])
        # Few round ticks: the labels of a narrow panel must not touch.
        hist_ax.xaxis.set_major_locator(
            plt.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10])
        )
        hist_ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))  # counts
        # Above the plot area, where a title would go: inside, it would cover
        # the bars, which can reach any height at any position. The activity
        # figures are its title, on two short lines, so that the narrow
        # panels of a grid still hold them.
        hist_ax.legend(
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=2,
            frameon=False,
            fontsize="small",
            title=activity,
            title_fontsize="small",
            handlelength=1.5,
            columnspacing=1.0,
            borderaxespad=0.2,
        )

        self.loss_line_ = None
        if loss_curve is not None and loss_curve.size:
            line_kw = {"color": "tab:blue", **line_kw}
            iterations = np.arange(1, loss_curve.size + 1)
            (self.loss_line_,) = loss_ax.plot(iterations, loss_curve, **line_kw)
            # A loss that falls by orders of magnitude reads on a log scale;
            # within one decade a log axis has no labelled tick to read.
            if np.all(loss_curve > 0) and loss_curve.max() >= 10 * loss_curve.min():
                loss_ax.set_yscale("log")
        else:
            loss_ax.text(
                0.5,
                0.5,
                "no loss curve",
                ha="center",
                va="center",
                transform=loss_ax.transAxes,
            )
        # As many ticks as the axis has room for: a narrow panel (a subplot of
        # a larger figure) would otherwise run its labels together.
        loss_ax.xaxis.set_major_locator(plt.MaxNLocator(nbins="auto", integer=True))
        loss_ax.set(xlabel=self.iteration_label, ylabel="objective J")

        self.ax_ = np.array([hist_ax, loss_ax], dtype=object)
        self.figure_ = hist_ax.figure
        return self

    def _make_axes(self, ax, plt):
        self.bounding_ax_ = None
        if ax is None:
            _, axes = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
            return axes[0], axes[1]
        if hasattr(ax, "get_subplotspec"):
            subplotspec = ax.get_subplotspec()
            if subplotspec is None:
                raise ValueError(
                    "A single ax is used as a bounding box and must be part of a "
                    "grid of subplots (plt.subplots or fig.add_subplot); pass two "
                    "axes instead."
                )
            from matplotlib.gridspec import GridSpecFromSubplotSpec

            ax.set_axis_off()
            # The panels take its place in a constrained layout.
            ax.set_in_layout(False)
            self.bounding_ax_ = ax
            grid = GridSpecFromSubplotSpec(1, 2, subplot_spec=subplotspec, wspace=0.35)
            figure = ax.figure
            return figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.size != 2:
            raise ValueError(
                f"ax must be one Axes or two Axes; got {axes.size} objects."
            )
        return axes[0], axes[1]

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X=None,
        *,
        iteration_label=None,
        ax=None,
        bins=20,
        hist_kw=None,
        line_kw=None,
    ):
        """Plot the sparsity diagnostics of a fitted sparse autoencoder.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skl_sparseae.SparseAutoencoderTransformer` or
            :class:`~skl_sparseae.SparseAutoencoderOutlierDetector`, or a
            fitted :class:`~sklearn.pipeline.Pipeline` containing one.

        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                default=None
            Data on which to measure the mean activations and the activity
            figures (:func:`skl_sparseae.metrics.unit_activity` at its
            defaults: a unit is active above 0.1, dense when active on more
            than half of the samples). For a Pipeline, X is the pipeline's
            input: the steps before the autoencoder transform it first, as
            the pipeline's own methods do. None draws ``mean_activation_``,
            measured on the training data, without activity figures.

        iteration_label : str, default=None
            The loss panel's x label. None names the estimator's solver:
            "L-BFGS iteration" for ``solver="lbfgs"``, "epoch" for
            ``"adam"`` and ``"sgd"``. After :meth:`partial_fit
            <skl_sparseae.SparseAutoencoderTransformer.partial_fit>`, each
            entry of ``loss_curve_`` is one call (one epoch over the rows of
            that call): pass "partial_fit call" to say so.

        ax : matplotlib Axes or array-like of two Axes, default=None
            Where to draw. None creates a new figure with two side-by-side
            axes. Two axes receive the histogram and the loss curve. A single
            axes is used as a bounding box: it is hidden and the two panels
            are drawn inside its area (it must belong to a grid of subplots).
            The legend sits above the histogram, outside the bars: a figure
            made with ``layout="constrained"`` leaves room for it.

        bins : int, sequence of float or str, default=20
            Histogram bins, passed to :meth:`matplotlib.axes.Axes.hist`. An
            integer means that many equal bins from 0 to twice ``rho`` or to
            the largest mean activation, whichever is larger: the x axis
            starts at zero, so that the gap between a unit and the target
            reads against ``rho`` itself. A sequence gives the bin edges, a
            string one of NumPy's binning rules (such as "auto").

        hist_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.hist`.

        line_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            the loss curve.

        Returns
        -------
        display : :class:`~skl_sparseae.SparsityDisplay`
            The display, with the artists, ``ax_`` and ``figure_`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skl_sparseae import SparseAutoencoderTransformer, SparsityDisplay
        >>> X, _ = load_digits(return_X_y=True)
        >>> sae = SparseAutoencoderTransformer(
        ...     n_components=16, beta=3.0, max_iter=20, tol=0, random_state=0
        ... ).fit(X / 16.0)
        >>> display = SparsityDisplay.from_estimator(sae)
        >>> len(display.loss_line_.get_xdata()) == sae.n_iter_
        True
        >>> display.ax_[1].get_xlabel()
        'L-BFGS iteration'
        >>> display = SparsityDisplay.from_estimator(sae, X / 16.0)
        >>> print(display.ax_[0].get_legend().get_title().get_text())
        2.26 of 16 units active per sample
        dead units: 0, dense units: 0
        """
        caller = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(caller)
        step = find_fitted_step(
            estimator, ("mean_activation_", "loss_curve_", "rho"), caller
        )
        activity = None
        if X is None:
            mean_activation = step.mean_activation_
        else:
            X = _step_input(estimator, step, X)
            mean_activation = _hidden_activations(step, X).mean(axis=0)
            activity = unit_activity(step, X)
        if iteration_label is None:
            iteration_label = _ITERATION_LABELS.get(
                getattr(step, "solver", None), "iteration"
            )
        display = cls(
            mean_activation=mean_activation,
            rho=step.rho,
            loss_curve=step.loss_curve_,
            iteration_label=iteration_label,
            activity=activity,
        )
        return display.plot(ax=ax, bins=bins, hist_kw=hist_kw, line_kw=line_kw)


def _step_input(estimator, step, X):
    """X as ``step`` receives it: a Pipeline's earlier steps transform it."""
    if not isinstance(estimator, Pipeline):
        return X
    position = max(i for i, (_, s) in enumerate(estimator.steps) if s is step)
    return estimator[:position].transform(X) if position else X


def _hidden_activations(step, X):
    """The hidden activations of X, from ``transform`` or the fitted weights.

    An outlier detector has the transformer's fitted weights but no
    ``transform``: its activations are computed from ``components_`` and
    ``intercept_hidden_`` as ``transform`` computes them, after the same
    checks.
    """
    if hasattr(step, "transform"):
        return np.asarray(step.transform(X))
    X = validate_data(
        step,
        X,
        reset=False,
        accept_sparse=("csr", "csc"),
        dtype=(np.float64, np.float32),
    )
    components = np.asarray(step.components_, dtype=X.dtype)
    intercept = np.asarray(step.intercept_hidden_, dtype=X.dtype)
    return encode(X, components, intercept, type(step).__name__)


def _check_rho(rho):
    """Return ``rho`` as a float in (0, 1), the range the estimator allows."""
    check_number(rho, "rho", Real, min_val=0, max_val=1, include_boundaries="neither")
    return float(rho)


def _unit_count(units, name):
    """The number of unit indices in the 1-D array-like ``units``."""
    shape = getattr(units, "shape", None)
    if shape is None:
        shape = np.shape(units)
    if len(shape) != 1:
        raise ValueError(
            f"activity[{name!r}] must be a 1-D array of unit indices; got an "
            f"array of shape {tuple(shape)}."
        )
    return int(shape[0])


def _activity_title(activity, n_components):
    """The legend's title: the activity figures of ``activity``, or None."""
    if activity is None:
        return None
    keys = ("mean_active_units", "dead_units", "dense_units")
    what = (
        "activity must be a dict with the keys mean_active_units, dead_units "
        "and dense_units, such as skl_sparseae.metrics.unit_activity returns"
    )
    if not isinstance(activity, Mapping):
        raise TypeError(f"{what}; got {type(activity).__name__}.")
    missing = [key for key in keys if key not in activity]
    if missing:
        raise ValueError(f"{what}; it lacks {', '.join(missing)}.")
    name = "activity['mean_active_units']"
    mean_active = check_number(
        activity["mean_active_units"], name, Real, min_val=0, max_val=n_components
    )
    if not np.isfinite(mean_active):
        raise ValueError(f"{name} must be finite; got {mean_active!r}.")
    dead, dense = (_unit_count(activity[key], key) for key in keys[1:])
    for name, count in (("dead_units", dead), ("dense_units", dense)):
        if count > n_components:
            raise ValueError(
                f"activity[{name!r}] holds {count} units; mean_activation has "
                f"only {n_components}."
            )
    return (
        f"{float(mean_active):.3g} of {n_components} units active per sample\n"
        f"dead units: {dead}, dense units: {dense}"
    )
