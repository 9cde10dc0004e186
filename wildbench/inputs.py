"""Conditioning packages for model authors: per case, only what a model may see.

```
INPUTS/
  README.md                  for model authors: what each file holds, the submission format
  cases.json                 case ids, horizon, fps, resolution, action vocabulary, skeleton edges
  <case_id>/
    first_frame.png          frame 0 (RGB, store resolution)
    actions.json             per-frame action keys, vocabulary ids and phases; segments
    captions.json            a templated action-level caption per segment
    camera.json              per-frame K, position, rotation (OpenGL camera-to-world)
    skeleton_first.json      frame 0 world joints per entity slot
    state_first.json         frame 0 state (every state field)
```
No future frame is ever written: the packages hold frame 0 pixels only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from wildworld import read_skeleton_edges
from wildworld.classify import check_destination
from wildworld.files import atomic_path, publish_directory, same_tree
from wildworld.layout import EDGES_FILE
from wildworld.video import open_video

from .errors import WildBenchError
from .segments import segments_of
from .split import Split

__all__ = ["write_inputs", "caption", "segments_of", "CASES_FILE"]

#: The index of an inputs directory (case ids, horizon, fps, vocabulary, edges).
CASES_FILE = "cases.json"

_README = """# WildBench inputs

One directory per case. A model sees frame 0 and the conditioning below, and must generate
the next frames of the {horizon}-frame window ({fps:g} fps, {width}x{height}).
Every key of every file, and how to submit and read the results: docs/quickstart-model-authors.md
(wildworld repository). In Python: `wildbench.load_inputs(THIS_DIR)` reads these files as typed
cases (first frame in RGB) and `wildbench.write_submission(...)` writes and checks a submission.

