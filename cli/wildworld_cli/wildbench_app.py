"""``wildbench``: split, inputs, reference submissions, checks, evaluation, leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from ._common import EXIT_OK, EXIT_PROBLEMS, App, console, fail, friendly, print_json, progress_bar

app = App(
    name="wildbench",
    help="WildBench: an open, documented, reproducible benchmark for action-conditioned world models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _bar(description: str):
    bar = progress_bar()
    task = {}

    def update(done: int, total: int) -> None:
        if "id" not in task:
            task["id"] = bar.add_task(description, total=total)
        bar.update(task["id"], completed=done, total=total)

    return bar, update


@app.command()
@friendly
def split(
    store: Path = typer.Argument(..., help="A converted store (wildworld convert)."),
    out: Path = typer.Option(..., "--out", help="Directory for split.json and the answer key."),
    cases: int = typer.Option(200, "--cases", min=1, help="Number of cases."),
    track: str = typer.Option("short", "--track", help="short (81-frame cases) or long (long-horizon cases, 600 frames by default)."),
    horizon: Optional[int] = typer.Option(None, "--horizon", min=2, help="Frames per case, the first one given (default: the track's)."),
    seed: int = typer.Option(0, "--seed", help="Same store, rules and seed: same split."),
    stride: Optional[int] = typer.Option(None, "--stride", min=1, help="Candidate windows start every STRIDE frames (default: the track's)."),
    depth_scale: Optional[float] = typer.Option(None, "--depth-scale", help="Metres per depth code (default: the synthetic world's, else calibrated)."),
    force: bool = typer.Option(False, "--force", help="Replace a different split already at --out (atomically); its submissions stop passing check."),
) -> None:
    """Choose a curated, stratified, deterministic test split and write its answer key.

    Examples:

      wildbench split STORE --out SPLIT --cases 200

      wildbench split STORE --out SPLIT_LONG --track long --horizon 900 --cases 50
    """
    from wildbench.split import SplitRules, make_split

    rules = SplitRules(cases=cases, horizon=horizon, seed=seed, stride=stride, depth_scale=depth_scale, track=track)
    bar, update = _bar("choosing cases")
    with bar:
        made = make_split(store, out, rules, progress=update, force=force)
    console.print(f"wrote {escape(str(out))}: {len(made.cases)} {made.track}-track cases of {made.horizon} frames "
                  f"(checksum {made.checksum[:12]})")
    if len(made.cases) < cases:
        console.print(f"[yellow]only {len(made.cases)} of {cases} requested cases satisfy the rules in this store[/]")
    for label, count in made.doc["strata"].items():
        console.print(f"  {count:4d}  {escape(str(label))}", highlight=False)


@app.command()
@friendly
def inputs(
    split_dir: Path = typer.Argument(..., help="A split directory."),
    out: Path = typer.Option(..., "--out", help="Directory for the public conditioning packages."),
    store: Optional[Path] = typer.Option(None, "--store", help="The split's store, if it has moved since the split was made."),
    force: bool = typer.Option(False, "--force", help="Replace different inputs already at --out (atomically)."),
) -> None:
    """Write what models may see per case (first frame, actions, camera, skeletons, state, captions).

    Examples:

      wildbench inputs SPLIT --out INPUTS

      wildbench inputs SPLIT --out INPUTS --store /new/place/store --force
    """
    from wildbench import load_split, write_inputs

    loaded = load_split(split_dir, store=store)
    bar, update = _bar("writing inputs")
    with bar:
        write_inputs(loaded, out, progress=update, force=force)
    console.print(f"wrote inputs for {len(loaded.cases)} cases to {escape(str(out))} (see {escape(str(out / 'README.md'))})")


@app.command()
@friendly
def baseline(
    names: List[str] = typer.Argument(..., help="One or more of oracle, frozen, shuffled, resim, camera-follow."),
    split_dir: Path = typer.Option(..., "--split", help="A split directory."),
    out: Optional[Path] = typer.Option(None, "--out", help="Submission directory to write (one baseline)."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Directory for several baselines: DIR/<name>."),
    seed: int = typer.Option(0, "--seed", help="Seed of shuffled pairings and resim actions."),
    store: Optional[Path] = typer.Option(None, "--store", help="The split's store, if it has moved since the split was made."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel workers, one case each (the files do not depend on it)."),
) -> None:
    """Write reference submissions (several in one run share one start-up and one worker pool).

    Examples:

      wildbench baseline oracle --split SPLIT --out SUB_ORACLE --workers 2

      wildbench baseline resim --split SPLIT --out SUB_RESIM --seed 1

      wildbench baseline oracle frozen shuffled --split SPLIT --out-dir SUBS --workers 2
    """
    from wildbench import load_split, make_baselines

    if (out is None) == (out_dir is None):
        raise fail("give --out SUB (one baseline) or --out-dir DIR (any number), not both or neither")
    if out is not None and len(names) > 1:
        raise fail(f"--out names one submission directory but {len(names)} baselines were given; use --out-dir DIR")
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise fail(f"{out_dir}: --out-dir is not a directory")
    if len(set(names)) < len(names):
        raise fail(f"a baseline named twice: {' '.join(names)}")
    jobs = [(name, out if out is not None else out_dir / name) for name in names]
    loaded = load_split(split_dir, store=store)
    bar, update = _bar(f"baseline {' '.join(names)}")
    with bar:
        make_baselines(jobs, loaded, seed=seed, progress=update, workers=workers)
    for name, path in jobs:
        console.print(f"wrote the {escape(str(name))} submission to {escape(str(path))}")


@app.command()
@friendly
def check(
    submission: Path = typer.Argument(..., help="A submission directory."),
    split_dir: Path = typer.Option(..., "--split", help="A split directory."),
    json_output: bool = typer.Option(False, "--json", help="Print findings as JSON."),
) -> None:
    """Report every problem of a submission. Exit 0 valid, 1 problems found, 2 usage error.

    Examples:

      wildbench check SUB --split SPLIT

      wildbench check SUB --split SPLIT --json
    """
    from wildbench import check_submission, load_split

    from ._render import validation_table

    report = check_submission(submission, load_split(split_dir))
    if json_output:
        print_json(report.to_dict())
    else:
        console.print(validation_table(report))
    raise typer.Exit(EXIT_OK if report.ok else EXIT_PROBLEMS)


@app.command()
@friendly
def evaluate(
    submissions: List[Path] = typer.Argument(..., help="One or more submission directories."),
    split_dir: Path = typer.Option(..., "--split", help="A split directory."),
    out: Optional[Path] = typer.Option(None, "--out", help="Results JSON to write (one submission)."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Directory for the results of several submissions: DIR/<submission directory name>.json."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Comma list of metrics or families, e.g. camera_control,state_alignment (default: all; see `wildbench metrics`)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel workers (results do not depend on it)."),
    executor: str = typer.Option("local", "--executor", help="local or ray."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address."),
    resume: bool = typer.Option(False, "--resume", help="Reuse per-case results cached by an earlier run."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (learned metrics and the recognizer)."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Directory of local weight files for the learned plug-in metrics."),
    recognizer: Optional[Path] = typer.Option(None, "--recognizer", help="Action recognizer MODEL_DIR (wildbench recognizer train) for Action Following."),
    store: Optional[Path] = typer.Option(None, "--store", help="The split's store, if it has moved since the split was made."),
) -> None:
    """Score submissions: every input read once per case, every metric, per-case cache, bootstrap intervals.

    Several submissions of one split are scored in one run (one start-up, one worker pool; the
    same numbers as one run each): give them all and --out-dir.

    Examples:

      wildbench evaluate SUB --split SPLIT --out RESULTS.json --workers 2

      wildbench evaluate SUB --split SPLIT --out R.json --metrics camera_control --resume

      wildbench evaluate SUB_A SUB_B SUB_C --split SPLIT --out-dir RESULTS_DIR --workers 2
    """
    from wildbench import evaluate_submissions

    jobs = _evaluation_jobs(submissions, out, out_dir)
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    bar, update = _bar("evaluating cases")
    with bar:
        written = evaluate_submissions(jobs, split_dir, metrics=names, workers=workers, executor=executor, ray_address=ray_address,
                                       resume=resume, device=device, weights=weights, recognizer=recognizer, store=store,
                                       progress=update)
    for (submission, _), results in zip(jobs, written):
        if len(jobs) > 1:
            console.print(f"[bold]{escape(str(submission))}[/]")
        _print_results(results)
    console.print(f"wrote {', '.join(escape(str(path)) for _, path in jobs)} ({written[0]['wall_time_s']:.1f} s); "
                  "* = headline measure (makes the family score)")


def _evaluation_jobs(submissions: List[Path], out: Optional[Path], out_dir: Optional[Path]) -> list[tuple[Path, Path]]:
    """(SUB, RESULTS.json) pairs from --out (one submission) or --out-dir (any number)."""
    if (out is None) == (out_dir is None):
        raise fail("give --out RESULTS.json (one submission) or --out-dir DIR (any number), not both or neither")
    if out is not None:
        if len(submissions) > 1:
            raise fail(f"--out names one results file but {len(submissions)} submissions were given; use --out-dir DIR")
        return [(submissions[0], out)]
    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"{out_dir}: --out-dir is not a directory")
    jobs, names = [], {}
    for submission in submissions:
        name = submission.resolve().name
        if name in names:
            raise fail(f"{submission} and {names[name]}: the same directory name, so the same results file {out_dir / (name + '.json')}; "
                       "rename one or evaluate them separately")
        names[name] = submission
        jobs.append((submission, out_dir / f"{name}.json"))
    return jobs


def _print_results(results) -> None:
    for name, metric in results.metrics.items():
        if not metric.computed:
            reason = metric.reason.removeprefix("not computed: ")  # metrics phrase their reasons as a whole sentence
            console.print(escape(f"{name} {metric.version}: not computed ({reason})"), highlight=False, style="yellow")
            continue
        failed = f", {metric.summary['failed_cases']} failed" if metric.summary.get("failed_cases") else ""
        console.print(escape(f"{name} {metric.version} ({metric.summary['cases']} cases{failed}):"), highlight=False)
        for key, measure in metric.measures.items():
            unit = f" {measure.measure.unit}" if measure.measure.unit else ""
            raw = "n/a" if measure.mean is None else f"{measure.mean:.4g}{unit}"
            ci = f" [95% CI {measure.ci95[0]:.4g}, {measure.ci95[1]:.4g}]" if measure.ci95 else ""
            score = "" if measure.score is None else f" -> {measure.score:.1f}/100"
            star = "*" if measure.measure.headline else " "
            console.print(escape(f"  {star} {measure.measure.label}: {raw}{ci}{score}"), highlight=False)


@app.command("metrics")
@friendly
def list_metrics() -> None:
    """List every metric: its family, version, inputs, measures and how each maps to 0-100.

    Examples:

      wildbench metrics

      wildbench metrics > metrics.txt
    """
    from rich.table import Table

    from wildbench.metrics import families, get_metric

    table = Table(title="WildBench metrics", title_justify="left")
    for column in ("family", "metric", "version", "measure", "direction", "0-100 map", "needs"):
        table.add_column(column)
    for family, names in families().items():
        for name in names:
            metric = get_metric(name)
            for index, m in enumerate(metric.measures):
                first = index == 0
                table.add_row(family if first else "", name if first else "", metric.version if first else "",
                              ("* " if m.headline else "  ") + m.label, m.direction, f"{m.worst:g} -> 0, {m.best:g} -> 100",
                              ", ".join(sorted(metric.requires)) if first else "")
    console.print(table)
    console.print("* = headline measure (makes the family score); select with `wildbench evaluate --metrics NAME,FAMILY`")


@app.command()
@friendly
def leaderboard(
    results: List[Path] = typer.Argument(..., help="RESULTS.json files (one split per track)."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML page."),
    markdown_out: Optional[Path] = typer.Option(None, "--markdown", help="Write Markdown tables."),
    details: bool = typer.Option(False, "--details", help="Also show every measure behind the family scores."),
) -> None:
    """Rank results, one table per track: terminal, Markdown, static HTML (scoring documented and versioned).

    Example:

      wildbench leaderboard out/demo/bench/results/*.json --html board.html --details
    """
    from rich.table import Table

    from wildbench.leaderboard import build_boards, to_html, to_markdown, write_text

    boards = build_boards(results)
    for board in boards:
        overall = len(board.families) > 1
        table = Table(title=f"WildBench {board.track} track - split {board.split_checksum[:12]}, {board.cases} cases x {board.horizon} frames, "
                            f"scoring {board.scoring['version']}", title_justify="left")
        columns = ["#", "model", "version", "conditioning", *board.families] + (["overall"] if overall else [])
        for column in columns:
            table.add_column(column, justify="right" if column in board.families or column in ("#", "overall") else "left")
        floor = board.floor
        for rank, row in enumerate(board.rows, 1):
            label = row.label or ""
            if row.model == floor:
                label = f"{label}, floor" if label else "floor"
            cells = [str(rank), escape(row.model) + (f" [dim]({escape(label)})[/]" if label else ""), escape(str(row.version)),
                     escape(", ".join(row.conditioning)) or "-"]
            cells += ["-" if row.families.get(f) is None else f"{row.families[f]:.1f}" for f in board.families]
            if overall:
                cells.append("-" if row.overall is None else f"{row.overall:.1f}")
            table.add_row(*cells)
        console.print(table)
        if details and board.measures:
            detail = Table(title="measures (0-100 score, raw value)", title_justify="left")
            detail.add_column("model")
            for key in board.measures:
                detail.add_column(key, justify="right")
            for row in board.rows:
                cells = [escape(row.model)]
                for key in board.measures:
                    m = row.measures[key]
                    cells.append("-" if m["score"] is None else f"{m['score']:.1f} ({m['raw']:.4g})")
                detail.add_row(*cells)
            console.print(detail)
        for name, why in sorted({(n, w) for r in board.rows for n, w in r.not_computed.items()}):
            console.print(escape(f"  not computed: {name}: {why}"), style="yellow", highlight=False)
    if markdown_out:
        write_text(markdown_out, to_markdown(boards, details=details))
        console.print(f"wrote {escape(str(markdown_out))}")
    if html_out:
        write_text(html_out, to_html(boards))
        console.print(f"wrote {escape(str(html_out))}")


from .recognizer_commands import register as _register_recognizer  # noqa: E402
_register_recognizer(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
