"""``wildbench recognizer train`` and ``wildbench recognizer eval`` (registered onto the app).

Thin: parse options, one library call (:func:`wildbench.recognizer.train_recognizer`,
:func:`wildbench.recognizer.evaluate.evaluate_recognizer`), rich rendering.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape
from rich.table import Table

from wildbench.recognizer.config import TrainConfig  # torch-free: `wildbench --help` stays quick

from ._common import App, console, fail, friendly, print_json, progress_bar

__all__ = ["register", "app"]

_HELP = """Train and evaluate the action recognizer of Action Following.

Examples:

  wildbench recognizer train STORE --out MODEL_DIR --exclude-split SPLIT

  wildbench recognizer eval MODEL_DIR OTHER_STORE
"""

app = App(name="recognizer", help=_HELP, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)

_STAGES = {"annotations": "reading annotations", "crops": "cropping frames", "training": "training",
           "evaluation": "held-out evaluation"}


def _bars():
    """A progress bar per stage of the library's (stage, done, total) events."""
    bar = progress_bar()
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _report(result: dict, names: list[str], title: str) -> None:
    summary = Table(title=escape(title), title_justify="left")
    for column in ("held out", "items", "top-1", "balanced", "top-5", "group"):
        summary.add_column(column, justify="left" if column == "held out" else "right")
    for view, label in (("segments", "segments showing the player"), ("all_segments", "all segments"),
                        ("frames", "frames (sliding window)")):
        h = result[view]
        summary.add_row(label, str(h["items"]), _percent(h["top1"]), _percent(h["balanced"]), _percent(h["top5"]), _percent(h["group"]))
    console.print(summary)
    per_class = Table(title="per class (held-out segments)", title_justify="left")
    for column in ("class", "name", "segments", "recall"):
        per_class.add_column(column, justify="right" if column in ("segments", "recall") else "left")
    for row, name in zip(result["segments"]["per_class"], names):
        per_class.add_row(escape(row["class"]), escape(name or "-"), str(row["support"]), _percent(row["recall"]))
    console.print(per_class)


@app.command()
@friendly
def train(
    store: Path = typer.Argument(..., help="A converted store with rgb, action, camera and skeleton streams."),
    out: Path = typer.Option(..., "--out", help="Model directory to write (rerun the same command to resume)."),
    epochs: int = typer.Option(TrainConfig.epochs, "--epochs", min=1, help="Training epochs."),
    steps_per_epoch: int = typer.Option(TrainConfig.steps_per_epoch, "--steps-per-epoch", min=1, help="Batches per epoch (a checkpoint after each epoch)."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    seed: int = typer.Option(0, "--seed", help="Same store, settings and seed: the same model."),
    exclude_split: Optional[List[Path]] = typer.Option(None, "--exclude-split", help="A split of this store whose case windows must not train (repeatable)."),
    min_count: int = typer.Option(TrainConfig.min_count, "--min-count", min=1, help="Training segments a key needs to be a class of its own."),
    input_size: Optional[int] = typer.Option(None, "--input-size", min=16, help=f"Pixels per side of the network's crops, a multiple of 16 (default {TrainConfig.input_size}; smaller trains faster and recognises less)."),
    crop_size: Optional[int] = typer.Option(None, "--crop-size", min=8, help="Pixels per side crops are cut at, for the position jitter (default: the input size + 1/8)."),
    mirror: float = typer.Option(TrainConfig.mirror, "--mirror", min=0.0, max=1.0, help="Share of training clips flipped left-right (default 0). Only for a vocabulary where no action is the mirror image of another, as in the synthetic world (use 0.5 there: docs/recognizer.md); a game can have left and right variants of a move under different ids."),
    workers: int = typer.Option(2, "--workers", min=0, help="Processes decoding and cropping video."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Torch threads for training (default: torch's; 1 is fastest on a shared machine, 2 on 2 idle cores)."),
    json_output: bool = typer.Option(False, "--json", help="Print the model card as JSON."),
) -> None:
    """Train the action recognizer (resumable: run the same command again), then measure it on
    held-out samples.

    Examples:

      wildbench recognizer train STORE --out MODEL_DIR --exclude-split SPLIT

      wildbench recognizer train STORE --out MODEL_DIR --epochs 20 --device cuda

      wildbench recognizer train SYNTHETIC_STORE --out MODEL_DIR --mirror 0.5   # the synthetic world has no left/right pairs

      wildbench recognizer train STORE --out MODEL_DIR --input-size 48 --epochs 6   # a quick, weaker judge
    """
    from wildbench.recognizer import train_recognizer

    size = {}
    if input_size is not None or crop_size is not None:
        side = input_size if input_size is not None else TrainConfig.input_size
        crop = crop_size if crop_size is not None else side + side // 8
        if side % 16:
            raise fail(f"--input-size {side}: must be a multiple of 16 (the network's stem takes 4 x 4 patches, then halves twice)")
        if crop < side:
            raise fail(f"--crop-size {crop}: smaller than --input-size {side} (crops are cut at least as large as the input)")
        size = {"input_size": side, "crop_size": crop}
    config = TrainConfig(epochs=epochs, steps_per_epoch=steps_per_epoch, seed=seed, min_count=min_count, mirror=mirror,
                         **size)
    bar, update = _bars()
    with bar:
        result = train_recognizer(store, out, config, exclude_splits=exclude_split or [], device=device,
                                  workers=workers, threads=threads, progress=update)
    card = result.card
    if json_output:
        print_json(card)
        return
    if result.resumed_from_epoch == -1:
        console.print(f"{escape(str(out))} already holds this recognizer (same data and settings): nothing to do")
    elif result.resumed_from_epoch:
        console.print(f"resumed after epoch {result.resumed_from_epoch}")
    seconds = card["training"]["seconds"]
    _report(card["held_out"], [row["name"] for row in card["vocabulary"]["table"]],
            f"recognizer {card['recognizer']['version']}: {card['vocabulary']['classes']} classes, "
            f"{seconds['training']:.0f} s training on {card['training']['device']}")
    console.print(f"wrote {escape(str(out))} (model card: {escape(str(out / 'model_card.md'))})")


@app.command("eval")
@friendly
def evaluate(
    model_dir: Path = typer.Argument(..., help="A model directory (wildbench recognizer train)."),
    store: Path = typer.Argument(..., help="A store: its held-out samples if it trained the model, else every sample."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    workers: int = typer.Option(2, "--workers", min=0, help="Processes decoding and cropping video."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Held-out accuracy of a trained recognizer on a store.

    Examples:

      wildbench recognizer eval MODEL_DIR STORE

      wildbench recognizer eval MODEL_DIR OTHER_STORE --json
    """
    from wildbench.recognizer.evaluate import evaluate_recognizer

    bar, update = _bars()
    with bar:
        result = evaluate_recognizer(model_dir, store, device=device, workers=workers, progress=update)
    if json_output:
        print_json(result)
        return
    _report(result, result["names"], f"recognizer {result['recognizer']} on {result['store']}: {result['which']}")


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="recognizer")
