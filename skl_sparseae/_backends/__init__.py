"""Where the rows of X live and everything that depends on it.

One backend a place the data can live: NumPy arrays and scipy sparse
matrices in memory (``_numpy``), Array API arrays on a device
(``_array_api``), row-chunked dask arrays on a cluster (``_dask`` and the
``_dask_*`` modules it answers from). Each implements the protocol of
``_protocol`` and is the one object the estimators ask about their data;
``_placement.locate`` picks it once per call. ``_blocks`` sizes the blocks
rows are cut into, for the backends and the array maths of a fitted model.

Nothing is imported here, so that the array maths below the backends can
import ``_blocks`` without importing every backend.
"""
