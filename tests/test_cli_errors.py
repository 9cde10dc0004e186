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


# -- nothing replaced by mistake: split --out and inputs --out ----------------------------------
def _no_temporaries(directory) -> bool:
    from wildworld.files import TEMP_MARK

    return not [p for p in directory.rglob("*") if TEMP_MARK in p.name]


def test_split_out_keeps_the_same_split_and_refuses_another_without_force(tiny_bench, tmp_path):
    from _trees import tree_snapshot

    from wildbench import load_split

    store, out = tiny_bench / "store", tmp_path / "split"
    shutil.copytree(tiny_bench / "split", out)
    before, mtime = tree_snapshot(out), (out / "split.json").stat().st_mtime_ns
    same = ["split", str(store), "--cases", "1", "--horizon", "41", "--seed", "0", "--out", str(out)]
    result = runner.invoke(bench_app, same)
    assert result.exit_code == 0, result.output
    assert tree_snapshot(out) == before and (out / "split.json").stat().st_mtime_ns == mtime  # not even rewritten
    other = ["split", str(store), "--cases", "1", "--horizon", "41", "--seed", "1", "--out", str(out)]
    line = _one_line_error(runner.invoke(bench_app, other))
    old = load_split(out).checksum
    assert line == (f"error: {out}: holds another split (checksum {old[:12]}); replacing it would stop every submission "
                    "made for it from passing `wildbench check`; choose another --out, or pass --force to replace it")
    assert tree_snapshot(out) == before and _no_temporaries(tmp_path)
    result = runner.invoke(bench_app, [*other, "--force"])
    assert result.exit_code == 0, result.output
    replaced = load_split(out)
    assert replaced.doc["rules"]["seed"] == 1 and replaced.checksum != old and _no_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split"]
    for wrong, what in ((store, "a converted store"), (tiny_bench / "part", "a release part directory")):
        watched = tree_snapshot(wrong)
        line = _one_line_error(runner.invoke(bench_app, [*same[:-1], str(wrong)]))
        assert line == f"error: {wrong}: this is {what}; write the split to a new or empty directory"
        assert tree_snapshot(wrong) == watched


