"""Store rows and decoded frames -> record tensors (shared by the dataset and the stream).

``Annotations`` is built once per loader from the store layout: which columns of ``frames``
each record takes, the state field map, the normalisation vectors. Its ``records`` turns a
``(T, C)`` block of ``frames`` rows (and a ``(T, E, J, 3)`` skeleton block) into the action,
camera, state and skeleton records of one window, with int64 for ids and categories (-1 =
missing) and validity masks computed before any NaN is filled.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import OptionError
from ..store.layout import Layout, record_field
from ..store.manifest import SlotEntity
from .options import LoaderOptions
from .records import ActionRecord, CameraRecord, SkeletonRecord, StateField, StateFields, StateRecord

__all__ = ["Annotations", "resize_frames", "skeleton_type_ids", "video_tensor"]

# Record attribute -> field of its schema (schemas/action.v1.json, camera.v1.json); the store
# field and its width come from the store layout.
_ACTION_RECORD = {"index": "action_index", "phase": "motion_frame", "motion_bank_id": "motion_bank_id",
                  "motion_id": "motion_id", "tracked_index": "tracked_index"}
_CAMERA_RECORD = {"K": "K", "position": "pos", "rotation": "rot", "valid": "valid"}


def _ids(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, -1).astype(np.int64)


def _columns(layout: Layout, name: str) -> np.ndarray | None:
    try:
        spec = layout.field(name)
    except KeyError:
        return None
    return np.arange(spec.start, spec.stop, dtype=np.int64)


def skeleton_type_ids(layout: Layout, skeleton: Mapping[str, SlotEntity]) -> np.ndarray:
    """Skeleton type id of each store slot for one sample (-1 where the sample has no entity)."""
    return np.array([skeleton[s.name].type_id if s.name in skeleton else -1 for s in layout.skeleton_slots], np.int64)


@dataclass(frozen=True)
class Annotations:
    streams: frozenset
    action_columns: Mapping[str, np.ndarray | None]  # ActionRecord attribute -> columns (None: absent)
    camera_columns: Mapping[str, np.ndarray | None]  # CameraRecord attribute -> columns
    state_fields: StateFields | None
    float_columns: np.ndarray
    code_columns: np.ndarray
    shift: np.ndarray | None
    scale: np.ndarray | None
    fill_missing: float | None
    k_scale: tuple[float, float] | None  # (sx, sy) when frames are resized
    slots: tuple[str, ...]

    @classmethod
    def build(
        cls,
        layout: Layout,
        options: LoaderOptions,
        *,
        streams: frozenset,
        stats: dict | None,
        store_resolution: tuple[int, int] | None,
        resolution: tuple[int, int] | None,
    ) -> "Annotations":
        action = {attr: _columns(layout, record_field("action", name)) for attr, name in _ACTION_RECORD.items()}
        camera = {attr: _columns(layout, record_field("camera", name)) for attr, name in _CAMERA_RECORD.items()}
        if "camera" in streams and any(c is None for c in camera.values()):
            raise OptionError("the store layout has no camera.K/pos/rot/valid fields; drop 'camera' from streams")
        selected = [f for f in layout.stream_fields("state")]
        state_patterns, normalize = options.state_fields, options.normalize
        if state_patterns is not None:
            selected = [f for f in selected if any(fnmatch.fnmatchcase(f.name, p) for p in state_patterns)]
            if not selected and "state" in streams:
                raise OptionError(f"state_fields={list(state_patterns)} match no state field of the store "
                                  f"(e.g. {', '.join(f.name for f in layout.stream_fields('state')[:4])})")
        fields, float_cols, code_cols = [], [], []
        for spec in selected:
            columns = float_cols if spec.kind == "float" else code_cols
            fields.append(StateField(spec.name, spec.kind, len(columns), len(columns) + spec.width, spec.categories))
            columns.extend(range(spec.start, spec.stop))
        shift = scale = None
        if normalize != "none" and stats is not None:
            shift, scale = _normalisation(layout, [f for f in selected if f.kind == "float"], stats, normalize)
        k_scale = None
        if store_resolution is not None and resolution is not None and tuple(resolution) != tuple(store_resolution):
            k_scale = (resolution[0] / store_resolution[0], resolution[1] / store_resolution[1])
        return cls(
            streams=frozenset(streams),
            action_columns=action,
            camera_columns=camera,
            state_fields=StateFields(tuple(fields)),
            float_columns=np.asarray(float_cols, np.int64),
            code_columns=np.asarray(code_cols, np.int64),
            shift=shift,
            scale=scale,
            fill_missing=options.fill_missing,
            k_scale=k_scale,
            slots=tuple(s.name for s in layout.skeleton_slots),
        )

    def _fill(self, values: np.ndarray) -> np.ndarray:
        if self.fill_missing is not None:
            values = np.where(np.isnan(values), np.float32(self.fill_missing), values)
        return values

    def records(self, block: np.ndarray | None, joints: np.ndarray | None, type_ids: np.ndarray | None) -> dict:
        """The annotation records of one window from its ``frames`` rows and skeleton rows."""
        out = {}
        if "action" in self.streams:
            action = {attr: block[:, c[0]] if c is not None else np.full(len(block), np.nan, np.float32)
                      for attr, c in self.action_columns.items()}
            out["action"] = ActionRecord(
                index=torch.from_numpy(_ids(action["index"])),
                phase=torch.from_numpy(self._fill(np.ascontiguousarray(action["phase"], np.float32))),
                motion_bank_id=torch.from_numpy(_ids(action["motion_bank_id"])),
                motion_id=torch.from_numpy(_ids(action["motion_id"])),
                tracked_index=torch.from_numpy(_ids(action["tracked_index"])),
            )
        if "camera" in self.streams:
            K, pos, rot, valid = (block[:, self.camera_columns[attr]] for attr in ("K", "position", "rotation", "valid"))
            if self.k_scale is not None:
                sx, sy = self.k_scale
                K = K * np.array([sx, sy, sx, sy], np.float32) + np.array([0, 0, 0.5 * sx - 0.5, 0.5 * sy - 0.5], np.float32)
            out["camera"] = CameraRecord(
                K=torch.from_numpy(self._fill(np.ascontiguousarray(K, np.float32))),
                position=torch.from_numpy(self._fill(pos)),
                rotation=torch.from_numpy(self._fill(rot)),
                valid=torch.from_numpy(valid[:, 0] > 0.5),
            )
        if "state" in self.streams:
            values = block[:, self.float_columns]
            valid = ~np.isnan(values)
            if self.shift is not None:
                values = (values - self.shift) * self.scale
            out["state"] = StateRecord(
                values=torch.from_numpy(self._fill(values.astype(np.float32, copy=False))),
                valid=torch.from_numpy(valid),
                codes=torch.from_numpy(_ids(block[:, self.code_columns])),
                fields=self.state_fields,
            )
        if "skeleton" in self.streams:
            valid = ~np.isnan(joints).any(axis=-1)
            out["skeleton"] = SkeletonRecord(
                joints=torch.from_numpy(self._fill(np.ascontiguousarray(joints, np.float32))),
                valid=torch.from_numpy(valid),
                type_id=torch.from_numpy(np.asarray(type_ids, np.int64)),
                slots=self.slots,
            )
        return out


def _normalisation(layout: Layout, fields, stats: dict, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """``(shift, scale)`` per float state column so that ``(x - shift) * scale`` is normalised."""
    shift, scale = [], []
    for spec in fields:
        entry = stats.get("fields", {}).get(spec.name)
        for k in range(spec.width):
            if entry is None:
                lo_hi = (None, None)
            elif mode == "mean_std":
                lo_hi = (entry["mean"][k], entry["std"][k])
            else:
                lo_hi = (entry["min"][k], entry["max"][k])
            a, b = lo_hi
            if a is None or b is None:
                shift.append(0.0)
                scale.append(1.0)
            elif mode == "mean_std":
                shift.append(a)
                scale.append(1.0 / b if b > 0 else 1.0)
            else:
                shift.append(0.5 * (a + b))
                scale.append(2.0 / (b - a) if b > a else 1.0)
    return np.asarray(shift, np.float32), np.asarray(scale, np.float32)


def resize_frames(pixels: np.ndarray, resolution: tuple[int, int], *, depth: bool, out: np.ndarray | None = None) -> np.ndarray:
    """``(T, H, W[, 3])`` uint8 frames resized to ``resolution`` (w, h): area-averaged RGB,
    nearest-neighbour depth (codes stay exact)."""
    import cv2

    interpolation = cv2.INTER_NEAREST if depth else cv2.INTER_AREA
    if out is None:
        out = np.empty((len(pixels), resolution[1], resolution[0]) + pixels.shape[3:], dtype=np.uint8)
    for frame, target in zip(pixels, out):
        cv2.resize(frame, tuple(resolution), dst=target, interpolation=interpolation)
    return out


def video_tensor(pixels: torch.Tensor | np.ndarray, *, depth: bool) -> torch.Tensor:
    """``(..., T, H, W[, 3])`` uint8 -> ``[..., T, C, H, W]``, a view: RGB keeps the decoder's
    channels-last memory (no transposition on the CPU; convolutions take it as it is)."""
    tensor = torch.from_numpy(pixels) if isinstance(pixels, np.ndarray) else pixels
    return tensor.unsqueeze(-3) if depth else tensor.movedim(-1, -3)
