"""wildworld download / checksum: selective, resumable, verified, never writing outside DEST.

Every transfer goes to a loopback HTTP server started here (tests/_http_server.py) that
serves a copy of sample_data and its checksum manifest; nothing reaches the internet. Tests
named ``test_hub_*`` run the hub code path through the real ``huggingface_hub`` client
against a loopback stand-in for the hub's endpoint (not the real hub).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from _http_server import COMMIT, Fault, LoopbackServer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from wildworld_cli.wildworld_app import app

from wildworld.files import TEMP_MARK, safe_join
from wildworld.download import (
    AccessError,
    HubSource,
    MirrorSource,
    ProgressEvent,
    RemoteFile,
    Selection,
    SourceError,
    TransferOptions,
    UnsafePathError,
    check_remote_name,
    download,
    fetch_file,
    read_manifest,
    verify_manifest,
)
from wildworld.errors import FormatError, OptionError, WildWorldError
from wildworld.schemas import validate_document

runner = CliRunner()
REPO = "AlayaLab/WildWorld"
TOKEN = "hf_loopbackSECRETtoken123"
RGB = "data_part1/000000/rgb.mp4"
DEPTH = "data_part1/000001/depth.mkv"
FAST = TransferOptions(jobs=3, retries=1, retry_wait=0.0, durable=False)


@pytest.fixture(scope="session")
def mirror_root(bundled_part, tmp_path_factory) -> Path:
    """A private copy of sample_data (the release root) with its checksums.json."""
    root = tmp_path_factory.mktemp("mirror")
    shutil.copytree(bundled_part, root / "data_part1")
    result = runner.invoke(app, ["checksum", str(root), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture()
def mirror(mirror_root):
    with LoopbackServer(mirror_root) as server:
        yield server


@pytest.fixture()
def hub(mirror_root):
    """Loopback stand-in for the hub's endpoint, gated: it wants TOKEN."""
    with LoopbackServer(mirror_root, hub_repo=REPO, token=TOKEN) as server:
        yield server


def release_files(root: Path) -> dict[str, bytes]:
    """The files download is meant to fetch (streams + skeleton_edges.json), by relative path."""
    names = {"rgb.mp4", "depth.mkv", "state.csv", "skeleton.npz", "skeleton_edges.json"}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.name in names}


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# ----------------------------------------------------------------------------- checksums


def test_checksum_manifest_lists_every_file_with_its_sha256(mirror_root, tmp_path):
    manifest = read_manifest(mirror_root / "checksums.json")
    on_disk = {p.relative_to(mirror_root).as_posix(): p for p in mirror_root.rglob("*") if p.is_file()}
    on_disk.pop("checksums.json")
    assert {e.path for e in manifest.files} == set(on_disk)
    for entry in manifest.files:
        data = on_disk[entry.path].read_bytes()
        assert entry.size == len(data) and entry.sha256 == hashlib.sha256(data).hexdigest()
    validate_document(json.loads((mirror_root / "checksums.json").read_text()), "checksums")
    assert verify_manifest(mirror_root) == ()

    copy = tmp_path / "copy"
    shutil.copytree(mirror_root, copy)
    with open(copy / DEPTH, "r+b") as handle:  # one flipped byte, same size
        handle.seek(1234)
        byte = handle.read(1)
        handle.seek(1234)
        handle.write(bytes([byte[0] ^ 1]))
    (copy / RGB).unlink()
    problems = {p.path: p.problem for p in verify_manifest(copy)}
    assert problems == {DEPTH: "sha256", RGB: "missing"}
    result = runner.invoke(app, ["checksum", str(copy), "--verify"])
    assert result.exit_code == 1 and DEPTH in result.output


