"""Warnings that point at the user's line, not at the library's.

A warning shows the file and line of one frame of the stack. With a fixed
``stacklevel`` that frame depends on how deep in the package the warning is
raised and on how the estimator was called (``fit``, ``fit_transform``
through scikit-learn's mixin, a ``Pipeline``, ``cross_validate`` through
joblib), so :func:`warn` counts the frames itself: it names the first
caller outside this package, scikit-learn and joblib, the line that started
the fit.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import sys
import warnings

import joblib
import sklearn

_LIBRARY_DIRECTORIES = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sys.modules[__package__], sklearn, joblib)
)


def user_stacklevel():
    """The ``stacklevel`` that names the first frame outside the libraries.

    Counted for a call of :func:`warnings.warn` made by the caller of this
    function's caller (as :func:`warn` makes it).
    """
    # Frame 0 is this function, 1 is warn(), 2 the library code calling it.
    frame = sys._getframe(2)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _LIBRARY_DIRECTORIES
    ):
        frame = frame.f_back
        level += 1
    return level


def warn(message, category=UserWarning):
    """:func:`warnings.warn` at the user's line (see :func:`user_stacklevel`)."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
