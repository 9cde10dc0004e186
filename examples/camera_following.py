"""From the inputs to a scored leaderboard row: a camera-following baseline, and where your model plugs in.

Run after ./demo.sh (which writes the split, the inputs and the reference results):

    python examples/camera_following.py                      # camera-following baseline
    python examples/camera_following.py --model yours        # your model (fill in YourWorldModel)

It reads the inputs (`wildbench.load_inputs`), generates every case's frames, writes and
checks the submission (`wildbench.write_submission`), evaluates it (`wildbench evaluate`) and
prints the leaderboard with the reference rows next to it. See docs/quickstart-model-authors.md.

The baseline: the first frame warped by the camera's rotation since frame 0. For a camera
that only turns, pixels move by the homography H_t = K_t R_t R_0^T K_0^-1 (R: OpenCV
world-to-camera rotations); the camera also moves, and the world's bodies move on their own,
which this model ignores. It uses the first frame and the camera, nothing else.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import Iterable, Iterator, Protocol

import cv2
import numpy as np

import wildbench
from wildbench.authoring import CaseActions, InputCase
from wildworld import Camera, intrinsics_matrix


class WorldModel(Protocol):
    """What this script needs of a model: a name, what it conditions on, and ``generate``."""

    name: str
    version: str
    conditioning: tuple[str, ...]

    def generate(self, first_frame: np.ndarray, actions: CaseActions, *, case: InputCase) -> Iterable[np.ndarray]:
        """``horizon`` RGB uint8 frames (H, W, 3), frame 0 being ``first_frame``."""


class CameraFollowing:
    """The first frame, re-projected through the rotation of every later camera."""

    name, version, conditioning = "camera-following", "1.0", ("first_frame", "camera")

    def generate(self, first_frame: np.ndarray, actions: CaseActions, *, case: InputCase) -> Iterator[np.ndarray]:
        height, width = first_frame.shape[:2]
        pixels = np.stack([*np.meshgrid(np.arange(width), np.arange(height)), np.ones((height, width))], axis=-1)
        unseen = first_frame.reshape(-1, 3).mean(axis=0).astype(np.uint8)
        for homography in rotation_homographies(case.camera):
            frame = cv2.warpPerspective(first_frame, homography, (width, height), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)  # beside frame 0's view: its nearest pixel
            # A ray behind frame 0's camera (turned more than the field of view) maps through
            # infinity to a mirrored pixel; frame 0 never saw it: paint it the mean colour.
            behind = pixels @ np.linalg.inv(homography)[2] <= 0
            frame[behind] = unseen
            yield frame


def rotation_homographies(camera: Camera) -> np.ndarray:
    """(T, 3, 3) homographies taking frame 0 pixels to frame t pixels for a camera that only rotates.

    >>> camera = Camera(K=np.array([[100.0, 100, 50, 50]] * 2), position=np.zeros((2, 3)),
    ...                 rotation=np.array([[0.0, 0, 0, 1]] * 2), valid=np.ones(2, bool))
    >>> np.allclose(rotation_homographies(camera), np.eye(3))
    True
    """
    rotations, _ = camera.extrinsics()  # OpenCV world-to-camera, (T, 3, 3)
    K = intrinsics_matrix(camera.K)
    return K @ rotations @ rotations[0].T @ np.linalg.inv(K[0])


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
        workers: int = 1, overwrite: bool = True) -> str:
    """Generate, submit, evaluate; return the leaderboard (Markdown) with ``references``."""
    inputs = wildbench.load_inputs(inputs_dir)
    slug = model.name.replace("-", "_")
    submission, results = out_dir / f"sub_{slug}", out_dir / f"results_{slug}.json"
    # A generator per case: frames are produced while they are encoded, one case at a time.
    videos = {case.case_id: model.generate(case.first_frame, case.actions, case=case) for case in inputs}
    report = wildbench.write_submission(submission, videos, inputs=inputs, model=model.name, version=model.version,
                                        conditioning=list(model.conditioning), overwrite=overwrite)
    print(f"wrote {submission}: {report.samples} cases, {len(report.warnings)} warnings", file=sys.stderr)
    wildbench.evaluate(submission, split_dir, results, workers=workers)
    paths = [str(results)] + [p for p in references if Path(p).resolve() != results.resolve()]
    rows, facts = wildbench.build_rows(paths)
    return wildbench.to_markdown(rows, facts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("out/demo/bench"), help="where ./demo.sh wrote the benchmark")
    parser.add_argument("--model", choices=sorted(MODELS), default="camera-following")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    references = sorted(glob.glob(str(args.bench / "results_*.json")))
    try:
        table = run(MODELS[args.model](), args.bench / "inputs", args.bench / "split", args.bench,
                    references=references, workers=args.workers)
    except (wildbench.WildBenchError, NotImplementedError) as exc:  # a user mistake or the unfilled stub: one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
