"""A directive that shows what a script prints, from a real run at build time.

::

    .. literalinclude:: snippets/monitoring.py

    .. script-output:: snippets/monitoring.py
       :head: 5
       :tail: 2

runs ``snippets/monitoring.py`` (relative to the page) once per build and
shows its standard output, followed by the warnings it raised as Python would
print their last line (``ConvergenceWarning: ...``). With ``:head:`` and
``:tail:``, only the first and last lines are shown, separated by ``...``.
A script that fails fails the build: the error is reported as a Sphinx
warning, which ``-W`` turns into an error.
"""

import contextlib
import io
import pathlib
import runpy
import warnings

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

_OUTPUTS = {}


def run_script(path):
    """Standard output and warnings of ``path``, run in a fresh namespace."""
    path = pathlib.Path(path).resolve()
    if path not in _OUTPUTS:
        stdout = io.StringIO()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with contextlib.redirect_stdout(stdout):
                runpy.run_path(str(path), run_name="__main__")
        lines = stdout.getvalue().splitlines()
        lines += [f"{w.category.__name__}: {w.message}" for w in caught]
        _OUTPUTS[path] = lines
    return _OUTPUTS[path]


class ScriptOutput(SphinxDirective):
    required_arguments = 1
    option_spec = {
        "head": directives.nonnegative_int,
        "tail": directives.nonnegative_int,
    }

    def run(self):
        relative, absolute = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relative)
        try:
            lines = run_script(absolute)
        except Exception as exc:  # noqa: BLE001 - reported, and fails -W builds
            error = self.state.document.reporter.warning(
                f"script-output: running {relative} failed: {exc!r}",
                line=self.lineno,
            )
            return [error]
        head = self.options.get("head")
        tail = self.options.get("tail", 0)
        if head is not None and head + tail < len(lines):
            lines = lines[:head] + ["..."] + (lines[-tail:] if tail else [])
        text = "\n".join(lines)
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("script-output", ScriptOutput)
    return {"version": "1", "parallel_read_safe": True}
