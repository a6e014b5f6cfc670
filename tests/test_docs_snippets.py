"""Every code block that a reader may copy from the README or the docs runs.

- The README's ```python blocks, and in each page of docs/ the
  ``.. code-block:: python`` blocks and the literal (``::``) blocks, which the
  site highlights as Python, are executed in page order in one namespace per
  page, as a reader pasting them one after the other would.
- ``.. code-block:: pycon`` blocks are run as doctests: what the page shows
  after a ``>>>`` line is compared with what the code prints.
- Blocks in other languages (bash, text) are not run; the README's two bash
  commands run in .ci/run itself.

The pages whose code runs for tens of seconds at the size the page shows
(the grid searches of the README and of the getting started page, the Dask
page's cluster) are marked ``slow``: the default test run leaves them out,
``pytest -m slow`` runs them, and so does CI (.ci/run), at full size.

The gallery scripts run when the docs are built (sphinx-gallery aborts the
build on an error), and so does the output that the user guide shows for
``verbose=1`` (docs/_ext/script_output.py).
"""

import doctest
import pathlib
import re
import sys
import textwrap
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The lead's pages hold no Python to copy: the changelog none, the performance
# page one shell command in a literal block.
NOT_SCANNED = {"changelog.rst", "performance.rst"}
RUN = {"python", "py", "python3", "pycon"}
NOT_RUN = {"bash", "console", "shell", "text", "none"}


class Block:
    def __init__(self, source, language, path, line):
        self.source = source
        self.language = language
        self.path = path
        self.line = line

    @property
    def key(self):
        return (self.language, self.source)

    def __repr__(self):
        return f"{self.path.name}:{self.line} ({self.language})"


