"""The leaderboard's HTML page: self-contained (no network), one section per track.

Each board gets a sortable table (click a header: descending first, an arrow shows the
order), its intervals printed under each score, reference rows labelled for what they are,
and one chart per family with per-horizon curves (x: seconds, y: 0-100, ticks on both axes,
the ceiling and the floor rows drawn dashed). Narrow screens scroll the table sideways.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .leaderboard import Board, Row

__all__ = ["render_page"]

_PALETTE = ("#2a6fdb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#5c940d", "#364fc7", "#a61e4d")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1200px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; min-width: 32em; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { cursor: pointer; background: #f4f4f4; user-select: none; white-space: nowrap; }
th:hover { background: #e8e8e8; } th .arrow { color: #2a6fdb; margin-left: 3px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num .ci { display: block; font-size: 0.75em; color: #666; }
tr.ceiling { background: #eef8ee; } tr.trivial, tr.reference { background: #f7f7fb; } tr.floor { background: #fbeeee; }
.tag { font-size: 0.75em; padding: 1px 5px; border-radius: 3px; background: #ddd; margin-left: 4px; white-space: nowrap; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; margin: 1em 0; }
figure { margin: 0; } figcaption { font-size: 0.9em; margin-bottom: 4px; }
svg.chart text { font-size: 10px; fill: #444; } svg.chart .grid { stroke: #eee; } svg.chart .axis { stroke: #888; }
svg.chart path.curve { fill: none; stroke-width: 1.8; } svg.chart path.dashed { stroke-dasharray: 5 3; }
.legend { font-size: 0.8em; } .legend span { margin-right: 1em; white-space: nowrap; }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
.note { color: #555; font-size: 0.9em; }
"""

_SCRIPT = """
const order = {};
function sortBy(table, col) {
  const body = document.querySelector('#' + table + ' tbody');
  const rows = Array.from(body.rows);
  const key = table + ':' + col;
  order[key] = order[key] === -1 ? 1 : -1;  // descending first
  const dir = order[key];
  rows.sort((a, b) => {
    const x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
    const nx = parseFloat(x), ny = parseFloat(y);
    if (isNaN(nx) && isNaN(ny)) return dir * String(x).localeCompare(String(y));
    if (isNaN(nx)) return 1;  // missing values last, whatever the order
    if (isNaN(ny)) return -1;
    return dir * (nx - ny);
  });
  rows.forEach(r => body.appendChild(r));
  document.querySelectorAll('#' + table + ' th .arrow').forEach(a => a.textContent = '');
  document.querySelector('#' + table + ' th[data-col="' + col + '"] .arrow').textContent = dir === -1 ? '\\u25BC' : '\\u25B2';
}
"""


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _row_class(row: "Row", floor: str | None) -> str:
    if row.model == floor:
        return "floor"
    return {"ceiling": "ceiling", "trivial": "trivial", "floor": "trivial", "reference": "reference"}.get(row.reference or "", "")


def _tags(row: "Row", floor: str | None) -> str:
    tags = []
    if row.label:
        tags.append(row.label)
    if row.model == floor:
        tags.append("floor")
    return "".join(f' <span class="tag">{html.escape(t)}</span>' for t in tags)


def _score_cell(value: float | None, ci: list[float] | None, *, bold: bool = False) -> str:
    text = _fmt(value)
    if bold:
        text = f"<b>{text}</b>"
    interval = f'<span class="ci">[{ci[0]:.1f}, {ci[1]:.1f}]</span>' if ci else ""
    return f'<td class="num" data-v="{"" if value is None else f"{value:.4f}"}">{text}{interval}</td>'


