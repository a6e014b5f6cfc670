"""
=====================================================
Choosing rho and beta without labels
=====================================================

With a classifier at the end of a pipeline, its accuracy decides which
``rho`` and ``beta`` are best
(:ref:`sphx_glr_auto_examples_plot_digits_grid_search.py`). Without
labels, for anomaly scoring or for features to be used later, a search can
only judge an autoencoder by its reconstruction, and the reconstruction
alone prefers the least sparse model.

This example scores every candidate of a grid on both sides with
:func:`~skl_sparseae.metrics.unsupervised_scorers` (the fraction of variance
explained and the mean number of active units per sample) and refits, with
:func:`~skl_sparseae.metrics.sparsest_within`, the sparsest candidate whose
reconstruction is within a tolerance of the best. Then it measures the chosen
model with :func:`~skl_sparseae.metrics.unit_activity` and
:func:`~skl_sparseae.metrics.sparsity_gap`.
"""

# %%
# The search
# ----------
# The digits, scaled to [0, 1] inside the pipeline, and an autoencoder of 32
# units. ``beta=0`` is a plain autoencoder, for which ``rho`` plays no part:
# the grid holds it once. A unit is active on a digit when its activation
# exceeds 0.1 (the scorers' ``threshold``).
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae.metrics import (
    fraction_variance_explained,
    sparsest_within,
    sparsity_gap,
    unit_activity,
    unsupervised_scorers,
)

X, _ = load_digits(return_X_y=True)
pipe = make_pipeline(
    MinMaxScaler(), SparseAutoencoderTransformer(n_components=32, random_state=0)
)
param_grid = [
    {"sparseautoencodertransformer__beta": [0.0]},
    {
        "sparseautoencodertransformer__beta": [1.0, 3.0],
        "sparseautoencodertransformer__rho": [0.05, 0.1],
    },
]
tolerance = 0.15
search = GridSearchCV(
    pipe,
    param_grid,
    scoring=unsupervised_scorers(),
    refit=sparsest_within(tolerance),
    cv=3,
    n_jobs=2,
)
start = time.perf_counter()
search.fit(X)
print(f"grid search: {time.perf_counter() - start:.1f} s")

# %%
# Every candidate, scored on the held-out folds: the fraction of variance
# explained (greater is better), the active units per digit and the KL sum
# against ``rho`` (both lower is sparser; the scorers return them negated, so
# that greater is better for every score, as scikit-learn requires).
results = search.cv_results_
variance = results["mean_test_variance_explained"]
active = -results["mean_test_neg_mean_active_units"]
kl = -results["mean_test_neg_kl_divergence"]
labels = []
for params in results["params"]:
    beta = params["sparseautoencodertransformer__beta"]
    rho = params.get("sparseautoencodertransformer__rho")
    labels.append(f"beta={beta:g}" + (f", rho={rho:g}" if beta else ""))
print(f"{'candidate':>18}  variance explained  active units  KL sum")
for label, v, a, k in zip(labels, variance, active, kl):
    print(f"{label:>18}  {v:18.3f}  {a:12.1f}  {k:6.3f}")

# %%
# The two choices
# ---------------
# The reconstruction alone picks the plain autoencoder, which keeps nearly
# every unit on for every digit. ``sparsest_within`` gives up at most
# ``tolerance`` of the variance explained (here 15 points, a price worth
# paying for codes several times sparser), and takes the sparsest candidate
# within it.
by_reconstruction = int(np.argmax(variance))
chosen = search.best_index_
print(
    f"reconstruction alone: {labels[by_reconstruction]}, "
    f"{active[by_reconstruction]:.1f} active units, "
    f"variance explained {variance[by_reconstruction]:.3f}"
)
print(
    f"sparsest within {tolerance}: {labels[chosen]}, "
    f"{active[chosen]:.1f} active units, variance explained {variance[chosen]:.3f}"
)
if not active[chosen] < active[by_reconstruction]:
    raise RuntimeError("the chosen model should be the sparser one")
print(
    f"The chosen model has {active[by_reconstruction] / active[chosen]:.1f} times "
    f"fewer active units per digit, for "
    f"{100 * (variance[by_reconstruction] - variance[chosen]):.1f} points of "
    "variance explained."
)

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.axhspan(
    variance.max() - tolerance,
    variance.max(),
    color="tab:green",
    alpha=0.15,
    label=f"within {tolerance} of the best",
)
ax.scatter(active, variance, color="tab:blue")
for label, a, v in zip(labels, active, variance):
    ax.annotate(label, (a, v), textcoords="offset points", xytext=(5, -12))
ax.scatter(
    active[chosen],
    variance[chosen],
    s=200,
    facecolors="none",
    edgecolors="tab:red",
    label="sparsest_within",
)
ax.set_xlabel("active units per digit (of 32)")
ax.set_ylabel("fraction of variance explained")
ax.set_title("Cross-validated reconstruction against sparsity")
ax.legend(loc="lower right")
plt.show()

# %%
# The chosen model
# ----------------
# ``best_estimator_`` is the chosen pipeline, refitted on all the digits. The
# metrics take the pipeline itself: the digits go through its scaler first.
best = search.best_estimator_
activity = unit_activity(best, X)
gap = sparsity_gap(best, X)
print(f"variance explained: {fraction_variance_explained(best, X):.3f}")
print(f"active units per digit: {activity.mean_active_units:.1f} of 32")
print(
    "units active on the fewest and the most digits: "
    f"{activity.active_fraction.min():.2f}, {activity.active_fraction.max():.2f}"
)
print(f"dead units: {activity.dead_units}, dense units: {activity.dense_units}")
print(
    f"KL sum against rho: {gap.kl_divergence:.3f}, largest gap of one unit: "
    f"{gap.max_abs_deviation:.3f}"
)