def test_inputs_out_keeps_the_same_files_and_refuses_others_without_force(tiny_bench, tmp_path):
    from _trees import tree_snapshot

    from wildbench import SplitRules, load_split, make_split

    split, out = tiny_bench / "split", tmp_path / "inputs"
    assert runner.invoke(bench_app, ["inputs", str(split), "--out", str(out)]).exit_code == 0
    before = tree_snapshot(out)
    assert runner.invoke(bench_app, ["inputs", str(split), "--out", str(out)]).exit_code == 0
    assert tree_snapshot(out) == before
    other = make_split(tiny_bench / "store", tmp_path / "other_split", SplitRules(cases=1, horizon=41, seed=3))
    line = _one_line_error(runner.invoke(bench_app, ["inputs", str(tmp_path / "other_split"), "--out", str(out)]))
    assert line == (f"error: {out}: holds other inputs (another split, or written by another version); choose another "
                    "--out, or pass --force to replace them")
    assert tree_snapshot(out) == before and _no_temporaries(tmp_path)
    result = runner.invoke(bench_app, ["inputs", str(tmp_path / "other_split"), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    import json

    assert json.loads((out / "cases.json").read_text())["split_checksum"] == other.checksum != load_split(split).checksum
    assert _no_temporaries(tmp_path)
    watched = tree_snapshot(split)
    line = _one_line_error(runner.invoke(bench_app, ["inputs", str(split), "--out", str(split)]))
    assert line == f"error: {split}: this is a WildBench split; write the inputs to a new or empty directory"
    assert tree_snapshot(split) == watched


def test_publish_directory_is_all_or_nothing(tmp_path):
    import os

    from wildworld.files import publish_directory

    def build(content):
        def write(directory):
            directory.mkdir()
            (directory / "a.txt").write_text(content)
            if content == "crash":
                raise RuntimeError("killed while writing")
        return write

    def refuse(path):
        return RuntimeError(f"{path} differs")

    out = tmp_path / "out"
    kwargs = dict(same=lambda a, b: (a / "a.txt").read_text() == (b / "a.txt").read_text(), refuse=refuse)
    assert publish_directory(out, build("one"), force=False, **kwargs) == "written"
    assert publish_directory(out, build("one"), force=False, **kwargs) == "unchanged"
    with pytest.raises(RuntimeError, match="differs"):
        publish_directory(out, build("two"), force=False, **kwargs)
    with pytest.raises(RuntimeError, match="killed"):
        publish_directory(out, build("crash"), force=True, **kwargs)
    assert (out / "a.txt").read_text() == "one" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    real_replace, calls = os.replace, []

    def failing_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(src), None, str(dst))
        return real_replace(src, dst)

    import wildworld.files

    wildworld.files.os.replace = failing_second_rename
    try:
        with pytest.raises(OSError):
            publish_directory(out, build("two"), force=True, **kwargs)
    finally:
        wildworld.files.os.replace = real_replace
    assert (out / "a.txt").read_text() == "one" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert publish_directory(out, build("two"), force=True, **kwargs) == "replaced"
    assert (out / "a.txt").read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# -- the wrong kind of directory: what it is and the next command -------------------------------
def test_every_command_says_what_the_wrong_directory_is(tiny_bench, tmp_path):
    store, split, part = tiny_bench / "store", tiny_bench / "split", tiny_bench / "part"
    inputs = tmp_path / "inputs"
    assert runner.invoke(bench_app, ["inputs", str(split), "--out", str(inputs)]).exit_code == 0
    a_dir = tmp_path / "sub"
    a_dir.mkdir()
    convert_first = f"convert it first: wildworld convert {part} STORE"
    cases = [
        (world_app, ["load", str(part), "--workers", "0"], f"this is a release part directory, not a converted store to load from; {convert_first}"),
        (world_app, ["stats", str(part)], f"this is a release part directory, not a converted store; {convert_first}"),
        (bench_app, ["split", str(part), "--out", str(tmp_path / "s")], f"this is a release part directory, not a converted store to make a split from; {convert_first}"),
        (world_app, ["stats", str(split)], "this is a WildBench split, not a converted store; pass the store the split was made from"),
        (bench_app, ["baseline", "oracle", "--split", str(inputs), "--out", str(tmp_path / "b")], "this is a WildBench inputs directory, not a WildBench split; pass the split directory"),
        (bench_app, ["check", str(a_dir), "--split", str(inputs)], "this is a WildBench inputs directory, not a WildBench split"),
        (bench_app, ["evaluate", str(a_dir), "--split", str(inputs), "--out", str(tmp_path / "r.json")], "this is a WildBench inputs directory, not a WildBench split"),
        (bench_app, ["inputs", str(inputs), "--out", str(tmp_path / "i2")], "this is a WildBench inputs directory, not a WildBench split"),
        (bench_app, ["check", str(store), "--split", str(split)], "this is a converted store, not a WildBench submission"),
        (bench_app, ["check", str(inputs), "--split", str(split)], "this is a WildBench inputs directory, not a WildBench submission"),
        (bench_app, ["leaderboard", str(split)], "this is a WildBench split, not a results file; pass the RESULTS.json"),
        (world_app, ["validate", str(split)], "this is a WildBench split; `wildworld validate` checks release samples, parts, data roots and stores"),
        (world_app, ["info", str(inputs)], "this is a WildBench inputs directory, not a release sample directory"),
        (world_app, ["render", str(store), "--sheet", str(tmp_path / "x.png")], "this is a converted store, not a release sample directory"),
        (world_app, ["render", str(part), "--sheet", str(tmp_path / "x.png")], f"a part directory, not a sample directory; give one of its samples, e.g. {part / '000000'}"),
        (world_app, ["view", str(split), "--out", str(tmp_path / "x.rrd")], "this is a WildBench split; view takes a release sample directory"),
        (world_app, ["view", str(part), "--out", str(tmp_path / "x.rrd")], "a release part directory, not a sample directory; name the sample to view with --sample ID (its samples: 000000)"),
        (world_app, ["convert", str(store), str(tmp_path / "c")], "this is a converted store, not a release sample directory"),
        (world_app, ["convert", str(part), str(store), "--crf", "30"], "already holds a store converted with other options or sources"),
        (world_app, ["synth", str(store), "--samples", "1", "--seconds", "0.1"], "a converted store, not a synthetic part (no synthetic_world.json)"),
    ]
    for app, args, message in cases:
        line = _one_line_error(runner.invoke(app, args))
        assert message in line, (args, line)
    assert not (tmp_path / "c").exists() and not (tmp_path / "s").exists() and not (tmp_path / "x.png").exists()


# -- help and output width ---------------------------------------------------------------------
def _commands(app):
    import typer.main

    group = typer.main.get_command(app)
    return group, sorted(group.commands)


@pytest.mark.parametrize("app,name", [(world_app, "wildworld"), (bench_app, "wildbench")])
def test_every_help_shows_examples_and_no_bool_placeholder(app, name):
    group, commands = _commands(app)
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0 and "<bool>" not in top.output
    assert len(commands) >= 7
    for command in commands:
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
        text = result.output
        assert "Example" in text, f"`{name} {command} --help` shows no example"
        examples = [line.strip(" │") for line in text.splitlines() if line.strip(" │").startswith(f"{name} {command}")]
        assert 1 <= len(examples) <= 3, (command, examples)
        assert "<bool>" not in text, f"`{name} {command} --help` shows <bool>"
        flags = [p for p in group.commands[command].params if getattr(p, "is_flag", False)]
        for flag in flags:
            assert flag.opts[0] in text  # the flag is still listed, only without a placeholder


def test_output_to_a_file_or_pipe_is_never_cut_to_80_columns(tiny_bench, tmp_path):
    import os
    import subprocess
    import sys

    result = runner.invoke(world_app, ["stats", str(tiny_bench / "store")])  # CliRunner: not a terminal
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) > 100 and "…" not in result.stdout
    assert any("npc.list.0.pos[0]" in line and line.rstrip().endswith("│") for line in lines)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    log = tmp_path / "stats.log"
    with open(log, "w") as handle:  # `wildworld stats STORE > log`
        subprocess.run([sys.executable, "-m", "wildworld_cli.wildworld_app", "stats", str(tiny_bench / "store")],
                       stdout=handle, stderr=subprocess.PIPE, env=env, check=True, timeout=120)
    text = log.read_text()
    assert max(map(len, text.splitlines())) > 100 and "…" not in text
    assert text == result.stdout  # the same table as through CliRunner
    piped = subprocess.run([sys.executable, "-m", "wildworld_cli.wildworld_app", "stats", str(tiny_bench / "store")],
                           capture_output=True, text=True, env={**env, "COLUMNS": "80"}, check=True, timeout=120)
    assert max(map(len, piped.stdout.splitlines())) <= 80  # an explicit COLUMNS is obeyed


