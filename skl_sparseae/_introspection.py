"""What help(), Sphinx and scikit-learn read, written once and shown twice.

The outlier detector takes the autoencoder's parameters and
``FilterDisplay.from_estimator`` takes ``plot``'s: each lists them through
the function that defines them, in its signature and in its docstring, so
that the names, defaults and descriptions cannot drift apart.
"""

# SPDX-License-Identifier: BSD-3-Clause

import inspect
import re


def keyword_parameters(function):
    """The keyword-only parameters of ``function``, in order."""
    return [
        parameter
        for parameter in inspect.signature(function).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]


def extended_signature(function, parameters):
    """``function``'s signature without its ``**kwargs``, then ``parameters``.

    Set as the ``__signature__`` of a function that takes ``parameters``
    through ``**kwargs``: ``inspect.signature`` (which scikit-learn's
    ``get_params`` and ``clone`` rely on) then shows each of them.
    """
    signature = inspect.signature(function)
    own = [
        parameter
        for parameter in signature.parameters.values()
        if parameter.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    return signature.replace(parameters=[*own, *parameters])


def section_entries(doc, section):
    """The entries of ``section`` ("Parameters", ...) of the numpydoc text ``doc``.

    Returned as written, indentation and the blank line before the next
    section included, for another docstring of the same indentation to
    show the same entries.
    """
    header = re.search(rf"^( *){section}\n *-+\n", doc, re.MULTILINE)
    indent = header.group(1)
    next_header = re.compile(rf"^{indent}\w[\w ]*\n{indent}-+\n", re.MULTILINE)
    following = next_header.search(doc, header.end())
    return doc[header.end() : following.start() if following else len(doc)]


def with_entries(doc, placeholder, entries):
    """``doc`` with the line ``{placeholder}`` and its blank line made ``entries``."""
    line = re.search(rf"^ *\{{{placeholder}\}}\n\n", doc, re.MULTILINE)
    return doc[: line.start()] + entries + doc[line.end() :]
