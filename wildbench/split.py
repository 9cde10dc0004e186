"""The curated test split and its answer key: ``make_split`` and ``load_split``.

Rules (documented in docs/wildbench.md; version ``SPLIT_VERSION``):

1. candidate windows of ``horizon`` frames start every ``stride`` frames inside a sample
   (track ``short``: 81 frames, stride 8; track ``long``: 600 frames, stride 30, by default);
2. a tracked player exists and the camera is valid on the first frame and, on the short
   track, on every frame; on the long track at most ``max_invalid_fraction`` of the frames may
   have an invalid camera (they are masked in the answer key: never scored, counted);
3. the window holds at least one frame whose action is not an idle action;
4. the tracked player is visible on the first frame: at least ``min_visible_joints`` of its
   joints project inside the image, in front of the camera, and are not occluded according
   to the depth map;
5. the reference tracker, run on the true video, agrees with the true projection (within
   ``reliable_px`` at 256 x 256) on at least ``min_reliable_pairs`` visible (point, frame)
   pairs, and on at least ``min_bucket_pairs`` of them in some horizon bucket of
   ``bucket_frames`` frames - State Alignment scores only such pairs, bucket by bucket (its
   defaults are State Alignment's; a test keeps them equal);
6. windows never overlap (within a sample);
7. cases are stratified over (action group, monster species, weapon): strata are visited in a
   seeded order, one case at a time, so every stratum is represented before any repeats;
8. everything is deterministic for a given store, rules and seed; the split records its
   version and a sha256 checksum over its content and its answer files.

The action group of a window is the bank (``motion_bank_id``) of its most played non-idle
action; the synthetic world names its banks (movement, attack, skill).

Every case also gets a counterfactual action sequence (``wildbench.counterfactual``): the same
segments, another group's action in each, seeded by the split's seed and the case's window; on
synthetic stores the world is re-simulated under it and the tracked player's joints recorded.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from wildworld import WildWorldError, classify_path
from wildworld.classify import check_destination, describe_kind, expect_kind
from wildworld.files import atomic_path, publish_directory, sha256_file
from wildworld.schemas import read_document, validate_document
from wildworld.store import Store, open_store
from wildworld.store.layout import MANIFEST_FILE
from wildworld.video import open_video

from .answers import RELIABLE_PX, CaseAnswer, Visibility, joint_visibility, reliable_pairs
from .errors import SplitError
from .metrics.trackers import get_tracker
from .version import BENCHMARK_VERSION, SPLIT_VERSION

__all__ = ["SplitRules", "Case", "Split", "make_split", "load_split", "SPLIT_FILE"]

SPLIT_FILE = "split.json"
#: The point tracker whose agreement with the truth on the true video defines scored pairs.
RELIABILITY_TRACKER = "lk"
_SYNTH_DEPTH_SCALE = 0.25  # the synthetic world's documented depth coding


Track = Literal["short", "long"]
#: Per track: the default horizon (frames) and candidate stride.
TRACK_DEFAULTS: dict[str, tuple[int, int]] = {"short": (81, 8), "long": (600, 30)}


@dataclass(frozen=True)
class SplitRules:
    cases: int = 200
    horizon: int | None = None  # None = the track's default (short 81, long 600)
    seed: int = 0
    stride: int | None = None  # None = the track's default (short 8, long 30)
    min_visible_joints: float = 0.5  # fraction of the tracked player's joints
    depth_tolerance_m: float = 1.0
    depth_tolerance_rel: float = 0.1
    depth_scale: float | None = None  # metres per depth code; None = synthetic's, else calibrated
    idle_keys: tuple[tuple[int, int], ...] | None = None  # None = the synthetic idle, else the most played key
    min_reliable_pairs: int = 100  # scored (point, frame) pairs a case needs
    reliable_px: float = RELIABLE_PX  # reference-tracker agreement (pixels at 256 x 256) of a scored pair
    bucket_frames: int = 20  # frames per horizon bucket (State Alignment's)
    min_bucket_pairs: int = 10  # scored pairs some bucket needs (State Alignment scores no bucket with fewer)
    track: Track = "short"
    max_invalid_fraction: float | None = None  # None: 0 on the short track, 0.25 on the long one

    def __post_init__(self) -> None:
        if self.track not in TRACK_DEFAULTS:
            raise SplitError(f"track={self.track!r}: choose short or long")
        horizon, stride = TRACK_DEFAULTS[self.track]
        if self.horizon is None:
            object.__setattr__(self, "horizon", horizon)
        if self.stride is None:
            object.__setattr__(self, "stride", stride)
        if self.max_invalid_fraction is None:
            object.__setattr__(self, "max_invalid_fraction", 0.0 if self.track == "short" else 0.25)
        if self.cases < 1 or self.horizon < 2 or self.stride < 1:
            raise SplitError(f"cases={self.cases}, horizon={self.horizon}, stride={self.stride}: need cases >= 1, horizon >= 2, stride >= 1")
        if self.bucket_frames < 1 or self.min_bucket_pairs < 0 or self.min_reliable_pairs < 0 or not self.reliable_px > 0:
            raise SplitError(f"bucket_frames={self.bucket_frames}, min_bucket_pairs={self.min_bucket_pairs}, "
                             f"min_reliable_pairs={self.min_reliable_pairs}, reliable_px={self.reliable_px}: need "
                             "bucket_frames >= 1, pair counts >= 0 and reliable_px > 0")
        if not 0.0 <= self.max_invalid_fraction < 1.0:
            raise SplitError(f"max_invalid_fraction={self.max_invalid_fraction}: must be in [0, 1)")

    def to_json(self, *, idle_keys: list, depth_scale: float | None) -> dict:
        """The rules as ``split.json`` records them. The thresholds that became rules after
        split version 1.0 (``_LATER_RULES``) are recorded only when they differ from their
        defaults, so every split made before keeps its document and checksum."""
        data = {**asdict(self), "idle_keys": idle_keys, "depth_scale": depth_scale}
        defaults = SplitRules()
        for name in _LATER_RULES:
            if data[name] == getattr(defaults, name):
                del data[name]
        return data


_LATER_RULES = ("reliable_px", "bucket_frames", "min_bucket_pairs")


@dataclass(frozen=True)
class Case:
    case_id: str
    sample_id: str
    start: int
    horizon: int
    stratum: dict
    player_slot: str
    points: int
    synthetic_script: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Split:
    path: Path
    doc: dict
    cases: tuple[Case, ...] = field(default=())
    store_location: Path | None = None  # where the store is now, if not where the split was made

    @property
    def horizon(self) -> int:
        return int(self.doc["rules"]["horizon"])

    @property
    def store_path(self) -> Path:
        return self.store_location or Path(self.doc["store"])

    @property
    def resolution(self) -> tuple[int, int]:
        return tuple(self.doc["resolution"])

    @property
    def fps(self) -> float:
        return float(self.doc["fps"])

    @property
    def track(self) -> str:
        """``short`` (81-frame cases) or ``long`` (long-horizon cases); splits before tracks are short."""
        return str(self.doc.get("track", "short"))

    @property
    def checksum(self) -> str:
        return self.doc["checksum"]

    def case(self, case_id: str) -> Case:
        for case in self.cases:
            if case.case_id == case_id:
                return case
        raise SplitError(f"{self.path}: no case {case_id!r}")

    def answer_path(self, case_id: str) -> Path:
        return self.path / self.doc["answers"][case_id]["path"]

    def answer(self, case_id: str) -> CaseAnswer:
        with np.load(self.answer_path(case_id), allow_pickle=False) as data:
            return CaseAnswer.from_npz(data)

    def open_store(self) -> Store:
        if not (self.store_path / MANIFEST_FILE).exists():
            raise SplitError(f"{self.store_path}: the split's store is not there (moved? pass its new location with --store)")
        store = open_store(self.store_path)
        if "store_identity" in self.doc:
            same = store_identity(store.manifest.document) == self.doc["store_identity"]
        else:  # a split made before store_identity: the manifest's bytes
            same = sha256_file(self.store_path / MANIFEST_FILE) == self.doc["store_manifest_sha256"]
        if not same:
            raise SplitError(f"{self.store_path}: the store differs from the one this split was made from "
                             "(other samples, lengths, layout or conversion options)")
        return store


def store_identity(manifest: dict) -> str:
    """sha256 of what a store holds, not where it came from: the sample table without source
    paths, the layout, vocabulary, fps, resolution, streams and conversion options. The same
    conversion of the same samples has the same identity on any machine and in any directory
    (encoded bytes may differ between encoder builds; they are not part of it)."""
    keep = ("layout", "vocabulary", "fps", "resolution", "streams", "options", "frames")
    body = {key: manifest.get(key) for key in keep}
    body["samples"] = [{k: v for k, v in entry.items() if k != "source"} for entry in manifest["samples"]]
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


#: Keys outside the checksum: the checksum itself, and where the store lay when the split was
#: made (a location, not content: the same store elsewhere gives the same split and checksum).
_UNCHECKED = ("checksum", "store")


def _checksum(doc: dict, unchecked: tuple[str, ...] = _UNCHECKED) -> str:
    body = {k: v for k, v in doc.items() if k not in unchecked}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _legacy_checksum(doc: dict) -> str:
    """The checksum as splits made before the store location was left out computed it; such
    splits keep their checksum, so their submissions and results stay valid."""
    return _checksum(doc, ("checksum",))


def _synthetic_sources(store: Store) -> dict[str, dict]:
    """Sample id -> synthetic script, for samples whose source part has a synthetic sidecar."""
    from wildworld.synth import SIDECAR_FILE, load_scripts

    scripts: dict[str, dict] = {}
    for entry in store.samples:
        part = Path(entry.source or "").parent
        if (part / SIDECAR_FILE).exists():
            loaded = load_scripts(part)
            name = Path(entry.source).name
            if name in loaded:
                scripts[entry.id] = loaded[name].to_json()
    return scripts


def _group_names(synthetic: bool) -> dict[int, str]:
    if not synthetic:
        return {}
    from wildworld.synth import PLAYER_ACTIONS

    return {a.motion_bank_id: a.group for a in PLAYER_ACTIONS}


def _idle_keys(store: Store, rules: SplitRules, synthetic: bool) -> list[tuple[int, int]]:
    if rules.idle_keys is not None:
        return [tuple(k) for k in rules.idle_keys]
    if synthetic:
        from wildworld.synth import ACTIONS_BY_NAME

        return [ACTIONS_BY_NAME["idle"].key]
    counts: Counter = Counter()
    bank = store.layout.field("action.motion_bank_id").start
    for start in range(0, store.frames, 65536):
        block = store.frames_array[start : start + 65536]
        keys = block[:, bank : bank + 2]
        keys = keys[np.isfinite(keys).all(1) & (keys >= 0).all(1)].astype(np.int64)
        counts.update(map(tuple, keys.tolist()))
    return [counts.most_common(1)[0][0]] if counts else []


@dataclass
class _Candidate:
    sample_id: str
    start: int
    slot: str
    stratum: tuple


def _candidates(store: Store, rules: SplitRules, idle: list[tuple[int, int]], groups: dict[int, str],
                rejected: Counter | None = None) -> list[_Candidate]:
    """Windows passing rules 1-3; ``rejected`` (when given) counts the others by rule."""
    rejected = Counter() if rejected is None else rejected
    layout = store.layout
    bank, motion = layout.field("action.motion_bank_id").start, layout.field("action.motion_id").start
    tracked_col = layout.field("action.tracked_index").start
    valid_col = layout.field("camera.valid").start
    idle_codes = {b * 2**32 + m for b, m in idle}
    out = []
    for entry in store.samples:
        if entry.frames < rules.horizon:
            rejected["samples (not windows) shorter than the horizon"] += 1
            continue
        rows = store.rows(entry.id)
        keys = np.nan_to_num(rows[:, [bank, motion]], nan=-1).astype(np.int64)
        codes = keys[:, 0] * 2**32 + keys[:, 1]
        non_idle = ~np.isin(codes, list(idle_codes)) & (keys >= 0).all(1)
        valid = rows[:, valid_col] == 1
        tracked = np.nan_to_num(rows[:, tracked_col], nan=-1).astype(int)
        bad_camera = np.concatenate([[0], np.cumsum(~valid)])
        allowed_invalid = int(math.floor(rules.max_invalid_fraction * rules.horizon))
        for start in range(0, entry.frames - rules.horizon + 1, rules.stride):
            stop = start + rules.horizon
            if not valid[start] or bad_camera[stop] - bad_camera[start] > allowed_invalid:
                rejected["camera invalid"] += 1
                continue
            if tracked[start] < 0:
                rejected["no tracked player"] += 1
                continue
            if not non_idle[start:stop].any():
                rejected["idle only"] += 1
                continue
            window = keys[start:stop][non_idle[start:stop]]
            dominant = Counter(map(tuple, window.tolist())).most_common(1)[0][0]
            species = []
            for f in layout.stream_fields("state"):
                if f.name.startswith("monster.list.") and f.name.endswith(".type_id"):
                    value = rows[start, f.start]
                    if np.isfinite(value) and value >= 0:
                        species.append(int(value))
            try:
                weapon = int(np.nan_to_num(rows[start, layout.field(f"npc.list.{tracked[start]}.weapon_id").start], nan=-1))
            except KeyError:
                weapon = -1
            group = groups.get(dominant[0], f"bank {dominant[0]}")
            out.append(_Candidate(entry.id, start, f"n{tracked[start]}", (group, tuple(sorted(species)) or ("none",), weapon)))
    return out


def _window_answer(store: Store, case: _Candidate, rules: SplitRules, rule: Visibility,
                   rejected: Counter | None = None) -> CaseAnswer | None:
    """The case's answer arrays, or None when the visibility or reliability rule (4, 5) fails
    (counted in ``rejected`` when given)."""
    rejected = Counter() if rejected is None else rejected
    horizon, min_joints, min_pairs = rules.horizon, rules.min_visible_joints, rules.min_reliable_pairs
    entry = store.sample(case.sample_id)
    row0 = entry.offset + case.start
    rows = store.frames_array[row0 : row0 + horizon]
    layout = store.layout
    k0 = layout.field("camera.K").start
    camera = rows[:, k0 : k0 + 11].astype(np.float64)
    skeleton = store.skeleton_array[row0 : row0 + horizon]
    slots = [case.slot] + [s.name for s in layout.skeleton_slots if s.kind == "m"]
    size = store.resolution or tuple(entry.size)
    depth = None
    if "depth" in store.streams and rule.depth_scale is not None:
        with open_video(store.video(case.sample_id, "depth"), backend="pyav", color="gray") as reader:
            depth = reader.get(range(case.start, case.start + horizon))
    player_index = layout.slot_index(case.slot)
    player_joints = entry.skeleton[case.slot].joints if case.slot in entry.skeleton else layout.max_joints
    _, _, first = joint_visibility(skeleton[0, player_index, :player_joints].astype(np.float64), camera[0], None if depth is None else depth[0], size, rule)
    if first.sum() < max(3, math.ceil(min_joints * player_joints)):
        rejected["too few visible joints"] += 1
        return None
    point_slot, point_joint = [], []
    for slot in slots:
        index = layout.slot_index(slot)
        joints = entry.skeleton[slot].joints if slot in entry.skeleton else 0
        if joints == 0:
            continue
        _, _, vis = joint_visibility(skeleton[0, index, :joints].astype(np.float64), camera[0], None if depth is None else depth[0], size, rule)
        for j in np.flatnonzero(vis):
            point_slot.append(index)
            point_joint.append(int(j))
    point_slot, point_joint = np.asarray(point_slot, np.int32), np.asarray(point_joint, np.int32)
    joints = skeleton[:, point_slot, point_joint].astype(np.float64)  # (H, P, 3)
    uv, _, visible = joint_visibility(joints, camera, depth, size, rule)
    with open_video(store.video(case.sample_id, "rgb")) as reader:
        true_video = reader.get(range(case.start, case.start + horizon))
    tracker = get_tracker(RELIABILITY_TRACKER)
    reliable = reliable_pairs(true_video, uv[0].astype(np.float32), uv, tracker, threshold_px=rules.reliable_px) & visible
    reliable[0] = False
    if reliable.sum() < min_pairs:
        rejected[f"fewer than {min_pairs} reliable pairs"] += 1
        return None
    bucket = rules.bucket_frames
    per_bucket = [int(reliable[start : start + bucket].sum()) for start in range(1, horizon, bucket)]
    if max(per_bucket, default=0) < rules.min_bucket_pairs:  # State Alignment would score no bucket
        rejected[f"no horizon bucket with {rules.min_bucket_pairs} reliable pairs"] += 1
        return None
    entity_slot, entity_joint = _entity_points(entry, layout, case.slot)
    all_joints = skeleton[:, entity_slot, entity_joint].astype(np.float64)  # (H, Q, 3)
    all_uv, _, all_visible = joint_visibility(all_joints, camera, depth, size, rule)
    return CaseAnswer(
        camera=camera.astype(np.float32),
        camera_valid=np.isfinite(camera).all(1) & (rows[:, layout.field("camera.valid").start] == 1),
        actions=rows[:, layout.stream_range("action")[0] : layout.stream_range("action")[1]],
        query_uv=uv[0].astype(np.float32),
        point_slot=point_slot,
        point_joint=point_joint,
        track_uv=uv.astype(np.float32),
        track_visible=visible,
        track_reliable=reliable,
        joints=joints.astype(np.float32),
        entity_slot=entity_slot,
        entity_joint=entity_joint,
        entity_uv=all_uv.astype(np.float32),
        entity_visible=all_visible & np.isfinite(all_joints).all(-1),
        entity_joints=all_joints.astype(np.float32),
        tracked_slot=np.asarray(player_index, np.int32),
    )


def _entity_points(entry, layout, player_slot: str) -> tuple[np.ndarray, np.ndarray]:
    """(slot index, joint) of every joint of the tracked player and of every monster slot."""
    slots, joints = [], []
    for slot in [player_slot] + [s.name for s in layout.skeleton_slots if s.kind == "m"]:
        count = entry.skeleton[slot].joints if slot in entry.skeleton else 0
        slots += [layout.slot_index(slot)] * count
        joints += list(range(count))
    return np.asarray(slots, np.int32), np.asarray(joints, np.int32)


def _add_counterfactuals(store: Store, chosen: list[tuple[_Candidate, CaseAnswer]], rules: SplitRules,
                         scripts: dict[str, dict], idle: list[tuple[int, int]]) -> list[tuple[_Candidate, CaseAnswer]]:
    """Every case's counterfactual action sequence; on synthetic samples the world re-simulated
    under it: the actions it really played and the tracked player's joints."""
    import dataclasses
    import zlib

    from .counterfactual import counterfactual_actions, played_actions, resimulate, store_choices, synthetic_choices

    vocabulary = [tuple(k) for k in store.vocabulary]
    tables: dict[str, Any] = {}
    out = []
    for candidate, answer in chosen:
        script = scripts.get(candidate.sample_id)
        choices = synthetic_choices() if script else store_choices(vocabulary, idle)
        seed = [rules.seed, candidate.start, zlib.crc32(candidate.sample_id.encode())]
        cf = counterfactual_actions(answer.actions, choices, seed=np.random.default_rng(seed).integers(2**31), vocabulary=vocabulary)
        player = np.full((answer.horizon, int(answer.player_points.size), 3), np.nan, np.float32)
        if script:
            from wildworld.synth import Script
            from wildworld.synth.annotate import entity_joints, skeleton_keys

            if candidate.sample_id not in tables:
                tables[candidate.sample_id] = _sample_table(store, candidate.sample_id)
            synthetic = Script.from_json(script)
            states = resimulate(synthetic, tables[candidate.sample_id], candidate.start, cf)
            tracked = int(answer.actions[0, 4])
            cf = played_actions(states, tracked, vocabulary)
            key = next(k for k, kind, slot in skeleton_keys(synthetic) if kind == "n" and slot == tracked)
            player = np.stack([entity_joints(synthetic, state)[key] for state in states]).astype(np.float32)
        out.append((candidate, dataclasses.replace(answer, cf_actions=cf, cf_player_joints=player)))
    return out


