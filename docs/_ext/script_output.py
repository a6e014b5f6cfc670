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

_OUTPUTS = {}


def run_script(path):
    """Standard output and warnings of ``path``, run in a fresh namespace."""
    path = pathlib.Path(path).resolve()
    if path not in _OUTPUTS:
        stdout = io.StringIO()
        with warnings.catch_warnings(record=True) as caught:
            # What a user running the script would see: each warning once per
            # place, without the categories that Python hides by default in
            # library code.
            warnings.simplefilter("default")
            with contextlib.redirect_stdout(stdout):
                runpy.run_path(str(path), run_name="__main__")
        hidden = (DeprecationWarning, PendingDeprecationWarning, ImportWarning)
        lines = stdout.getvalue().splitlines()
        lines += [
            f"{w.category.__name__}: {w.message}"
            for w in caught
            if not issubclass(w.category, hidden + (ResourceWarning,))
        ]
        _OUTPUTS[path] = lines
    return _OUTPUTS[path]


def select_lines(lines, head=None, tail=0):
    """The first ``head`` and last ``tail`` lines, with ``...`` between them."""
    if head is None or head + tail >= len(lines):
        return list(lines)
    return lines[:head] + ["..."] + (lines[-tail:] if tail else [])


def make_directive():
    """The directive class (Sphinx is imported only when building the docs)."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.util.docutils import SphinxDirective

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
            except Exception as exc:  # noqa: BLE001 - reported; fails -W builds
                error = self.state.document.reporter.warning(
                    f"script-output: running {relative} failed: {exc!r}",
                    line=self.lineno,
                )
                return [error]
            lines = select_lines(
                lines, self.options.get("head"), self.options.get("tail", 0)
            )
            text = "\n".join(lines)
            block = nodes.literal_block(text, text)
            block["language"] = "text"
            # Progress lines are longer than the text column: custom.css
            # wraps the blocks of this class instead of scrolling them.
            block["classes"].append("script-output")
            return [block]

    return ScriptOutput


def setup(app):
    app.add_directive("script-output", make_directive())
    return {"version": "1", "parallel_read_safe": True}
