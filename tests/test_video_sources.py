"""open_video reads a path, bytes or a stream alike; decoders come from one registry."""

from __future__ import annotations

import io

import numpy as np
import pytest

from wildworld import FormatError, OptionError
from wildworld.video.decode import DECODERS, decoder_for, open_video


@pytest.fixture(scope="module")
def rgb_file(synth_part):
    return synth_part / "000000" / "rgb.mp4"


@pytest.mark.parametrize("backend", ["pyav", "decord", "auto"])
def test_bytes_and_streams_decode_like_the_file(rgb_file, backend):
    if backend == "decord" and not DECODERS["decord"].available:
        pytest.skip("decord is not installed here")
    picks = [0, 3, 17, 4]
    with open_video(rgb_file, backend=backend) as reader:
        want = reader.get(picks)
    with open_video(rgb_file.read_bytes(), backend=backend, name="clip.rgb.mp4") as reader:
        assert np.array_equal(reader.get(picks), want) and reader.path == "clip.rgb.mp4"
    with open(rgb_file, "rb") as handle, open_video(handle, backend=backend) as reader:
        assert np.array_equal(reader.get(picks), want)


def test_depth_is_exact_gray_from_bytes(synth_part):
    depth = synth_part / "000000" / "depth.mkv"
    with open_video(depth, backend="pyav", color="gray") as a, open_video(io.BytesIO(depth.read_bytes()), color="gray") as b:
        assert a.backend == b.backend == "pyav" and np.array_equal(a.get([0, 5]), b.get([0, 5]))


def test_what_is_not_a_video_is_a_format_error_naming_it():
    for backend in ("pyav", "auto"):
        with pytest.raises(FormatError, match="clip 7"):
            open_video(b"not a video", backend=backend, name="clip 7")
    with pytest.raises(FormatError, match="exact gray"):
        open_video(b"", backend="decord", color="gray")


def test_the_loaders_rule_sends_depth_to_the_exact_decoder():
    assert decoder_for("decord", "gray") == "pyav" and decoder_for("pyav", "gray") == "pyav"
    assert decoder_for("decord", "rgb") == "decord"
    with pytest.raises(OptionError, match="decoder"):
        decoder_for("opencv", "rgb")
