"""
=========================================================
Fitting on a Dask cluster, and a cluster-wide grid search
=========================================================

Two ways to use more than one machine with
:class:`~skl_sparseae.SparseAutoencoderTransformer`:

* data that lives on a cluster: ``fit`` accepts a row-chunked
  :class:`dask.array.Array`. The L-BFGS loop stays in this process; each
  evaluation of the objective runs on the workers that hold the chunks, and
  only the parameter vector travels;
* a hyper-parameter search whose fits run on the cluster: scikit-learn's
  :class:`~sklearn.model_selection.GridSearchCV` under joblib's ``"dask"``
  backend.

Both need the ``dask`` extra: ``pip install ".[dask]"`` in a checkout of
skl_sparseae, or ``pip install "dask[array]" distributed`` (see
:ref:`getting_started`). The fits below run a small, fixed number of
iterations (``tol=0`` with a small ``max_iter``) to keep the example quick.
"""

# %%
# A cluster
# ---------
# A :class:`~distributed.LocalCluster` stands in for a real cluster here; with
# one, connect with ``Client("tcp://scheduler-address:8786")`` instead and the
# rest of the example is unchanged. The workers are threads of this process
# (``processes=False``) so that the example runs as a plain script too: worker
# *processes* started from a script need the script's code under
# ``if __name__ == "__main__":``, because they re-import it. The dashboard
# takes any free port (``":0"``), so the example also runs where another
# cluster already holds the default one.
from distributed import Client, LocalCluster

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
)
client = Client(cluster)
print(f"{len(client.scheduler_info()['workers'])} workers")

# %%
# Digits-like data in chunks
# --------------------------
# scikit-learn's 8x8 digits, each image also shifted by one pixel in the four
# directions (8,985 images), scaled to [0, 1] for the sigmoid decoder. On a
# real cluster the chunks would be read by the workers (for instance with
# :func:`dask.array.from_zarr`); here they are cut from an array in memory.
import dask.array as da
import numpy as np
from scipy.ndimage import shift
from sklearn.datasets import load_digits

digits, labels = load_digits(return_X_y=True)
images = digits.reshape(-1, 8, 8) / 16.0
moved = [images] + [
    shift(images, (0, dy, dx), order=0, mode="constant")
    for dy, dx in [(-1, 0), (1, 0), (0, -1), (0, 1)]
]
X = np.concatenate(moved).reshape(-1, 64)
y = np.tile(labels, 5)

X_dask = da.from_array(X, chunks=(2000, 64))
X_dask

# %%
# Fit on the cluster
# ------------------
# ``fit`` validates and persists the chunks on the workers once, then runs
# L-BFGS here. ``verbose=1`` would print the reconstruction and sparsity terms
# of each iteration, computed on the cluster.
from time import perf_counter

from skl_sparseae import SparseAutoencoderTransformer

sae = SparseAutoencoderTransformer(
    n_components=64, rho=0.05, max_iter=30, tol=0, random_state=0
)
start = perf_counter()
sae.fit(X_dask)
print(f"fit on the cluster: {perf_counter() - start:.1f} s, {sae.n_iter_} iterations")
print(f"mean activation {sae.mean_activation_.mean():.3f} (rho = {sae.rho})")

# %%
# The cluster fit is the in-memory fit: the same objective, summed chunk by
# chunk, from the same ``random_state``.
in_memory = SparseAutoencoderTransformer(
    n_components=64, rho=0.05, max_iter=30, tol=0, random_state=0
).fit(X)
print(f"relative difference of loss_: {abs(sae.loss_ / in_memory.loss_ - 1):.1e}")
print(
    "largest difference of the filters: "
    f"{np.abs(sae.components_ - in_memory.components_).max():.1e}"
)

# %%
# ``transform``, ``score_samples`` and ``inverse_transform`` of a dask array
# are lazy dask arrays with the same row chunks; nothing is computed until
# asked for.
codes = sae.transform(X_dask)
scores = sae.score_samples(X_dask)
print(codes)
print(f"fraction of codes above 0.5: {float((codes > 0.5).mean().compute()):.3f}")
print(f"mean score: {float(scores.mean().compute()):.3f}")

# %%
# The learned filters (rows of ``components_``):
import matplotlib.pyplot as plt

fig, axes = plt.subplots(8, 8, figsize=(6, 6))
for filt, ax in zip(sae.components_, axes.ravel()):
    ax.imshow(filt.reshape(8, 8), cmap="gray")
    ax.set_axis_off()
fig.suptitle("Encoder filters fitted on the cluster")
plt.show()

# %%
# The same grid search on the cluster
# -----------------------------------
# Under ``joblib.parallel_backend("dask")`` the fits of a grid search are
# tasks on the cluster. The estimator is a plain picklable object, so the
# results are those of the default (loky) backend.
from joblib import parallel_backend
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

pipeline = Pipeline(
    [
        (
            "sae",
            SparseAutoencoderTransformer(
                n_components=32, max_iter=15, tol=0, random_state=0
            ),
        ),
        ("clf", LogisticRegression(max_iter=200)),
    ]
)
grid = {"sae__rho": [0.05, 0.1], "sae__beta": [1.0, 3.0]}
X_small, y_small = X[:900], y[:900]

results = {}
for backend in ["dask", "loky"]:
    search = GridSearchCV(pipeline, grid, cv=3, n_jobs=-1)
    start = perf_counter()
    with parallel_backend(backend):
        search.fit(X_small, y_small)
    results[backend] = search
    print(
        f"{backend}: best {search.best_params_}, "
        f"accuracy {search.best_score_:.3f}, {perf_counter() - start:.1f} s"
    )

# %%
# The accuracy is far below what the digits allow (see
# :ref:`sphx_glr_auto_examples_plot_digits_grid_search.py`), on purpose: each
# fit stops after 15 L-BFGS iterations, with 32 hidden units and 600 training
# images per fold, so that the twelve fits of each backend take seconds. The
# point here is that the two backends agree exactly:
same = np.array_equal(
    results["dask"].cv_results_["mean_test_score"],
    results["loky"].cv_results_["mean_test_score"],
)
print(f"identical cv_results_ scores: {same}")

# %%
client.close()
cluster.close()
