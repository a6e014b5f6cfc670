from sklearn.datasets import load_digits
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer

X, _ = load_digits(return_X_y=True)
X = MinMaxScaler().fit_transform(X)  # pixel intensities 0-16 mapped to [0, 1]
sae = SparseAutoencoderTransformer(n_components=64, rho=0.05, random_state=0, verbose=2)
sae.fit(X)
