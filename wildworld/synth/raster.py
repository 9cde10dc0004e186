"""A small exact ray caster: ground plane, boxes and spheres, with a z-buffer.

Rays go through pixel centres with the frame's pinhole K; the ray parameter is the OpenCV
camera-space depth z, so the depth buffer holds exactly the z a projected point has.
Spheres are cast in one batched numpy pass (every sphere x every pixel of its screen bounding
box; the nearest hit per pixel wins). Boxes are assigned to pixels by filling their front
faces far-to-near (painter's algorithm, exact for these non-overlapping props), then each
covered pixel gets the exact ray-plane depth of its face.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..geometry import opengl_c2w_to_opencv_w2c
from .scene import TEXTURE_PERIOD_M, Scene

__all__ = ["Spheres", "render_frame", "NEAR"]

NEAR = 0.05
_FOG_M = 140.0


@dataclass(frozen=True)
class Spheres:
    """World-space spheres: centres ``(S, 3)``, radii ``(S,)``, colours ``(S, 3)`` in [0, 1]."""

    centers: np.ndarray
    radii: np.ndarray
    colors: np.ndarray

    @staticmethod
    def concat(parts: list["Spheres"]) -> "Spheres":
        if not parts:
            return Spheres(np.zeros((0, 3)), np.zeros(0), np.zeros((0, 3)))
        return Spheres(
            np.concatenate([p.centers for p in parts]),
            np.concatenate([p.radii for p in parts]),
            np.concatenate([p.colors for p in parts]),
        )


def _pairs(u0: np.ndarray, u1: np.ndarray, v0: np.ndarray, v1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (primitive, u, v) pairs of inclusive integer boxes, as flat arrays."""
    widths = np.maximum(u1 - u0 + 1, 0)
    heights = np.maximum(v1 - v0 + 1, 0)
    counts = widths * heights
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    prim = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    local = np.arange(total) - starts
    w = widths[prim]
    return prim, u0[prim] + local % w, v0[prim] + local // w


def _resolve(zbuf: np.ndarray, rgb: np.ndarray, u: np.ndarray, v: np.ndarray, z: np.ndarray, color: np.ndarray) -> None:
    """Write the nearest of the candidate hits per pixel where it beats the z-buffer."""
    if z.size == 0:
        return
    pixel = v * zbuf.shape[1] + u
    flat_z = zbuf.reshape(-1)
    z = z.astype(flat_z.dtype)
    np.minimum.at(flat_z, pixel, z)
    winners = z == flat_z[pixel]  # ties between spheres are resolved by the later write
    rgb.reshape(-1, 3)[pixel[winners]] = color[winners]