# -- several baselines and submissions in one command ------------------------------------------
def test_several_baselines_and_submissions_take_an_out_dir(tiny_bench, tmp_path):
    split = tiny_bench / "split"
    subs, results = tmp_path / "subs", tmp_path / "results"
    line = _one_line_error(runner.invoke(bench_app, ["baseline", "frozen", "camera-follow", "--split", str(split), "--out", str(subs)]))
    assert "--out names one submission directory but 2 baselines" in line and not subs.exists()
    assert "not both or neither" in _one_line_error(runner.invoke(bench_app, ["baseline", "frozen", "--split", str(split)]))
    assert "named twice" in _one_line_error(runner.invoke(bench_app, ["baseline", "frozen", "frozen", "--split", str(split), "--out-dir", str(subs)]))
    line = _one_line_error(runner.invoke(bench_app, ["baseline", "frozen", "../escape", "--split", str(split), "--out-dir", str(subs)]))
    assert "no baseline '../escape'" in line and not subs.exists() and not (tmp_path / "escape").exists()  # checked before anything is written

    made = runner.invoke(bench_app, ["baseline", "frozen", "camera-follow", "--split", str(split), "--out-dir", str(subs)])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in subs.iterdir()) == ["camera-follow", "frozen"]
    assert all((subs / name / "submission.json").is_file() for name in ("frozen", "camera-follow"))

    both = [str(subs / "frozen"), str(subs / "camera-follow")]
    line = _one_line_error(runner.invoke(bench_app, ["evaluate", *both, "--split", str(split), "--out", str(tmp_path / "r.json")]))
    assert "--out names one results file but 2 submissions" in line and not (tmp_path / "r.json").exists()
    twin = tmp_path / "other" / "frozen"
    shutil.copytree(subs / "frozen", twin)
    line = _one_line_error(runner.invoke(bench_app, ["evaluate", str(subs / "frozen"), str(twin), "--split", str(split), "--out-dir", str(results)]))
    assert "the same directory name" in line and not results.exists()
    broken = tmp_path / "broken"
    shutil.copytree(subs / "frozen", broken)
    next(p for p in broken.iterdir() if p.name.endswith(".state.csv")).write_text("not a state file\n")  # a broken second submission
    line = _one_line_error(runner.invoke(bench_app, ["evaluate", both[0], str(broken), "--split", str(split), "--out-dir", str(results),
                                                     "--metrics", "explicit_state"]))
    assert str(broken) in line
    assert not results.exists() or not list(results.glob("*.json"))  # checked before any case is scored: nothing written

    done = runner.invoke(bench_app, ["evaluate", *both, "--split", str(split), "--out-dir", str(results), "--metrics", "explicit_state"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in results.glob("*.json")) == ["camera-follow.json", "frozen.json"]
