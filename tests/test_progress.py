"""``_progress.Progress``: which lines ``verbose`` prints, and their form."""

import re
import warnings

import numpy as np
import pytest

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import Evaluation, initial_parameters, unpack
from skl_sparseae._progress import VERBOSE_EVERY, Progress
from skl_sparseae.metrics import unit_activity

from ._helpers import ignore_convergence_warnings


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
    evaluation = Evaluation(1.5, None, 1.0, 0.25, [0.1, 0.3], 1.125)
    progress.iteration(3, 1.5, validation_score=-0.5, evaluation=evaluation)
    progress.stopped(3, "reached max_iter=3")
    line, stop = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"\[Est\] Epoch 3, loss = 1\.50000000, validation score = -0\.500000,"
        r" reconstruction = 1\.000000, sparsity = 0\.250000, mean activation"
        r" = 0\.2000, active units per sample = 1\.12, time = \d+\.\d\ds",
        line,
    )
    assert re.fullmatch(
        r"\[Est\] Stopped after 3 epochs \(\d+\.\d\ds\): reached max_iter=3\.", stop
    )


def test_a_line_without_counted_units_leaves_them_out(capsys):
    # A solver's objective need not count the active units.
    evaluation = Evaluation(1.5, None, 1.0, 0.25, [0.1, 0.3])
    Progress("Est", 2).iteration(1, 1.5, evaluation=evaluation)
    line = capsys.readouterr().out
    assert "mean activation = 0.2000, time = " in line
    assert "active units" not in line


def test_nothing_is_printed_at_verbose_0(capsys):
    progress = Progress("Est", 0)
    progress.iteration(1, 1.0)
    progress.stopped(1, "done")
    assert capsys.readouterr().out == ""


def test_a_note_is_a_prefixed_line(capsys):
    Progress("Est", 2, unit="Epoch").note(4, "learning rate divided by 5, to 0.02")
    Progress("Est", 0, unit="Epoch").note(4, "not shown")
    assert capsys.readouterr().out == (
        "[Est] Epoch 4: learning rate divided by 5, to 0.02.\n"
    )


# --------------------------------------------------------------------------
# What the minibatch solvers print.

NAME = "[SparseAutoencoderTransformer]"


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(size=(150, 12))


def _printed(capsys):
    return capsys.readouterr().out.splitlines()


def test_adaptive_learning_rate_changes_are_prefixed_lines(X, capsys):
    SparseAutoencoderTransformer(
        5,
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.3,
        tol=1e-2,
        n_iter_no_change=2,
        max_iter=60,
        batch_size=16,
        verbose=2,
        random_state=0,
    ).fit(X)
    lines = _printed(capsys)
    assert all(line.startswith(NAME + " ") for line in lines), lines
    changes = [line for line in lines if "learning rate divided by 5" in line]
    assert changes
    for line in changes:
        assert re.fullmatch(
            re.escape(NAME) + r" Epoch \d+: the epoch's loss improved by less than "
            r"tol=0\.01 \(relative\) for 2 consecutive epochs; learning rate "
            r"divided by 5, to [0-9.e-]+\.",
            line,
        )
    assert re.search(r"Stopped after \d+ epochs .* learning rate down to", lines[-1])


def _terms(theta, X, n_components, rho, beta):
    """The terms of J, the mean activation and the active units per sample."""
    W1, b1, W2, b2 = unpack(theta, X.shape[1], n_components)
    A = 1 / (1 + np.exp(-(X @ W1 + b1)))
    X_hat = 1 / (1 + np.exp(-(A @ W2 + b2)))
    rho_hat = A.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    return (
        0.5 * np.sum((X - X_hat) ** 2) / len(X),
        beta * kl.sum(),
        rho_hat.mean(),
        np.count_nonzero(A > 0.1) / len(X),
    )


def _initial_theta(X, n_components, rho):
    """The weights a fit with random_state=0 starts from."""
    theta0 = initial_parameters(X.shape[1], n_components, np.random.RandomState(0))
    unpack(theta0, X.shape[1], n_components)[1][:] = np.log(rho / (1 - rho))
    return theta0


