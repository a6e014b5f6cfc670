# A package, so that the test modules import their shared helpers
# (tests/_helpers.py) with an ordinary relative import.
