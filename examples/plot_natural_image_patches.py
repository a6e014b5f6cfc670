"""
=========================================
Edge detectors from natural image patches
=========================================

The classic sparse-autoencoder exercise (Andrew Ng's CS294A notes): train a
small sparse autoencoder on 8x8 patches of natural images and look at the
encoder weights. Each hidden unit becomes a localised, oriented edge or
grating detector, much like the simple cells of the primary visual cortex.

The exercise's patches come from images that Olshausen and Field had
*whitened* (their spectrum flattened, which removes the dominant low
frequencies). Here we whiten scikit-learn's two bundled sample images with the
same frequency-domain filter, cut random 8x8 patches and normalise them exactly
as the exercise does.
"""

# %%
# Whitened grey-level images
# --------------------------
# The filter :math:`R(f) = f \exp(-(f / f_0)^4)` flattens the roughly
# :math:`1/f` amplitude spectrum of natural images (the factor :math:`f`) and
# rolls off the highest frequencies, where JPEG noise lives.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_images
from sklearn.feature_extraction.image import extract_patches_2d

from skl_sparseae import FilterDisplay, SparseAutoencoderTransformer, SparsityDisplay


def whiten(image, f0=0.2):
    """Olshausen-Field whitening; ``f0`` is in cycles per pixel."""
    image = image - image.mean()
    fy = np.fft.fftfreq(image.shape[0])[:, np.newaxis]
    fx = np.fft.fftfreq(image.shape[1])[np.newaxis, :]
    f = np.hypot(fx, fy)
    whitened = np.real(np.fft.ifft2(np.fft.fft2(image) * f * np.exp(-((f / f0) ** 4))))
    return whitened / whitened.std()


images = [whiten(image.mean(axis=2)) for image in load_sample_images().images]

fig, axes = plt.subplots(1, 2, figsize=(6.5, 2.6))
for ax, image in zip(axes, images):
    ax.imshow(image, cmap="gray", vmin=-3, vmax=3)
    ax.set_axis_off()
_ = fig.suptitle("Whitened sample images")

# %%
# Patches, normalised as in the exercise
# --------------------------------------
# Remove each patch's mean (its brightness), truncate at three standard
# deviations and map to [0.1, 0.9]: the sigmoid decoder can only produce
# values in (0, 1), and this keeps the targets away from its flat ends.
rng = np.random.RandomState(0)
patches = np.vstack(
    [
        extract_patches_2d(image, (8, 8), max_patches=5000, random_state=rng)
        for image in images
    ]
).reshape(-1, 64)
patches -= patches.mean(axis=1, keepdims=True)
limit = 3 * patches.std()
patches = np.clip(patches, -limit, limit) / limit
patches = (patches + 1) * 0.4 + 0.1
print(f"{patches.shape[0]} patches of {patches.shape[1]} pixels")

# %%
# Fit the sparse autoencoder
# --------------------------
# The exercise's settings: :math:`\rho = 0.01`, :math:`\beta = 3`,
# :math:`\alpha = 10^{-4}`, 400 L-BFGS iterations: ``tol=0`` asks for exactly
# that budget instead of the default stopping rule.
sae = SparseAutoencoderTransformer(
    n_components=49,
    rho=0.01,
    alpha=1e-4,
    max_iter=400,
    tol=0,
    random_state=0,
)
sae.fit(patches)
print(
    f"{sae.n_iter_} iterations, loss {sae.loss_:.4f}, "
    f"average mean activation {sae.mean_activation_.mean():.4f} (rho = {sae.rho})"
)

# %%
# The learned filters
# -------------------
# :class:`~skl_sparseae.FilterDisplay` draws each row of ``components_`` as an
# 8x8 tile, scaled to its own contrast range: grey is zero, white a positive
# weight and black a negative one. Most units have become oriented edge or
# bar detectors at different positions, orientations and scales.
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
display = FilterDisplay.from_estimator(sae, image_shape=(8, 8), ax=ax)
# sphinx_gallery_thumbnail_number = 2
_ = display.ax_.set_title("Encoder filters (components_)")

# %%
# Did the sparsity target hold?
# -----------------------------
# :class:`~skl_sparseae.SparsityDisplay` shows the mean activation of every
# hidden unit against :math:`\rho` and the objective along the iterations.
# The x axis runs from zero to twice the target: all units end up within a
# few percent of :math:`\rho`, most of them just above it. The KL penalty is
# flat at its minimum, so a small excess costs almost nothing next to the
# reconstruction error.
fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
SparsityDisplay.from_estimator(sae, ax=axes)
plt.show()