def _figures(line):
    """The figures of a ``verbose=2`` line, by name."""
    return {
        name: float(value)
        for name, value in re.findall(r"([a-z][a-z ]*) = (-?[0-9.e+-]+)", line)
    }


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_verbose_2_minibatch_lines_show_the_objectives_terms(X, solver, capsys):
    # One batch of all rows: the first epoch's terms are those of J at the
    # initial weights (the hidden biases at logit(rho)).
    rho, beta = 0.05, 3.0
    SparseAutoencoderTransformer(
        5,
        rho=rho,
        beta=beta,
        solver=solver,
        batch_size=len(X),
        shuffle=False,
        max_iter=2,
        tol=0,
        verbose=2,
        random_state=0,
    ).fit(X)
    first = _printed(capsys)[0]
    theta0 = _initial_theta(X, 5, rho)
    reconstruction, sparsity, mean_activation, active = _terms(theta0, X, 5, rho, beta)
    match = re.fullmatch(
        re.escape(NAME) + r" Epoch 1, loss = (\S+), reconstruction = (\S+), "
        r"sparsity = (\S+), mean activation = (\S+), active units per sample = "
        r"(\S+), time = \d+\.\d\ds",
        first,
    )
    assert match, first
    loss, printed_reconstruction, printed_sparsity, printed_mean, printed_active = map(
        float, match.groups()
    )
    assert printed_reconstruction == pytest.approx(reconstruction, rel=1e-3)
    assert printed_sparsity == pytest.approx(sparsity, rel=1e-3)
    assert printed_mean == pytest.approx(mean_activation, abs=1e-4)
    assert printed_active == round(active, 2)
    # The rest of the loss is the weight decay.
    assert 0 < loss - printed_reconstruction - printed_sparsity < 1e-3


def test_partial_fit_lines_are_numbered_as_n_iter_counts(X, capsys):
    sae = SparseAutoencoderTransformer(5, max_iter=5, tol=0, random_state=0).fit(X)
    sae.set_params(solver="adam", verbose=2)
    capsys.readouterr()
    sae.partial_fit(X)
    sae.partial_fit(X)
    assert sae.n_iter_ == 7
    lines = _printed(capsys)
    assert [line.split(",")[0] for line in lines] == [
        f"{NAME} Epoch 6",
        f"{NAME} Epoch 7",
    ]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size", [40, 150], ids=["4-batches", "1-batch"])
def test_minibatch_active_units_are_the_epochs_batch_mean(
    X, backend, solver, batch_size, capsys
):
    # Steps too small to move any activation across the threshold: every
    # batch is encoded by the initial weights, up to 1e-12, so the epoch's
    # mean over its batches (40, 40, 40 and 30 rows) is unit_activity's on
    # the fitted weights and the plain count at the initial weights.
    rho = 0.3
    with backend.context():
        X_fit = backend.data(X, 60)
        sae = SparseAutoencoderTransformer(
            5,
            rho=rho,
            solver=solver,
            learning_rate_init=1e-12,
            batch_size=batch_size,
            max_iter=1,
            tol=0,
            verbose=2,
            random_state=0,
        ).fit(X_fit)
        expected = unit_activity(sae, X_fit).mean_active_units
    printed = _figures(_printed(capsys)[0])["active units per sample"]
    assert expected == _terms(_initial_theta(X, 5, rho), X, 5, rho, 3.0)[3]
    # Neither no unit nor every unit active: the count is a real test.
    assert 0 < expected < 5
    assert printed == round(expected, 2)


def test_minibatch_active_units_are_measured_before_each_step(X, capsys):
    # One batch of all rows: epoch n's activations are those of the weights
    # after epoch n - 1, which unit_activity measures on the model.
    sae = SparseAutoencoderTransformer(
        5,
        rho=0.3,
        solver="adam",
        batch_size=len(X),
        max_iter=3,
        tol=0,
        random_state=0,
    )
    sae.fit(X)
    expected = unit_activity(sae, X).mean_active_units
    sae.set_params(verbose=2)
    capsys.readouterr()
    sae.partial_fit(X)
    (line,) = _printed(capsys)
    assert _figures(line)["active units per sample"] == round(expected, 2)


@ignore_convergence_warnings  # the fit stops on max_iter
def test_lbfgs_last_line_counts_the_active_units_of_the_fitted_model(backend, capsys):
    # The count of each L-BFGS line comes from the evaluation at the iterate;
    # the last iterate is the fitted model, on every backend.
    X = np.random.RandomState(0).uniform(size=(150, 12))
    with backend.context():
        X_fit = backend.data(X, 40)
        sae = SparseAutoencoderTransformer(
            5, rho=0.05, max_iter=6, tol=0, verbose=2, random_state=0
        ).fit(X_fit)
        expected = unit_activity(sae, X_fit).mean_active_units
    lines = [line for line in _printed(capsys) if " Iteration " in line]
    assert len(lines) == 6
    counts = [_figures(line)["active units per sample"] for line in lines]
    assert 0 < expected < 5
    assert counts[-1] == round(expected, 2)
    # The count follows the fit: the random start has every unit on.
    assert counts[0] == 5
    assert counts[-1] < 1


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_the_stop_line_comes_before_the_warning_that_explains_it(solver, capsys):
    X = np.random.RandomState(0).uniform(size=(60, 8))
    sae = SparseAutoencoderTransformer(
        3, solver=solver, max_iter=3, verbose=1, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # Warnings printed to stdout, so that their order with the lines shows.
        warnings.showwarning = lambda message, *args, **kwargs: print(
            f"WARNING {type(message).__name__}"
        )
        sae.fit(X)
    lines = capsys.readouterr().out.splitlines()
    stop = next(i for i, line in enumerate(lines) if "Stopped after 3" in line)
    warned = lines.index("WARNING ConvergenceWarning")
    assert stop < warned
