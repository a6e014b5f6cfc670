"""The main job, ``python -m skl_sparseae``, on a short run."""

import re
import subprocess
import sys

from skl_sparseae._demo import main


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
    result = subprocess.run(
        [sys.executable, "-m", "skl_sparseae", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in [
        "--n-components",
        "--rho",
        "--beta",
        "--alpha",
        "--max-iter",
        "--random-state",
    ]:
        assert option in result.stdout