def _sample_table(store: Store, sample_id: str):
    import pyarrow.parquet as pq

    from wildworld.store.layout import TABLE_FILE

    return pq.read_table(store.path / TABLE_FILE, filters=[("sample_id", "=", sample_id)])


def estimate_depth_scale(store: Store, candidates: list[_Candidate], *, samples: int = 40) -> float | None:
    """Metres per depth code fitted on the tracked players' joints (median z / code).

    The depth map holds the body surface in front of each joint, so the fit slightly
    overestimates; the occlusion tolerance absorbs that."""
    ratios = []
    layout = store.layout
    k0 = layout.field("camera.K").start
    for candidate in candidates[:: max(1, len(candidates) // samples)][:samples]:
        entry = store.sample(candidate.sample_id)
        row = entry.offset + candidate.start
        camera = store.frames_array[row, k0 : k0 + 11].astype(np.float64)
        joints = store.skeleton_array[row, layout.slot_index(candidate.slot)].astype(np.float64)
        joints = joints[np.isfinite(joints).all(1)]
        with open_video(store.video(candidate.sample_id, "depth"), backend="pyav", color="gray") as reader:
            depth = reader.get([candidate.start])[0]
        uv, z, inside = joint_visibility(joints, camera, None, store.resolution or tuple(entry.size), Visibility(None))
        for (u, v), depth_z, ok in zip(uv, z, inside):
            code = int(depth[int(round(v)), int(round(u))]) if ok else 0
            if ok and 0 < code < 255:
                ratios.append(depth_z / code)
    return float(np.median(ratios)) if ratios else None


def make_split(store_path: str | os.PathLike[str], out: str | os.PathLike[str], rules: SplitRules = SplitRules(),
               *, progress: Callable[[int, int], None] | None = None, force: bool = False) -> Split:
    """Choose cases and write ``out/split.json`` and ``out/answers/<case>.npz``, all at once.

    ``out`` is new, empty or an existing split: the same split (same checksum) is kept as it
    is; another one is refused (its submissions would stop passing ``check``) unless ``force``,
    which replaces it atomically (``wildworld.files.publish_directory``). Anything else at
    ``out`` (a store, a part, other files) is refused before any work."""
    check_destination(out, "split", what="the split")
    publish_directory(out, lambda staging: _make_split(store_path, staging, rules, progress=progress),
                      same=_same_split, force=force, refuse=_other_split)
    return load_split(out)


def _same_split(existing: Path, new: Path) -> bool:
    """The same split: the same checksum (cases, answers, rules, store identity)."""
    try:
        return load_split(existing).checksum == load_split(new).checksum
    except WildWorldError:  # a damaged split is not the same one
        return False


def _other_split(existing: Path) -> SplitError:
    try:
        old = load_split(existing, verify_answers=False).checksum[:12]
    except WildWorldError:
        old = "unreadable"
    return SplitError(f"{existing}: holds another split (checksum {old}); replacing it would stop every submission made "
                      "for it from passing `wildbench check`; choose another --out, or pass --force to replace it")


def _make_split(store_path: str | os.PathLike[str], out: str | os.PathLike[str], rules: SplitRules = SplitRules(),
                *, progress: Callable[[int, int], None] | None = None) -> Split:
    """Choose cases and write them into ``out`` (a new directory; see :func:`make_split`).

    One line per stage (the rules are numbered as in the module docstring)."""
    store = _open_split_store(store_path)  # needs the skeleton and camera streams
    scripts = _synthetic_sources(store)  # sample id -> synthetic script, where there is one
    synthetic = bool(scripts) and len(scripts) == len(store.samples)
    idle = _idle_keys(store, rules, synthetic)  # rule 3: the actions that do not count
    rejected: Counter = Counter()  # how many windows each rule refused (for the error message)
    candidates = _candidates(store, rules, idle, _group_names(synthetic), rejected)  # rules 1-3
    scale, scale_source = _depth_scale(store, rules, synthetic, candidates)  # rule 4: metres per depth code
    visibility = Visibility(scale, rules.depth_tolerance_m, rules.depth_tolerance_rel)
    chosen = _choose_cases(store, candidates, rules, visibility, rejected, progress)  # rules 4-7
    if not chosen:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in rejected.most_common()) or "the store has no samples"
        raise SplitError(f"{store_path}: no window satisfies the split rules ({rules.track} track, horizon {rules.horizon}); "
                         f"rejected by rule: {reasons}")
    chosen = _add_counterfactuals(store, chosen, rules, scripts, idle)  # other actions from the same first frame
    cases, answers = _write_answers(Path(out), chosen, rules, scripts)  # answers/<case>.npz
    doc = _split_document(store, store_path, rules, idle, scale, scale_source, cases, answers)  # rule 8
    _write_split(Path(out), doc)
    return load_split(out)


def _open_split_store(store_path: str | os.PathLike[str]) -> Store:
    expect_kind(store_path, "store", purpose="to make a split from")  # a part, a split...: say what it is
    store = open_store(store_path)
    if "skeleton" not in store.streams or "camera" not in store.streams:
        raise SplitError(f"{store_path}: a WildBench split needs the skeleton and camera streams")
    return store


def _depth_scale(store: Store, rules: SplitRules, synthetic: bool, candidates: list[_Candidate]) -> tuple[float | None, str]:
    """Metres per depth code for the occlusion test, and where the number comes from."""
    if rules.depth_scale is not None:
        return rules.depth_scale, "given"
    if synthetic:
        return _SYNTH_DEPTH_SCALE, "synthetic world"
    if "depth" in store.streams:
        return estimate_depth_scale(store, candidates), "calibrated on joints"
    return None, "no depth stream: occlusion not tested"


def _choose_cases(store: Store, candidates: list[_Candidate], rules: SplitRules, visibility: Visibility,
                  rejected: Counter, progress: Callable[[int, int], None] | None) -> list[tuple[_Candidate, CaseAnswer]]:
    """Rules 4-7: strata in a seeded order, one case at a time from each, windows that do not
    overlap an earlier case and pass the visibility and reliability rules; in sample order."""
    rng = np.random.default_rng(rules.seed)
    strata: dict[tuple, list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        strata[candidate.stratum].append(candidate)
    order = sorted(strata, key=repr)
    order = [order[i] for i in rng.permutation(len(order))]
    for key in order:
        strata[key] = [strata[key][i] for i in rng.permutation(len(strata[key]))]
    taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
    chosen: list[tuple[_Candidate, CaseAnswer]] = []
    while len(chosen) < rules.cases and any(strata[k] for k in order):
        for key in order:
            if len(chosen) >= rules.cases:
                break
            while strata[key]:
                candidate = strata[key].pop()
                span = (candidate.start, candidate.start + rules.horizon)
                if any(span[0] < b and a < span[1] for a, b in taken[candidate.sample_id]):
                    continue
                answer = _window_answer(store, candidate, rules, visibility, rejected)
                if answer is None:
                    continue
                taken[candidate.sample_id].append(span)
                chosen.append((candidate, answer))
                if progress is not None:
                    progress(len(chosen), rules.cases)
                break
    return sorted(chosen, key=lambda item: (item[0].sample_id, item[0].start))


def _write_answers(out: Path, chosen: list[tuple[_Candidate, CaseAnswer]], rules: SplitRules,
                   scripts: dict[str, dict]) -> tuple[list[dict], dict[str, dict]]:
    """``answers/<case>.npz`` of every case; the cases and answer entries of ``split.json``."""
    cases, answers = [], {}
    for number, (candidate, answer) in enumerate(chosen):
        case_id = f"wb{number:04d}"
        relative = f"answers/{case_id}.npz"
        with atomic_path(out / relative) as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **answer.to_npz())
        answers[case_id] = {"path": relative, "sha256": sha256_file(out / relative)}
        group, species, weapon = candidate.stratum
        cases.append(Case(case_id, candidate.sample_id, candidate.start, rules.horizon,
                          {"group": group, "species": list(species), "weapon": weapon},
                          candidate.slot, answer.points, scripts.get(candidate.sample_id)).to_json())
    return cases, answers


def _split_document(store: Store, store_path, rules: SplitRules, idle: list[tuple[int, int]], scale: float | None,
                    scale_source: str, cases: list[dict], answers: dict[str, dict]) -> dict[str, Any]:
    """``split.json``: versions, the store's identity, the rules, the cases and answers, and
    the checksum over all of it but the store's location."""
    doc: dict[str, Any] = {
        "benchmark": "wildbench",
        "benchmark_version": BENCHMARK_VERSION,
        "split_version": SPLIT_VERSION,
        "track": rules.track,
        "store": str(Path(store_path).resolve()),
        "store_identity": store_identity(store.manifest.document),
        "fps": store.fps,
        "resolution": list(store.resolution) if store.resolution else list(store.samples[0].size),
        "rules": rules.to_json(idle_keys=[list(k) for k in idle], depth_scale=scale),
        "depth_scale_source": scale_source,
        "reliability": {"tracker": f"{RELIABILITY_TRACKER}-{get_tracker(RELIABILITY_TRACKER).version}",
                        "threshold_px_256": rules.reliable_px},
        "requested_cases": rules.cases,
        "strata": dict(sorted(Counter(_label(c["stratum"]) for c in cases).items())),
        "cases": cases,
        "answers": answers,
    }
    doc["checksum"] = _checksum(doc)
    return doc


def _write_split(out: Path, doc: dict[str, Any]) -> None:
    validate_document(doc, "wildbench_split", path=out / SPLIT_FILE)
    with atomic_path(out / SPLIT_FILE) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def _refuse_another_kind(path: Path) -> None:
    """A directory without split.json that is something else (a store, inputs...) says so."""
    try:
        kind = classify_path(path)
    except WildWorldError:
        return  # nothing recognisable: the generic message follows
    raise SplitError(f"{path}: this is {describe_kind(kind)}, not a WildBench split; "
                     + ("make one of it with `wildbench split STORE --out DIR`" if kind == "store" else "pass the split directory"))


def _label(stratum: dict) -> str:
    return f"{stratum['group']} | species {','.join(map(str, stratum['species']))} | weapon {stratum['weapon']}"


def load_split(path: str | os.PathLike[str], *, store: str | os.PathLike[str] | None = None, verify_answers: bool = True) -> Split:
    """Read a split, check its version and checksum (and its answer files).

    ``store`` says where the split's store is now when it has moved since the split was made
    (it is still checked against the split's manifest checksum when opened)."""
    path = Path(path)
    file = path / SPLIT_FILE if path.is_dir() else path
    if path.is_dir() and not file.exists():
        _refuse_another_kind(path)
    doc = read_document(file, "wildbench_split", error=SplitError, version_key="split_version",
                        missing="no split here (make one with `wildbench split STORE --out DIR`)")
    if doc["checksum"] not in (_checksum(doc), _legacy_checksum(doc)):
        raise SplitError(f"{file}: checksum mismatch - the split was altered after it was made")
    root = file.parent
    if verify_answers:
        for case_id, info in doc["answers"].items():
            answer = root / info["path"]
            if not answer.exists():
                raise SplitError(f"{answer}: answer file of case {case_id} is missing")
            if sha256_file(answer) != info["sha256"]:
                raise SplitError(f"{answer}: answer file of case {case_id} was altered (checksum mismatch)")
    cases = tuple(Case(**c) for c in doc["cases"])
    return Split(path=root, doc=doc, cases=cases, store_location=Path(store) if store is not None else None)