def _bbox_from_corners(cam: np.ndarray, K: np.ndarray, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Screen box of camera-space points ``(P, 3)``; whole screen if some are behind the near plane."""
    if (cam[:, 2] <= NEAR).all():
        return None
    if (cam[:, 2] <= NEAR).any():
        return 0, width - 1, 0, height - 1
    u = K[0] * cam[:, 0] / cam[:, 2] + K[2]
    v = K[1] * cam[:, 1] / cam[:, 2] + K[3]
    u0, u1 = int(np.floor(u.min())), int(np.ceil(u.max()))
    v0, v1 = int(np.floor(v.min())), int(np.ceil(v.max()))
    if u1 < 0 or v1 < 0 or u0 > width - 1 or v0 > height - 1:
        return None
    return max(u0, 0), min(u1, width - 1), max(v0, 0), min(v1, height - 1)


def _sample(texture: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Bilinear, wrapping texture lookup at texture coordinates in texels."""
    size = texture.shape[0]
    n = s.size
    cols = 1024  # OpenCV limits remap maps to < 32767 rows and columns
    padded = -(-n // cols) * cols
    map_x = np.zeros(padded, np.float32)
    map_y = np.zeros(padded, np.float32)
    map_x[:n] = np.clip(s, -30000, 30000)  # BORDER_WRAP tiles; stay in fixed-point range
    map_y[:n] = np.clip(t, -30000, 30000)
    out = cv2.remap(texture, map_x.reshape(-1, cols), map_y.reshape(-1, cols), interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    return out.reshape(-1, 3)[:n]


def render_frame(
    scene: Scene, K: np.ndarray, position: np.ndarray, rotation: np.ndarray, spheres: Spheres, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Render one frame: ``rgb`` ``(H, W, 3)`` uint8 and ``depth`` ``(H, W)`` float32 metres (inf = sky)."""
    R, t = opengl_c2w_to_opencv_w2c(position, rotation)
    C = np.asarray(position, dtype=np.float64)
    xn = ((np.arange(width) - K[2]) / K[0]).astype(np.float32)
    yn = ((np.arange(height) - K[3]) / K[1]).astype(np.float32)
    # Pixel rays are scaled so that the ray parameter is camera z; float32 resolves depth
    # to a few micrometres at 64 m.
    R32 = R.astype(np.float32)

    def ray_component(axis: int) -> np.ndarray:
        """World component ``axis`` of every pixel's ray, an outer sum (R is orthonormal)."""
        return yn[:, None] * R32[1, axis] + (xn[None, :] * R32[0, axis] + R32[2, axis])

    sun_cam = R @ scene.sun
    # Ground plane y = 0 and sky, computed over the whole frame (masked copies cost more).
    dy = ray_component(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tg = np.float32(-C[1]) / dy
    ground = (dy < 0) & (tg > NEAR) & np.isfinite(tg)
    zbuf = np.where(ground, tg, np.float32(np.inf))
    texels = np.float32(scene.ground_texture.shape[0] / TEXTURE_PERIOD_M)
    safe_t = np.where(ground, tg, np.float32(0.0))
    # remap wraps the tiled texture itself; far ground (fogged out anyway) is clamped to keep
    # coordinates inside OpenCV's fixed-point range.
    map_x = np.clip((np.float32(C[0]) + safe_t * ray_component(0)) * texels, -30000, 30000)
    map_y = np.clip((np.float32(C[2]) + safe_t * ray_component(2)) * texels, -30000, 30000)
    ground_rgb = cv2.remap(scene.ground_texture, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    norm = np.sqrt(yn[:, None] ** 2 + (xn[None, :] ** 2 + np.float32(1.0)))  # |ray| (R orthonormal)
    up = np.clip(dy / norm, 0, 1)
    ground_light = np.float32(0.55 + 0.45 * scene.sun[1])
    rgb = np.empty((height, width, 3), np.float32)
    # Per-channel 2-D arithmetic: numpy broadcasting over a trailing axis of 3 is ~7x slower.
    for c in range(3):
        sky_c = np.float32(scene.sky_horizon[c]) + np.float32(scene.sky_top[c] - scene.sky_horizon[c]) * up
        rgb[..., c] = np.where(ground, ground_rgb[..., c] * ground_light, sky_c)
    # Boxes (static props).
    _render_boxes(scene, R, t, C, K, xn, yn, zbuf, rgb, width, height)
    # Spheres (characters, weapons, monsters).
    _render_spheres(spheres, R, t, K, xn, yn, zbuf, rgb, sun_cam, width, height)
    # Aerial perspective on everything but the sky.
    with np.errstate(invalid="ignore"):
        fog = np.where(np.isfinite(zbuf), np.float32(1.0) - np.exp(zbuf * np.float32(-1.0 / _FOG_M)), np.float32(0.0))
    image = np.empty((height, width, 3), np.uint8)
    for c in range(3):
        channel = rgb[..., c] + (np.float32(scene.sky_horizon[c]) - rgb[..., c]) * fog
        image[..., c] = np.clip(channel * np.float32(255.0) + np.float32(0.5), 0, 255)
    return image, zbuf


def _clip_near(points: np.ndarray) -> np.ndarray:
    """Clip a camera-space convex polygon ``(P, 3)`` to ``z >= NEAR`` (Sutherland-Hodgman)."""
    out = []
    for i in range(len(points)):
        a, b = points[i], points[(i + 1) % len(points)]
        a_in, b_in = a[2] >= NEAR, b[2] >= NEAR
        if a_in:
            out.append(a)
        if a_in != b_in:
            s = (NEAR - a[2]) / (b[2] - a[2])
            out.append(a + s * (b - a))
    return np.asarray(out)


def _render_boxes(scene, R, t, C, K, xn, yn, zbuf, rgb, width, height) -> None:
    """Painter's algorithm over front faces (far boxes first), then exact ray-plane depth."""
    quads, boxes, axes, uppers = scene.face_quads, scene.face_box, scene.face_axis, scene.face_upper
    plane = quads[:, 0, :][np.arange(len(axes)), axes]
    front = np.where(uppers, C[axes] > plane, C[axes] < plane)
    centers = 0.5 * (scene.box_min + scene.box_max)
    distance = np.linalg.norm(centers[boxes] - C, axis=1)
    faces = np.flatnonzero(front)
    faces = faces[np.argsort(-distance[faces], kind="stable")]
    cams = quads[faces] @ R.T + t  # (F, 4, 3)
    face_id = np.full((height, width), -1, np.int32)
    shift = 4  # sub-pixel precision of the polygon fill
    scale = float(1 << shift)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_all = K[0] * cams[..., 0] / cams[..., 2] + K[2]
        v_all = K[1] * cams[..., 1] / cams[..., 2] + K[3]
    for row, face in enumerate(faces):
        cam = cams[row]
        if (cam[:, 2] >= NEAR).all():
            u, v = u_all[row], v_all[row]
        else:
            cam = _clip_near(cam)
            if len(cam) < 3:
                continue
            u = K[0] * cam[:, 0] / cam[:, 2] + K[2]
            v = K[1] * cam[:, 1] / cam[:, 2] + K[3]
        if u.max() < -1 or v.max() < -1 or u.min() > width or v.min() > height:
            continue
        poly = np.round(np.stack([u, v], axis=1) * scale).clip(-(2**24), 2**24).astype(np.int32)
        cv2.fillConvexPoly(face_id, poly, int(face), lineType=cv2.LINE_8, shift=shift)
    v, u = np.nonzero(face_id >= 0)
    if v.size == 0:
        return
    face = face_id[v, u]
    box, axis, upper = boxes[face], axes[face], uppers[face]
    # Structure-of-arrays maths: numpy is much faster on 1-D arrays than on (n, 3) ones.
    ray = [xn[u] * np.float32(R[0, k]) + yn[v] * np.float32(R[1, k]) + np.float32(R[2, k]) for k in range(3)]
    along = np.choose(axis, ray)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (plane[face] - C[axis]) / along
    ok = np.isfinite(z) & (z > NEAR)
    v, u, box, axis, upper, z = v[ok], u[ok], box[ok], axis[ok], upper[ok], z[ok]
    px, py, pz = (C[k] + z * ray[k][ok] for k in range(3))
    s_coord = np.where(axis == 0, pz, px)
    t_coord = np.where(axis == 1, pz, py)
    texels = scene.prop_texture.shape[0] / 4.0
    color = _sample(scene.prop_texture, s_coord * texels + 37 * box, t_coord * texels)
    light = 0.45 + 0.55 * np.clip(np.where(upper, 1.0, -1.0) * scene.sun[axis], 0, 1)
    for c in range(3):
        color[:, c] *= scene.box_tint[box, c] * light
    nearer = z < zbuf[v, u]
    zbuf[v[nearer], u[nearer]] = z[nearer]
    rgb[v[nearer], u[nearer]] = color[nearer]


def _render_spheres(spheres: Spheres, R, t, K, xn, yn, zbuf, rgb, sun_cam, width, height) -> None:
    if len(spheres.radii) == 0:
        return
    c = spheres.centers @ R.T + t
    r = spheres.radii
    keep = np.isfinite(c).all(axis=1) & (c[:, 2] - r > NEAR)
    c, r, colors = c[keep], r[keep], spheres.colors[keep]
    if len(r) == 0:
        return
    z_lo = c[:, 2] - r
    z_hi = c[:, 2] + r
    xs = np.stack([(c[:, 0] - r) / z_lo, (c[:, 0] - r) / z_hi, (c[:, 0] + r) / z_lo, (c[:, 0] + r) / z_hi], axis=1)
    ys = np.stack([(c[:, 1] - r) / z_lo, (c[:, 1] - r) / z_hi, (c[:, 1] + r) / z_lo, (c[:, 1] + r) / z_hi], axis=1)
    u0 = np.floor(K[0] * xs.min(1) + K[2]).astype(np.int64)
    u1 = np.ceil(K[0] * xs.max(1) + K[2]).astype(np.int64)
    v0 = np.floor(K[1] * ys.min(1) + K[3]).astype(np.int64)
    v1 = np.ceil(K[1] * ys.max(1) + K[3]).astype(np.int64)
    on = (u1 >= 0) & (v1 >= 0) & (u0 <= width - 1) & (v0 <= height - 1)
    c, r, colors = c[on], r[on], colors[on]
    u0, u1 = np.clip(u0[on], 0, width - 1), np.clip(u1[on], 0, width - 1)
    v0, v1 = np.clip(v0[on], 0, height - 1), np.clip(v1[on], 0, height - 1)
    prim, u, v = _pairs(u0, u1, v0, v1)
    if prim.size == 0:
        return
    dx, dy = xn[u], yn[v]
    cx, cy, cz = c[prim, 0], c[prim, 1], c[prim, 2]
    rr = r[prim]
    a = dx * dx + dy * dy + 1.0
    b = dx * cx + dy * cy + cz
    disc = b * b - a * (cx * cx + cy * cy + cz * cz - rr * rr)
    hit = disc >= 0
    z = (b[hit] - np.sqrt(disc[hit])) / a[hit]
    front = z > NEAR
    z = z[front]
    keep = np.flatnonzero(hit)[front]
    prim, u, v, dx, dy, cx, cy, cz, rr = (x[keep] for x in (prim, u, v, dx, dy, cx, cy, cz, rr))
    nx, ny, nz = (dx * z - cx) / rr, (dy * z - cy) / rr, (z - cz) / rr
    light = 0.4 + 0.6 * np.clip(nx * sun_cam[0] + ny * sun_cam[1] + nz * sun_cam[2], 0, 1)
    # Bands fixed in world orientation give the bodies texture for point trackers.
    wx = nx * R[0, 0] + ny * R[1, 0] + nz * R[2, 0]
    wy = nx * R[0, 1] + ny * R[1, 1] + nz * R[2, 1]
    shade = light * (0.82 + 0.18 * np.sign(np.sin(7.0 * wy + 3.0 * wx)))
    color = np.empty((len(z), 3), np.float32)
    for k in range(3):
        color[:, k] = colors[prim, k] * shade
    _resolve(zbuf, rgb, u, v, z, color)
