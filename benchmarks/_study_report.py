"""The defaults study's tables, and the driver of the ``defaults_study*.py`` scripts."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import os
import time

import numpy as np
from _common import machine_description
from _study import ALPHAS, FORMER, FORMER_LABEL, PROBLEMS, panel_deltas

# --- report ----------------------------------------------------------------


def row(*cells):
    """Print one row of a Markdown table."""
    print("| " + " | ".join(str(cell) for cell in cells) + " |")


def report(records):
    """Print the study's tables from its records."""
    stages = {r["stage"] for r in records}
    for stage in ("screen", "confirm"):
        if stage in stages:
            report_fits(records, stage)
    if "screen" in stages:
        report_screen_factors(records)
    if "d" in stages:
        print(
            "\nbenchmark d (nudged digits, macro-F1 of the RBM example's classifier):"
        )
        print("| setting | variant | macro-F1 | iterations | fit (s) |")
        print("| --- | --- | --- | --- | --- |")
        for r in records:
            if r["stage"] == "d":
                print(
                    f"| {r['config']} | {r.get('variant', '-')} | {r['f1']:.4f} | "
                    f"{r.get('n_iter', '-')} | {r['seconds']:.1f} |"
                )
    if "grid" in stages:
        print("\nREADME grid search (digits, 64 units, 5-fold CV):")
        print("| setting | best CV accuracy | best cell | time (s) |")
        print("| --- | --- | --- | --- |")
        for r in records:
            if r["stage"] == "grid":
                row(
                    r["config"],
                    f"{r['best']:.4f}",
                    r["best_params"],
                    f"{r['seconds']:.0f}",
                )
    if "outliers" in stages:
        report_outliers(records)


def report_fits(records, stage):
    rows = [r for r in records if r["stage"] == stage]
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    print(f"\n{stage}: mean over seeds per problem and configuration")
    header = "problem configuration alpha acc few fve act/rho iterations fit(s) seeds"
    row(*header.split())
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for problem in problems:
        for r in records:
            if (
                r["stage"] == "reference"
                and r["problem"] == problem
                and stage == "confirm"
            ):
                row(
                    problem,
                    r["config"],
                    "-",
                    f"{r['acc']:.3f}",
                    f"{r['few']:.3f}",
                    *"-----",
                )
        by_config = {}
        for r in rows:
            if r["problem"] == problem:
                by_config.setdefault(r["config"], []).append(r)
        for config, rs in by_config.items():

            def mean(key):
                return float(np.mean([r[key] for r in rs]))

            print(
                f"| {problem} | {config} | {rs[0]['alpha']:.2g} | {mean('acc'):.3f} | "
                f"{mean('few'):.3f} | {mean('fve'):.3f} | {mean('act'):.3f} / "
                f"{rs[0]['rho']:g} | {mean('n_iter'):.0f} | {mean('seconds'):.1f} | "
                f"{len(rs)} |"
            )
    deltas = panel_deltas(records, stage)
    print(f"\n{stage}: gain in (acc + few) / 2 over {FORMER_LABEL}, per problem")
    print("| configuration | " + " | ".join(problems) + " | mean |")
    print("| --- | " + " | ".join("---" for _ in problems) + " | --- |")
    order = sorted(deltas, key=lambda c: -np.mean(list(deltas[c].values())))
    for config in order:
        cells = [f"{deltas[config].get(p, float('nan')):+.3f}" for p in problems]
        print(
            f"| {config} | "
            + " | ".join(cells)
            + f" | {np.mean(list(deltas[config].values())):+.3f} |"
        )


def path(record):
    """ "adam", "lbfgs s1" or "lbfgs sauto": the solver and the scaling."""
    if record["config"].startswith("adam"):
        return "adam"
    return "lbfgs " + record["config"].rsplit(" ", 1)[1]


def report_screen_factors(records):
    """The screen's (acc + few) / 2, and fve, per level of each factor."""
    rows = [r for r in records if r["stage"] == "screen" and r["seed"] == 0]
    problems = list(dict.fromkeys(r["problem"] for r in rows))

    def cell(selected):
        score = np.mean([(r["acc"] + r["few"]) / 2 for r in selected])
        return f"{score:.3f} ({np.mean([r['fve'] for r in selected]):.2f})"

    print("\nscreen: mean (acc + few) / 2 (and fve) over the other factors")
    row("factor", "level", *problems)
    row(*["---"] * (len(problems) + 2))
    levels = [("alpha", a, lambda r, a=a: r["alpha"] == a) for a in ALPHAS]
    levels += [
        (key, v, lambda r, key=key, v=v: r["params"].get(key, FORMER[key]) == v)
        for key, values in (("beta", (1.0, 3.0)), ("rho", (0.05, 0.1)))
        for v in values
    ]
    levels += [
        ("solver", name, lambda r, name=name: path(r) == name)
        for name in ("lbfgs s1", "lbfgs sauto", "adam")
    ]
    for factor, level, keep in levels:
        cells = [
            cell([r for r in rows if r["problem"] == p and keep(r)]) for p in problems
        ]
        row(factor, level, *cells)
    for name in ("lbfgs s1", "lbfgs sauto", "adam"):
        iterations = [
            np.mean(
                [r["n_iter"] for r in rows if r["problem"] == p and path(r) == name]
            )
            for p in problems
        ]
        row("iterations", name, *(f"{i:.0f}" for i in iterations))
    best = []
    for p in problems:
        by_alpha = {
            a: np.mean(
                [
                    (r["acc"] + r["few"]) / 2
                    for r in rows
                    if r["problem"] == p and r["alpha"] == a
                ]
            )
            for a in ALPHAS
        }
        alpha = max(by_alpha, key=by_alpha.get)
        variance = next(r["variance"] for r in rows if r["problem"] == p)
        best.append(f"{alpha:g} / {variance:.1f} = {alpha / variance:.1e}")
    row("best alpha / total variance", "-", *best)