def _table(board: "Board", table_id: str) -> str:
    families = board.families
    overall = len(families) > 1
    headers = ["#", "model", "version", "conditioning", *families] + (["overall"] if overall else [])
    head = "".join(f'<th data-col="{i}" onclick="sortBy(\'{table_id}\', {i})">{html.escape(h)}<span class="arrow"></span></th>'
                   for i, h in enumerate(headers))
    floor = board.floor
    body = []
    for rank, row in enumerate(board.rows, 1):
        cells = [f'<td class="num" data-v="{rank}">{rank}</td>',
                 f'<td data-v="{html.escape(row.model)}">{html.escape(row.model)}{_tags(row, floor)}</td>',
                 f'<td data-v="{html.escape(row.version)}">{html.escape(row.version)}</td>',
                 f'<td data-v="{html.escape(", ".join(row.conditioning))}">{html.escape(", ".join(row.conditioning) or "-")}</td>']
        cells += [_score_cell(row.families.get(f), row.intervals.get(f)) for f in families]
        if overall:
            cells.append(_score_cell(row.overall, None, bold=True))
        body.append(f'<tr class="{_row_class(row, floor)}" data-model="{html.escape(row.model)}">' + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table id="{table_id}" class="board"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table></div>")


def _chart(board: "Board", family: str, width: int = 420, height: int = 220) -> str:
    """One family's per-horizon curves of every row: x in seconds, y 0-100."""
    rows = [r for r in board.rows if r.curves.get(family)]
    if not rows:
        return ""
    left, right, top, bottom = 36, 10, 10, 30
    ends = [b[1] for r in rows for b in r.buckets.get(family, [])]
    x_max = max(ends) if ends else 1.0

    def x(t: float) -> float:
        return left + (width - left - right) * t / x_max

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / 100.0)

    parts = []
    for v in range(0, 101, 25):
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end">{v}</text>')
    step = _tick_step(x_max)
    t = 0.0
    while t <= x_max + 1e-9:
        parts.append(f'<line class="axis" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{height - bottom}" y2="{height - bottom + 4}"/>'
                     f'<text x="{x(t):.1f}" y="{height - bottom + 14}" text-anchor="middle">{t:g}</text>')
        t += step
    parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}"/>'
                 f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}"/>'
                 f'<text x="{(left + width - right) / 2:.0f}" y="{height - 3}" text-anchor="middle">seconds into the case</text>'
                 f'<text x="10" y="{(top + height - bottom) / 2:.0f}" text-anchor="middle" transform="rotate(-90 10 {(top + height - bottom) / 2:.0f})">score</text>')
    floor = board.floor
    legend = []
    for index, row in enumerate(rows):
        colour = _PALETTE[index % len(_PALETTE)]
        mids = [(b[0] + b[1]) / 2 for b in row.buckets.get(family, [])]
        points = [(mid, v) for mid, v in zip(mids, row.curves[family]) if v is not None]
        if not points:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(points))
        dashed = " dashed" if row.reference == "ceiling" or row.model == floor else ""
        role = "ceiling" if row.reference == "ceiling" else ("floor" if row.model == floor else "")
        parts.append(f'<path class="curve{dashed}" data-model="{html.escape(row.model)}" data-role="{role}" stroke="{colour}" d="{d}">'
                     f'<title>{html.escape(row.model)}: {", ".join(f"{t:.1f} s {v:.1f}" for t, v in points)}</title></path>')
        label = html.escape(row.model) + (f" ({role})" if role else "")
        legend.append(f'<span><i style="background:{colour}"></i>{label}</span>')
    return (f'<figure><figcaption>{html.escape(family)} by horizon</figcaption>'
            f'<svg class="chart" data-family="{html.escape(family)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            + "".join(parts) + f'</svg><div class="legend">{"".join(legend)}</div></figure>')


def _tick_step(x_max: float) -> float:
    for step in (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300):
        if x_max / step <= 8:
            return float(step)
    return x_max / 8


def _section(board: "Board", index: int) -> str:
    table_id = f"board-{index}-{board.track}"
    charts = "".join(_chart(board, family) for family in board.families)
    not_computed = sorted({(n, why) for r in board.rows for n, why in r.not_computed.items()})
    notes = "".join(f"<li><code>{html.escape(n)}</code>: {html.escape(why)}</li>" for n, why in not_computed)
    return (f'<section class="track" data-track="{html.escape(board.track)}"><h2>{html.escape(board.track)} track</h2>'
            f'<p class="note">Split <code>{board.split_checksum[:12]}</code>: {board.cases} cases of {board.horizon} frames '
            f'({board.horizon / board.fps:.1f} s at {board.fps:g} fps). Scores are 0-100; the bracket under a score is its 95% '
            'bootstrap interval. Click a column to sort.</p>'
            + _table(board, table_id)
            + (f'<div class="charts">{charts}</div>' if charts else "")
            + (f'<p class="note">Not computed:</p><ul class="note">{notes}</ul>' if notes else "")
            + "</section>")


def render_page(boards: list["Board"]) -> str:
    scoring = boards[0].scoring if boards else {"version": "?"}
    rules = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in scoring.items() if k != "version")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>WildBench leaderboard</title><style>{_STYLE}</style></head><body>
<h1>WildBench leaderboard</h1>
<p class="note">Reference rows are labelled for what they are: <b>ceiling</b> (the true video), <b>trivial baseline</b>
(the first frame held; another case's true video), <b>reference</b> (re-simulated with other actions: right scene, wrong
actions). The lowest row is marked <b>floor</b> only when it is a reference.</p>
{''.join(_section(board, i) for i, board in enumerate(boards))}
<h2>Scoring {html.escape(str(scoring.get('version')))}</h2><ul class="note">{rules}</ul>
<script>{_SCRIPT}</script>
</body></html>
"""
