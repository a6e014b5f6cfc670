"""
================================
Dense versus sparse hidden codes
================================

The sparsity penalty :math:`\\beta \\sum_j \\mathrm{KL}(\\rho \\| \\hat\\rho_j)`
is what makes a sparse autoencoder *sparse*. Fit the same model on the digits
twice, once without the penalty (``beta=0``, a plain autoencoder) and once with
it (``beta=3``), and compare the hidden activations: with the penalty, each
digit switches on only a few of the 64 hidden units.
"""

# %%
# Fit both models
# ---------------

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer, SparsityDisplay

X, y = load_digits(return_X_y=True)
X = MinMaxScaler().fit_transform(X)

models = {}
for beta in (0.0, 3.0):
    sae = SparseAutoencoderTransformer(
        n_components=64, rho=0.05, beta=beta, random_state=0
    )
    sae.fit(X)
    models[beta] = sae

codes = {beta: sae.transform(X) for beta, sae in models.items()}
for beta, code in codes.items():
    sae = models[beta]
    print(
        f"beta={beta:g}: mean activation {code.mean():.3f}, "
        f"units above 0.5 per digit {np.mean(np.sum(code > 0.5, axis=1)):.1f} of 64, "
        f"reconstruction term {-sae.score(X):.3f}"
    )

# %%
# Distribution of the activations
# -------------------------------
# Without the penalty the activations spread over the whole of (0, 1); with it
# nearly all of them sit close to zero, and only a few are large.
fig, axes = plt.subplots(1, 2, figsize=(6.5, 3), sharey=True, layout="constrained")
bins = np.linspace(0, 1, 41)
for ax, (beta, code) in zip(axes, codes.items()):
    ax.hist(code.ravel(), bins=bins, color="tab:blue")
    ax.set_yscale("log")
    ax.set(
        title=f"beta = {beta:g}",
        xlabel="hidden activation",
        ylabel="count (all digits, all units)",
    )

# %%
# A few digits' codes
# -------------------
# Each row is the code of one digit: one column per hidden unit. The sparse
# codes are mostly dark with a few bright units.
fig, axes = plt.subplots(1, 2, figsize=(7, 3), sharey=True, layout="constrained")
samples = np.array([np.flatnonzero(y == digit)[0] for digit in range(10)])
for ax, (beta, code) in zip(axes, codes.items()):
    image = ax.imshow(code[samples], cmap="magma", vmin=0, vmax=1, aspect="auto")
    ax.set(title=f"beta = {beta:g}", xlabel="hidden unit")
axes[0].set(yticks=range(10), yticklabels=y[samples], ylabel="code of a digit")
_ = fig.colorbar(image, ax=axes, label="activation")

# %%
# Mean activations against the target
# -----------------------------------
# With the penalty every unit's mean activation lands near
# :math:`\rho = 0.05`; without it the units settle wherever reconstruction
# takes them.
fig = plt.figure(figsize=(7, 6.5), layout="constrained")
for subfig, (beta, sae) in zip(fig.subfigures(2, 1), models.items()):
    SparsityDisplay.from_estimator(sae, ax=subfig.subplots(1, 2))
    subfig.suptitle(f"beta = {beta:g}")
plt.show()
