"""Data sets of the minibatch solver benchmarks, built from what scikit-learn ships.

Nothing is downloaded and nothing is cached on disk: each function builds its
arrays from ``load_digits`` or ``load_sample_images`` (the two bundled
photographs, china.jpg and flower.jpg, 427 x 640) in a few seconds.

- :func:`nudged_digits`: scikit-learn's RBM example data, 8,985 x 64 in
  [0, 1], with that example's train/test split;
- :func:`whitened_patches`: ZCA-whitened 8x8 grey patches, 64 features,
  unbounded (fit them with an identity decoder);
- :func:`large_patches`: 28x28 grey patches (784 features, the size of an
  MNIST image) of the whitened images, normalised into [0.1, 0.9] as in
  ``examples/plot_natural_image_patches.py`` (a sigmoid decoder fits them).

Run the module to print each one's shape, build time and size::

    python benchmarks/_datasets.py
"""

# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
from scipy.ndimage import convolve
from sklearn.datasets import load_digits, load_sample_images
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import minmax_scale
from sklearn.utils import check_random_state

# The one-pixel shifts of scikit-learn's RBM example, as 3x3 kernels: the
# images move up, left, right and down, zeros shifted in.
_NUDGES = [
    [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
]


def nudged_digits(n_samples=None, random_state=0):
    """Digits and their four one-pixel shifts in [0, 1], split as in the RBM example.

    As in scikit-learn's example "Restricted Boltzmann Machine features for
    digit classification": float32 pixels, each image moved by one pixel in
    four directions (5 x 1,797 = 8,985 images), ``minmax_scale`` to [0, 1]
    over all of them, then ``train_test_split(test_size=0.2,
    random_state=0)``.

    Parameters
    ----------
    n_samples : int, default=None
        Rows to keep (before the split), drawn without replacement with
        ``random_state``; None keeps all 8,985.

    random_state : int, default=0
        Seed of the split (0 is the example's) and of the draw of rows.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, 64) and (n_test, 64), float32
        The pixels in [0, 1], float32 as in the example.

    y_train, y_test : ndarray of shape (n_train,) and (n_test,)
        The digits' labels.
    """
    X, y = load_digits(return_X_y=True)
    X = np.asarray(X, "float32")

    def shift(x, w):
        return convolve(x.reshape((8, 8)), mode="constant", weights=w).ravel()

    X = np.concatenate([X] + [np.apply_along_axis(shift, 1, X, w) for w in _NUDGES])
    y = np.concatenate([y] * 5)
    X = minmax_scale(X, feature_range=(0, 1))
    if n_samples is not None:
        rows = check_random_state(random_state).choice(
            X.shape[0], n_samples, replace=False
        )
        X, y = X[rows], y[rows]
    return train_test_split(X, y, test_size=0.2, random_state=random_state)


def _grey_images(dtype):
    """The two sample photographs in grey levels, float arrays of ``dtype``."""
    return [
        np.asarray(image.mean(axis=2), dtype=dtype)
        for image in load_sample_images().images
    ]


def _patches(images, patch_size, n_samples, random_state, dtype):
    """``n_samples`` random patches, half from each image, flattened into rows.

    Written into one preallocated array, so that the peak memory stays the
    result plus one image's share rather than twice the result.
    """
    rng = check_random_state(random_state)
    n_pixels = patch_size[0] * patch_size[1]
    out = np.empty((n_samples, n_pixels), dtype=dtype)
    start = 0
    for i, image in enumerate(images):
        stop = start + (n_samples - start) // (len(images) - i)
        patches = extract_patches_2d(
            image, patch_size, max_patches=stop - start, random_state=rng
        )
        out[start:stop] = patches.reshape(-1, n_pixels)
        del patches
        start = stop
    return out


def whitened_patches(n_samples=200_000, random_state=0, dtype=np.float64, epsilon=1e-3):
    """ZCA-whitened 8x8 patches of the two sample images: (n_samples, 64).

    The UFLDL recipe ("Implementing PCA/Whitening", with ZCA rather than PCA
    whitening, so that the patches stay images): grey levels in [0, 1], each
    patch's mean removed, then ``X @ U diag(1 / sqrt(S + epsilon)) U.T``
    with ``U, S`` the eigenvectors and eigenvalues of the patches'
    covariance ``X.T @ X / n_samples``. ``epsilon`` regularises the weakest
    directions: the eigenvalues run from about 8e-2 down to 6e-4 (and one 0,
    the removed mean), so 1e-3 flattens the spectrum down to the highest
    spatial frequencies and damps those, where the JPEG noise lives, instead
    of amplifying them.

    The result is zero-mean and unbounded (about unit variance along the
    strong directions): fit it with ``decoder_activation="identity"``.

    Parameters
    ----------
    n_samples : int, default=200_000
        Number of patches, half from each image.

    random_state : int, RandomState instance or None, default=0
        Where the patches are cut.

    dtype : {np.float64, np.float32}, default=np.float64
        Dtype of the result; the covariance and its eigendecomposition are
        computed in float64 either way.

    epsilon : float, default=1e-3
        Regulariser added to the eigenvalues.

    Returns
    -------
    X : ndarray of shape (n_samples, 64)
        The whitened patches.
    """
    X = _patches(_grey_images(dtype), (8, 8), n_samples, random_state, dtype)
    X *= 1 / 255
    X -= X.mean(axis=1, keepdims=True)
    X64 = X.astype(np.float64, copy=False)
    covariance = X64.T @ X64 / n_samples
    S, U = np.linalg.eigh(covariance)
    zca = (U * (1 / np.sqrt(np.maximum(S, 0) + epsilon))) @ U.T
    # zca is symmetric, so X @ zca whitens the rows; the product goes to a
    # fresh array anyway, which lets X be freed at once.
    return X @ zca.astype(dtype)


def _olshausen_field_whiten(image, f0=0.2):
    """Olshausen-Field whitening, as in ``examples/plot_natural_image_patches.py``.

    The filter ``f * exp(-(f / f0)**4)`` (``f0`` in cycles per pixel)
    flattens the roughly 1/f amplitude spectrum and rolls off the highest
    frequencies; the result has unit standard deviation. The image is real,
    so the half spectrum of ``rfft2`` carries it all, in half the memory and
    work of the full one (the same result to rounding).
    """
    image = image - image.mean()
    fy = np.fft.fftfreq(image.shape[0])[:, np.newaxis]
    fx = np.fft.rfftfreq(image.shape[1])[np.newaxis, :]
    f = np.hypot(fx, fy)
    spectrum = np.fft.rfft2(image) * f * np.exp(-((f / f0) ** 4))
    whitened = np.fft.irfft2(spectrum, s=image.shape)
    return whitened / whitened.std()


def large_patches(n_samples=100_000, random_state=0, dtype=np.float64):
    """28x28 patches (784 features) of the whitened images, in [0.1, 0.9].

    Exactly the scaling of ``examples/plot_natural_image_patches.py``, with
    28x28 patches instead of 8x8: the two grey images are whitened with
    Olshausen and Field's frequency filter, each patch's mean is removed,
    the values are truncated at three standard deviations (of all patches)
    and mapped linearly from [-3 std, 3 std] to [0.1, 0.9], away from the
    flat ends of the sigmoid decoder.

    Parameters
    ----------
    n_samples, random_state, dtype
        As in :func:`whitened_patches`, but 100,000 patches by default;
        ``dtype`` is also that of the patches while they are normalised.

    Returns
    -------
    X : ndarray of shape (n_samples, 784)
        The patches, in [0.1, 0.9].
    """
    images = [
        _olshausen_field_whiten(image).astype(dtype, copy=False)
        for image in _grey_images(np.float64)
    ]
    X = _patches(images, (28, 28), n_samples, random_state, dtype)
    X -= X.mean(axis=1, keepdims=True)
    # X.std() would allocate a temporary of X's size; the mean is already
    # about zero, so the second moment gives the same limit in one pass.
    mean = float(X.mean(dtype=np.float64))
    limit = 3 * np.sqrt(float(np.vdot(X, X)) / X.size - mean**2)
    np.clip(X, -limit, limit, out=X)
    X *= 0.4 / limit
    X += 0.5
    return X


def _report():
    """Print each data set's shape, range, build time and size."""
    import tracemalloc

    cases = [
        ("nudged_digits()", lambda: nudged_digits()[0]),
        ("whitened_patches()", lambda: whitened_patches()),
        ("whitened_patches(dtype=float32)", lambda: whitened_patches(dtype=np.float32)),
        ("large_patches()", lambda: large_patches()),
        ("large_patches(dtype=float32)", lambda: large_patches(dtype=np.float32)),
    ]
    for name, build in cases:
        tracemalloc.start()
        start = time.perf_counter()
        X = build()
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"{name:33s} {str(X.shape):14s} {X.dtype!s:8s} "
            f"[{X.min():+.3f}, {X.max():+.3f}]  {seconds:5.1f} s  "
            f"{X.nbytes / 2**20:6.0f} MiB, peak {peak / 2**20:6.0f} MiB"
        )
        del X


if __name__ == "__main__":
    _report()
