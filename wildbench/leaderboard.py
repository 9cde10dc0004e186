"""The leaderboard: results files -> ranked rows -> terminal table, Markdown, static HTML.

Scoring (version ``SCORING_VERSION``, docs/wildbench.md#scoring):

* each metric's mean over cases maps to 0-100 by its entry in ``SCORERS`` (State Alignment:
  100 x position accuracy); its 95% interval maps the same way;
* a family score is the mean of its metrics' scores; the overall score is the mean of the
  family scores, over the families every ranked result has (so rows stay comparable);
* results from different splits (checksums) are refused: they cannot be ranked together;
* reference submissions are marked: ``ceiling`` (oracle) and ``floor`` (frozen).
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .errors import WildBenchError
from .runner import read_results
from .version import SCORING_VERSION

__all__ = ["SCORERS", "Row", "build_rows", "to_markdown", "to_html", "scoring_description"]

#: Raw metric mean -> 0..100 score (higher is better).
SCORERS: dict[str, Callable[[float], float]] = {
    "state_alignment": lambda value: 100.0 * value,
}
#: The raw values each scorer accepts; a results file outside them is refused.
SCORE_RANGES: dict[str, tuple[float, float]] = {"state_alignment": (0.0, 1.0)}
_SCORER_TEXT = {"state_alignment": "100 x mean TAP-Vid position accuracy (<delta, delta in 1,2,4,8,16 px at 256 px)"}


@dataclass(frozen=True)
class Row:
    model: str
    version: str
    reference: str | None
    conditioning: tuple[str, ...]
    families: dict[str, float | None]
    intervals: dict[str, list[float] | None]
    overall: float | None
    curves: dict[str, list] = field(default_factory=dict)
    buckets: dict[str, list] = field(default_factory=dict)
    source: str = ""


def scoring_description() -> dict:
    return {"version": SCORING_VERSION, "metrics": dict(_SCORER_TEXT),
            "family": "mean of the family's metric scores", "overall": "mean of the family scores shared by all ranked results"}


def build_rows(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[Row], dict]:
    """Ranked rows (best overall first) and facts about the split they share."""
    if not paths:
        raise WildBenchError("give at least one RESULTS.json")
    seen_paths: dict[str, str] = {}
    for p in paths:
        resolved = str(os.path.realpath(p))
        if resolved in seen_paths:
            raise WildBenchError(f"{p}: given twice (also as {seen_paths[resolved]}); each result is one row")
        seen_paths[resolved] = str(p)
    docs = [(str(p), read_results(p)) for p in paths]
    checksums = {doc["split"]["checksum"] for _, doc in docs}
    if len(checksums) > 1:
        names = ", ".join(f"{p} ({d['split']['checksum'][:8]})" for p, d in docs)
        raise WildBenchError(f"results come from different splits and cannot be ranked together: {names}")
    versions: dict[str, dict[str, str]] = {}
    for path, doc in docs:
        for name, metric in doc["metrics"].items():
            versions.setdefault(name, {}).setdefault(metric["version"], path)
    for name, seen in versions.items():
        if len(seen) > 1:
            listed = ", ".join(f"{p} ({v})" for v, p in seen.items())
            raise WildBenchError(f"metric {name!r} has different versions across results and cannot be ranked together "
                                 f"(re-evaluate with one version): {listed}")
    seen_content: dict[str, str] = {}
    for path, doc in docs:
        content = json.dumps([doc["submission"], doc["cases"]], sort_keys=True)
        if content in seen_content:
            raise WildBenchError(f"{path}: the same results as {seen_content[content]}; each result is one row")
        seen_content[content] = path
        for name, metric in doc["metrics"].items():
            low, high = SCORE_RANGES.get(name, (float("-inf"), float("inf")))
            values = [metric["mean"]] + list(metric.get("ci95") or [])
            if any(v is not None and not low <= v <= high for v in values):
                raise WildBenchError(f"{path}: metric {name}: values outside {low:g}..{high:g} (the file was edited or damaged)")
    families_per_doc = []
    for path, doc in docs:
        families: dict[str, list[float]] = {}
        for name, metric in doc["metrics"].items():
            if name not in SCORERS:
                raise WildBenchError(f"{path}: no scoring rule for metric {name!r} (scoring {SCORING_VERSION})")
            if metric["mean"] is not None:
                families.setdefault(metric["family"], []).append(SCORERS[name](metric["mean"]))
        families_per_doc.append({f: sum(v) / len(v) for f, v in families.items()})
    shared = set.intersection(*(set(f) for f in families_per_doc)) if families_per_doc else set()
    rows = []
    for (path, doc), families in zip(docs, families_per_doc):
        info = doc["submission"]
        intervals, curves, buckets = {}, {}, {}
        for name, metric in doc["metrics"].items():
            ci = metric.get("ci95")
            intervals[metric["family"]] = [SCORERS[name](v) for v in ci] if ci else None
            if metric.get("per_horizon"):
                curves[metric["family"]] = [None if v is None else SCORERS[name](v) for v in metric["per_horizon"]]
                buckets[metric["family"]] = metric.get("buckets", [])
        overall = sum(families[f] for f in shared) / len(shared) if shared else None
        rows.append(Row(info["model"], info["version"], info.get("reference"), tuple(info["conditioning"]),
                        families, intervals, overall, curves, buckets, path))
    rows.sort(key=lambda r: (r.overall is None, -(r.overall or 0.0), r.model))
    first = docs[0][1]["split"]
    return rows, {"split_checksum": first["checksum"], "cases": first["cases"], "horizon": first["horizon"],
                  "families": sorted(shared), "scoring": scoring_description()}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def to_markdown(rows: list[Row], facts: dict) -> str:
    families = facts["families"]
    head = ["#", "model", "version", "conditioning"] + families + ["overall"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rank, row in enumerate(rows, 1):
        mark = {"ceiling": " (ceiling)", "floor": " (floor)"}.get(row.reference or "", "")
        cells = [str(rank), f"{row.model}{mark}", row.version, ", ".join(row.conditioning) or "-"]
        for family in families:
            ci = row.intervals.get(family)
            cells.append(_fmt(row.families.get(family)) + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else ""))
        cells.append(_fmt(row.overall))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Split {facts['split_checksum'][:12]}: {facts['cases']} cases of {facts['horizon']} frames. "
                 f"Scores are 0-100 (scoring {facts['scoring']['version']}); brackets are 95% bootstrap intervals.")
    return "\n".join(lines) + "\n"


def _sparkline(values: list, width: int = 140, height: int = 36) -> str:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return ""
    step = width / max(len(values) - 1, 1)
    coords = " ".join(f"{i * step:.1f},{height - 2 - (v / 100.0) * (height - 4):.1f}" for i, v in points)
    dots = "".join(f'<circle cx="{i * step:.1f}" cy="{height - 2 - (v / 100.0) * (height - 4):.1f}" r="2"/>' for i, v in points)
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="-3 0 {width + 6} {height}">'
            f'<line x1="0" y1="{height - 2}" x2="{width}" y2="{height - 2}" class="axis"/>'
            f'<polyline points="{coords}"/>{dots}</svg>')


def to_html(rows: list[Row], facts: dict) -> str:
    """A self-contained page: sortable columns, ceiling/floor rows marked, inline curves."""
    families = facts["families"]
    curve_family = "State Alignment" if any("State Alignment" in r.curves for r in rows) else None
    headers = ["#", "model", "version", "conditioning"] + families + ["overall"] + ([f"{curve_family} by horizon"] if curve_family else [])
    body = []
    for rank, row in enumerate(rows, 1):
        cls = {"ceiling": "ceiling", "floor": "floor"}.get(row.reference or "", "")
        tag = {"ceiling": ' <span class="tag">ceiling</span>', "floor": ' <span class="tag">floor</span>'}.get(row.reference or "", "")
        cells = [f'<td data-v="{rank}">{rank}</td>', f'<td data-v="{html.escape(row.model)}">{html.escape(row.model)}{tag}</td>',
                 f"<td>{html.escape(row.version)}</td>", f"<td>{html.escape(', '.join(row.conditioning) or '-')}</td>"]
        for family in families:
            value, ci = row.families.get(family), row.intervals.get(family)
            title = f' title="95% CI {ci[0]:.1f} - {ci[1]:.1f}"' if ci else ""
            cells.append(f'<td class="num" data-v="{"" if value is None else f"{value:.4f}"}"{title}>{_fmt(value)}</td>')
        cells.append(f'<td class="num" data-v="{"" if row.overall is None else f"{row.overall:.4f}"}"><b>{_fmt(row.overall)}</b></td>')
        if curve_family:
            values = row.curves.get(curve_family, [])
            label = ", ".join(f"{b}: {_fmt(v)}" for b, v in zip(row.buckets.get(curve_family, []), values))
            cells.append(f'<td title="{html.escape(label)}">{_sparkline(values)}</td>')
        body.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    scoring = facts["scoring"]
    rules = "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>" for k, v in scoring["metrics"].items())
    head = "".join(f'<th onclick="sortBy({i})">{html.escape(h)}</th>' for i, h in enumerate(headers))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WildBench leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; }}
th {{ cursor: pointer; background: #f4f4f4; user-select: none; }} th:hover {{ background: #e8e8e8; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.ceiling {{ background: #eef8ee; }} tr.floor {{ background: #fbeeee; }}
.tag {{ font-size: 0.75em; padding: 1px 5px; border-radius: 3px; background: #ddd; margin-left: 4px; }}
svg.spark polyline {{ fill: none; stroke: #2a6fdb; stroke-width: 1.5; }} svg.spark circle {{ fill: #2a6fdb; }}
svg.spark line.axis {{ stroke: #bbb; }}
</style></head><body>
<h1>WildBench leaderboard</h1>
<p>Split <code>{facts['split_checksum'][:12]}</code>: {facts['cases']} cases of {facts['horizon']} frames. Scores are 0-100
(scoring {html.escape(scoring['version'])}); hover a score for its 95% bootstrap interval, a curve for its values per horizon bucket.
Click a column to sort.</p>
<table id="board"><thead><tr>{head}</tr></thead><tbody>
{''.join(body)}
</tbody></table>
<h2>Scoring</h2><ul>{rules}<li>family: {html.escape(scoring['family'])}</li><li>overall: {html.escape(scoring['overall'])}</li></ul>
<script>
let dir = {{}};
function sortBy(col) {{
  const body = document.querySelector('#board tbody');
  const rows = Array.from(body.rows);
  dir[col] = -(dir[col] || -1);
  rows.sort((a, b) => {{
    const x = a.cells[col].dataset.v ?? a.cells[col].textContent, y = b.cells[col].dataset.v ?? b.cells[col].textContent;
    const nx = parseFloat(x), ny = parseFloat(y);
    if (!isNaN(nx) && !isNaN(ny)) return dir[col] * (nx - ny);
    return dir[col] * String(x).localeCompare(String(y));
  }});
  rows.forEach(r => body.appendChild(r));
}}
</script>
</body></html>
"""


def write_text(path: str | os.PathLike[str], text: str) -> None:
    from wildworld._atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def rows_json(rows: list[Row], facts: dict) -> str:
    return json.dumps({"facts": facts, "rows": [r.__dict__ for r in rows]}, indent=1, default=list)
