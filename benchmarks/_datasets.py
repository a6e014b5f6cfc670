"""Data sets of the benchmarks, built from what scikit-learn and scikit-image ship.

Nothing is downloaded and nothing is cached on disk: each function builds its
arrays from ``load_digits``, ``load_breast_cancer``, ``make_classification``,
``load_sample_images`` (the two bundled photographs, china.jpg and
flower.jpg, 427 x 640) or the photographs bundled in ``skimage.data`` (the
scikit-image package, in the ``benchmark`` extra) in a few seconds.

- :func:`nudged_digits`: scikit-learn's RBM example data, 8,985 x 64 in
  [0, 1], with that example's train/test split;
- :func:`whitened_patches`: ZCA-whitened 8x8 grey patches, 64 features,
  unbounded (fit them with an identity decoder);
- :func:`large_patches`: 28x28 grey patches (784 features, the size of an
  MNIST image) of the whitened images, normalised into [0.1, 0.9] as in
  ``examples/plot_natural_image_patches.py`` (a sigmoid decoder fits them).

The labelled panel of ``defaults_study.py``, each function returning
``X_train, X_test, y_train, y_test`` with no row (or source image) on both
sides:

- :func:`stroke_digits`: the digits upscaled to 28x28 (784 features, the
  size of an MNIST image) with small random rotations and shifts, in [0, 1];
- :func:`labelled_patches`: patches of ten photographs, labelled by their
  photograph: ZCA-whitened 8x8 patches (unbounded) or Olshausen-Field
  whitened 16x16 patches in [0.1, 0.9];
- :func:`breast_cancer` and :func:`gaussian_table`: real-valued tables,
  standardised on the training rows.

Run the module to print each one's shape, build time and size::

    python benchmarks/_datasets.py
"""

# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np
from scipy.ndimage import affine_transform, convolve, zoom
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_sample_images,
    make_classification,
)
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler, minmax_scale
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


