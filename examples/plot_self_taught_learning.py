"""
==================================================
Learning from few labels (self-taught learning)
==================================================

Where do sparse autoencoder features help a classifier? With all the labels
of the digits, a logistic regression on raw pixels is hard to beat (see
:ref:`sphx_glr_auto_examples_plot_digits_grid_search.py`). The features pay
off when *images are plentiful but labels are scarce*: the autoencoder learns
from every image, labelled or not, and the classifier then needs fewer labels
to separate the classes in its feature space. This is *self-taught learning*
(Raina et al., 2007), the setting Andrew Ng's sparse autoencoder exercises
build up to.

Protocol: split the digits in half. Fit the autoencoder (and, for comparison,
:class:`~sklearn.decomposition.PCA`) on all the training images without their
labels. Then draw ``k`` labelled images per class from the training half, fit
a :class:`~sklearn.linear_model.LogisticRegression` on raw pixels, on PCA
components and on the autoencoder's codes, and score all three on the test
half. Repeat for 20 random draws of the labelled images.
"""

# %%
# Unlabelled training images, labelled test images
# ------------------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skl_sparseae import SparseAutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities 0-16, mapped to [0, 1] for the sigmoid decoder
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
print(f"{len(X_train)} training images, {len(X_test)} test images")

# %%
# Features learned from all the training images
# ---------------------------------------------
# 100 hidden units, target activation 0.05, ``beta=3``; the fit stops on the
# default rule. Only the images are used, never ``y_train``.
start = time.perf_counter()
sae = SparseAutoencoderTransformer(n_components=100, rho=0.05, random_state=0)
sae.fit(X_train)
print(f"autoencoder fit: {time.perf_counter() - start:.1f} s, {sae.n_iter_} iterations")
pca = PCA(n_components=30, random_state=0).fit(X_train)

features = {
    "raw pixels": (X_train, X_test),
    "PCA (30)": (pca.transform(X_train), pca.transform(X_test)),
    "autoencoder (100)": (sae.transform(X_train), sae.transform(X_test)),
}

# %%
# A classifier from k labelled images per class
# ---------------------------------------------
# For each draw, the same labelled images feed the three classifiers, so the
# comparison is paired. The last row of the table uses every training label.
rng = np.random.RandomState(0)
n_draws = 20
ks = [5, 10, 30]
accuracy = {name: np.empty((len(ks), n_draws)) for name in features}
for i, k in enumerate(ks):
    for draw in range(n_draws):
        labelled = np.concatenate(
            [
                rng.choice(np.flatnonzero(y_train == digit), k, replace=False)
                for digit in range(10)
            ]
        )
        for name, (train, test) in features.items():
            classifier = LogisticRegression(max_iter=2000)
            classifier.fit(train[labelled], y_train[labelled])
            accuracy[name][i, draw] = classifier.score(test, y_test)

all_labels = {}
for name, (train, test) in features.items():
    classifier = LogisticRegression(max_iter=2000).fit(train, y_train)
    all_labels[name] = classifier.score(test, y_test)

print(f"test accuracy, mean of {n_draws} draws (standard deviation)")
print(f"{'labels per class':<17}" + "".join(f"{name:>19}" for name in features))
for i, k in enumerate(ks):
    cells = "".join(
        f"{accuracy[name][i].mean():>11.3f} ({accuracy[name][i].std():.3f})"
        for name in features
    )
    print(f"{k:<17}{cells}")
n_all = len(X_train) // 10
cells = "".join(f"{all_labels[name]:>11.3f}" + " " * 8 for name in features)
print(f"{f'all (~{n_all})':<17}{cells}".rstrip())

# %%
# Is the gain larger than the noise of the draws? Compare the autoencoder with
# raw pixels draw by draw.
gain = accuracy["autoencoder (100)"] - accuracy["raw pixels"]
for i, k in enumerate(ks):
    print(
        f"k={k}: autoencoder minus raw pixels {gain[i].mean():+.3f} on average, "
        f"better in {np.sum(gain[i] > 0)} of {n_draws} draws"
    )

# %%
# Accuracy against the number of labels
# -------------------------------------
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name, marker in zip(features, "osD"):
    ax.errorbar(
        ks,
        accuracy[name].mean(axis=1),
        yerr=accuracy[name].std(axis=1),
        marker=marker,
        capsize=3,
        label=name,
    )
ax.set(
    xscale="log",
    xticks=ks,
    xticklabels=[str(k) for k in ks],
    xlabel="labelled images per class",
    ylabel="test accuracy",
    title=f"Mean and standard deviation of {n_draws} draws",
)
ax.minorticks_off()
ax.legend(loc="lower right")
plt.show()

# %%
# What the numbers say
# --------------------
# With 5 to 30 labels per class the autoencoder's codes beat raw pixels and
# PCA by about two points, in nearly every draw: the autoencoder
# has turned what it learned from all the unlabelled images into features in
# which the classes are easier to separate. PCA, which also sees every image, does not
# help a linear classifier here: its components are a rotation of the pixel
# space, not new features. The three classifiers use scikit-learn's default
# regularisation (``C=1``), untuned for all three.
#
# With every training label (about 90 per class, last row of the table) the
# gap narrows, and in :ref:`sphx_glr_auto_examples_plot_digits_grid_search.py`
# (another split, 64 units, all labels) logistic regression on raw pixels
# comes out slightly ahead of the tuned autoencoder. Use a sparse autoencoder
# as a feature learner when unlabelled data are plentiful and labels are not.
#
# Reference: R. Raina, A. Battle, H. Lee, B. Packer and A. Y. Ng,
# "Self-taught learning: transfer learning from unlabeled data", ICML 2007.
