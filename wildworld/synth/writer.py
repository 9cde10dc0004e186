"""Write synthetic samples in exactly the release layout (plus one sidecar for re-simulation).

```
OUT/<id>/rgb.mp4 depth.mkv state.csv skeleton.npz
OUT/skeleton_edges.json
OUT/synthetic_world.json   sidecar: generator version and every sample's Script
```
Each sample is written into a temporary directory and renamed when complete, so an
interrupted run leaves no half sample, and running again skips finished samples.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import layout
from ..files import atomic_path, temp_name
from ..parallel import run_tasks
from .._checks import check_positive
from ..classify import describe_kind, kind_of
from ..errors import FormatError, OptionError
from ..release.writer import write_skeleton, write_skeleton_edges, write_state_csv
from ..video.encode import VideoWriter
from .simulation import Script
from .world import SyntheticWorld, encode_depth, make_script, skeleton_edges

__all__ = ["SIDECAR_FILE", "GENERATOR_VERSION", "write_sample", "generate", "load_scripts", "SynthOptions"]

SIDECAR_FILE = "synthetic_world.json"
#: Bumped whenever the same seed would produce different data (2.0: the follow camera, props
#: that bodies cannot walk into); the major part must match for a part to be re-simulated.
GENERATOR_VERSION = "2.0"


@dataclass(frozen=True)
class SynthOptions:
    samples: int = 3
    seconds: float = 10.0
    width: int = 320
    height: int = 180
    seed: int = 0
    fps: float = 30.0
    crf: int = 23
    gop: int = 30

    def __post_init__(self) -> None:
        check_positive("samples", self.samples)
        if self.seconds <= 0:
            raise OptionError(f"seconds={self.seconds} must be > 0")
        if self.width % 2 or self.height % 2 or self.width < 16 or self.height < 16:
            raise OptionError(f"resolution {self.width}x{self.height} must be even and at least 16x16")

    @property
    def frames(self) -> int:
        return max(2, int(round(self.seconds * self.fps)))


def write_sample(world: SyntheticWorld, directory: str | os.PathLike[str], *, crf: int = 23, gop: int = 30,
                 on_frame: Callable[[int], None] | None = None) -> Path:
    """Simulate, annotate, render and write one sample directory atomically."""
    final = Path(directory)
    script = world.script
    tmp = temp_name(final)
    tmp.mkdir(parents=True)
    try:
        states = world.states()
        annotations = world.annotate(states)
        write_state_csv(layout.sample_file(tmp, "state"), annotations.columns, decimals=None)
        write_skeleton(layout.sample_file(tmp, "skeleton"), annotations.skeletons)
        # Single-threaded encoders: the same frames give the same bytes on any machine.
        video = dict(fps=script.fps, width=script.width, height=script.height, gop=gop, threads=1)
        rgb_writer = VideoWriter(layout.sample_file(tmp, "rgb"), profile="rgb", crf=crf, **video)
        depth_writer = VideoWriter(layout.sample_file(tmp, "depth"), profile="depth", **video)
        with rgb_writer, depth_writer:
            for index, state in enumerate(states):
                rgb, depth = world.render(state)
                rgb_writer.write(rgb)
                depth_writer.write(encode_depth(depth))
                if on_frame is not None:
                    on_frame(index)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def load_scripts(part_dir: str | os.PathLike[str]) -> dict[str, Script]:
    """The scripts of a synthetic part (from its sidecar), by sample id."""
    path = Path(part_dir) / SIDECAR_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(f"no {SIDECAR_FILE}: not a synthetic part directory", path=path) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc})", path=path) from None
    if str(doc.get("generator_version", "")).split(".")[0] != GENERATOR_VERSION.split(".")[0]:
        raise FormatError(
            f"written by synthetic world version {doc.get('generator_version')!r}, this code is {GENERATOR_VERSION}",
            path=path,
        )
    return {sample_id: Script.from_json(script) for sample_id, script in doc["samples"].items()}


def _check_out(out: Path, scripts: dict[str, Script]) -> None:
    """Refuse a non-empty ``out`` that is not a synthetic part of these same samples: its
    finished samples are kept, so samples made with other options would sit under a sidecar
    that no longer describes them (and re-simulation would play the wrong script)."""
    if not out.is_dir() or next(out.iterdir(), None) is None:
        return  # new or empty (a file: the mkdir below says so)
    if not (out / SIDECAR_FILE).is_file():
        kind = kind_of(out)
        found = describe_kind(kind) if kind else "a directory of other files"
        raise OptionError(f"{out}: {found}, not a synthetic part (no {SIDECAR_FILE}); "
                          "write synthetic samples to a new or empty directory")
    existing = {sample_id: json.loads(json.dumps(script.to_json())) for sample_id, script in load_scripts(out).items()}
    wanted = {sample_id: json.loads(json.dumps(script.to_json())) for sample_id, script in scripts.items()}
    for sample_id in sorted(existing):
        if (out / sample_id).is_dir() and existing[sample_id] != wanted.get(sample_id):
            why = "is not among the samples asked for" if sample_id not in wanted else "was generated with other options"
            raise OptionError(f"{out}: sample {sample_id} {why} (seed, --samples, --seconds, --resolution); "
                              "run with the options it was made with, or write to a new directory")


def _write_task(task: tuple[Script, str, int, int]) -> str:
    script, directory, crf, gop = task
    write_sample(SyntheticWorld(script), directory, crf=crf, gop=gop)
    return directory


def generate(out: str | os.PathLike[str], options: SynthOptions, *,
             on_sample: Callable[[str, int], None] | None = None,
             on_frame: Callable[[int], None] | None = None,
             on_written: Callable[[str, int], None] | None = None,
             workers: int = 1) -> list[Path]:
    """Write ``options.samples`` samples under ``out``; finished samples are kept (resumable).

    With ``workers`` > 1 the samples are rendered in that many processes (the files are the
    same bytes: every sample depends only on its script); ``on_sample`` and ``on_frame`` are
    then not called, ``on_written(sample_id, frames)`` is, as each sample is finished."""
    check_positive("workers", workers)
    out = Path(out)
    scripts = {
        f"{index:06d}": make_script(options.seed, index, frames=options.frames, width=options.width, height=options.height, fps=options.fps)
        for index in range(options.samples)
    }
    _check_out(out, scripts)  # resume only the same samples; never write into a release part, a store...
    out.mkdir(parents=True, exist_ok=True)
    write_skeleton_edges(out / layout.EDGES_FILE, skeleton_edges())
    sidecar = {
        "generator": "wildworld.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": options.seed,
        "options": options.__dict__,
        "samples": {sample_id: script.to_json() for sample_id, script in scripts.items()},
    }
    with atomic_path(out / SIDECAR_FILE) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")
    todo = [sample_id for sample_id in scripts if not all(
        (out / sample_id / name).exists() for name in layout.STREAM_FILES.values())]
    if workers > 1 and len(todo) > 1:
        tasks = [(scripts[sample_id], str(out / sample_id), options.crf, options.gop) for sample_id in todo]
        for position, _ in run_tasks(_write_task, tasks, workers=min(workers, len(tasks))):
            if on_written is not None:
                on_written(todo[position], scripts[todo[position]].frames)
    else:
        for sample_id in todo:
            if on_sample is not None:
                on_sample(sample_id, scripts[sample_id].frames)
            write_sample(SyntheticWorld(scripts[sample_id]), out / sample_id, crf=options.crf, gop=options.gop, on_frame=on_frame)
            if on_written is not None:
                on_written(sample_id, scripts[sample_id].frames)
    return [out / sample_id for sample_id in scripts]
