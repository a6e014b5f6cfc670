"""Where the rows of X live and everything that depends on it.

One module a place the data can live: NumPy arrays and scipy sparse
matrices in memory, Array API arrays on a device, row-chunked dask arrays on
a cluster; and the placement that picks among them once per call.
"""
