"""The dask backend: what the estimators ask of a row-chunked dask array.

:class:`DaskPlacement` answers from the modules that do each job on the
chunks: the checks (:mod:`~skl_sparseae._backends._dask_checks`), the
evaluation passes of a fit (:mod:`~skl_sparseae._backends._dask_fit`), the
minibatch epochs (:mod:`~skl_sparseae._backends._dask_minibatch`) and the
lazy maths of a fitted model (:mod:`~skl_sparseae._backends._dask_transform`).

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.validation import validate_data

from .._objective import to_numpy
from . import _dask_transform
from ._dask_checks import (
    check_dask_array,
    check_sample_weight,
    is_dask_collection,
    leading_rows,
)
from ._dask_fit import DaskBackend, total_variance, weighted_mean_activation
from ._dask_minibatch import ChunkRunner
from ._protocol import Placement


class DaskPlacement(Placement):
    """A row-chunked ``dask.array.Array``, validated lazily chunk by chunk.

    Its values are checked as each chunk is computed, its fit runs where the
    chunks live, and what a fitted model computes on it stays lazy.
    """

    def __repr__(self):
        return f"{type(self).__name__}()"

    def feature_names(self, X):
        # A dask array has no column names.
        return None

    def check_fit_input(self, X, estimator):
        return check_dask_array(X, type(estimator).__name__)

    def check_fitted_input(self, X, estimator, method):
        # Feature count and names as validate_data checks them; the values
        # are checked chunk by chunk when computed.
        validate_data(estimator, X, reset=False, skip_check_array=True)
        return check_dask_array(X, type(estimator).__name__)

    def check_sample_weight(self, sample_weight, X, estimator):
        name = type(estimator).__name__
        return check_sample_weight(sample_weight, X, name)[0]

    def check_hidden_input(self, A, estimator):
        return check_dask_array(A, type(estimator).__name__)

    def backend(self, X, n_components, decoder_activation, sample_weight=None):
        return DaskBackend(X, n_components, decoder_activation, sample_weight)

    def hold_out(self, X, fraction, random_state):
        raise ValueError(
            "early_stopping=True is not supported for dask arrays: the "
            "held-out rows would have to be drawn across the cluster. Hold "
            "out a validation set yourself and compare score() after fits "
            "with increasing max_iter, or fit with early_stopping=False."
        )

    def held_out_indices(self, n_samples, fraction, random_state):
        # The error of hold_out, which names the remedies.
        self.hold_out(None, fraction, random_state)

    def first_rows(self, X, n_rows):
        if np.isnan(X.shape[0]):
            # Slicing needs the row counts, which a boolean mask leaves
            # unknown until the chunks are computed.
            return leading_rows(X, n_rows)
        return X[:n_rows].compute()

    def value_range(self, X):
        # The values are checked chunk by chunk as a minibatch epoch streams
        # them.
        return None

    def total_variance(self, X, sample_weight=None):
        return total_variance(X, sample_weight)

    def epoch_runner(self, X, plan, *, estimator_name, sample_weight=None):
        return ChunkRunner(
            X, plan, estimator_name=estimator_name, sample_weight=sample_weight
        )

    def mean_activation(self, X, W1, b1, sample_weight=None):
        if sample_weight is not None:
            return weighted_mean_activation(X, sample_weight, W1, b1)
        # Reduced chunk by chunk where the chunks live.
        return (
            _dask_transform.transform(X, np.ascontiguousarray(W1.T), b1, "")
            .mean(axis=0, dtype=np.float64)
            .compute()
        )

    def encode(self, X, components, intercept_hidden, name):
        """The hidden activations of validated X, lazily."""
        return _dask_transform.transform(X, components, intercept_hidden, name)

    def reconstruct(self, A, decoder_components, intercept_visible, decoder, name):
        """The reconstruction of the hidden activations A, lazily."""
        return _dask_transform.inverse_transform(
            A, decoder_components, intercept_visible, decoder, name
        )

    def score_rows(self, X, weights, decoder, name, *, fit_blocks=False):
        """``score_samples`` of validated X, lazily."""
        return _dask_transform.score_samples(X, weights, decoder, name)

    def statistics(self, X, weights, decoder, name, *, threshold, reconstruction):
        """The statistics of validated X, chunk by chunk where the chunks live.

        Computed, not lazy.
        """
        return _dask_transform.statistics(
            X,
            weights,
            decoder,
            name,
            threshold=threshold,
            reconstruction=reconstruction,
        )

    def to_host(self, array):
        """A host NumPy array; a lazy result is computed (one more pass)."""
        if is_dask_collection(array):
            array = array.compute()
        return to_numpy(array)

    def mean(self, values, weights=None):
        """The mean of a 1-d array, a weighted one computed on the host."""
        if weights is not None:
            values, weights = (self.to_host(a) for a in (values, weights))
        return super().mean(values, weights)
