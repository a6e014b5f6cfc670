"""Learned filters as a grid of image tiles."""

# SPDX-License-Identifier: BSD-3-Clause

import math
from collections.abc import Sequence
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite, check_scalar

from .._sklearn_compat import check_matplotlib_support
from ._utils import (
    check_float_array,
    check_kwargs,
    check_number,
    find_fitted_step,
)


class FilterDisplay:
    """Learned filters shown as a grid of image tiles.

    Each row of ``filters`` is reshaped to ``image_shape`` and drawn as one
    tile of a single mosaic image, the classic picture of the edge and
    stroke detectors a sparse autoencoder learns. It is recommended to create
    it with :meth:`from_estimator`; all parameters are stored as attributes.

    Parameters
    ----------
    filters : {array-like, sparse matrix} of shape (n_filters, n_features)
        One filter per row, for instance the encoder weights ``components_``
        of a fitted :class:`~skl_sparseae.SparseAutoencoderTransformer`.
        Sparse filters are drawn densified.

    image_shape : tuple of int
        ``(height, width)`` for grey-level images or ``(height, width, 3)``
        for RGB images (channels last), with positive sizes whose product
        must equal ``n_features``.

    Attributes
    ----------
    mosaic_ : ndarray of shape (mosaic_height, mosaic_width) or \
            (mosaic_height, mosaic_width, 3)
        The assembled image: normalised tiles separated by ``padding`` pixels.

    im_ : matplotlib AxesImage
        The image drawn on :attr:`ax_`.

    ax_ : matplotlib Axes
        Axes with the mosaic.

    figure_ : matplotlib Figure
        Figure containing the mosaic.

    See Also
    --------
    FilterDisplay.from_estimator : Plot the filters of a fitted estimator.
    SparsityDisplay : Mean hidden activations against ``rho`` and the loss
        curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skl_sparseae import FilterDisplay
    >>> filters = np.random.RandomState(0).normal(size=(16, 64))
    >>> display = FilterDisplay(filters, image_shape=(8, 8)).plot(n_cols=4)
    >>> display.mosaic_.shape
    (37, 37)
    """

    def __init__(self, filters, *, image_shape):
        self.filters = filters
        self.image_shape = image_shape

    def plot(
        self,
        *,
        n_cols=None,
        normalize=True,
        padding=1,
        cmap="gray",
        ax=None,
        imshow_kw=None,
    ):
        """Plot the filters.

        Parameters
        ----------
        n_cols : int, default=None
            Number of tiles per row. None means ``ceil(sqrt(n_filters))``.

        normalize : bool, default=True
            If True, each tile is centred on its mean and scaled by its
            largest absolute value, so that every filter uses the full
            contrast range whatever its norm. If False, all tiles share one
            scale, which shows how strong each filter is.

        padding : int, default=1
            Width in pixels of the black border between tiles.

        cmap : str or matplotlib Colormap, default="gray"
            Colormap for grey-level tiles; ignored for colour images.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure of the mosaic's aspect
            ratio, 4 inches high, is created.

        imshow_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : :class:`~skl_sparseae.FilterDisplay`
            The display, with ``mosaic_``, ``im_``, ``ax_`` and ``figure_``
            set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        filters = _check_filters(self.filters, "filters")
        image_shape = _check_image_shape(self.image_shape, filters)
        if n_cols is not None:
            check_number(n_cols, "n_cols", Integral, min_val=1)
        normalize = bool(check_scalar(normalize, "normalize", (bool, np.bool_)))
        check_number(padding, "padding", Integral, min_val=0)
        imshow_kw = check_kwargs(imshow_kw, "imshow_kw")

        tiles = _normalize_tiles(filters, image_shape, normalize)
        self.mosaic_ = _assemble_mosaic(tiles, n_cols, padding)

        if ax is None:
            # A figure of the mosaic's own aspect ratio, 4 inches high: the
            # default 4:3 frame leaves wide white margins around a square one.
            rows, cols = self.mosaic_.shape[:2]
            width = min(max(4.0 * cols / rows, 2.0), 12.0)
            _, ax = plt.subplots(figsize=(width, 4.0), layout="constrained")
        colour = len(image_shape) == 3
        default_kw = {"interpolation": "nearest"}
        if not colour:
            default_kw.update(cmap=cmap, vmin=-1.0, vmax=1.0)
        imshow_kw = {**default_kw, **imshow_kw}
        self.im_ = ax.imshow(self.mosaic_, **imshow_kw)
        ax.set_axis_off()

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        image_shape=None,
        weights="encoder",
        max_filters=None,
        n_cols=None,
        normalize=True,
        padding=1,
        cmap="gray",
        ax=None,
        imshow_kw=None,
    ):
        """Plot the filters of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skl_sparseae.SparseAutoencoderTransformer`, any
            fitted estimator with a ``components_`` attribute of shape
            (n_filters, n_features) (such as
            :class:`~sklearn.decomposition.PCA` or
            :class:`~sklearn.neural_network.BernoulliRBM`), or a fitted
            :class:`~sklearn.pipeline.Pipeline` containing one (its last step
            with the attribute is used).

        image_shape : tuple of int, default=None
            ``(height, width)`` or ``(height, width, 3)``. None means a
            square grey-level image, which needs ``n_features`` to be a
            perfect square.

        weights : {"encoder", "decoder"}, default="encoder"
            Which weights to draw: the encoder filters ``components_`` (the
            only choice for estimators other than a sparse autoencoder), or
            the decoder's basis images ``decoder_components_``.

        max_filters : int, default=None
            Plot only the first ``max_filters`` filters. None plots all.

        n_cols : int, default=None
            Number of tiles per row. None means ``ceil(sqrt(n_filters))``.

        normalize : bool, default=True
            If True, each tile is centred on its mean and scaled by its
            largest absolute value, so that every filter uses the full
            contrast range whatever its norm. If False, all tiles share one
            scale, which shows how strong each filter is.

        padding : int, default=1
            Width in pixels of the black border between tiles.

        cmap : str or matplotlib Colormap, default="gray"
            Colormap for grey-level tiles; ignored for colour images.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure of the mosaic's aspect
            ratio, 4 inches high, is created.

        imshow_kw : dict, default=None
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.imshow`.

        Returns
        -------
        display : :class:`~skl_sparseae.FilterDisplay`
            The display, with ``mosaic_``, ``im_``, ``ax_`` and ``figure_``
            set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_digits
        >>> from skl_sparseae import FilterDisplay, SparseAutoencoderTransformer
        >>> X, _ = load_digits(return_X_y=True)
        >>> sae = SparseAutoencoderTransformer(
        ...     n_components=16, max_iter=20, tol=0, random_state=0
        ... ).fit(X / 16.0)
        >>> display = FilterDisplay.from_estimator(sae, image_shape=(8, 8))
        >>> display.mosaic_.shape
        (37, 37)
        """
        caller = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(caller)
        attributes = {"encoder": "components_", "decoder": "decoder_components_"}
        if not isinstance(weights, str) or weights not in attributes:
            raise ValueError(
                f"weights must be 'encoder' or 'decoder'; got {weights!r}."
            )
        attribute = attributes[weights]
        step = find_fitted_step(estimator, (attribute,), caller)
        filters = _check_filters(getattr(step, attribute), attribute)
        if max_filters is not None:
            check_number(max_filters, "max_filters", Integral, min_val=1)
            filters = filters[:max_filters]
        if image_shape is None:
            side = math.isqrt(filters.shape[1])
            if side * side != filters.shape[1]:
                raise ValueError(
                    f"The filters have {filters.shape[1]} features, which is not "
                    "a perfect square: pass image_shape=(height, width)."
                )
            image_shape = (side, side)
        display = cls(filters, image_shape=image_shape)
        return display.plot(
            n_cols=n_cols,
            normalize=normalize,
            padding=padding,
            cmap=cmap,
            ax=ax,
            imshow_kw=imshow_kw,
        )


def _check_filters(filters, name):
    """Return ``filters`` as a dense, finite, non-empty 2-D float64 array."""
    if sp.issparse(filters):
        filters = filters.toarray()
    filters = check_float_array(filters, name)
    if filters.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_filters, n_features); got shape "
            f"{filters.shape}."
        )
    if filters.size == 0:
        raise ValueError(
            f"{name} is empty (shape {filters.shape}): there is no filter to plot."
        )
    assert_all_finite(filters, input_name=name)
    return filters


def _check_image_shape(image_shape, filters):
    expected = "image_shape must be (height, width) or (height, width, 3)"
    # A string is a sequence too, and "88" must not pass as (8, 8).
    if isinstance(image_shape, (str, bytes)) or not isinstance(
        image_shape, (Sequence, np.ndarray)
    ):
        raise TypeError(
            f"{expected}, a tuple of int; got {image_shape!r} of type "
            f"{type(image_shape).__name__}."
        )
    image_shape = tuple(image_shape)
    if len(image_shape) not in (2, 3):
        raise ValueError(f"{expected}; got {image_shape!r}.")
    if not all(
        isinstance(size, Integral) and not isinstance(size, (bool, np.bool_))
        for size in image_shape
    ):
        raise TypeError(
            f"{expected} with int sizes; got {image_shape!r}. Sizes are never rounded."
        )
    image_shape = tuple(int(size) for size in image_shape)
    if min(image_shape) < 1:
        raise ValueError(f"{expected} with positive sizes; got {image_shape}.")
    if len(image_shape) == 3 and image_shape[2] != 3:
        raise ValueError(
            f"{expected}: a colour image has 3 channels; got {image_shape}."
        )
    if math.prod(image_shape) != filters.shape[1]:
        raise ValueError(
            f"image_shape {image_shape} holds {math.prod(image_shape)} values, but "
            f"each filter has {filters.shape[1]} features."
        )
    return image_shape


def _normalize_tiles(filters, image_shape, normalize):
    """Reshape filters to tiles in [-1, 1] (grey) or [0, 1] (colour)."""
    tiles = filters.reshape((filters.shape[0],) + image_shape)
    axes = tuple(range(1, tiles.ndim))
    colour = len(image_shape) == 3
    if normalize:
        tiles = tiles - tiles.mean(axis=axes, keepdims=True)
        scale = np.abs(tiles).max(axis=axes, keepdims=True)
    else:
        scale = np.abs(tiles).max(keepdims=True)
    # A constant tile has no contrast to show: leave it at zero, not NaN.
    tiles = np.divide(tiles, scale, out=np.zeros_like(tiles), where=scale > 0)
    if colour:
        tiles = (tiles + 1.0) / 2.0
    return tiles


def _assemble_mosaic(tiles, n_cols, padding):
    n_tiles, height, width = tiles.shape[:3]
    if n_cols is None:
        n_cols = math.ceil(math.sqrt(n_tiles))
    n_cols = min(n_cols, n_tiles)
    n_rows = math.ceil(n_tiles / n_cols)
    # Black borders: the lowest value of the grey scale, or 0 for colour.
    background = 0.0 if tiles.ndim == 4 else -1.0
    mosaic = np.full(
        (
            n_rows * (height + padding) + padding,
            n_cols * (width + padding) + padding,
        )
        + tiles.shape[3:],
        background,
    )
    for index, tile in enumerate(tiles):
        row, col = divmod(index, n_cols)
        top = padding + row * (height + padding)
        left = padding + col * (width + padding)
        mosaic[top : top + height, left : left + width] = tile
    return mosaic
