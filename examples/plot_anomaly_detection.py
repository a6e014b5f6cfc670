"""
======================================================
Outlier detection with the reconstruction error
======================================================

An autoencoder trained on "normal" data reconstructs normal inputs well and
unfamiliar ones badly, so its reconstruction error is an anomaly score.
:class:`~skl_sparseae.SparseAutoencoderOutlierDetector` fits the sparse
autoencoder and wraps that score in scikit-learn's outlier-detector API:
:meth:`~skl_sparseae.SparseAutoencoderOutlierDetector.score_samples` is
:math:`-\\frac{1}{2}\\lVert x - \\hat x\\rVert^2` (higher is more normal),
``decision_function`` subtracts a threshold ``offset_`` set on the training
scores, and ``predict`` returns +1 for inliers and -1 for outliers.

Here the normal data are the handwritten digits 0 to 4. The model never sees a
5 to 9 during training; we ask how well it tells held-out 0-4 digits from
those unseen classes. We also feed the autoencoder's hidden features to an
:class:`~sklearn.ensemble.IsolationForest`.
"""

# %%
# Normal training data and a test set with unseen classes
# -------------------------------------------------------

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import RocCurveDisplay, roc_auc_score
from sklearn.model_selection import train_test_split

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer

X, y = load_digits(return_X_y=True)
X = X / 16.0  # pixel intensities 0-16, mapped to [0, 1] for the sigmoid decoder
normal = y <= 4
X_train, X_normal_test, y_train, y_normal_test = train_test_split(
    X[normal], y[normal], test_size=0.3, random_state=0
)
X_test = np.vstack([X_normal_test, X[~normal]])
y_test = np.r_[y_normal_test, y[~normal]]
is_anomaly = np.r_[np.zeros(len(X_normal_test)), np.ones(np.sum(~normal))]
print(
    f"train: {len(X_train)} digits 0-4; test: {len(X_normal_test)} held-out 0-4 "
    f"and {np.sum(~normal)} digits 5-9"
)

# %%
# The detector
# ------------
# ``contamination="auto"`` (the default) puts ``offset_`` at Tukey's lower
# fence of the training scores, ``Q1 - 1.5 * IQR``: training digits whose
# error is unusually large for this data set are flagged, without a guess of
# how many outliers there are. A float ``contamination`` instead flags that
# fraction of the training digits, as in
# :class:`~sklearn.ensemble.IsolationForest`.
detector = SparseAutoencoderOutlierDetector(n_components=32, rho=0.05, random_state=0)
detector.fit(X_train)

# decision_function is negative for outliers; ROC AUC wants higher = anomaly.
sae_score = -detector.decision_function(X_test)
print(f"ROC AUC, reconstruction error: {roc_auc_score(is_anomaly, sae_score):.4f}")

flagged = detector.predict(X_test) == -1
print(
    f"flagged as outliers: {np.mean(detector.predict(X_train) == -1):.1%} of the "
    f"training digits, {np.mean(flagged[is_anomaly == 0]):.1%} of the held-out "
    f"0-4, {np.mean(flagged[is_anomaly == 1]):.1%} of the unseen 5-9"
)

# %%
# The scores and the two thresholds: "auto", and what ``contamination=0.1``
# would set (the 10th percentile of the training scores).
train_scores = detector.score_samples(X_train)
test_scores = detector.score_samples(X_test)
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
bins = np.linspace(test_scores.min(), 0, 40)
ax.hist(test_scores[is_anomaly == 0], bins=bins, alpha=0.7, label="held-out 0-4")
ax.hist(test_scores[is_anomaly == 1], bins=bins, alpha=0.7, label="unseen 5-9")
ax.axvline(detector.offset_, color="k", label='offset_, contamination="auto"')
ax.axvline(
    np.percentile(train_scores, 10),
    color="k",
    linestyle="--",
    label="offset_, contamination=0.1",
)
ax.set(xlabel="score_samples: -0.5 * squared reconstruction error", ylabel="digits")
_ = ax.legend(fontsize="small")

# %%
# Sparse features in an IsolationForest
# -------------------------------------
# The hidden activations are a compact non-linear description of a digit.
# The detector has no ``transform``; the
# :class:`~skl_sparseae.SparseAutoencoderTransformer` with the same parameters
# is the same fit (the detector runs it), so it gives the detector's codes.
# Feed them to an :class:`~sklearn.ensemble.IsolationForest`, and compare with
# the same forest on raw pixels and on the codes of a dense autoencoder
# (``beta=0``).
sae = SparseAutoencoderTransformer(n_components=32, rho=0.05, random_state=0)
dense = SparseAutoencoderTransformer(n_components=32, beta=0.0, random_state=0)
sae.fit(X_train)
dense.fit(X_train)
print(
    "same weights as the detector:",
    np.array_equal(sae.components_, detector.components_),
)


def forest_score(features_train, features_test):
    forest = IsolationForest(n_estimators=200, random_state=0).fit(features_train)
    return -forest.score_samples(features_test)


scores = {
    "SAE reconstruction error": sae_score,
    "IsolationForest on raw pixels": forest_score(X_train, X_test),
    "IsolationForest on dense codes (beta=0)": forest_score(
        dense.transform(X_train), dense.transform(X_test)
    ),
    "IsolationForest on sparse codes (beta=3)": forest_score(
        sae.transform(X_train), sae.transform(X_test)
    ),
}

fig, ax = plt.subplots(figsize=(6, 6.5), layout="constrained")
for name, score in scores.items():
    RocCurveDisplay.from_predictions(is_anomaly, score, name=name, ax=ax)
    print(f"ROC AUC, {name}: {roc_auc_score(is_anomaly, score):.4f}")
ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize="small")
_ = ax.set_title("Detecting unseen digit classes (5-9)")

# %%
# The forest does *worse than chance* on the sparse codes. The reason is in
# the codes themselves: a digit the model has never seen matches none of its
# learned features well, so it switches on even fewer hidden units than a
# normal digit does.
codes_normal = sae.transform(X_normal_test)
codes_unseen = sae.transform(X[~normal])
print(
    f"mean activation: held-out 0-4 {codes_normal.mean():.4f}, "
    f"unseen 5-9 {codes_unseen.mean():.4f}"
)

# %%
# Unseen digits therefore land near the "all units off" corner of the code
# space, where most normal codes already crowd: a region the forest considers
# dense, hence normal. Sparse codes describe *what is present* in an input,
# not what is missing from it. For novelty detection use the reconstruction
# error, which measures exactly that, or the codes of a dense autoencoder.

# %%
# Which digits look most anomalous?
# ---------------------------------
# The test digits with the largest reconstruction errors (title: true class
# and ``-decision_function``), and their reconstructions.
worst = np.argsort(sae_score)[::-1][:8]
reconstructed = sae.inverse_transform(sae.transform(X_test[worst]))
fig, axes = plt.subplots(2, 8, figsize=(7, 2.4), layout="constrained")
for column, (index, rebuilt) in enumerate(zip(worst, reconstructed)):
    axes[0, column].imshow(X_test[index].reshape(8, 8), cmap="gray_r")
    axes[1, column].imshow(rebuilt.reshape(8, 8), cmap="gray_r")
    axes[0, column].set_title(f"{y_test[index]}: {sae_score[index]:.2f}", fontsize=9)
for ax in axes.ravel():
    ax.set_axis_off()
fig.suptitle("Most anomalous test digits (top), reconstructed (bottom)")
plt.show()
