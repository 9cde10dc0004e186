"""From the inputs to a scored leaderboard row: a camera-following baseline, and where your model plugs in.

Run after ./demo.sh (which writes the split, the inputs and the reference results):

    python examples/camera_following.py                      # camera-following baseline
    python examples/camera_following.py --model yours        # your model (fill in YourWorldModel)

It reads the inputs (`wildbench.load_inputs`), generates every case's frames, writes and
checks the submission (`wildbench.write_submission`), evaluates it (`wildbench evaluate`) and
prints the leaderboard with the reference rows next to it. See docs/quickstart-model-authors.md.

The baseline: the first frame warped by the camera's rotation since frame 0. For a camera
that only turns, pixels move by the homography H_t = K_t R_t R_0^T K_0^-1 (R: OpenCV
world-to-camera rotations; wildbench.camera_follow.rotation_homographies); the camera also
moves, and the world's bodies move on their own, which this model ignores. It uses the first
frame and the camera, nothing else.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import Iterable, Iterator, Protocol

import numpy as np

import wildbench
from wildbench.authoring import CaseActions, InputCase
from wildbench.camera_follow import follow_camera_frames, rotation_homographies  # noqa: F401  (the warp, for readers)


class WorldModel(Protocol):
    """What this script needs of a model: a name, what it conditions on, and ``generate``."""

    name: str
    version: str
    conditioning: tuple[str, ...]

    def generate(self, first_frame: np.ndarray, actions: CaseActions, *, case: InputCase) -> Iterable[np.ndarray]:
        """``horizon`` RGB uint8 frames (H, W, 3), frame 0 being ``first_frame``."""


class CameraFollowing:
    """The first frame, re-projected through the rotation of every later camera
    (``wildbench.camera_follow``, which the ``camera-follow`` reference submission uses too).

    >>> from types import SimpleNamespace
    >>> from wildworld import Camera
    >>> still = Camera(K=np.array([[100.0, 100, 50, 50]] * 3), position=np.zeros((3, 3)),
    ...                rotation=np.array([[0.0, 0, 0, 1]] * 3), valid=np.ones(3, bool))
    >>> first = np.full((100, 100, 3), 7, np.uint8)
    >>> frames = list(CameraFollowing().generate(first, None, case=SimpleNamespace(camera=still)))
    >>> len(frames), all((frame == first).all() for frame in frames)   # a camera that does not turn
    (3, True)
    """

    name, version, conditioning = "camera-following", "1.0", ("first_frame", "camera")

    def generate(self, first_frame: np.ndarray, actions: CaseActions, *, case: InputCase) -> Iterator[np.ndarray]:
        return follow_camera_frames(first_frame, case.camera)


class YourWorldModel:
    """Where a real action-conditioned world model plugs in: load it once, then one call per case."""

    name, version, conditioning = "your-model", "0.1", ("first_frame", "actions")

    def __init__(self) -> None:
        # Load your weights here, once (e.g. safetensors.torch.load_file("model.safetensors")).
        self.network = None

    def generate(self, first_frame: np.ndarray, actions: CaseActions, *, case: InputCase) -> Iterator[np.ndarray]:
        # first_frame: (H, W, 3) uint8 RGB; actions.keys: (horizon, 2) (motion_bank_id, motion_id)
        # per frame, actions.action_id: vocabulary ids for an embedding table, actions.motion_frame:
        # phases. Also at hand: case.captions, case.camera, case.skeletons, case.state (declare
        # what you use in `conditioning`). Yield case.horizon frames, frame 0 = first_frame, as
        # (H, W, 3) uint8 RGB (for a torch tensor: (x.clamp(0, 1) * 255).byte().permute(1, 2, 0).cpu().numpy()).
        raise NotImplementedError("YourWorldModel.generate: call your model here (examples/camera_following.py)")


MODELS = {"camera-following": CameraFollowing, "yours": YourWorldModel}


def run(model: WorldModel, inputs_dir: Path, split_dir: Path, out_dir: Path, *, references: list[str],
        workers: int = 1, overwrite: bool = True, metrics: list[str] | None = None) -> str:
    """Generate, submit, evaluate; return the leaderboard (Markdown) with ``references``."""
    inputs = wildbench.load_inputs(inputs_dir)
    slug = model.name.replace("-", "_")
    submission, results = out_dir / "subs" / slug, out_dir / "results" / f"{slug}.json"  # beside the demo's references
    # A generator per case: frames are produced while they are encoded, one case at a time.
    videos = {case.case_id: model.generate(case.first_frame, case.actions, case=case) for case in inputs}
    report = wildbench.write_submission(submission, videos, inputs=inputs, model=model.name, version=model.version,
                                        conditioning=list(model.conditioning), overwrite=overwrite)
    print(f"wrote {submission}: {report.samples} cases, {len(report.warnings)} warnings", file=sys.stderr)
    wildbench.evaluate(submission, split_dir, results, workers=workers, metrics=metrics)
    paths = [str(results)] + [p for p in references if Path(p).resolve() != results.resolve()]
    rows, facts = wildbench.build_rows(paths)
    return wildbench.to_markdown(rows, facts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("out/demo/bench"), help="where ./demo.sh wrote the benchmark")
    parser.add_argument("--model", choices=sorted(MODELS), default="camera-following")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--metrics", default=None, help="families or metrics to evaluate, comma-separated (default: all)")
    args = parser.parse_args(argv)
    references = sorted(glob.glob(str(args.bench / "results" / "*.json")))
    try:
        table = run(MODELS[args.model](), args.bench / "inputs", args.bench / "split", args.bench,
                    references=references, workers=args.workers,
                    metrics=args.metrics.split(",") if args.metrics else None)
    except (wildbench.WildBenchError, NotImplementedError) as exc:  # a user mistake or the unfilled stub: one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
