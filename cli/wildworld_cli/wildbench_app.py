"""``wildbench``: split, inputs, reference submissions, checks, evaluation, leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from ._common import EXIT_OK, EXIT_PROBLEMS, console, fail, friendly, print_json, progress_bar

app = typer.Typer(
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
    horizon: int = typer.Option(81, "--horizon", min=2, help="Frames per case, the first one given."),
    seed: int = typer.Option(0, "--seed", help="Same store, rules and seed: same split."),
    stride: int = typer.Option(8, "--stride", min=1, help="Candidate windows start every STRIDE frames."),
    depth_scale: Optional[float] = typer.Option(None, "--depth-scale", help="Metres per depth code (default: the synthetic world's, else calibrated)."),
) -> None:
    """Choose a curated, stratified, deterministic test split and write its answer key."""
    from wildbench.split import SplitRules, make_split

    rules = SplitRules(cases=cases, horizon=horizon, seed=seed, stride=stride, depth_scale=depth_scale)
    bar, update = _bar("choosing cases")
    with bar:
        made = make_split(store, out, rules, progress=update)
    console.print(f"wrote {escape(str(out))}: {len(made.cases)} cases of {horizon} frames (checksum {made.checksum[:12]})")
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
) -> None:
    """Write what models may see per case (first frame, actions, camera, skeletons, state, captions)."""
    from wildbench import load_split, write_inputs

    loaded = load_split(split_dir, store=store)
    bar, update = _bar("writing inputs")
    with bar:
        write_inputs(loaded, out, progress=update)
    console.print(f"wrote inputs for {len(loaded.cases)} cases to {escape(str(out))} (see {escape(str(out / 'README.md'))})")


@app.command()
@friendly
def baseline(
    name: str = typer.Argument(..., help="oracle, frozen, shuffled or resim."),
    split_dir: Path = typer.Option(..., "--split", help="A split directory."),
    out: Path = typer.Option(..., "--out", help="Submission directory to write."),
    seed: int = typer.Option(0, "--seed", help="Seed of shuffled pairings and resim actions."),
    store: Optional[Path] = typer.Option(None, "--store", help="The split's store, if it has moved since the split was made."),
) -> None:
    """Write a reference submission."""
    from wildbench import load_split, make_baseline

    loaded = load_split(split_dir, store=store)
    bar, update = _bar(f"baseline {name}")
    with bar:
        make_baseline(name, loaded, out, seed=seed, progress=update)
    console.print(f"wrote the {escape(str(name))} submission to {escape(str(out))}")


@app.command()
@friendly
def check(
    submission: Path = typer.Argument(..., help="A submission directory."),
    split_dir: Path = typer.Option(..., "--split", help="A split directory."),
    json_output: bool = typer.Option(False, "--json", help="Print findings as JSON."),
) -> None:
    """Report every problem of a submission. Exit 0 valid, 1 problems found, 2 usage error."""
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
    submission: Path = typer.Argument(..., help="A submission directory."),
    split_dir: Path = typer.Option(..., "--split", help="A split directory."),
    out: Path = typer.Option(..., "--out", help="Results JSON to write."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Comma list of metrics (default: all)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel workers (results do not depend on it)."),
    executor: str = typer.Option("local", "--executor", help="local or ray."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address."),
    resume: bool = typer.Option(False, "--resume", help="Reuse per-case results cached by an earlier run."),
) -> None:
    """Score a submission: every video decoded once, every metric, per-case cache, bootstrap intervals."""
    from wildbench import evaluate as run

    names = [m.strip() for m in metrics.split(",")] if metrics else None
    bar, update = _bar("evaluating cases")
    with bar:
        results = run(submission, split_dir, out, metrics=names, workers=workers, executor=executor,
                      ray_address=ray_address, resume=resume, progress=update)
    for name, metric in results["metrics"].items():
        ci = metric["ci95"]
        interval = f" [95% CI {ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        mean = "n/a" if metric["mean"] is None else f"{metric['mean']:.3f}"
        console.print(escape(f"{name} {metric['version']}: {mean}{interval} over {metric['cases']} cases"), highlight=False)
    console.print(f"wrote {escape(str(out))} ({results['wall_time_s']:.1f} s)")


@app.command()
@friendly
def leaderboard(
    results: List[Path] = typer.Argument(..., help="RESULTS.json files of one split."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML page."),
    markdown_out: Optional[Path] = typer.Option(None, "--markdown", help="Write a Markdown table."),
) -> None:
    """Rank results: terminal table, Markdown, static HTML (scoring documented and versioned)."""
    from rich.table import Table

    from wildbench.leaderboard import build_rows, to_html, to_markdown, write_text

    rows, facts = build_rows(results)
    table = Table(title=f"WildBench - split {facts['split_checksum'][:12]}, {facts['cases']} cases x {facts['horizon']} frames, scoring {facts['scoring']['version']}", title_justify="left")
    for column in ["#", "model", "version", "conditioning", *facts["families"], "overall"]:
        table.add_column(column, justify="right" if column in facts["families"] or column in ("#", "overall") else "left")
    for rank, row in enumerate(rows, 1):
        mark = {"ceiling": " [green](ceiling)[/]", "floor": " [red](floor)[/]"}.get(row.reference or "", "")
        cells = [str(rank), escape(row.model) + mark, escape(str(row.version)), escape(", ".join(row.conditioning)) or "-"]
        cells += ["-" if row.families.get(f) is None else f"{row.families[f]:.1f}" for f in facts["families"]]
        cells.append("-" if row.overall is None else f"{row.overall:.1f}")
        table.add_row(*cells)
    console.print(table)
    if markdown_out:
        write_text(markdown_out, to_markdown(rows, facts))
        console.print(f"wrote {escape(str(markdown_out))}")
    if html_out:
        write_text(html_out, to_html(rows, facts))
        console.print(f"wrote {escape(str(html_out))}")


from .recognizer_commands import register as _register_recognizer  # noqa: E402
_register_recognizer(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
