"""Draw what a sample's annotations say, to check them by eye.

Skeletons are projected through :mod:`wildworld.geometry` exactly as the reader delivers them
(bones cut at the near plane, as the release's own renderer does), optionally over the RGB
frames; depth is shown with a colour map beside them; a contact sheet shows a few frames, with a legend
of the entity colours and, with depth, a colour bar of the depth codes. Frames with an invalid
camera are drawn without skeletons.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from .files import atomic_path
from .geometry import DEFAULT_NEAR, clip_segment_to_near, world_to_camera
from .release.sample import Sample, open_sample
from .video.decode import iter_frames
from .video.encode import VideoWriter

__all__ = ["RenderResult", "render_sample", "draw_skeletons", "colorize_depth", "contact_sheet", "entity_color",
           "legend_strip", "depth_colorbar"]

# BGR-free: frames are RGB throughout. Player white, weapon yellow, monsters by index.
_PLAYER = (255, 255, 255)
_WEAPON = (255, 220, 0)
_MONSTERS = [(255, 80, 80), (80, 200, 255), (120, 255, 120), (255, 120, 255)]


@dataclass(frozen=True)
class RenderResult:
    video: Path | None
    sheet: Path | None
    frames: int
    #: What was drawn differently from the annotations (skipped edges, missing or resized
    #: depth), one line each; ``wildworld validate`` reports the underlying problems.
    warnings: tuple[str, ...] = ()


def entity_color(kind: str, index: int) -> tuple[int, int, int]:
    """The RGB colour an entity is drawn in: ``kind`` ``n`` (player), ``w`` (weapon) or ``m`` (monster).

    >>> entity_color("n", 0), entity_color("w", 0), entity_color("m", 1)
    ((255, 255, 255), (255, 220, 0), (80, 200, 255))
    """
    if kind == "n":
        return _PLAYER
    if kind == "w":
        return _WEAPON
    return _MONSTERS[index % len(_MONSTERS)]


_color = entity_color
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_ENTITY_NAMES = {"n": "player", "w": "weapon", "m": "monster"}


def legend_strip(keys: Sequence[str], width: int, *, height: int = 28) -> np.ndarray:
    """An RGB strip ``(height, width, 3)`` with a colour swatch and the name of each skeleton key.

    >>> strip = legend_strip(["n0_1", "w0_3", "m0_21"], 480)
    >>> strip.shape, strip[14, 12].tolist()        # the first swatch: the player's white
    ((28, 480, 3), [255, 255, 255])
    """
    from .release.skeleton import parse_skeleton_key

    strip = np.full((height, width, 3), 24, np.uint8)
    x = 6
    for name in keys:
        key = parse_skeleton_key(name)
        label = f"{name} {_ENTITY_NAMES[key.kind]}"
        (text_width, _), _ = cv2.getTextSize(label, _FONT, 0.5, 1)
        if x + 22 + text_width > width:
            break  # no room left: the rest would be cut mid-word
        cv2.rectangle(strip, (x, height // 2 - 6), (x + 12, height // 2 + 6), entity_color(key.kind, key.index), -1)
        cv2.putText(strip, label, (x + 18, height // 2 + 5), _FONT, 0.5, (235, 235, 235), 1, cv2.LINE_AA)
        x += 18 + text_width + 18
    return strip


def depth_colorbar(width: int, *, metres_per_code: float | None = None, height: int = 40) -> np.ndarray:
    """An RGB strip ``(height, width, 3)``: the depth colour map over codes 0..255, with ticks.

    ``metres_per_code`` (known for the synthetic world) adds the distance of each tick.

    >>> bar = depth_colorbar(512, metres_per_code=0.25)
    >>> bar.shape, bool((bar[8, 30] != bar[8, 480]).any())   # near and far differ in colour
    ((40, 512, 3), True)
    """
    strip = np.full((height, width, 3), 24, np.uint8)
    left, right = 150, width - 20
    if right - left < 64:
        left, right = 4, width - 4
    codes = np.linspace(0, 255, max(right - left, 1)).round().astype(np.uint8)
    strip[4 : height // 2, left:right] = colorize_depth(codes[None, :])[0][None]
    title = "depth code" + ("" if metres_per_code is None else f" (x {metres_per_code:g} m)")
    if left > 4:
        cv2.putText(strip, title, (6, height // 2), _FONT, 0.42, (235, 235, 235), 1, cv2.LINE_AA)
    for code in (0, 64, 128, 192, 255):
        x = left + round(code / 255 * (right - left - 1))
        cv2.line(strip, (x, height // 2), (x, height // 2 + 4), (235, 235, 235), 1)
        if metres_per_code is None:
            label = str(code)
        else:  # the top code holds everything at or beyond its distance (the sky, too)
            label = f"{code} ({'>= ' if code == 255 else ''}{code * metres_per_code:g} m)"
        (text_width, _), _ = cv2.getTextSize(label, _FONT, 0.36, 1)
        x = min(max(x - text_width // 2, 0), width - text_width)
        cv2.putText(strip, label, (x, height - 6), _FONT, 0.36, (235, 235, 235), 1, cv2.LINE_AA)
    return strip


def draw_skeletons(
    canvas: np.ndarray,
    joints: dict[str, np.ndarray],
    edges: dict[str, np.ndarray],
    K: np.ndarray,
    position: np.ndarray,
    rotation: np.ndarray,
    *,
    near: float = DEFAULT_NEAR,
    thickness: int = 1,
) -> np.ndarray:
    """Draw every entity's bones on an RGB ``canvas`` (in place) for one frame.

    ``joints`` maps a skeleton key (``n0_1``) to its ``(J, 3)`` world joints for this frame;
    ``edges`` maps the key to ``(E, 2)`` joint pairs. Pairs naming a joint outside ``[0, J)``
    are skipped.
    """
    if not (np.isfinite(K).all() and np.isfinite(position).all() and np.isfinite(rotation).all()):
        return canvas
    from .release.skeleton import parse_skeleton_key

    for name, points in joints.items():
        pairs = edges.get(name)
        if pairs is None or len(pairs) == 0:
            continue
        pairs = pairs[((pairs >= 0) & (pairs < len(points))).all(axis=1)]
        if len(pairs) == 0:
            continue
        key = parse_skeleton_key(name)
        cam = world_to_camera(points[None], position, rotation)[0]
        a, b, visible = clip_segment_to_near(cam[pairs[:, 0]], cam[pairs[:, 1]], near=near)
        if not visible.any():
            continue
        a, b = a[visible], b[visible]
        ua = np.stack([K[0] * a[:, 0] / a[:, 2] + K[2], K[1] * a[:, 1] / a[:, 2] + K[3]], axis=1)
        ub = np.stack([K[0] * b[:, 0] / b[:, 2] + K[2], K[1] * b[:, 1] / b[:, 2] + K[3]], axis=1)
        lines = np.stack([ua, ub], axis=1)
        lines = lines[np.isfinite(lines).all(axis=(1, 2)) & (np.abs(lines) < 1e5).all(axis=(1, 2))]
        polylines = [np.round(line).astype(np.int32) for line in lines]
        cv2.polylines(canvas, polylines, isClosed=False, color=_color(key.kind, key.index), thickness=thickness, lineType=cv2.LINE_AA)
    return canvas


def colorize_depth(depth: np.ndarray) -> np.ndarray:
    """8-bit depth ``(H, W)`` -> RGB with the turbo colour map."""
    bgr = cv2.applyColorMap(np.asarray(depth, dtype=np.uint8), cv2.COLORMAP_TURBO)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(image, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA)
    return image


def contact_sheet(tiles: Sequence[np.ndarray], *, columns: int = 3) -> np.ndarray:
    """Arrange equally sized RGB tiles in a grid."""
    if not tiles:
        raise ValueError("no tiles for the contact sheet")
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * height : (r + 1) * height, c * width : (c + 1) * width] = tile
    return sheet


def _synthetic_depth_scale(sample: Sample) -> float | None:
    """Metres per depth code where the sample comes from the synthetic world (documented), else None."""
    from .synth.world import DEPTH_METRES_PER_CODE
    from .synth.writer import SIDECAR_FILE

    return DEPTH_METRES_PER_CODE if (sample.path.parent / SIDECAR_FILE).exists() else None


def _frames(sample: Sample, overlay_rgb: bool, depth: bool) -> Iterator[tuple[int, np.ndarray | None, np.ndarray | None]]:
    rgb_iter = iter_frames(sample.file("rgb")) if overlay_rgb else None
    depth_iter = iter_frames(sample.file("depth"), color="gray") if depth else None
    for index in range(sample.num_frames):
        rgb = next(rgb_iter, None) if rgb_iter is not None else None
        dep = next(depth_iter, None) if depth_iter is not None else None
        yield index, rgb, dep


def render_sample(
    sample: Sample | str | os.PathLike[str],
    out: str | os.PathLike[str] | None,
    *,
    overlay_rgb: bool = False,
    depth: bool = False,
    sheet: str | os.PathLike[str] | None = None,
    sheet_frames: int = 6,
    max_frames: int | None = None,
    near: float = DEFAULT_NEAR,
) -> RenderResult:
    """Render the skeleton view of a sample to ``out`` (MP4) and/or a contact sheet PNG.

    ``overlay_rgb`` draws over the RGB frames (else black); ``depth`` adds the colour-mapped
    depth beside each frame.
    """
    if not isinstance(sample, Sample):
        sample = open_sample(sample)
    camera = sample.camera
    edges_by_type = sample.edges
    entities = {name: sample.skeleton[name] for name in sample.skeleton}
    edges = {name: edges_by_type.get(entity.key.edges_key, np.zeros((0, 2), np.int64)) for name, entity in entities.items()}
    warnings: list[str] = []
    said: set[str] = set()

    def warn_once(topic: str, text: str) -> None:
        if topic not in said:
            said.add(topic)
            warnings.append(text)

    for name, entity in entities.items():
        pairs = edges[name]
        bad = ~((pairs >= 0) & (pairs < entity.num_joints)).all(axis=1)
        if bad.any():
            warnings.append(
                f"{sample.edges_path}: key {entity.key.edges_key!r}: {int(bad.sum())} edges name a joint >= "
                f"J={entity.num_joints} of {name}; skipped"
            )
    width, height = sample.size
    n = sample.num_frames if max_frames is None else min(sample.num_frames, max_frames)
    wanted_tiles = set(np.linspace(0, n - 1, num=min(sheet_frames, n)).round().astype(int).tolist()) if sheet else set()
    tiles: list[np.ndarray] = []
    out_width = width * (2 if depth else 1)
    writer = VideoWriter(out, fps=sample.fps or 30.0, width=out_width, height=height) if out is not None else None
    no_depth = np.zeros((height, width, 3), dtype=np.uint8)
    try:
        for index, rgb, dep in _frames(sample, overlay_rgb, depth):
            if index >= n:
                break
            if rgb is None and overlay_rgb:
                warn_once("rgb-short", f"{sample.file('rgb')}: ends at frame {index} of {n}; later frames drawn on black")
            canvas = rgb.copy() if rgb is not None else np.zeros((height, width, 3), dtype=np.uint8)
            joints = {name: entity.joints[index] for name, entity in entities.items() if index < entity.num_frames}
            draw_skeletons(canvas, joints, edges, camera.K[index], camera.position[index], camera.rotation[index], near=near)
            if depth:
                if dep is None:
                    warn_once("depth-short", f"{sample.file('depth')}: ends at frame {index} of {n}; later frames have no depth")
                    panel = no_depth
                else:
                    if dep.shape[:2] != (height, width):
                        warn_once(
                            "depth-size",
                            f"{sample.file('depth')}: {dep.shape[1]}x{dep.shape[0]} but rgb.mp4 is {width}x{height}; depth resized",
                        )
                        dep = cv2.resize(dep, (width, height), interpolation=cv2.INTER_NEAREST)
                    panel = colorize_depth(dep)
                frame = np.concatenate([canvas, panel], axis=1)
            else:
                frame = canvas
            if writer is not None:
                writer.write(frame)
            if index in wanted_tiles:
                tiles.append(_label(frame.copy(), f"frame {index}"))
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    video = writer.close() if writer is not None else None
    sheet_path = None
    if sheet and tiles:
        sheet_path = Path(sheet)
        image = contact_sheet(tiles, columns=min(3, len(tiles)))
        order = {"n": 0, "w": 1, "m": 2}  # player, weapon, monsters: as they are listed in the state
        keys = sorted(entities, key=lambda name: (order[entities[name].key.kind], entities[name].key.index))
        strips = [legend_strip(keys, image.shape[1])]
        if depth:
            strips.append(depth_colorbar(image.shape[1], metres_per_code=_synthetic_depth_scale(sample)))
        image = np.concatenate([image, *strips], axis=0)
        with atomic_path(sheet_path) as tmp:
            ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            if not ok:
                raise OSError(f"{sheet_path}: PNG encoding failed")
            tmp.write_bytes(encoded.tobytes())
    return RenderResult(video=video, sheet=sheet_path, frames=n, warnings=tuple(warnings))