def markdown_blocks(path):
    """The fenced blocks of a Markdown file, with their languages."""
    blocks, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^```\s*(\S*)\s*$", lines[i])
        if match:
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            source = "\n".join(body) + "\n"
            blocks.append(Block(source, match[1] or "text", path, start))
        i += 1
    return blocks


def _indented_body(lines, i, indent):
    """Lines from ``i`` on that are blank or indented deeper than ``indent``."""
    body = []
    while i < len(lines):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
        i += 1
    while body and not body[-1].strip():
        body.pop()
    return body, i


def rst_blocks(path):
    """The code-block directives and literal blocks of a reStructuredText file."""
    blocks, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        directive = re.match(r"^\s*\.\. (?:code-block|code|sourcecode)::\s*(\S*)", line)
        stripped = line.strip()
        literal = stripped.endswith("::") and not stripped.startswith("..")
        if directive or literal:
            start = i + 1
            body, i = _indented_body(lines, i + 1, indent)
            # A directive's options come first, up to a blank line.
            if directive:
                while body and body[0].strip().startswith(":"):
                    body.pop(0)
            language = (directive[1] if directive else "") or "python"
            source = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
            if source.strip():
                blocks.append(Block(source, language, path, start))
            continue
        i += 1
    return blocks


def pages():
    found = {"README.md": markdown_blocks(ROOT / "README.md")}
    for path in sorted(DOCS.glob("*.rst")):
        if path.name not in NOT_SCANNED:
            found[path.name] = rst_blocks(path)
    return found


PAGES = pages()

# Measured on two cores: README.md 28 s and dask.rst 33 s, and the getting
# started page repeats the README's grid search.
SLOW_PAGES = {"README.md", "getting_started.rst", "dask.rst"}

# Namespaces after running a sequence of blocks: the README and the getting
# started page open with the same grid search, which then runs once.
_RUNS = {}


def run_block(block, namespace):
    if block.language == "pycon":
        parser = doctest.DocTestParser()
        test = doctest.DocTest(
            parser.get_examples(block.source),
            namespace,
            repr(block),
            str(block.path),
            block.line,
            block.source,
        )
        runner = doctest.DocTestRunner(
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        report = []
        runner.run(test, out=report.append, clear_globs=False)
        namespace.update(test.globs)  # DocTest ran in a copy of the namespace
        if runner.failures:
            pytest.fail(f"{block}: output differs from the page\n" + "".join(report))
    else:
        code = compile(block.source, f"{block.path}:{block.line}", "exec")
        exec(code, namespace)


def run_page(blocks):
    """Run ``blocks`` in order in one namespace and return it."""
    namespace, done = {"__name__": "__main__"}, 0
    for count in range(len(blocks), 0, -1):
        prefix = tuple(block.key for block in blocks[:count])
        if prefix in _RUNS:
            namespace, done = dict(_RUNS[prefix]), count
            break
    for count in range(done, len(blocks)):
        run_block(blocks[count], namespace)
        _RUNS[tuple(block.key for block in blocks[: count + 1])] = dict(namespace)
    return namespace


@pytest.fixture(autouse=True)
def _headless_plots(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


def test_every_block_has_a_known_language():
    blocks = [block for page in PAGES.values() for block in page]
    unknown = [b for b in blocks if b.language not in RUN | NOT_RUN]
    assert not unknown, f"code blocks in an unexpected language: {unknown}"


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(page, marks=[pytest.mark.slow] if page in SLOW_PAGES else [])
        # The README first: the getting started page reuses its grid search.
        for page in sorted(PAGES, key=lambda name: name != "README.md")
        if any(block.language in RUN for block in PAGES[page])
    ],
)
def test_page_code_runs(page):
    to_run = [b for b in PAGES[page] if b.language in RUN]
    if any("distributed" in b.source for b in to_run):
        pytest.importorskip("distributed")
    with warnings.catch_warnings():
        # A reader copying the pages' code must not meet a ConvergenceWarning:
        # the fits stop on the default rule or on a stated fixed budget. The
        # filter travels to a grid search's joblib workers, where the error
        # fails that fit: the search then reports a FitFailedWarning.
        from sklearn.exceptions import ConvergenceWarning, FitFailedWarning

        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", FitFailedWarning)
        namespace = run_page(to_run)
    for value in list(namespace.values()):
        # A page that starts a dask client leaves it, and the cluster it was
        # given, open for the reader.
        if type(value).__name__ == "Client":
            cluster = getattr(value, "cluster", None)
            value.close()
            if cluster is not None:
                cluster.close()


def test_every_page_with_python_is_found():
    # The README and the getting started, user guide and Dask pages show
    # Python; a parser that found none there would make the test above pass
    # without running anything.
    counts = {
        page: sum(b.language in RUN for b in blocks) for page, blocks in PAGES.items()
    }
    for page in ("README.md", "getting_started.rst", "user_guide.rst", "dask.rst"):
        assert counts[page] >= 1, counts
    assert sum(b.language == "pycon" for b in PAGES["getting_started.rst"]) >= 1


def test_runner_catches_wrong_output_and_errors(tmp_path):
    page = tmp_path / "page.rst"
    page.write_text(
        "Title\n=====\n\nSome code::\n\n    x = 1\n\n"
        ".. code-block:: pycon\n\n    >>> x + 1\n    3\n\n"
        ".. code-block:: python\n   :caption: options are skipped\n\n"
        "    raise ValueError('boom')\n"
    )
    blocks = rst_blocks(page)
    assert [b.language for b in blocks] == ["python", "pycon", "python"]
    assert blocks[2].source == "raise ValueError('boom')\n"
    namespace = {}
    run_block(blocks[0], namespace)
    with pytest.raises(pytest.fail.Exception, match="output differs"):
        run_block(blocks[1], namespace)
    with pytest.raises(ValueError, match="boom"):
        run_block(blocks[2], namespace)


def test_markdown_blocks_keep_languages(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("x\n```bash\nls\n```\n\n```python\nprint(1)\n```\n")
    blocks = markdown_blocks(readme)
    assert [(b.language, b.source) for b in blocks] == [
        ("bash", "ls\n"),
        ("python", "print(1)\n"),
    ]
