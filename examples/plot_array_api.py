"""
===========================================
Fitting on the data's device: the Array API
===========================================

With ``sklearn.set_config(array_api_dispatch=True)``, the sparse autoencoder
fits, transforms and scores arrays of any Array API namespace where they
live: PyTorch tensors on a CUDA GPU, CuPy arrays, ... This example runs on the
CPU with `array-api-strict <https://data-apis.org/array-api-strict/>`_, a
reference implementation of the standard, on its fake ``device1``: an array
there refuses to be turned into a NumPy array behind one's back, so the run
shows that the data never leaves its device. The lines for a GPU are given as
comments.

Only the parameter vector goes to the device at each L-BFGS evaluation, and
only the gradient comes back: scipy's L-BFGS-B runs on the host.
"""

# %%
# Data on a device
# ----------------
# scikit-learn needs scipy's Array API mode, set before scipy is imported.
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import array_api_strict as xp
import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer, move_estimator_to

X_np, y_np = load_digits(return_X_y=True)
device = xp.Device("device1")
X = xp.asarray(X_np.astype(np.float32), device=device)
y = xp.asarray(y_np, device=device)
# On a GPU, with PyTorch:
#   import torch
#   X = torch.asarray(X_np, dtype=torch.float32, device="cuda")
#   y = torch.asarray(y_np, device="cuda")

# %%
# A pipeline that stays on the device
# -----------------------------------
# MinMaxScaler and LogisticRegression support the Array API too, so every
# step computes on ``device1`` (or the GPU) in float32.
pipe = make_pipeline(
    MinMaxScaler(),
    SparseAutoencoderTransformer(n_components=49, random_state=0),  # a 7 x 7 mosaic
    LogisticRegression(max_iter=300),
)
with sklearn.config_context(array_api_dispatch=True):
    pipe.fit(X, y)
    codes = pipe[:-1].transform(X)
    accuracy = pipe.score(X, y)

sae = pipe[1]
print(f"codes: {type(codes).__module__}.{type(codes).__name__}")
print(f"codes on {codes.device}, dtype {codes.dtype}")
print(f"components_ on {sae.components_.device}, dtype {sae.components_.dtype}")
print(f"{sae.n_iter_} L-BFGS iterations, training accuracy {accuracy:.3f}")

# %%
# Back to NumPy
# -------------
# The fitted attributes live where the training data did. To serve the
# pipeline on a CPU-only machine, move a copy of it to NumPy with
# :func:`~skl_sparseae.move_estimator_to`, then pickle it as usual: the copy
# holds NumPy arrays only, in every step, so it loads where the device
# library is not installed. The same function moves a single model, and to
# another namespace or device.
cpu_pipe = move_estimator_to(pipe, np, "cpu")
cpu_model = cpu_pipe[1]
accuracy = cpu_pipe.score(X_np.astype(np.float32), y_np)
print(f"{type(cpu_model.components_).__name__}, training accuracy {accuracy:.3f}")

# %%
# The moved model is an ordinary NumPy model: the displays draw it as any
# other, here its encoder filters, learned on the device.
import matplotlib.pyplot as plt

from skl_sparseae import FilterDisplay

fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
display = FilterDisplay.from_estimator(cpu_model, image_shape=(8, 8), ax=ax)
_ = ax.set_title("Encoder filters, fitted on device1")
plt.show()