def _draw(n_rows, n_samples, rng):
    """Indices of ``n_samples`` of ``n_rows`` rows, cycling when it asks for more."""
    order = np.concatenate(
        [rng.permutation(n_rows) for _ in range(-(-n_samples // n_rows))]
    )
    return order[:n_samples]


def _strokes(images, n_samples, rng, max_angle, max_shift):
    """``n_samples`` rotated and shifted 28x28 versions of the 8x8 ``images``.

    Each image is upscaled three times (cubic spline, 24x24), padded to 28x28
    and moved by one affine map: a rotation about the centre by up to
    ``max_angle`` degrees and a shift of up to ``max_shift`` pixels, both
    uniform; the pixels are clipped to [0, 1].
    """
    picks = _draw(len(images), n_samples, rng)
    angles = np.deg2rad(rng.uniform(-max_angle, max_angle, n_samples))
    shifts = rng.uniform(-max_shift, max_shift, (n_samples, 2))
    big = np.zeros((len(images), 28, 28))
    for i, image in enumerate(images):
        big[i, 2:26, 2:26] = zoom(image.reshape(8, 8), 3, order=3)
    out = np.empty((n_samples, 784))
    centre = np.array([13.5, 13.5])
    for row, (k, angle, shift) in enumerate(zip(picks, angles, shifts)):
        c, s = np.cos(angle), np.sin(angle)
        matrix = np.array([[c, -s], [s, c]])
        # affine_transform maps output coordinates o to input ones: the
        # inverse of "rotate about the centre, then shift".
        offset = centre - matrix @ (centre + shift)
        out[row] = affine_transform(big[k], matrix, offset, order=1).ravel()
    np.clip(out, 0, 1, out=out)
    return out, picks


def stroke_digits(
    n_train=20_000, n_test=5_000, random_state=0, max_angle=15, max_shift=2
):
    """The digits as 28x28 pen strokes with random rotations and shifts: 784 features.

    The 1,797 digits are split 80/20 first (stratified, ``random_state``), so
    that no digit has versions on both sides; each side's images are then
    drawn in turn (each image once before any twice) and each draw is
    upscaled to 24x24, padded to 28x28, rotated by up to ``max_angle``
    degrees and shifted by up to ``max_shift`` pixels (see ``_strokes``).
    Pixels are divided by 16 (the digits' range) and clipped to [0, 1]:
    mostly blank, as handwritten digits are. About 1 s per 10,000 rows.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, 784) and (n_test, 784)
        The images, in [0, 1].

    y_train, y_test : ndarray of shape (n_train,) and (n_test,)
        The digits' labels.
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_a, X_b, y_a, y_b = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=random_state
    )
    rng = check_random_state(random_state)
    X_train, picks = _strokes(X_a, n_train, rng, max_angle, max_shift)
    X_test, test_picks = _strokes(X_b, n_test, rng, max_angle, max_shift)
    return X_train, X_test, y_a[picks], y_b[test_picks]


def _photographs():
    """Ten grey photographs in [0, 1]: scikit-learn's two and eight of scikit-image's.

    The ``skimage.data`` images bundled with the package (no download):
    astronaut, camera, coffee, chelsea, rocket, grass, gravel and brick.
    """
    import skimage.data

    images = _grey_images(np.float64)
    images = [image / 255 for image in images]
    for name in (
        "astronaut",
        "camera",
        "coffee",
        "chelsea",
        "rocket",
        "grass",
        "gravel",
        "brick",
    ):
        image = np.asarray(getattr(skimage.data, name)(), np.float64) / 255
        images.append(image.mean(axis=2) if image.ndim == 3 else image)
    return images


def labelled_patches(
    patch_size=8,
    n_train=10_000,
    n_test=3_000,
    whitening="zca",
    random_state=0,
    epsilon=1e-3,
):
    """Patches of ten photographs, labelled by the photograph they come from.

    Each photograph (see ``_photographs``) gives the same number of patches;
    the training patches are cut from its top 70 % of rows and the test
    patches from the rest, so that no pixel is on both sides. Each patch's
    mean is removed. Then:

    - ``whitening="zca"``: ZCA whitening of the patches, fitted on the
      training patches as in :func:`whitened_patches` (``epsilon``): zero
      mean, unbounded; fit them with ``decoder_activation="identity"``;
    - ``whitening="olshausen-field"``: each photograph whitened with the
      frequency filter of :func:`large_patches` before the patches are cut,
      truncated at three standard deviations (of the training patches) and
      mapped to [0.1, 0.9] as in ``examples/plot_natural_image_patches.py``;
      a sigmoid decoder fits them.

    The labels make a downstream task (which photograph, from texture alone:
    the mean brightness is removed), ten classes of equal size.

    Returns
    -------
    X_train, X_test : ndarray of shape (n_train, patch_size**2) and (n_test, ...)
        The patches.

    y_train, y_test : ndarray of shape (n_train,) and (n_test,)
        The index of each patch's photograph.
    """
    rng = check_random_state(random_state)
    images = _photographs()
    if whitening == "olshausen-field":
        images = [_olshausen_field_whiten(image) for image in images]
    elif whitening != "zca":
        raise ValueError(f"unknown whitening {whitening!r}")
    size = (patch_size, patch_size)
    sides = []
    for n, top in ((n_train, True), (n_test, False)):
        rows, labels = [], []
        for label, image in enumerate(images):
            cut = int(0.7 * image.shape[0])
            part = image[:cut] if top else image[cut:]
            count = n // len(images) + (label < n % len(images))
            patches = extract_patches_2d(
                part, size, max_patches=count, random_state=rng
            )
            rows.append(patches.reshape(count, -1))
            labels.append(np.full(count, label))
        X = np.vstack(rows)
        sides.append((X - X.mean(axis=1, keepdims=True), np.concatenate(labels)))
    (X_train, y_train), (X_test, y_test) = sides
    if whitening == "zca":
        S, U = np.linalg.eigh(X_train.T @ X_train / len(X_train))
        zca = (U * (1 / np.sqrt(np.maximum(S, 0) + epsilon))) @ U.T
        return X_train @ zca, X_test @ zca, y_train, y_test
    limit = 3 * X_train.std()
    X_train, X_test = (
        np.clip(X, -limit, limit) * (0.4 / limit) + 0.5 for X in (X_train, X_test)
    )
    return X_train, X_test, y_train, y_test


def _standardised_split(X, y, random_state):
    """A stratified 80/20 split, standardised with the training rows' scaler."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=random_state
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def breast_cancer(random_state=0):
    """scikit-learn's breast cancer table (569 x 30), split 80/20 and standardised."""
    X, y = load_breast_cancer(return_X_y=True)
    return _standardised_split(X, y, random_state)


def gaussian_table(n_samples=5_000, random_state=0):
    """A real-valued table of ``make_classification``, split 80/20 and standardised.

    40 features (12 informative, 12 linear combinations of those, 16
    noise), five classes of two Gaussian clusters each, 1 % of the labels
    flipped; ``random_state`` seeds both the table and the split.
    """
    X, y = make_classification(
        n_samples=n_samples,
        n_features=40,
        n_informative=12,
        n_redundant=12,
        n_classes=5,
        n_clusters_per_class=2,
        flip_y=0.01,
        random_state=random_state,
    )
    return _standardised_split(X, y, random_state)


def _report():
    """Print each data set's shape, range, build time and size."""
    import tracemalloc

    cases = [
        ("nudged_digits()", lambda: nudged_digits()[0]),
        ("whitened_patches()", lambda: whitened_patches()),
        ("whitened_patches(dtype=float32)", lambda: whitened_patches(dtype=np.float32)),
        ("large_patches()", lambda: large_patches()),
        ("large_patches(dtype=float32)", lambda: large_patches(dtype=np.float32)),
        ("stroke_digits()", lambda: stroke_digits()[0]),
        ("labelled_patches()", lambda: labelled_patches()[0]),
        (
            "labelled_patches(16, olshausen-field)",
            lambda: labelled_patches(16, whitening="olshausen-field")[0],
        ),
        ("breast_cancer()", lambda: breast_cancer()[0]),
        ("gaussian_table()", lambda: gaussian_table()[0]),
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
