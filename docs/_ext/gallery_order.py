"""The order of the gallery: from a first fit to the advanced set-ups.

sphinx-gallery sorts the examples of a gallery with this key
(``within_subsection_order`` in conf.py, named by its import path so that the
configuration stays picklable). An example missing from ``ORDER`` comes last,
by file name.
"""

ORDER = [
    "plot_natural_image_patches.py",  # one fit, its filters and sparsity
    "plot_dense_vs_sparse.py",  # what the penalty does to the codes
    "plot_solvers.py",  # the three solvers, early stopping
    "plot_identity_decoder.py",  # real-valued data, the linear decoder
    "plot_digits_grid_search.py",  # a pipeline tuned for classification
    "plot_unsupervised_model_selection.py",  # tuned without labels
    "plot_self_taught_learning.py",  # features from unlabelled data
    "plot_partial_fit_streaming.py",  # data that arrives in pieces
    "plot_anomaly_detection.py",  # the outlier detector
    "plot_dask_cluster.py",  # a cluster
    "plot_array_api.py",  # arrays on a device
]


class GalleryOrder:
    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = str(filename)
        position = ORDER.index(name) if name in ORDER else len(ORDER)
        return (position, name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
