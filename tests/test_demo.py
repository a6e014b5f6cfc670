"""The main job, ``python -m skl_sparseae``, on a short run."""

import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._demo import build_parser, main, stop_reason


def test_demo_prints_the_promised_figures(capsys):
    assert (
        main(["--n-components", "16", "--max-iter", "30", "--random-state", "1"]) == 0
    )
    out = capsys.readouterr().out
    sae_acc = re.search(r"SAE features \+ LogisticRegression: (\d\.\d+)", out)
    raw_acc = re.search(r"raw pixels +\+ LogisticRegression: (\d\.\d+)", out)
    assert sae_acc and raw_acc
    # Even a short fit gives features far better than chance (0.1).
    assert float(sae_acc.group(1)) > 0.6
    assert float(raw_acc.group(1)) > 0.9
    assert re.search(r"mean hidden activation: 0\.\d+ \(target rho=0.05\)", out)
    assert "fraction of units with mean activation > 0.1" in out
    assert re.search(r"fit time .*: \d+\.\d s", out)
    assert "n_components=16" in out


def test_module_entry_point_parses_arguments():
    # An out-of-range value: the entry point parses the arguments, and
    # reports the error as a usage error, without a traceback.
    result = subprocess.run(
        [sys.executable, "-m", "skl_sparseae", "--n-components", "0"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --n-components" in result.stderr
    for option in [
        "--n-components",
        "--rho",
        "--beta",
        "--alpha",
        "--max-iter",
        "--random-state",
    ]:
        assert option in result.stderr.split("error:")[0]


@pytest.mark.parametrize(
    "option, value",
    [
        ("--n-components", "0"),
        ("--rho", "2"),
        ("--rho", "0"),
        ("--beta", "-1"),
        ("--alpha", "-1"),
        ("--max-iter", "0"),
    ],
)
def test_out_of_range_arguments_are_usage_errors(capsys, option, value):
    # As a value of the wrong type is: exit status 2, the option named.
    with pytest.raises(SystemExit) as exc_info:
        main([option, value])
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m skl_sparseae")
    assert f"error: argument {option}: " in err
    assert "Traceback" not in err


def test_help_gives_each_option_a_description_and_its_default():
    help_text = " ".join(build_parser().format_help().split())
    for action in build_parser()._actions:
        if action.dest == "help":
            continue
        (option,) = action.option_strings
        assert action.help, option
        assert f"(default: {action.default}" in help_text
    # The demo departs from the estimator's n_components, and says so; its
    # other options take the estimator's defaults.
    estimator = SparseAutoencoderTransformer()
    assert build_parser().get_default("n_components") != estimator.n_components
    assert "the estimator's default is None" in help_text
    for name in ["rho", "beta", "alpha", "max_iter"]:
        assert build_parser().get_default(name) == getattr(estimator, name)


def _fitted(loss_curve, max_iter, tol=0.1, n_iter_no_change=2):
    return SimpleNamespace(
        loss_curve_=loss_curve,
        n_iter_=len(loss_curve),
        max_iter=max_iter,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
    )


def test_stop_reason_tells_the_stopping_rules_apart():
    # 10 -> 9.5 -> 9.2: two improvements of less than tol=10 %.
    no_change = stop_reason(_fitted([10.0, 9.5, 9.2], max_iter=100))
    assert "improved by less than tol=0.1" in no_change
    assert "n_iter_no_change=2" in no_change
    assert stop_reason(_fitted([10.0, 5.0, 2.0], max_iter=3)) == "reached max_iter=3"
    # tol=0 switches the no-improvement rule off.
    assert "max_iter" in stop_reason(_fitted([10.0, 10.0, 10.0], max_iter=3, tol=0))
    assert "L-BFGS-B" in stop_reason(_fitted([10.0, 5.0], max_iter=100))


def _stop_line(capsys, max_iter):
    main(["--n-components", "16", "--max-iter", max_iter, "--random-state", "1"])
    stopped = re.search(
        r"stopped after (\d+) L-BFGS iterations: (.+)", capsys.readouterr().out
    )
    assert stopped
    return int(stopped.group(1)), stopped.group(2)


def test_demo_says_why_the_fit_stopped(capsys):
    n_iter, reason = _stop_line(capsys, "5")
    assert n_iter == 5 and reason.startswith("reached max_iter=5")
    # Digits with 16 units stop on the no-improvement rule well before 400.
    n_iter, reason = _stop_line(capsys, "400")
    assert n_iter < 400 and "for n_iter_no_change=20 iterations" in reason