def test_checksum_refuses_a_part_directory_and_bad_manifests(mirror_root, tmp_path):
    result = runner.invoke(app, ["checksum", str(mirror_root / "data_part1")])
    assert result.exit_code == 2 and "part directory" in result.output and "Traceback" not in result.output
    doc = json.loads((mirror_root / "checksums.json").read_text())
    doc["files"][0]["sha256"] = "not-a-digest"
    (tmp_path / "checksums.json").write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="files/0/sha256"):
        read_manifest(tmp_path / "checksums.json")
    doc["format_version"] = "2.0"
    (tmp_path / "checksums.json").write_text(json.dumps(doc))
    with pytest.raises(WildWorldError, match="version"):
        read_manifest(tmp_path / "checksums.json")


# ----------------------------------------------------------------------------- mirror downloads


def test_full_download_over_http_is_byte_identical_and_validated(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    events: list[ProgressEvent] = []
    report = download(MirrorSource(mirror.url), dest, options=FAST, progress=events.append)
    expected = release_files(mirror_root)
    assert report.ok and len(report.files) == len(expected) == 13
    assert release_files(dest) == expected
    assert tree(dest) == set(expected)  # no temp files, no extra files
    assert report.validation is not None and report.validation.samples == 3 and report.validation.ok
    plan_event = events[0]
    assert plan_event.kind == "plan" and plan_event.total == sum(map(len, expected.values()))
    assert sum(e.advance for e in events if e.kind == "advance") == report.transferred_bytes == plan_event.total

    # Run again: everything is present, no file is transferred again.
    before = len(mirror.state.requests)
    again = download(MirrorSource(mirror.url), dest, options=FAST, validate=False)
    assert {f.status for f in again.files} == {"present"} and again.transferred_bytes == 0
    assert [p for _, p, _ in mirror.state.requests[before:]] == ["checksums.json"]


def test_selective_download_fetches_only_what_was_asked(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    selection = Selection(samples=("000001",), streams=("state", "skeleton"))
    report = download(MirrorSource(mirror.url), dest, selection=selection, options=FAST)
    wanted = {"data_part1/skeleton_edges.json", "data_part1/000001/state.csv", "data_part1/000001/skeleton.npz"}
    assert tree(dest) == wanted
    assert {p for m, p, _ in mirror.state.requests if m == "GET"} == wanted | {"checksums.json"}
    assert report.ok and report.validation.ok  # rgb/depth were not selected, so not "missing"
    assert all((dest / p).read_bytes() == (mirror_root / p).read_bytes() for p in wanted)

    limited = download(MirrorSource(mirror.url), tmp_path / "two", selection=Selection(limit=2, streams=("state",)), options=FAST, validate=False)
    assert limited.plan.samples == ("data_part1/000000", "data_part1/000001")
    assert tree(tmp_path / "two") == {"data_part1/skeleton_edges.json", "data_part1/000000/state.csv", "data_part1/000001/state.csv"}


def test_dry_run_lists_files_and_total_and_writes_nothing(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    result = runner.invoke(
        app, ["download", "--dest", str(dest), "--source", mirror.url, "--dry-run", "--json", "--streams", "rgb,depth"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["plan"]
    paths = [f["path"] for f in plan["files"]]
    assert paths[0] == "data_part1/skeleton_edges.json" and len(paths) == 7
    assert all(p.endswith(("rgb.mp4", "depth.mkv")) for p in paths[1:])
    assert plan["total_bytes"] == sum((mirror_root / p).stat().st_size for p in paths)
    assert not dest.exists()
    assert all(m == "GET" and p == "checksums.json" for m, p, _ in mirror.state.requests)
    text = runner.invoke(app, ["download", "--dest", str(dest), "--source", mirror.url, "--dry-run", "--limit", "1"])
    assert text.exit_code == 0 and "5 files of 1 samples" in text.output and "dry run" in text.output


def test_transfer_cut_mid_file_resumes_to_identical_bytes(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    source = MirrorSource(mirror.url, chunk_size=64 * 1024)
    mirror.state.cut[RGB] = Fault(offset=200_000)  # every response for rgb.mp4 stops at byte 200000
    first = download(source, dest, selection=Selection(samples=("000000",)), options=FAST, validate=False)
    (failed,) = first.failed
    assert failed.path == RGB and "run again to resume" in failed.error
    partial = dest / (RGB + TEMP_MARK + "partial")
    assert not (dest / RGB).exists()  # never a file that looks complete
    kept = partial.stat().st_size
    assert kept == 3 * 64 * 1024  # the whole chunks received before the cut
    assert partial.read_bytes() == (mirror_root / RGB).read_bytes()[:kept]

    mirror.state.cut.clear()
    mirror.state.requests.clear()
    second = download(source, dest, selection=Selection(samples=("000000",)), options=FAST)
    assert second.ok
    (result,) = [f for f in second.files if f.path == RGB]
    assert result.status == "downloaded" and result.resumed_from == kept
    assert mirror.file_requests(RGB)[0].startswith(f"bytes={kept}-")  # resumed, not restarted
    assert (dest / RGB).read_bytes() == (mirror_root / RGB).read_bytes()
    assert not partial.exists()


def test_corrupted_byte_is_detected_refetched_once_then_reported(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    selection = Selection(samples=("000001",), streams=("depth",))
    mirror.state.corrupt[DEPTH] = Fault(offset=4321, times=1)  # a flipped byte, once
    report = download(MirrorSource(mirror.url), dest, selection=selection, options=FAST, validate=False)
    (result,) = [f for f in report.files if f.path == DEPTH]
    assert result.status == "downloaded" and result.attempts == 2
    assert (dest / DEPTH).read_bytes() == (mirror_root / DEPTH).read_bytes()

    mirror.state.corrupt[DEPTH] = Fault(offset=4321)  # corrupt every time
    result = runner.invoke(app, ["download", "--dest", str(tmp_path / "again"), "--source", mirror.url, "--samples", "000001", "--streams", "depth"])
    assert result.exit_code == 1
    assert "failed" in result.output and DEPTH in result.output and "sha256" in result.output
    assert not (tmp_path / "again" / DEPTH).exists()
    assert not list((tmp_path / "again").rglob(f"*{TEMP_MARK}*"))  # a corrupt file is not kept to resume


def test_recheck_finds_a_corrupted_local_file(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    selection = Selection(samples=("000001",), streams=("depth",))
    download(MirrorSource(mirror.url), dest, selection=selection, options=FAST, validate=False)
    data = bytearray((dest / DEPTH).read_bytes())
    data[100] ^= 0xFF
    (dest / DEPTH).write_bytes(bytes(data))
    trusted = download(MirrorSource(mirror.url), dest, selection=selection, options=FAST, validate=False)
    assert [f.status for f in trusted.files if f.path == DEPTH] == ["present"]  # same size: trusted
    rechecked = download(MirrorSource(mirror.url), dest, selection=selection, options=TransferOptions(recheck=True, retry_wait=0), validate=False)
    assert [f.status for f in rechecked.files if f.path == DEPTH] == ["downloaded"]
    assert (dest / DEPTH).read_bytes() == (mirror_root / DEPTH).read_bytes()


@pytest.mark.parametrize("evil", ["../evil.txt", "/tmp/evil.txt", "data_part1/../../evil.txt", "data_part1\\..\\evil.txt", "C:/evil.txt"])
def test_unsafe_remote_names_are_refused(mirror, mirror_root, tmp_path, evil):
    doc = json.loads((mirror_root / "checksums.json").read_text())
    doc["files"].append({"path": evil, "size": 4, "sha256": hashlib.sha256(b"evil").hexdigest()})
    mirror.state.overrides["checksums.json"] = json.dumps(doc).encode()
    mirror.state.overrides[evil.lstrip("/")] = b"evil"
    before = tree(tmp_path)
    with pytest.raises(UnsafePathError, match="refusing remote name"):
        download(MirrorSource(mirror.url), tmp_path / "dest", options=FAST)
    assert tree(tmp_path) == before and not (tmp_path / "dest").exists()
    result = runner.invoke(app, ["download", "--dest", str(tmp_path / "dest"), "--source", mirror.url])
    assert result.exit_code == 2 and "refusing remote name" in result.output and "Traceback" not in result.output


def test_transfer_refuses_a_name_outside_dest_even_without_the_planner(mirror, tmp_path):
    remote = RemoteFile(path="../outside.bin", size=4, location=f"{mirror.url}/x")
    with pytest.raises(UnsafePathError):
        fetch_file(MirrorSource(mirror.url), remote, tmp_path / "dest", options=FAST)
    assert not (tmp_path / "outside.bin").exists()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="a./\\:\x00", max_size=12))
def test_remote_name_check_never_lets_a_path_escape(tmp_path_factory, name):
    root = tmp_path_factory.getbasetemp() / "names"
    try:
        check_remote_name(name, source="test")
    except UnsafePathError:
        return
    joined = safe_join(root, name)  # accepted names are accepted by safe_join too, and stay inside
    assert root.resolve() in joined.resolve().parents


def test_selection_and_cli_usage_errors(mirror, tmp_path):
    with pytest.raises(OptionError, match="not both"):
        Selection(samples=("000000",), limit=1)
    with pytest.raises(OptionError, match="unknown 'audio'"):
        Selection(streams=("rgb", "audio"))
    with pytest.raises(OptionError):
        Selection(samples=("../000000",))
    dest = str(tmp_path / "dest")
    cases = [
        (["--source", mirror.url, "--samples", "000000", "--limit", "1"], "not both"),
        (["--source", mirror.url, "--token", TOKEN], "--token is for the hub"),
        (["--source", mirror.url, "--part", "7"], "no data_part7 (parts available: 1)"),
        (["--source", mirror.url, "--samples", "999999"], "'999999' not found"),
        (["--source", str(tmp_path / "nowhere")], "wildworld checksum"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["download", "--dest", dest, *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert TOKEN not in result.output
    assert not Path(dest).exists()


def test_a_file_that_cannot_be_written_fails_alone(mirror, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    (dest / RGB).mkdir(parents=True)  # a directory where rgb.mp4 should go
    report = download(MirrorSource(mirror.url), dest, selection=Selection(samples=("000000",)), options=FAST, validate=False)
    assert [(f.path, f.status) for f in report.failed] == [(RGB, "failed")] and "cannot write" in report.failed[0].error
    assert (dest / "data_part1/000000/state.csv").read_bytes() == (mirror_root / "data_part1/000000/state.csv").read_bytes()
    assert MirrorSource("https://user:secret@example.org/ww").name == "https://example.org/ww"


def test_mirror_can_be_a_local_path(mirror_root, tmp_path):
    report = download(MirrorSource(str(mirror_root), chunk_size=100_000), tmp_path / "dest", selection=Selection(limit=1), options=FAST)
    assert report.ok and len(report.files) == 5
    assert release_files(tmp_path / "dest") == {k: v for k, v in release_files(mirror_root).items() if "000001" not in k and "000002" not in k}


def test_two_downloads_into_one_dest_are_refused_and_the_lock_is_released(mirror_root, tmp_path):
    import fcntl

    from wildworld.download.runner import LOCK_FILE

    dest = tmp_path / "dest"
    dest.mkdir()
    with open(dest / LOCK_FILE, "a+b") as other:  # another download holds DEST
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(WildWorldError, match="another download is writing here"):
            download(MirrorSource(str(mirror_root)), dest, selection=Selection(limit=1), options=FAST)
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
    report = download(MirrorSource(str(mirror_root)), dest, selection=Selection(limit=1), options=FAST)
    assert report.ok and not (dest / LOCK_FILE).exists()


# ----------------------------------------------------------------------------- hub (loopback stand-in)
# These run HubSource through the real huggingface_hub client (HfApi.auth_check, dataset_info,
# list_repo_tree, file_download.http_get) against tests/_http_server.py, not the real hub.


def test_hub_stand_in_full_download_through_huggingface_hub(hub, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    report = download(HubSource(repo_id=REPO, token=TOKEN, endpoint=hub.url), dest, options=FAST)
    assert report.ok and report.validation.samples == 3
    assert release_files(dest) == release_files(mirror_root)
    checks = {f.path: f.check for f in report.files}
    assert checks["data_part1/skeleton_edges.json"] == "git-sha1" and checks[RGB] == "sha256"
    resolved = [p for m, p, _ in hub.state.requests if "/resolve/" in p]
    assert resolved and all(f"/resolve/{COMMIT}/" in p for p in resolved)  # pinned to one commit
    assert TOKEN not in repr(HubSource(token=TOKEN)) and TOKEN not in json.dumps(report.to_dict())


def test_hub_stand_in_gated_access_gives_clear_message_without_token_leak(hub, tmp_path, monkeypatch):
    with pytest.raises(AccessError) as anonymous:
        download(HubSource(repo_id=REPO, token=False, endpoint=hub.url), tmp_path / "dest")
    message = str(anonymous.value)
    assert "gated" in message and "accept its licence" in message and "token" in message and "401" in message
    assert not (tmp_path / "dest").exists()

    monkeypatch.delenv("HF_TOKEN", raising=False)
    wrong = "hf_wrongSECRETvalue"
    result = runner.invoke(app, ["download", "--dest", str(tmp_path / "dest"), "--endpoint", hub.url, "--token", wrong])
    assert result.exit_code == 2 and "access denied (HTTP 403)" in result.output
    assert wrong not in result.output and "Traceback" not in result.output

    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the usual environment variable, read by the CLI
    result = runner.invoke(app, ["download", "--dest", str(tmp_path / "dest"), "--endpoint", hub.url, "--limit", "1", "--streams", "state", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] and TOKEN not in result.output
    assert (tmp_path / "dest" / "data_part1/000000/state.csv").is_file()


def test_hub_stand_in_resumes_a_partial_file_and_survives_a_cut(hub, mirror_root, tmp_path):
    dest = tmp_path / "dest"
    source = HubSource(repo_id=REPO, token=TOKEN, endpoint=hub.url)
    expected = (mirror_root / RGB).read_bytes()
    partial = dest / (RGB + TEMP_MARK + "partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(expected[:150_000])  # left by an interrupted run
    hub.state.cut[DEPTH] = Fault(offset=500_000, times=1)  # the line drops once mid-file
    selection = Selection(samples=("000000", "000001"), streams=("rgb", "depth"))
    report = download(source, dest, selection=selection, options=FAST, validate=False)
    assert report.ok
    assert hub.file_requests(RGB) == ["bytes=150000-"]
    assert (dest / RGB).read_bytes() == expected and not partial.exists()
    # huggingface_hub's http_get retried the cut transfer itself (from its last whole 10 MB
    # chunk, here byte 0): one more request, and still the exact bytes
    assert len(hub.file_requests(DEPTH)) == 2
    assert (dest / DEPTH).read_bytes() == (mirror_root / DEPTH).read_bytes()


def test_hub_stand_in_unsafe_listing_and_missing_revision(hub, tmp_path):
    hub.state.hub_extra.append({"type": "file", "path": "data_part1/../../../evil.json", "size": 4, "oid": "0" * 40})
    with pytest.raises(UnsafePathError):
        download(HubSource(repo_id=REPO, token=TOKEN, endpoint=hub.url), tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    hub.state.hub_extra.clear()
    with pytest.raises(SourceError, match="revision 'no-such-revision' not found"):
        download(HubSource(repo_id=REPO, revision="no-such-revision", token=TOKEN, endpoint=hub.url), tmp_path / "dest")
