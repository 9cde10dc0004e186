"""Camera conventions against hand-computed cases, plus round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wildworld.geometry import (
    clip_segment_to_near,
    intrinsics_matrix,
    look_at_opengl,
    matrix_to_quaternion,
    opengl_c2w_to_opencv_w2c,
    project_points,
    quaternion_to_matrix,
    world_to_camera,
)

K = np.array([100.0, 100.0, 50.0, 40.0])
IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def test_identity_camera_looks_down_minus_z_with_image_y_down():
    proj = project_points(np.array([[0.0, 0.0, -5.0], [1.0, 2.0, -4.0]]), K, np.zeros(3), IDENTITY)
    np.testing.assert_allclose(proj.depth, [5.0, 4.0])
    np.testing.assert_allclose(proj.uv[0], [50.0, 40.0])
    # x right -> u grows; world up -> v shrinks (image y points down).
    np.testing.assert_allclose(proj.uv[1], [50 + 100 * 1 / 4, 40 - 100 * 2 / 4])
    assert proj.in_front.all()


def test_yaw_90_degrees_looks_down_minus_x():
    half = math.radians(90) / 2
    q = np.array([0.0, math.sin(half), 0.0, math.cos(half)])
    cam = world_to_camera(np.array([[-3.0, 0.0, 0.0], [-3.0, 0.0, -1.0]]), np.zeros(3), q)
    np.testing.assert_allclose(cam[0], [0.0, 0.0, 3.0], atol=1e-12)
    # Turning +90 degrees about y takes the camera's right (x) from world +x to world -z.
    np.testing.assert_allclose(cam[1], [1.0, 0.0, 3.0], atol=1e-12)


def test_translation_and_points_behind_and_near_plane():
    position = np.array([10.0, 1.0, 0.0])
    pts = np.array([[10.0, 1.0, -2.0], [10.0, 1.0, 2.0], [10.0, 1.0, -0.04]])
    proj = project_points(pts, K, position, IDENTITY)
    np.testing.assert_allclose(proj.uv[0], [50.0, 40.0])
    assert list(proj.in_front) == [True, False, False]
    assert np.isnan(proj.uv[1]).all() and np.isnan(proj.uv[2]).all()
    assert list(proj.inside(100, 80)) == [True, False, False]


def test_per_frame_broadcasting_and_nan_cameras():
    pts = np.zeros((3, 2, 3))
    pts[:, :, 2] = -4.0
    Ks = np.tile(K, (3, 1))
    Ks[1] = np.nan
    proj = project_points(pts, Ks, np.zeros((3, 3)), np.tile(IDENTITY, (3, 1)))
    assert proj.uv.shape == (3, 2, 2)
    assert proj.in_front[0].all() and not proj.in_front[1].any() and proj.in_front[2].all()


@settings(max_examples=60)
@given(st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(lambda v: np.linalg.norm(v) > 0.1))
def test_quaternion_matrix_round_trip(values):
    q = np.asarray(values) / np.linalg.norm(values)
    q = q if q[3] >= 0 else -q
    R = quaternion_to_matrix(q)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(R) == pytest.approx(1.0)
    back = matrix_to_quaternion(R)
    if abs(q[3]) < 1e-9:  # w = 0: q and -q are both canonical
        back = back if np.dot(back, q) > 0 else -back
    np.testing.assert_allclose(back, q, atol=1e-9)


@settings(max_examples=40)
@given(st.lists(st.floats(-20, 20), min_size=3, max_size=3), st.lists(st.floats(-20, 20), min_size=3, max_size=3))
def test_look_at_centres_the_target(eye, target):
    eye, target = np.asarray(eye), np.asarray(target)
    offset = target - eye
    if np.linalg.norm(offset) < 0.5 or np.linalg.norm(offset[[0, 2]]) < 1e-3 * np.linalg.norm(offset):
        return  # degenerate: looking straight up or down
    q = look_at_opengl(eye, target)
    proj = project_points(target[None], K, eye, q)
    np.testing.assert_allclose(proj.uv[0], K[2:], atol=1e-6)
    np.testing.assert_allclose(proj.depth[0], np.linalg.norm(offset), rtol=1e-9)
    R, t = opengl_c2w_to_opencv_w2c(eye, q)
    np.testing.assert_allclose(R @ eye + t, 0.0, atol=1e-9)


def test_intrinsics_matrix():
    np.testing.assert_array_equal(intrinsics_matrix(K), [[100, 0, 50], [0, 100, 40], [0, 0, 1]])


def test_clip_segment_to_near():
    a, b, visible = clip_segment_to_near(np.array([[0, 0, -1.0], [0, 0, -1.0], [0, 0, 1.0]]), np.array([[0, 0, 1.0], [0, 0, -2.0], [0, 0, 2.0]]))
    assert list(visible) == [True, False, True]
    np.testing.assert_allclose(a[0], [0, 0, 0.05])
    np.testing.assert_allclose(b[0], [0, 0, 1.0])
    np.testing.assert_allclose(a[2], [0, 0, 1.0])


def test_nan_quaternion_gives_nan():
    assert np.isnan(quaternion_to_matrix(np.full(4, np.nan))).all()
