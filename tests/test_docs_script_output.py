"""The directive that puts a script's real output into the user guide."""

import pathlib
import sys

import pytest

EXTENSIONS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "_ext"
sys.path.insert(0, str(EXTENSIONS))
import script_output  # noqa: E402


def test_output_and_warnings_are_captured(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "import warnings\n"
        "for i in range(1, 6):\n"
        "    print(f'Iteration {i}')\n"
        "warnings.warn('stopped early', UserWarning)\n"
        "warnings.warn('hidden by default', DeprecationWarning)\n"
    )
    lines = script_output.run_script(script)
    assert lines == [f"Iteration {i}" for i in range(1, 6)] + [
        "UserWarning: stopped early"
    ]


def test_a_failing_script_raises(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("raise ValueError('boom')\n")
    with pytest.raises(ValueError, match="boom"):
        script_output.run_script(script)


@pytest.mark.parametrize(
    "head, tail, expected",
    [
        (None, 0, ["1", "2", "3", "4", "5"]),
        (2, 1, ["1", "2", "...", "5"]),
        (2, 0, ["1", "2", "..."]),
        (3, 2, ["1", "2", "3", "4", "5"]),  # nothing to leave out
    ],
)
def test_select_lines(head, tail, expected):
    assert script_output.select_lines(["1", "2", "3", "4", "5"], head, tail) == expected
