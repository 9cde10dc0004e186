"""``wildworld``: validate, inspect, render, view, generate, convert and download WildWorld data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ._common import EXIT_OK, EXIT_PROBLEMS, App, console, fail, friendly, print_json, warn

app = App(
    name="wildworld",
    help="Read, validate, convert and load the WildWorld dataset (release layout or converted store).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@friendly
def validate(
    paths: List[Path] = typer.Argument(..., help="Sample directories, part directories or converted stores."),
    json_output: bool = typer.Option(False, "--json", help="Print findings as JSON."),
    decode: bool = typer.Option(True, "--decode/--no-decode", help="Decode the first and last frame of each video."),
) -> None:
    """Report every problem at once. Exit 0 valid, 1 problems found, 2 usage error (not a dataset).

    Examples:

      wildworld validate sample_data/data_part1

      wildworld validate out/store data/ --json --no-decode
    """
    from wildworld import classify_path
    from wildworld.validate import validate_path

    from ._render import validation_table

    reports = []
    for path in paths:
        classify_path(path)  # a path that holds no dataset is a usage error, said in one line
        reports.append(validate_path(path, decode_ends=decode))
    if json_output:
        print_json({"valid": all(r.ok for r in reports), "reports": [r.to_dict() for r in reports]})
    else:
        for report in reports:
            console.print(validation_table(report))
    raise typer.Exit(EXIT_OK if all(r.ok for r in reports) else EXIT_PROBLEMS)


@app.command()
@friendly
def info(
    path: Path = typer.Argument(..., help="A sample directory, a part directory or a converted store."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    top: int = typer.Option(5, help="How many of the most played actions to list."),
) -> None:
    """Frames, duration, entities, invalid-camera count and the top actions.

    Examples:

      wildworld info sample_data/data_part1/000000

      wildworld info out/store --json
    """
    from wildworld.info import path_info

    from ._render import info_tables

    data = path_info(path, top=top)
    if json_output:
        print_json(data)
    else:
        for table in info_tables(data):
            console.print(table)


@app.command()
@friendly
def render(
    sample: Path = typer.Argument(..., help="A sample directory."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Skeleton video to write (.mp4)."),
    overlay_rgb: bool = typer.Option(False, "--overlay-rgb", help="Draw over the RGB frames instead of black."),
    depth: bool = typer.Option(False, "--depth", help="Add the colour-mapped depth beside each frame."),
    sheet: Optional[Path] = typer.Option(None, "--sheet", help="Also write a contact-sheet PNG of a few frames."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", min=1, help="Render only the first N frames."),
) -> None:
    """Draw skeletons (through the reader and the documented camera) as a video and/or sheet.

    Examples:

      wildworld render sample_data/data_part1/000000 -o skeletons.mp4 --overlay-rgb

      wildworld render sample_data/data_part1/000000 --sheet sheet.png --depth --max-frames 90
    """
    from wildworld.render import render_sample

    if output is None and sheet is None:
        raise fail("nothing to do: give -o OUT.mp4 and/or --sheet OUT.png")
    with console.status(f"rendering {escape(str(sample))}"):
        result = render_sample(sample, output, overlay_rgb=overlay_rgb, depth=depth, sheet=sheet, max_frames=max_frames)
    for message in result.warnings:
        warn(message)
    if result.video:
        console.print(f"wrote {escape(str(result.video))} ({result.frames} frames)")
    if result.sheet:
        console.print(f"wrote {escape(str(result.sheet))}")


@app.command()
@friendly
def view(
    source: Path = typer.Argument(..., help="A sample directory, a part directory or a converted store."),
    sample: Optional[str] = typer.Option(None, "--sample", help="Sample id (needed for a part directory or a store)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Recording to write (.rrd); open it with `rerun FILE.rrd`."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", min=1, help="Log only the first N frames."),
    depth_scale: Optional[float] = typer.Option(None, "--depth-scale", help="Metres per depth code (default: the synthetic world's; else depth stays 2-D)."),
) -> None:
    """Log a sample to Rerun (RGB, depth, 3-D skeletons, camera frustum, action and state timelines).

    Without --out: opens the Rerun viewer where a display exists, else writes <sample id>.rrd.

    Examples:

      wildworld view sample_data/data_part1/000000 --out 000000.rrd

      wildworld view out/store --sample 000000 --max-frames 300
    """
    import os
    import sys

    from wildworld.viewer import view_sample

    display = sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if out is None and not display:
        out = Path(f"{sample or source.resolve().name}.rrd")
    with console.status(f"logging {escape(str(source))} to Rerun"):
        result = view_sample(source, sample_id=sample, out=out, spawn=out is None, max_frames=max_frames, depth_scale=depth_scale)
    for message in result.warnings:
        warn(message)
    where = f"wrote {escape(str(result.path))}; open it with: rerun {escape(str(result.path))}" if result.path else "sent to the Rerun viewer"
    console.print(f"{where} ({result.frames} frames, {len(result.entities)} entities)")


def _resolution(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise fail(f"--resolution {text!r} is not WIDTHxHEIGHT, e.g. 320x180") from None
    return width, height


@app.command()
@friendly
def synth(
    out: Path = typer.Argument(..., help="Part directory to write (created if needed)."),
    samples: int = typer.Option(3, "--samples", min=1, help="Number of samples."),
    seconds: float = typer.Option(10.0, "--seconds", min=0.1, help="Length of each sample."),
    resolution: str = typer.Option("320x180", "--resolution", help="WIDTHxHEIGHT (even numbers)."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same data."),
    crf: int = typer.Option(23, "--crf", min=0, max=51, help="H.264 quality of rgb.mp4 (lower is better)."),
    gop: int = typer.Option(30, "--gop", min=1, help="Keyframe interval of both videos."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Samples rendered in parallel (default: CPU count); the same files either way."),
) -> None:
    """Generate synthetic samples in exactly the release layout (resumable).

    Examples:

      wildworld synth out/synth/data_part1 --samples 8 --seconds 20

      wildworld synth out/hd/data_part1 --resolution 1280x720 --seed 3
    """
    from wildworld.synth import SynthOptions, generate

    from ._common import progress_bar

    width, height = _resolution(resolution)
    options = SynthOptions(samples=samples, seconds=seconds, width=width, height=height, seed=seed, crf=crf, gop=gop)
    workers = min(workers or os.cpu_count() or 1, options.samples)
    with progress_bar() as bar:
        task = bar.add_task("generating" if workers == 1 else f"generating ({workers} workers)", total=options.samples * options.frames)
        paths = generate(
            out, options, workers=workers,
            on_sample=lambda sample_id, frames: bar.update(task, description=f"sample {sample_id}"),
            on_frame=(lambda index: bar.advance(task)) if workers == 1 else None,
            on_written=(None if workers == 1 else lambda sample_id, frames: bar.advance(task, frames)),
        )
        bar.update(task, completed=options.samples * options.frames)
    console.print(f"wrote {len(paths)} samples of {options.frames} frames to {escape(str(out))}")


def _streams(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(part.strip() for part in text.split(",") if part.strip())


@app.command()
@friendly
def convert(
    paths: List[Path] = typer.Argument(..., help="SRC... STORE: part or sample directories, then the store to write."),
    resolution: Optional[str] = typer.Option(None, "--resolution", help="WIDTHxHEIGHT of the store videos (default: source)."),
    clip_len: int = typer.Option(32, "--clip-len", min=1, help="Frames per WebDataset clip (a multiple of --gop)."),
    gop: int = typer.Option(8, "--gop", min=1, help="Keyframe interval of the store videos (see benchmarks/gop_choice.py)."),
    crf: int = typer.Option(20, "--crf", min=0, max=51, help="H.264 quality of the RGB videos."),
    streams: Optional[str] = typer.Option(None, "--streams", help="Comma list of rgb,depth,action,camera,state,skeleton (default: all)."),
    shard_size: float = typer.Option(256.0, "--shard-size", min=0.01, help="Target WebDataset shard size in MB."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Parallel workers (default: CPU count)."),
    executor: str = typer.Option("local", "--executor", help="local (process pool) or ray."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Address of a Ray cluster (default: start a local one)."),
    strict: bool = typer.Option(False, "--strict", help="Fail if any sample is bad instead of skipping it."),
) -> None:
    """Convert release samples into a store (Zarr v3 + videos + WebDataset + Parquet). Resumable.

    Examples:

      wildworld convert sample_data/data_part1 out/store

      wildworld convert data/ out/store_320 --resolution 320x180 --workers 8
    """
    from wildworld.store import ConvertOptions
    from wildworld.store.convert import convert as run_convert
    from wildworld.store.options import ALL_STREAMS

    from ._common import progress_bar

    if len(paths) < 2:
        raise fail("give at least one source and the store: wildworld convert SRC... STORE")
    *sources, store = paths
    width = height = None
    if resolution:
        width, height = _resolution(resolution)
    options = ConvertOptions(width=width, height=height, clip_len=clip_len, gop=gop, crf=crf,
                             streams=_streams(streams) or ALL_STREAMS, shard_bytes=int(shard_size * 1024 * 1024))
    with progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = run_convert(sources, store, options, workers=workers, executor=executor, ray_address=ray_address,
                             strict=strict, progress=progress)
    if report.already_complete:
        console.print(f"{escape(str(store))} is already complete ({report.samples} samples, {report.frames} frames)")
    else:
        console.print(f"wrote {escape(str(store))}: {report.samples} samples, {report.frames} frames, {report.shards} shards")
    for skipped in report.skipped:
        first = skipped["findings"][0] if skipped["findings"] else {"message": "unknown problem"}
        console.print(
            f"[yellow]skipped[/] sample {escape(str(skipped['id']))}: {escape(first.get('code', ''))} {escape(first['message'])}",
            highlight=False,
        )


@app.command()
@friendly
def stats(
    store: Path = typer.Argument(..., help="A converted store."),
    json_output: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    recompute: bool = typer.Option(False, "--recompute", help="Recompute from the arrays and compare with the stored file."),
) -> None:
    """Per-field mean/std/min/max and exact global quantiles (stored as stats.json).

    Examples:

      wildworld stats out/store > stats.txt

      wildworld stats out/store --recompute --json
    """
    from wildworld.classify import expect_kind
    from wildworld.store import open_store
    from wildworld.store.stats import compute_stats, read_stats

    from ._render import stats_table

    expect_kind(store, "store")
    opened = open_store(store)
    stored = read_stats(store)
    if recompute:
        fresh = compute_stats(opened.frames_array, opened.layout)
        same = fresh == stored
        console.print(f"recomputed statistics {'match' if same else '[red]DIFFER from[/]'} {escape(str(store))}/stats.json")
        if not same:
            raise typer.Exit(EXIT_PROBLEMS)
    if json_output:
        print_json(stored)
    else:
        console.print(stats_table(stored))


@app.command()
@friendly
def load(
    store: Path = typer.Argument(..., help="A converted store (wildworld convert)."),
    window: int = typer.Option(16, "--window", min=1, help="Frames per window."),
    batch: int = typer.Option(8, "--batch", min=1, help="Windows per batch."),
    workers: int = typer.Option(2, "--workers", min=0, help="DataLoader worker processes."),
    batches: int = typer.Option(10, "--batches", min=1, help="Batches to load."),
    streams: Optional[str] = typer.Option(None, "--streams", help="Comma list (default: all the store has)."),
    stream: bool = typer.Option(False, "--stream", help="WildWorldStream over the clip shards instead of WildWorldDataset."),
    seed: int = typer.Option(0, "--seed", help="Shuffle seed."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Load a few shuffled batches through the PyTorch loaders: every tensor and a rough frames/s.

    Examples:

      wildworld load out/store --window 16 --batch 8 --workers 2

      wildworld load out/store --stream --streams rgb,action --json
    """
    import dataclasses

    from wildworld.data.peek import peek

    chosen = tuple(s.strip() for s in streams.split(",") if s.strip()) if streams else None
    result = peek(store, window=window, batch_size=batch, workers=workers, batches=batches, streams=chosen,
                  stream=stream, seed=seed)
    if json_output:
        print_json(dataclasses.asdict(result))
        return
    table = Table(title=escape(f"{result.loader} over {store}: first batch"))
    for column in ("tensor", "shape", "dtype"):
        table.add_column(column)
    for name, shape, dtype in result.fields:
        table.add_row(escape(name), "[" + ", ".join(map(str, shape)) + "]", dtype)
    console.print(table)
    rate = "-" if result.frames_per_s is None else f"{result.frames_per_s:,.0f} frames/s after the first batch"
    unit = "clips" if stream else "windows"
    console.print(f"loaded {result.batches} batches ({result.frames} frames) of {result.items:,} {unit} "
                  f"with {workers} workers: {rate} (benchmarks/loader_throughput.py measures properly)")


# Commands kept in their own modules register themselves here.
from . import download_commands  # noqa: E402

download_commands.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
