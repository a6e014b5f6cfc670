"""What every backend answers about its data: the protocol behind ``locate``.

A :class:`Placement` stands for one place the rows of X can live (NumPy
arrays and scipy sparse matrices in memory, Array API arrays on a device, a
row-chunked dask array on a cluster). The estimators ask
:func:`~skl_sparseae._backends._placement.locate` for one per public call
and hand it every question whose answer depends on where the data lives;
each backend module implements the protocol for its data.
"""

# SPDX-License-Identifier: BSD-3-Clause

from abc import ABC, abstractmethod

import numpy as np


class Placement(ABC):
    """Where X lives and everything that follows from it.

    Attributes
    ----------
    xp : namespace or None
        The Array API namespace of the data; None for NumPy and dask data.

    device : device or None
        The device of the data; None for NumPy and dask data.

    Notes
    -----
    ``take_rows``, ``dtype``, ``to_data``, ``result``, ``mean`` and
    ``inlier_labels`` have defaults for host NumPy arrays, which dask arrays
    follow lazily (a weighted ``mean`` of dask arrays is computed on the
    host); the Array API backend overrides them.
    """

    xp = None
    device = None

    # ------------------------------------------------------------------
    # Validation.

    @abstractmethod
    def feature_names(self, X):
        """The column names of training data X before validation, or None.

        A dataframe's string column names are kept, as scikit-learn keeps
        them.
        """

    @abstractmethod
    def check_fit_input(self, X, estimator):
        """Training data validated as ``check_array`` would validate it."""

    @abstractmethod
    def check_fitted_input(self, X, estimator, method):
        """X for a fitted model's ``method``: features and names checked too."""

    @abstractmethod
    def check_sample_weight(self, sample_weight, X, estimator):
        """Sample weights for validated X, as scikit-learn's estimators check them.

        scikit-learn's ``_check_sample_weight``: one finite, non-negative
        weight per row, not all zero, converted to X's dtype (and, for an
        Array API array, moved to X's device) only where they differ. For a
        dask array X, a dask array of weights with X's row chunks
        (:func:`~skl_sparseae._backends._dask_checks.check_sample_weight`).
        """

    @abstractmethod
    def check_hidden_input(self, A, estimator):
        """Hidden activations for ``inverse_transform`` (no feature names)."""

    # ------------------------------------------------------------------
    # Fitting.

    @abstractmethod
    def backend(self, X, n_components, decoder_activation, sample_weight=None):
        """The evaluation backend of validated X (a context manager).

        It implements :class:`~skl_sparseae._objective.Backend`: the two
        passes of an evaluation of the objective. ``sample_weight``
        (validated) weighs the rows.
        """

    @abstractmethod
    def hold_out(self, X, fraction, random_state):
        """``(training rows, held-out rows)`` of validated X for early stopping.

        ``fraction`` of the rows are held out, drawn as ``train_test_split``
        draws them from ``random_state``, each part in row order.
        """

    @abstractmethod
    def held_out_indices(self, n_samples, fraction, random_state):
        """Sorted host indices ``(training rows, held-out rows)`` of a hold-out.

        The rows :meth:`hold_out` takes, for taking the same rows of X and
        of its sample weights.
        """

    def take_rows(self, X, rows):
        """The rows of validated X (or the entries of 1-d weights) at host ``rows``."""
        return X[rows]

    @abstractmethod
    def first_rows(self, X, n_rows):
        """Up to ``n_rows`` leading rows of X as a host array (for checks)."""

    def dtype(self, X):
        """The NumPy dtype of validated X's values: the fit's working dtype."""
        return np.dtype(X.dtype)

    @abstractmethod
    def value_range(self, X):
        """Smallest and largest stored value of validated X, or None.

        None when X stores no value, or when its values are checked as the
        epochs stream them rather than up front.
        """

    @abstractmethod
    def total_variance(self, X, sample_weight=None):
        """Sum over the features of the variance of validated X's rows (float64).

        Weighted by ``sample_weight`` (validated) when given.
        """

    @abstractmethod
    def epoch_runner(self, X, plan, *, estimator_name, sample_weight=None):
        """What runs one epoch of minibatch steps over validated X.

        ``plan`` is the :class:`~skl_sparseae._minibatch.MinibatchPlan` of
        the fit; ``estimator_name`` names the estimator in errors;
        ``sample_weight`` (validated) weighs the rows. The runner is a
        context manager: leaving it stops the threads of its steps.
        """

    @abstractmethod
    def mean_activation(self, X, W1, b1, sample_weight=None):
        """float64 mean hidden activation over the rows of X, block by block.

        ``W1`` and ``b1`` are host arrays of the working dtype. Weighted by
        ``sample_weight`` (validated) when given.
        """

    def to_data(self, array):
        """A fitted host array in the namespace and on the device of the data."""
        return array

    # ------------------------------------------------------------------
    # A fitted model's maths.

    @abstractmethod
    def encode(self, X, components, intercept_hidden, name):
        """The hidden activations of validated X (``transform``)."""

    @abstractmethod
    def reconstruct(self, A, decoder_components, intercept_visible, decoder, name):
        """The reconstruction of the hidden activations A (``inverse_transform``)."""

    @abstractmethod
    def score_rows(self, X, weights, decoder, name, *, fit_blocks=False):
        """``score_samples`` of validated X.

        ``fit_blocks`` scores in the blocks a fit uses (from the shape alone),
        as the held-out score of early stopping must.
        """

    @abstractmethod
    def statistics(self, X, weights, decoder, name, *, threshold, reconstruction):
        """The :class:`~skl_sparseae._inference.Statistics` of validated X.

        Computed in one pass, where X lives.
        """

    # ------------------------------------------------------------------
    # Results.

    @abstractmethod
    def to_host(self, array):
        """A host NumPy array of an array of this placement, in its own dtype."""

    def result(self, array):
        """A host array of a result in the namespace and on the device of X."""
        return array

    def mean(self, values, weights=None):
        """The mean of a 1-d array of this placement, as a float.

        Weighted by ``weights`` (an array of the same placement) when given.
        """
        if weights is None:
            return float(np.mean(values))
        return float(np.average(values, weights=weights))

    def inlier_labels(self, decision):
        """+1 where ``decision >= 0``, -1 elsewhere, as int64 where X lives."""
        # Arithmetic rather than np.where, so that a dask array stays lazy.
        return 2 * (decision >= 0).astype(np.int64) - 1
