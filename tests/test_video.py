"""Video probe, exact decoding by index with both backends, atomic encoding."""

from __future__ import annotations

import numpy as np
import pytest

from wildworld import FormatError
from wildworld.video import VideoWriter, iter_frames, open_video, probe_video, read_frames, write_video


def _moving_bar(n=40, h=64, w=96):
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        frames[i, :, (i * 2) % w : (i * 2) % w + 8] = (255, 128, 0)
        frames[i, : (i % h), :4] = 200
    return frames


@pytest.fixture(scope="module")
def rgb_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "rgb.mp4"
    write_video(path, _moving_bar(), fps=30, gop=8, crf=10)
    return path


def test_probe(rgb_video):
    probe = probe_video(rgb_video)
    assert (probe.frames, probe.fps, probe.width, probe.height, probe.codec) == (40, 30.0, 96, 64, "h264")
    assert probe.frames_exact


@pytest.mark.parametrize("backend", ["pyav", "auto"])
def test_random_access_matches_sequential_decode(rgb_video, backend):
    sequential = np.stack(list(iter_frames(rgb_video)))
    assert sequential.shape == (40, 64, 96, 3)
    order = [39, 0, 17, 17, 8, 9, 31, 1]
    with open_video(rgb_video, backend=backend) as reader:
        got = reader.get(order)
        assert reader.get(order, out=np.empty_like(got)).shape == got.shape
    if backend == "pyav":  # the same decoder and colour conversion: bit-identical
        np.testing.assert_array_equal(got, sequential[order])
    else:  # decord converts colour with FFmpeg, PyAV frames with OpenCV: rounding differs
        assert np.abs(got.astype(int) - sequential[order]).max() <= 3
        assert np.abs(got.astype(int) - sequential[order]).mean() < 0.2


def test_decoded_frames_are_close_to_sources(rgb_video):
    source = _moving_bar()
    decoded = read_frames(rgb_video, range(40), backend="pyav")
    assert np.abs(decoded.astype(int) - source).mean() < 3.0


def test_lossless_gray_depth(tmp_path):
    depth = np.random.default_rng(0).integers(0, 256, (12, 48, 64)).astype(np.uint8)
    path = write_video(tmp_path / "depth.mkv", depth, fps=30, profile="depth", gop=4)
    probe = probe_video(path, exact=True)
    assert probe.frames == 12 and probe.codec == "hevc"
    np.testing.assert_array_equal(read_frames(path, [11, 0, 5], color="gray"), depth[[11, 0, 5]])


def test_out_of_range_and_bad_files(rgb_video, tmp_path):
    with open_video(rgb_video, backend="pyav") as reader, pytest.raises(IndexError):
        reader.get([40])
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(FormatError):
        probe_video(bad)
    with pytest.raises(FormatError):
        open_video(bad, backend="pyav")


def test_the_same_frames_give_the_same_bytes_beside_a_depth_encoder(tmp_path):
    """The synthetic world writes RGB and depth frame by frame; libx265 encodes on a thread of
    its own meanwhile. With x264's macroblock tree on, the RGB bytes changed from run to run
    (about 1 run in 4 here, differing in every frame); they must not."""
    import hashlib
    import time

    from wildworld.synth import SyntheticWorld, make_script

    world = SyntheticWorld(make_script(5, 0, frames=15, width=64, height=48))
    frames = [world.render(state)[0] for state in world.states()]
    rng = np.random.default_rng(3)
    digests = set()
    for run in range(10):
        rgb_path, depth_path = tmp_path / f"{run}.mp4", tmp_path / f"{run}.mkv"
        with VideoWriter(rgb_path, fps=30, width=64, height=48, crf=23, gop=30, threads=1) as rgb, \
                VideoWriter(depth_path, fps=30, width=64, height=48, profile="depth", gop=30, threads=1) as depth:
            for frame in frames:
                rgb.write(frame)
                depth.write(frame[..., 0])
                time.sleep(float(rng.uniform(0, 0.01)))  # the render between frames
        digests.add(hashlib.sha256(rgb_path.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_writer_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(target, fps=30, width=32, height=32) as writer:
            writer.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FormatError):
        VideoWriter(tmp_path / "odd.mp4", fps=30, width=31, height=32)


def _two_colours(n=12, h=181, w=321):
    frames = np.empty((n, h, w, 3), np.uint8)
    frames[:, :, : w // 2] = (200, 60, 30)
    frames[:, :, w // 2 :] = (20, 120, 220)
    for i in range(n):
        frames[i, : 10 + 10 * i, :8] = 255  # a white bar growing with the frame index
    return frames


@pytest.mark.parametrize("codec,suffix", [("mpeg4", ".mp4"), ("ffv1", ".mkv")])
def test_odd_size_yuv420p(tmp_path, codec, suffix):
    """321x181 yuv420p (mpeg4 and ffv1 allow odd sizes, H.264 does not) decodes with both
    back ends; PyAV's even-size OpenCV conversion is kept for odd sizes (padded planes)."""
    import av

    source, path = _two_colours(), tmp_path / f"odd{suffix}"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = 321, 181, "yuv420p"
        if codec == "mpeg4":
            stream.codec_context.qmax = 2
        for image in source:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    backends = ["pyav"]
    try:
        with open_video(path, backend="decord"):
            backends.append("decord")
    except FormatError:
        pass  # decord not installed or cannot open this codec
    decoded = {}
    for backend in backends:
        with open_video(path, backend=backend) as reader:
            assert (reader.num_frames, reader.width, reader.height) == (12, 321, 181)
            decoded[backend] = reader.get([11, 0, 5])
        assert decoded[backend].shape == (3, 181, 321, 3)
        error = np.abs(decoded[backend].astype(int) - source[[11, 0, 5]])
        assert error.mean() < 3.0, backend
        assert error[:, 40:170, 20:150].max() <= 4 and error[:, 40:170, 170:300].max() <= 4, backend  # flat areas
    sequential = np.stack(list(iter_frames(path)))
    assert sequential.shape == (12, 181, 321, 3)
    np.testing.assert_array_equal(decoded["pyav"], sequential[[11, 0, 5]])
    if "decord" in decoded:  # decord converts with FFmpeg: chroma is interpolated differently at edges
        assert np.abs(decoded["decord"].astype(int) - decoded["pyav"]).mean() < 1.0
    gray = read_frames(path, [0], color="gray")
    assert gray.shape == (1, 181, 321)


def test_odd_size_conversion_matches_the_even_one():
    """The odd-size path pads the planes: the same colours as the even-size fast path."""
    import av

    from wildworld.video.decode import _padded_i420, frame_to_rgb

    image = np.random.default_rng(0).integers(0, 256, (180, 320, 3), np.uint8)
    even = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    np.testing.assert_array_equal(_padded_i420(even), even.to_ndarray())
    odd = av.VideoFrame(319, 179, "yuv420p")  # the even frame's planes, cropped
    for source, target in zip(even.planes, odd.planes):
        rows = np.zeros((target.height, target.line_size), np.uint8)
        rows[:, : target.width] = np.frombuffer(source, np.uint8).reshape(-1, source.line_size)[: target.height, : target.width]
        target.update(rows.tobytes())
    out = np.zeros((179, 319, 3), np.uint8)
    assert frame_to_rgb(odd, out) is out
    np.testing.assert_array_equal(out, frame_to_rgb(even)[:179, :319])
