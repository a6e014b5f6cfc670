"""``_progress.Progress``: which lines ``verbose`` prints, and their form."""

import re

import pytest

from skl_sparseae._objective import Evaluation
from skl_sparseae._progress import VERBOSE_EVERY, Progress


@pytest.mark.parametrize(
    "verbose, shown",
    [(0, []), (1, [1, VERBOSE_EVERY, 2 * VERBOSE_EVERY]), (2, list(range(1, 21)))],
)
def test_which_iterations_get_a_line(verbose, shown, capsys):
    progress = Progress("Est", verbose)
    for iteration in range(1, 21):
        progress.iteration(iteration, 1.0)
    lines = capsys.readouterr().out.splitlines()
    assert [int(re.search(r"Iteration (\d+)", line)[1]) for line in lines] == shown


def test_a_line_and_the_stop_line(capsys):
    progress = Progress("Est", 2, unit="Epoch")
    evaluation = Evaluation(1.5, None, 1.0, 0.25, [0.1, 0.3])
    progress.iteration(3, 1.5, validation_score=-0.5, evaluation=evaluation)
    progress.stopped(3, "reached max_iter=3")
    line, stop = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"\[Est\] Epoch 3, loss = 1\.5, validation score = -0\.5, reconstruction"
        r" = 1, sparsity = 0\.25, mean activation = 0\.2000, time = \d+\.\d\ds",
        line,
    )
    assert re.fullmatch(
        r"\[Est\] Stopped after 3 epochs \(\d+\.\d\ds\): reached max_iter=3\.", stop
    )


def test_nothing_is_printed_at_verbose_0(capsys):
    progress = Progress("Est", 0)
    progress.iteration(1, 1.0)
    progress.stopped(1, "done")
    assert capsys.readouterr().out == ""
