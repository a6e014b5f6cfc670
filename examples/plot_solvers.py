"""
==========================================
Choosing a solver: L-BFGS, Adam and SGD
==========================================

:class:`~skl_sparseae.SparseAutoencoderTransformer` minimises the same
objective with three optimisers (``solver``): full-batch L-BFGS, and Adam or
stochastic gradient descent on minibatches. This example fits all three to
the digits with ``early_stopping=True``, which holds out a tenth of the rows,
scores them after every iteration or epoch (``validation_scores_``) and keeps
the weights of the best score. It then compares the training objective
against time and the held-out score against iterations.
"""

# %%
# Three fits of the same model
# ----------------------------
# The sigmoid decoder reconstructs values in [0, 1], so the pixels are
# divided by their maximum, 16. Every setting except ``solver`` is left at
# its default, except for SGD's step size: at the default
# ``learning_rate_init`` plain SGD moves so slowly on these data that early
# stopping ends its fit with a much larger held-out error than the other two.

from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skl_sparseae import SparseAutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X = X / 16.0

settings = {
    "lbfgs": {},
    "adam": {},
    "sgd": {"learning_rate_init": 0.5},
}
fits = {}
for solver, extra in settings.items():
    sae = SparseAutoencoderTransformer(
        solver=solver, early_stopping=True, random_state=0, **extra
    )
    start = perf_counter()
    sae.fit(X)
    fits[solver] = (sae, perf_counter() - start)

for solver, (sae, seconds) in fits.items():
    unit = "iterations" if solver == "lbfgs" else "epochs"
    print(
        f"{solver:>5}: {sae.n_iter_:3d} {unit:<10} {seconds:4.1f} s, "
        f"best held-out score {sae.best_validation_score_:.3f}"
    )

# %%
# Objective against time, held-out score against iterations
# ---------------------------------------------------------
# ``loss_curve_`` holds the objective on the training rows after each
# L-BFGS iteration (the exact objective) or the mean minibatch objective of
# each epoch. The time axis spreads each fit's wall-clock time evenly over
# its iterations. ``validation_scores_`` is the mean
# :meth:`~skl_sparseae.SparseAutoencoderTransformer.score_samples` of the
# held-out rows: minus half their squared reconstruction error, so higher is
# better. The right panel shows its negative, the held-out error, on the
# same log scale as the objective; the dot marks the best score, whose
# weights each fit keeps.

from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

fig, (ax_loss, ax_error) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for solver, (sae, seconds) in fits.items():
    n = len(sae.loss_curve_)
    elapsed = seconds * np.arange(1, n + 1) / n
    ax_loss.plot(elapsed, sae.loss_curve_, label=solver)
    error = -np.asarray(sae.validation_scores_)
    (line,) = ax_error.plot(np.arange(1, len(error) + 1), error, label=solver)
    best = int(np.argmin(error))
    ax_error.plot(best + 1, error[best], "o", color=line.get_color())
for ax in (ax_loss, ax_error):
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend()
ax_loss.set_xlabel("seconds")
ax_loss.set_ylabel("training objective")
ax_loss.set_title("loss_curve_ against time")
ax_error.set_xlabel("iteration or epoch")
ax_error.set_ylabel("held-out error (minus the score)")
_ = ax_error.set_title("validation_scores_")

# %%
# Which one to use
# ----------------
# On a data set of this size, L-BFGS needs no tuning: it takes the exact
# gradient of all the rows at each step and stops by itself. Adam reaches a
# similar held-out score with its default step size; it is the choice for
# large data sets, where a step that reads only a minibatch pays off, and for
# data that arrive in pieces
# (:meth:`~skl_sparseae.SparseAutoencoderTransformer.partial_fit`, see
# :ref:`sphx_glr_auto_examples_plot_partial_fit_streaming.py`). SGD can match
# them only once ``learning_rate_init`` (and possibly ``learning_rate`` and
# ``momentum``) are tuned. See :ref:`choosing_solver` for the details.