def report_outliers(records):
    """ROC AUC per detector and column: mean over the held-out classes, then seeds.

    With several seeds a cell reads ``mean ±sd (fit s)``, the standard
    deviation over the seeds of their means over the held-out classes; a
    cell or row mean from fewer seeds than the table's says how many.
    """
    rows = [r for r in records if r["stage"] == "outliers"]
    seeds = sorted({r.get("seed", 0) for r in rows})
    print(
        "\noutliers: ROC AUC, mean over the held-out classes and over the seeds "
        f"{seeds} (fit time, s)"
    )
    keys = list(
        dict.fromkeys(
            (r["config"], r.get("recipe", "-"), r.get("solver", "-")) for r in rows
        )
    )
    columns = list(dict.fromkeys((r["problem"], r["setting"]) for r in rows))
    print(
        "| detector | recipe | solver | "
        + " | ".join(f"{p}, {s}" for p, s in columns)
        + " | mean |"
    )
    print("| --- | --- | --- | " + " | ".join("---" for _ in columns) + " | --- |")

    def summary(per_seed):
        text = f"{np.mean(per_seed):.3f}"
        if len(per_seed) > 1:
            text += f" ±{np.std(per_seed, ddof=1):.3f}"
        if len(per_seed) < len(seeds):
            text += f" [{len(per_seed)} seed{'s' if len(per_seed) > 1 else ''}]"
        return text

    for key in keys:
        cells, by_seed = [], {}
        for p, s in columns:
            rs = [
                r
                for r in rows
                if (r["config"], r.get("recipe", "-"), r.get("solver", "-")) == key
                and r["problem"] == p
                and r["setting"] == s
            ]
            if not rs:
                cells.append("-")
                continue
            per_seed = {}
            for r in rs:
                per_seed.setdefault(r.get("seed", 0), []).append(r["auc"])
            means = [float(np.mean(a)) for a in per_seed.values()]
            for seed, auc in zip(per_seed, means):
                by_seed.setdefault(seed, []).append(auc)
            seconds = np.mean([r["seconds"] for r in rs])
            cells.append(f"{summary(means)} ({seconds:.1f})")
        # The row's mean over the columns, per seed, over the seeds that
        # have every column.
        overall = [np.mean(a) for a in by_seed.values() if len(a) == len(columns)]
        print(
            f"| {key[0]} | {key[1]} | {key[2]} | "
            + " | ".join(cells)
            + f" | {summary(overall) if overall else '-'} |"
        )


# --- the driver ------------------------------------------------------------


def study_parser(doc, stages):
    """The options common to the scripts; ``stages`` are the script's stages."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--only", nargs="+", default=list(stages), choices=list(stages))
    parser.add_argument("--problems", nargs="+", default=None, help="name prefixes")
    parser.add_argument(
        "--out", default=None, help="JSON of the records, kept up to date"
    )
    parser.add_argument("--report", default=None, help="print the tables of this JSON")
    return parser


def study_main(parser, stages, argv=None):
    """Run the stages of ``--only``, keeping ``--out`` up to date; print the tables.

    ``stages`` maps a stage's name to ``stage(args, problems, records)``, a
    generator that appends to ``records`` and yields whenever they are worth
    saving. Records already in ``--out`` are kept: the confirmation, for one,
    reads the screen's from there.
    """
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report) as f:
            report(json.load(f))
        return
    problems = [
        p
        for p in PROBLEMS
        if args.problems is None or any(p.startswith(q) for q in args.problems)
    ]
    records = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            records = json.load(f)
    print("\n".join(machine_description()), flush=True)
    start = time.perf_counter()
    for stage in args.only:
        for _ in stages[stage](args, problems, records):
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(records, f, indent=0)
        print(f"[{stage} done at {time.perf_counter() - start:.0f} s]", flush=True)
    report(records)
    print(f"\n{time.perf_counter() - start:.0f} s in all")
