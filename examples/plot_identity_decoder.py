"""
================================================
Real-valued data with the identity decoder
================================================

The default decoder ends in a sigmoid, so it reconstructs values in [0, 1]
only: data for it are scaled with :class:`~sklearn.preprocessing.MinMaxScaler`.
Real-valued features, such as measurements standardised to zero mean and unit
variance, take the linear decoder instead: ``decoder_activation="identity"``.
The hidden units stay sigmoid, and the sparsity penalty acts on them as
before.

This example fits it to the breast cancer data set (30 measurements of cell
nuclei per sample), standardised with
:class:`~sklearn.preprocessing.StandardScaler`, and compares its
reconstructions of held-out rows with those of
:class:`~sklearn.decomposition.PCA` with as many components.
"""

# %%
# Standardise, then fit
# ---------------------
# The scaler learns its means and variances on the training rows only.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skl_sparseae import SparseAutoencoderTransformer

data = load_breast_cancer()
X_train, X_test = train_test_split(data.data, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print(f"values from {X_train.min():.1f} to {X_train.max():.1f}")

sae = SparseAutoencoderTransformer(decoder_activation="identity", random_state=0).fit(
    X_train
)
n_components = sae.components_.shape[0]
pca = PCA(n_components=n_components).fit(X_train)
print(f"{n_components} hidden units, {sae.n_iter_} L-BFGS iterations")

# %%
# Reconstructions of held-out rows
# --------------------------------
# :meth:`~skl_sparseae.SparseAutoencoderTransformer.inverse_transform` maps
# the hidden codes back to the 30 standardised features. For each feature,
# the share of its held-out variance that the reconstruction explains
# (:math:`R^2`): PCA gives the best reconstruction that any linear map to
# this many components can, and the autoencoder trades some of it for hidden
# codes that are non-negative, bounded and sparse.

from sklearn.metrics import r2_score

reconstructions = {
    "sparse autoencoder": sae.inverse_transform(sae.transform(X_test)),
    "PCA": pca.inverse_transform(pca.transform(X_test)),
}
r2 = {
    name: r2_score(X_test, X_hat, multioutput="raw_values")
    for name, X_hat in reconstructions.items()
}
for name, scores in r2.items():
    print(f"{name:>18}: mean R^2 {scores.mean():.2f}")

fig, ax_r2 = plt.subplots(figsize=(8, 4.5), layout="constrained")
positions = np.arange(X_test.shape[1])
for offset, (name, scores) in zip((-0.2, 0.2), r2.items()):
    ax_r2.bar(positions + offset, scores, width=0.4, label=name)
ax_r2.set_xticks(positions, data.feature_names, rotation=90, fontsize=7)
ax_r2.set_ylabel("held-out $R^2$")
ax_r2.set_title("Reconstruction of each feature")
# Room above the bars for the legend.
ax_r2.set_ylim(top=1.15)
_ = ax_r2.legend(loc="upper center", ncols=2)

# %%
# The hidden codes
# ----------------
# Every hidden activation lies in (0, 1). The sparsity penalty pulls each
# unit's mean activation towards ``rho`` (the red line), so that most
# activations are small and few are large.

codes = sae.transform(X_test)
fig, ax_codes = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax_codes.hist(codes.ravel(), bins=25, range=(0, 1))
ax_codes.axvline(sae.rho, color="tab:red", label=f"rho = {sae.rho:g}")
ax_codes.set_xlabel("hidden activation")
ax_codes.set_ylabel("count (held-out rows x units)")
ax_codes.set_title("Hidden codes")
_ = ax_codes.legend()

# %%
# In a pipeline, put the scaler in front of the autoencoder, as
# ``make_pipeline(StandardScaler(), SparseAutoencoderTransformer(
# decoder_activation="identity"), ...)``, so that cross-validation fits it
# on the training folds only. Whitened data, as in
# :ref:`sphx_glr_auto_examples_plot_natural_image_patches.py`, suit the
# identity decoder as well.
