"""Path mistakes on the command line: one line on stderr, exit 2, never a traceback."""

from __future__ import annotations

import errno
import shutil

import pytest
import typer
from typer.testing import CliRunner

from wildworld_cli._common import friendly
from wildworld_cli.wildbench_app import app as bench_app
from wildworld_cli.wildworld_app import app as world_app

runner = CliRunner()


def _one_line_error(result) -> str:
    """The single error line of a usage error (progress lines before it are allowed)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.stderr
    assert sum(line.startswith("error:") for line in lines) == 1
    return lines[-1]


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    """A one-sample store and its one-case split (a few seconds to make)."""
    from wildbench import SplitRules, make_split
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions
    from wildworld.synth import SynthOptions, generate

    root = tmp_path_factory.mktemp("tiny_bench")
    generate(root / "part", SynthOptions(samples=1, seconds=4, width=320, height=180, seed=5))
    convert([root / "part"], root / "store", ConvertOptions(), workers=1)
    make_split(root / "store", root / "split", SplitRules(cases=1, horizon=41, seed=0))
    return root


@pytest.mark.parametrize(
    "exc",
    [
        IsADirectoryError(errno.EISDIR, "Is a directory", "some/dir"),
        NotADirectoryError(errno.ENOTDIR, "Not a directory", "some/dir"),
        FileExistsError(errno.EEXIST, "File exists", "some/dir"),
        PermissionError(errno.EACCES, "Permission denied", "some/dir"),
        OSError(errno.ENOSPC, "No space left on device", "some/dir"),
        OSError(errno.EISDIR, "Is a directory", "tmp.wwtmp", None, "some/dir"),  # a rename: name the target
    ],
    ids=lambda exc: type(exc).__name__ + ("-rename" if exc.filename2 else ""),
)
def test_friendly_turns_path_errors_into_one_line(exc):
    def command() -> None:
        raise exc

    app = typer.Typer()
    app.command()(friendly(command))
    result = runner.invoke(app, [])
    assert _one_line_error(result) == f"error: some/dir: {exc.strerror}"
    assert result.stderr.count("\n") == 1


def test_friendly_escapes_markup_and_keeps_other_errors():
    def markup() -> None:
        raise PermissionError(errno.EACCES, "Permission denied", "[red]x[/red]")

    def network() -> None:
        raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")  # no path: a real bug

    for function, expected in ((markup, "error: [red]x[/red]: Permission denied"),):
        app = typer.Typer()
        app.command()(friendly(function))
        assert _one_line_error(runner.invoke(app, [])) == expected
    app = typer.Typer()
    app.command()(friendly(network))
    result = runner.invoke(app, [])
    assert isinstance(result.exception, ConnectionResetError)


def test_wildworld_synth_into_a_file(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    result = runner.invoke(world_app, ["synth", str(tmp_path / "file" / "part"), "--samples", "1", "--seconds", "0.1"])
    assert _one_line_error(result) == f"error: {tmp_path / 'file' / 'part'}: Not a directory"


def test_wildbench_path_mistakes(tiny_bench, tmp_path):
    store, split = tiny_bench / "store", tiny_bench / "split"
    a_file, a_dir = tmp_path / "file.mp4", tmp_path / "dir"
    a_file.write_text("x")
    a_dir.mkdir()

    result = runner.invoke(bench_app, ["split", str(store), "--cases", "1", "--horizon", "41", "--out", str(a_file)])
    assert _one_line_error(result).startswith(f"error: {a_file}")

    result = runner.invoke(bench_app, ["inputs", str(split), "--out", str(a_file)])
    assert _one_line_error(result).startswith(f"error: {a_file}")
    assert result.stderr.count("\n") == 1  # no blank line from the unused progress bar

    result = runner.invoke(bench_app, ["leaderboard", str(a_dir)])
    assert str(a_dir) in _one_line_error(result)

    result = runner.invoke(bench_app, ["evaluate", str(a_dir), "--split", str(split), "--out", str(a_dir)])
    assert str(a_dir) in _one_line_error(result)

    broken = tmp_path / "broken_split"
    shutil.copytree(split, broken)
    answer = next((broken / "answers").iterdir())
    answer.unlink()
    answer.mkdir()
    result = runner.invoke(bench_app, ["check", str(a_dir), "--split", str(broken)])
    assert _one_line_error(result) == f"error: {answer}: Is a directory"


def test_split_says_which_rules_rejected_the_windows(tiny_bench, tmp_path):
    result = runner.invoke(bench_app, ["split", str(tiny_bench / "store"), "--horizon", "2", "--out", str(tmp_path / "s")])
    line = _one_line_error(result)
    assert "no window satisfies the split rules (short track, horizon 2); rejected by rule:" in line
    assert "reliable pairs: " in line and "shorter horizon" not in line

    result = runner.invoke(bench_app, ["split", str(tiny_bench / "store"), "--horizon", "100000", "--out", str(tmp_path / "s")])
    assert _one_line_error(result).endswith("rejected by rule: samples (not windows) shorter than the horizon: 1")
