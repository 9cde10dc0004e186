"""The answer key of one case: what the metrics compare a generated video against.

For a window of ``horizon`` frames starting at ``start`` in a store sample:

* ``camera`` (H, 11) K | position | rotation (store resolution), ``camera_valid`` (H,);
* ``actions`` (H, 5) the action record (index, bank, motion id, phase, tracked index);
* query points: the joints of the tracked player and of every present monster that, on the
  first frame, project inside the image, lie in front of the camera and are not occluded
  (depth map at the joint's pixel not nearer than the joint by more than the tolerance);
* ``track_uv`` (H, P, 2): those joints projected with the true camera of every frame,
  ``track_visible`` (H, P): inside, in front, camera valid and not occluded on that frame;
* ``track_reliable`` (H, P): where the reference point tracker, run on the true video, stays
  within ``RELIABLE_PX`` pixels (at 256 x 256) of the true projection: the pairs on which a
  tracker can judge motion at all (State Alignment scores only these);
* ``joints`` (H, P, 3) their world positions.

Since split version 1.1, every joint of the tracked player and of every monster slot, visible
on frame 0 or not (State Alignment's strided queries, Action Following's crops, explicit state):

* ``entity_slot`` / ``entity_joint`` (Q,) which slot and joint each entity point is;
* ``entity_uv`` (H, Q, 2), ``entity_visible`` (H, Q), ``entity_joints`` (H, Q, 3) as above
  (an absent monster's joints are NaN and never visible; so are invalid-camera frames);
* ``tracked_slot`` () the skeleton slot index of the tracked player;
* ``cf_actions`` (H, 5) the counterfactual action sequence (``wildbench.counterfactual``);
* ``cf_player_joints`` (H, J, 3) the tracked player's joints in the counterfactual world
  (synthetic stores, where it can be re-simulated; NaN elsewhere).

Occlusion uses the depth video with a metres-per-code scale (see ``split.DepthScale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wildworld import project_points

__all__ = ["Visibility", "joint_visibility", "reliable_pairs", "CaseAnswer", "ANSWER_ARRAYS", "ANSWER_ARRAYS_1_1", "RELIABLE_PX"]

#: Reference-tracker agreement (pixels at 256 x 256) for a (point, frame) pair to be scored.
RELIABLE_PX = 4.0


def reliable_pairs(true_video: np.ndarray, query_uv: np.ndarray, track_uv: np.ndarray, tracker, *,
                   threshold_px: float = RELIABLE_PX) -> np.ndarray:
    """(H, P) mask: the tracker, run on the true video, is within ``threshold_px`` (at 256 x 256)
    of the truth."""
    height, width = true_video.shape[1:3]
    tracks, _ = tracker.track(true_video, query_uv)
    scale = np.array([256.0 / width, 256.0 / height])
    with np.errstate(invalid="ignore"):
        error = np.linalg.norm((tracks - track_uv) * scale, axis=-1)
    return np.nan_to_num(error, nan=np.inf) <= threshold_px

ANSWER_ARRAYS = ("camera", "camera_valid", "actions", "query_uv", "point_slot", "point_joint", "track_uv", "track_visible", "track_reliable", "joints")
#: Arrays added in split version 1.1 (None in the answers of earlier splits).
ANSWER_ARRAYS_1_1 = ("entity_slot", "entity_joint", "entity_uv", "entity_visible", "entity_joints", "tracked_slot",
                     "cf_actions", "cf_player_joints")


@dataclass(frozen=True)
class Visibility:
    """Metres-per-code depth scale and the occlusion tolerance ``max(absolute, relative * z)``."""

    depth_scale: float | None
    tolerance_m: float = 1.0
    tolerance_rel: float = 0.1


def joint_visibility(joints: np.ndarray, camera: np.ndarray, depth: np.ndarray | None, size: tuple[int, int], rule: Visibility):
    """Pixels and visibility of world joints ``(..., P, 3)`` on frames with ``camera`` ``(..., 11)``.

    ``depth`` is ``(..., H, W)`` uint8 codes or None (no occlusion test). Returns ``uv``,
    ``z`` and ``visible`` (inside the image, in front, not occluded).
    """
    width, height = size
    proj = project_points(joints, camera[..., 0:4], camera[..., 4:7], camera[..., 7:11])
    inside = proj.inside(width, height) & np.isfinite(camera).all(axis=-1)[..., None]
    visible = inside.copy()
    if depth is not None and rule.depth_scale is not None:
        uv = np.where(inside[..., None], proj.uv, 0.0)
        u = np.clip(np.round(uv[..., 0]).astype(int), 0, width - 1)
        v = np.clip(np.round(uv[..., 1]).astype(int), 0, height - 1)
        lead = np.indices(u.shape)[:-1]
        codes = depth[(*lead, v, u)]
        surface = codes.astype(np.float64) * rule.depth_scale
        far = codes == 255  # beyond the coded range: nothing measurable in front
        tolerance = np.maximum(rule.tolerance_m, rule.tolerance_rel * proj.depth)
        visible &= far | (surface >= proj.depth - tolerance)
    return proj.uv, proj.depth, visible


@dataclass(frozen=True)
class CaseAnswer:
    """The answer arrays of one case (see the module docstring)."""

    camera: np.ndarray
    camera_valid: np.ndarray
    actions: np.ndarray
    query_uv: np.ndarray
    point_slot: np.ndarray
    point_joint: np.ndarray
    track_uv: np.ndarray
    track_visible: np.ndarray
    track_reliable: np.ndarray
    joints: np.ndarray
    entity_slot: np.ndarray | None = None
    entity_joint: np.ndarray | None = None
    entity_uv: np.ndarray | None = None
    entity_visible: np.ndarray | None = None
    entity_joints: np.ndarray | None = None
    tracked_slot: np.ndarray | None = None
    cf_actions: np.ndarray | None = None
    cf_player_joints: np.ndarray | None = None

    @property
    def horizon(self) -> int:
        return len(self.camera)

    @property
    def points(self) -> int:
        return len(self.query_uv)

    @property
    def player_points(self) -> np.ndarray:
        """Indices into the entity points of the tracked player's joints (split 1.1)."""
        self.require("entity_slot", "tracked_slot")
        return np.flatnonzero(self.entity_slot == int(self.tracked_slot))

    @property
    def player_joints(self) -> np.ndarray:
        """(H, J, 3) world joints of the tracked player (split 1.1)."""
        return self.entity_joints[:, self.player_points]

    def require(self, *names: str) -> None:
        """Refuse an answer key made before the arrays a metric needs existed."""
        missing = [name for name in names if getattr(self, name) is None]
        if missing:
            from .errors import SplitError

            raise SplitError(f"the answer key has no {', '.join(missing)} (a split made before split version 1.1): "
                             "make the split again with this wildbench")

    def to_npz(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in ANSWER_ARRAYS + ANSWER_ARRAYS_1_1 if getattr(self, name) is not None}

    @classmethod
    def from_npz(cls, data) -> "CaseAnswer":
        present = set(getattr(data, "files", data))
        return cls(**{name: np.asarray(data[name]) for name in ANSWER_ARRAYS},
                   **{name: np.asarray(data[name]) for name in ANSWER_ARRAYS_1_1 if name in present})