| file | what it holds |
|---|---|
| `first_frame.png` | frame 0, RGB PNG (OpenCV's `cv2.imread` returns BGR: convert it) |
| `actions.json` | per frame `t`: the tracked player's action `(motion_bank_id, motion_id)`, its vocabulary id (`cases.json` vocabulary), and its phase `motion_frame`; `segments`: runs of one clip |
| `captions.json` | one templated caption per action segment |
| `camera.json` | per frame: `K` = (fx, fy, cx, cy) pixels, `position` (world), `rotation` = camera-to-world quaternion (x, y, z, w) in the OpenGL camera frame (x right, y up, looking down -z) |
| `skeleton_first.json` | frame 0 world joints per entity slot (`n<i>` player characters, `w<i>` weapons, `m<i>` monsters) with their type ids; bones are in `cases.json` (`edges`) |
| `state_first.json` | frame 0 state: every state field of the store (vitals, poses, monster conditions) |

## Submitting

Write `SUB/<case_id>.mp4` for every case: at least {horizon} frames at {fps:g} fps, frame 0
being the given first frame, any size with the same aspect ratio (videos are resized to
{width}x{height} for evaluation). Add `SUB/submission.json`:

```json
{{"model": "my-model", "version": "1.0", "conditioning": ["first_frame", "actions"],
 "split_checksum": "{checksum}"}}
```

`conditioning` lists what the model used, from: first_frame, actions, captions, camera,
skeleton, state. `split_checksum` ties the videos to this split (case ids repeat across
splits; `check` refuses a submission made for another one and warns when it is absent).
Then run `wildbench check SUB --split SPLIT` and `wildbench evaluate`.
"""


def caption(segment: dict, fps: float) -> str:
    """The paper's caption style, per segment."""
    return (f"frames {segment['start']}-{segment['end'] - 1} ({(segment['end'] - segment['start']) / fps:.2f} s): "
            f"player currently playing motion_id={segment['motion_id']} in bank={segment['motion_bank_id']}"
            + ("" if segment["first_phase"] is None else f" from animation_frame={segment['first_phase']:.1f}"))


def _json(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")  # NaN is not JSON: write null


def _edges(store) -> dict:
    for entry in store.samples:
        path = Path(entry.source or "").parent / EDGES_FILE
        if path.exists():
            return {k: v.tolist() for k, v in read_skeleton_edges(path).items()}
    return {}


def _actions_document(actions: np.ndarray, fps: float, horizon: int) -> dict:
    """actions.json (and actions_cf.json): per-frame keys, vocabulary ids, phases; segments."""
    return {
        "fps": fps, "horizon": horizon,
        "frames": [{"t": t, "motion_bank_id": int(np.nan_to_num(a[1], nan=-1)), "motion_id": int(np.nan_to_num(a[2], nan=-1)),
                    "action_id": int(np.nan_to_num(a[0], nan=-1)), "motion_frame": None if np.isnan(a[3]) else float(a[3])}
                   for t, a in enumerate(actions)],
        "segments": segments_of(actions),
    }


def _camera_document(answer) -> dict:
    """camera.json: per-frame K, position, rotation; null (and ``valid`` false) where the game
    recorded no camera (long-track windows may hold such frames)."""
    frames = []
    for t, (c, valid) in enumerate(zip(answer.camera.astype(float), answer.camera_valid)):
        entry = {"t": t, "K": c[0:4].tolist(), "position": c[4:7].tolist(), "rotation": c[7:11].tolist()}
        if not valid or not np.isfinite(c).all():
            entry = {"t": t, "K": [None] * 4, "position": [None] * 3, "rotation": [None] * 4, "valid": False}
        frames.append(entry)
    return {"convention": "K=(fx,fy,cx,cy) pixels at the evaluation resolution; rotation=(x,y,z,w) camera-to-world, OpenGL camera frame",
            "frames": frames}


def write_inputs(split: Split, out: str | os.PathLike[str], *, progress: Callable[[int, int], None] | None = None,
                 force: bool = False) -> Path:
    """Write the conditioning packages of every case of ``split`` into ``out``, all at once.

    ``out`` is new, empty or an existing inputs directory: the same files are kept as they
    are; other content (e.g. the inputs of another split) is refused unless ``force``, which
    replaces it atomically (``wildworld.files.publish_directory``). Anything else at ``out``
    (a split, a store, other files) is refused before any work."""
    check_destination(out, "inputs", what="the inputs")
    publish_directory(out, lambda staging: _write_inputs(split, staging, progress=progress), same=same_tree, force=force,
                      refuse=_other_inputs)
    return Path(out)


def _other_inputs(existing: Path) -> WildBenchError:
    return WildBenchError(f"{existing}: holds other inputs (another split, or written by another version); choose another "
                          "--out, or pass --force to replace them")


def _write_inputs(split: Split, out: str | os.PathLike[str], *, progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the packages into ``out`` (a new directory; see :func:`write_inputs`)."""
    store = split.open_store()
    out = Path(out)
    layout = store.layout
    width, height = split.resolution
    for number, case in enumerate(split.cases):
        answer = split.answer(case.case_id)
        directory = out / case.case_id
        with open_video(store.video(case.sample_id, "rgb")) as reader:
            frame = reader.get([case.start])[0]
        ok, png = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        with atomic_path(directory / "first_frame.png") as tmp:
            tmp.write_bytes(png.tobytes())
        actions = answer.actions
        segments = segments_of(actions)
        _json(directory / "actions.json", _actions_document(actions, split.fps, case.horizon))
        if answer.cf_actions is not None:
            _json(directory / "actions_cf.json", _actions_document(answer.cf_actions, split.fps, case.horizon))
        _json(directory / "captions.json", [{"start": s["start"], "end": s["end"], "text": caption(s, split.fps)} for s in segments])
        _json(directory / "camera.json", _camera_document(answer))
        entry = store.sample(case.sample_id)
        row = entry.offset + case.start
        joints = store.skeleton_array[row]
        skeleton = {}
        for slot, entity in entry.skeleton.items():
            values = joints[layout.slot_index(slot), : entity.joints]
            if np.isfinite(values).all():
                skeleton[slot] = {"type_id": entity.type_id, "joints": values.astype(float).round(6).tolist()}
        _json(directory / "skeleton_first.json", skeleton)
        rows = store.frames_array[row]
        state = {}
        for field in layout.stream_fields("state"):
            values = rows[field.start : field.stop].astype(float)
            if field.kind == "category":
                state[field.name] = field.categories[int(values[0])] if values[0] >= 0 else None
            else:
                cleaned = [None if not np.isfinite(v) else float(v) for v in values]
                state[field.name] = cleaned[0] if field.width == 1 else cleaned
        _json(directory / "state_first.json", state)
        if progress is not None:
            progress(number + 1, len(split.cases))
    _json(out / CASES_FILE, {
        "cases": [c.case_id for c in split.cases], "track": split.track, "horizon": split.horizon, "fps": split.fps,
        "resolution": [width, height], "vocabulary": [list(k) for k in store.vocabulary], "edges": _edges(store),
        "split_checksum": split.checksum,
    })
    with atomic_path(out / "README.md") as tmp:
        tmp.write_text(_README.format(horizon=split.horizon, fps=split.fps, width=width, height=height, checksum=split.checksum))
    return out
