"""
================================================
Streaming a data set through ``partial_fit``
================================================

Data that does not fit in memory, or that arrives in pieces, can still train
a sparse autoencoder: with a minibatch solver (``solver="adam"`` or
``"sgd"``), :meth:`~skl_sparseae.SparseAutoencoderTransformer.partial_fit`
runs one epoch of minibatch steps over the rows it is given and keeps the
whole optimizer state (Adam's moments, its step count, the order of the
batches) for the next call. Calls over the pieces of a data set train like
the epochs of ``fit``.

Here the rows live in a file on disk, opened as a ``numpy.memmap``:
only the piece being trained on is read into memory. They are 8x8 patches
of scikit-learn's two bundled sample images, whitened as in
:ref:`sphx_glr_auto_examples_plot_natural_image_patches.py`.
"""

# %%
# Patches on disk
# ---------------
# 40,000 patches, normalised to [0.1, 0.9] for the sigmoid decoder, written
# once to a temporary file and opened read-only.

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_images
from sklearn.feature_extraction.image import extract_patches_2d

from skl_sparseae import FilterDisplay, SparseAutoencoderTransformer


def whiten(image, f0=0.2):
    """Olshausen-Field whitening; ``f0`` is in cycles per pixel."""
    image = image - image.mean()
    fy = np.fft.fftfreq(image.shape[0])[:, np.newaxis]
    fx = np.fft.fftfreq(image.shape[1])[np.newaxis, :]
    f = np.hypot(fx, fy)
    spectrum = np.fft.fft2(image) * f * np.exp(-((f / f0) ** 4))
    whitened = np.real(np.fft.ifft2(spectrum))
    return whitened / whitened.std()


rng = np.random.RandomState(0)
images = [whiten(image.mean(axis=2)) for image in load_sample_images().images]
patches = np.vstack(
    [
        extract_patches_2d(image, (8, 8), max_patches=20_000, random_state=rng)
        for image in images
    ]
).reshape(-1, 64)
patches = patches[rng.permutation(len(patches))]
patches -= patches.mean(axis=1, keepdims=True)
limit = 3 * patches.std()
patches = (np.clip(patches, -limit, limit) / limit + 1) * 0.4 + 0.1

folder = tempfile.TemporaryDirectory()
path = Path(folder.name) / "patches.dat"
stored = np.memmap(path, dtype=np.float64, mode="w+", shape=patches.shape)
stored[:] = patches
stored.flush()
del stored, patches
rows = np.memmap(path, dtype=np.float64, mode="r", shape=(40_000, 64))
print(f"{rows.shape[0]} patches of {rows.shape[1]} pixels on disk")

# %%
# One epoch per piece
# -------------------
# Ten pieces of 4,000 rows, visited six times over. Each call reads one
# piece from the file and takes 20 Adam steps on it (``batch_size="auto"``
# is 200 rows); ``loss_curve_`` gets the piece's mean minibatch objective.
sae = SparseAutoencoderTransformer(
    n_components=49,
    rho=0.01,
    solver="adam",  # partial_fit takes only the minibatch solvers
    random_state=0,
)
piece = 4_000
for sweep in range(6):
    for start in range(0, rows.shape[0], piece):
        sae.partial_fit(rows[start : start + piece])
print(f"{sae.n_iter_} calls, {sae.t_} samples seen")

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.plot(np.arange(1, sae.n_iter_ + 1), sae.loss_curve_, marker=".")
for sweep in range(1, 6):
    ax.axvline(sweep * 10 + 0.5, color="grey", linewidth=0.5)
ax.set_xlabel("partial_fit call")
ax.set_ylabel("mean minibatch objective")
_ = ax.set_title("Six sweeps over ten pieces")

# %%
# What it learned
# ---------------
# The same localised edge detectors that a full-batch fit learns from these
# patches, without ever holding more than one piece of the data.
display = FilterDisplay.from_estimator(sae, image_shape=(8, 8))
_ = display.ax_.set_title("Encoder filters after streaming")

# %%
# A piece of rows in memory at a time is all ``partial_fit`` needs; a dask
# array passed to ``fit`` or ``partial_fit`` with a minibatch solver is
# streamed the same way, one chunk at a time. When the whole data set fits
# in memory, ``fit`` with ``solver="adam"`` runs the same epochs with a
# stopping rule (see :ref:`choosing_solver`).
del rows
folder.cleanup()
