"""The leaderboard: results files -> one board per track -> terminal table, Markdown, HTML.

Scoring (version ``SCORING_VERSION``, docs/wildbench.md#scoring), read from the results
themselves (each metric declares its measures' direction and 0-100 map; nothing here is
per-metric):

* a measure's raw mean maps to 0-100 by its declared ``best`` (100) and ``worst`` (0), clipped;
* a family score is the mean of the scores of the headline measures of its computed metrics,
  over the measures every row of the board has (so rows stay comparable);
* the overall score is the mean of the family scores every row has; shown only with two or
  more families;
* results of different tracks go to different boards; within a track, results of different
  splits (checksums) or metric versions are refused;
* reference submissions are labelled for what they are: ``ceiling`` (the true video),
  ``trivial`` baselines (first frame held, another case's video), ``reference`` (resim: right
  scene, wrong actions); a row is called the floor only where it scores lowest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Sequence

from .errors import WildBenchError
from .metrics.base import families as registered_families
from .metrics.base import get_metric
from .results import Results, read_results
from .version import SCORING_VERSION

__all__ = ["Row", "Board", "build_boards", "build_rows", "to_markdown", "to_html", "scoring_description",
           "REFERENCE_LABELS", "write_text"]

#: How reference rows are labelled (submission.json ``reference``).
REFERENCE_LABELS = {"ceiling": "ceiling", "trivial": "trivial baseline", "reference": "reference", "floor": "trivial baseline"}


@dataclass(frozen=True)
class Row:
    model: str
    version: str
    reference: str | None
    conditioning: tuple[str, ...]
    families: dict[str, float | None]
    intervals: dict[str, list[float] | None]
    overall: float | None
    curves: dict[str, list] = field(default_factory=dict)  # family -> 0-100 per bucket
    buckets: dict[str, list] = field(default_factory=dict)  # family -> [[t0, t1] seconds] per bucket
    measures: dict[str, dict] = field(default_factory=dict)  # "metric/measure" -> {score, raw, ci, unit, label}
    not_computed: dict[str, str] = field(default_factory=dict)  # metric -> reason
    failures: dict[str, float] = field(default_factory=dict)  # metric -> failure rate
    source: str = ""
    curve_measures: dict[str, str] = field(default_factory=dict)  # family -> the "metric/measure" its curve shows

    @property
    def label(self) -> str | None:
        """What the row is, for a reference submission (None for a model)."""
        return REFERENCE_LABELS.get(self.reference or "", None)


@dataclass(frozen=True)
class Board:
    """The ranked rows of one track (one split)."""

    track: str
    split_checksum: str
    cases: int
    horizon: int
    fps: float
    families: list[str]
    measures: list[str]  # the "metric/measure" keys every row has (headline first)
    rows: list[Row]
    scoring: dict

    @property
    def floor(self) -> str | None:
        """The model of the lowest-ranked reference row, if it is also the lowest row."""
        scored = [r for r in self.rows if _rank_value(r, self) is not None]
        if scored and scored[-1].reference:
            return scored[-1].model
        return None

    def facts(self) -> dict:
        return {"track": self.track, "split_checksum": self.split_checksum, "cases": self.cases, "horizon": self.horizon,
                "fps": self.fps, "families": self.families, "scoring": self.scoring}


def scoring_description() -> dict:
    return {"version": SCORING_VERSION,
            "measure": "raw mean -> 0-100 by the measure's declared best (100) and worst (0), clipped",
            "family": "mean of the scores of its computed metrics' headline measures shared by every row",
            "overall": "mean of the family scores shared by every row (shown with two or more families)"}


def _rank_value(row: Row, board: Board) -> float | None:
    if len(board.families) > 1:
        return row.overall
    return row.families.get(board.families[0]) if board.families else None


def _check_inputs(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, Results]]:
    if not paths:
        raise WildBenchError("give at least one RESULTS.json")
    seen_paths: dict[str, str] = {}
    for p in paths:
        resolved = str(os.path.realpath(p))
        if resolved in seen_paths:
            raise WildBenchError(f"{p}: given twice (also as {seen_paths[resolved]}); each result is one row")
        seen_paths[resolved] = str(p)
    docs = [(str(p), read_results(p)) for p in paths]
    for path, results in docs:
        for name, metric in results.metrics.items():
            if not metric.computed:
                continue
            declared = sorted(json.dumps(m.to_json(), sort_keys=True) for m in get_metric(name).measures)
            stored = sorted(json.dumps(m, sort_keys=True) for m in results["metrics"][name]["declared_measures"])
            if declared != stored:
                raise WildBenchError(f"{path}: metric {name}: its declared scoring differs from this wildbench's "
                                     "(evaluate again with this version)")
    return docs


def _declaration_order(item: tuple[str, str, str]) -> tuple:
    """(family, metric, the measure's place among the metric's declared measures)."""
    family, name, key = item
    keys = [m.key for m in get_metric(name).measures]
    return (family, name, keys.index(key) if key in keys else len(keys), key)


def _board(track: str, docs: list[tuple[str, Results]]) -> Board:
    checksums = {r.split_checksum for _, r in docs}
    if len(checksums) > 1:
        names = ", ".join(f"{p} ({r.split_checksum[:8]})" for p, r in docs)
        raise WildBenchError(f"results come from different splits and cannot be ranked together ({track} track): {names}")
    versions: dict[str, dict[str, str]] = {}
    for path, results in docs:
        for name, metric in results.metrics.items():
            if metric.computed:
                versions.setdefault(name, {}).setdefault(metric.version, path)
    for name, seen in versions.items():
        if len(seen) > 1:
            listed = ", ".join(f"{p} ({v})" for v, p in seen.items())
            raise WildBenchError(f"metric {name!r} has different versions across results and cannot be ranked together "
                                 f"(re-evaluate with one version): {listed}")
    seen_content: dict[str, str] = {}
    for path, results in docs:
        content = json.dumps([results["submission"], results["cases"]], sort_keys=True)
        if content in seen_content:
            raise WildBenchError(f"{path}: the same results as {seen_content[content]}; each result is one row")
        seen_content[content] = path
    # The headline measures every row has: family scores are compared over the same measures.
    def headline(results: Results) -> set[tuple[str, str, str]]:
        return {(m.family, name, key) for name, m in results.metrics.items() if m.computed
                for key, measure in m.measures.items() if measure.measure.headline and measure.mean is not None}

    shared = set.intersection(*(headline(r) for _, r in docs))
    order = list(registered_families())  # registration order: the paper's four perspectives first
    families = sorted({family for family, _, _ in shared}, key=lambda f: (order.index(f) if f in order else len(order), f))
    all_measures = set.intersection(*({(name, key) for name, m in r.metrics.items() if m.computed for key in m.measures}
                                      for _, r in docs))
    measure_keys = sorted(f"{n}/{k}" for n, k in all_measures)
    rows = []
    for path, results in docs:
        family_scores: dict[str, list[float]] = {}
        family_ci: dict[str, list[list[float]]] = {}
        curves, buckets, measures, curve_measures = {}, {}, {}, {}
        for family, name, key in sorted(shared, key=_declaration_order):  # the first declared measure draws the curve
            m = results.metrics[name].measures[key]
            family_scores.setdefault(family, []).append(m.score)
            if m.score_ci95 is not None:
                family_ci.setdefault(family, []).append(list(m.score_ci95))
            if family not in curves and m.per_horizon is not None and results.metrics[name].buckets:
                curves[family] = list(m.score_per_horizon)
                buckets[family] = [b["seconds"] for b in results.metrics[name].buckets][: len(m.per_horizon)]
                curve_measures[family] = f"{name}/{key}"
        for item in measure_keys:
            name, key = item.split("/", 1)
            m = results.metrics[name].measures[key]
            measures[item] = {"score": m.score, "raw": m.mean, "ci95": list(m.ci95) if m.ci95 else None,
                              "unit": m.measure.unit, "label": m.measure.label, "headline": m.measure.headline,
                              "direction": m.measure.direction, "family": results.metrics[name].family}
        scores = {f: sum(v) / len(v) for f, v in family_scores.items()}
        intervals = {f: ([sum(c[0] for c in cis) / len(cis), sum(c[1] for c in cis) / len(cis)]
                         if (cis := family_ci.get(f)) and len(cis) == len(family_scores[f]) else None) for f in families}
        overall = sum(scores[f] for f in families) / len(families) if families else None
        info = results["submission"]
        rows.append(Row(info["model"], info["version"], info.get("reference"), tuple(info["conditioning"]), scores, intervals,
                        overall, curves, buckets, measures,
                        {n: (m.reason or "").removeprefix("not computed: ") for n, m in results.metrics.items() if not m.computed},
                        {n: m.failure_rate for n, m in results.metrics.items() if m.computed and m.failure_rate},
                        path, curve_measures))
    first = docs[0][1]["split"]
    board = Board(track, first["checksum"], first["cases"], first["horizon"], float(first["fps"]), families, measure_keys,
                  rows, scoring_description())
    rows.sort(key=lambda r: (_rank_value(r, board) is None, -(_rank_value(r, board) or 0.0), r.model))
    return board


def build_boards(paths: Sequence[str | os.PathLike[str]]) -> list[Board]:
    """One ranked board per track (short first), from RESULTS.json files."""
    docs = _check_inputs(paths)
    tracks: dict[str, list] = {}
    for path, results in docs:
        tracks.setdefault(results.track, []).append((path, results))
    return [_board(track, tracks[track]) for track in sorted(tracks, key=lambda t: (t != "short", t))]


def build_rows(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[Row], dict]:
    """Ranked rows and facts of a single-track set of results (``build_boards`` for several)."""
    boards = build_boards(paths)
    if len(boards) > 1:
        raise WildBenchError(f"results of {len(boards)} tracks ({', '.join(b.track for b in boards)}): use build_boards")
    return boards[0].rows, boards[0].facts()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _model_cell(row: Row, floor: str | None) -> str:
    label = row.label
    if row.model == floor:
        label = f"{label}, floor" if label else "floor"
    return f"{row.model} ({label})" if label else row.model


def _markdown_board(board: Board, *, details: bool) -> list[str]:
    families = board.families
    overall = len(families) > 1
    head = ["#", "model", "version", "conditioning"] + families + (["overall"] if overall else [])
    lines = [f"### {board.track} track", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    floor = board.floor
    for rank, row in enumerate(board.rows, 1):
        cells = [str(rank), _model_cell(row, floor), row.version, ", ".join(row.conditioning) or "-"]
        for family in families:
            ci = row.intervals.get(family)
            cells.append(_fmt(row.families.get(family)) + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else ""))
        if overall:
            cells.append(_fmt(row.overall))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Split {board.split_checksum[:12]} ({board.track} track): {board.cases} cases of {board.horizon} frames "
                 f"({board.horizon / board.fps:.1f} s). Scores are 0-100 (scoring {board.scoring['version']}); brackets are "
                 "95% bootstrap intervals.")
    not_computed = sorted({f"`{n}`: {why}" for r in board.rows for n, why in r.not_computed.items()})
    if not_computed:
        lines.append("")
        lines.append("Not computed: " + "; ".join(not_computed))
    if details and board.measures:
        lines += ["", "| model | " + " | ".join(board.measures) + " |", "|---|" + "---|" * len(board.measures)]
        for row in board.rows:
            cells = []
            for key in board.measures:
                m = row.measures[key]
                raw = "-" if m["raw"] is None else f"{m['raw']:.4g}{(' ' + m['unit']) if m['unit'] else ''}"
                cells.append(f"{_fmt(m['score'])} ({raw})")
            lines.append(f"| {row.model} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("Each cell: the 0-100 score (the raw mean). Headline measures make the family scores.")
    return lines


def to_markdown(rows_or_boards, facts: dict | None = None, *, details: bool = False) -> str:
    """Markdown: one table per board (``build_boards``), or of ``build_rows``' rows and facts."""
    boards = _as_boards(rows_or_boards, facts)
    lines: list[str] = []
    for board in boards:
        lines += _markdown_board(board, details=details) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _as_boards(rows_or_boards, facts: dict | None) -> list[Board]:
    if facts is None:
        return list(rows_or_boards)
    return [Board(facts.get("track", "short"), facts["split_checksum"], facts["cases"], facts["horizon"], float(facts.get("fps", 30.0)),
                  list(facts["families"]), sorted({k for r in rows_or_boards for k in r.measures}), list(rows_or_boards),
                  facts["scoring"])]


def to_html(rows_or_boards, facts: dict | None = None) -> str:
    """A self-contained page (no network): one sortable table per track, with per-horizon curves."""
    from ._page import render_page

    return render_page(_as_boards(rows_or_boards, facts))


def write_text(path: str | os.PathLike[str], text: str) -> None:
    from wildworld.files import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
