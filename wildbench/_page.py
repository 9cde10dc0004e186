"""The leaderboard's HTML page: one self-contained file (no network, no external fonts or
scripts), one section per track.

Each section has

* a ranked table: rank, model (version, reference tags, failure notes), conditioning, one
  column per family and, with two or more families, ``overall``. Every score shows its 95%
  interval as text and as a bar on the 0-100 scale, so nothing needs hovering. A click on a
  header sorts (scores highest first, a second click reverses; an arrow and ``aria-sort`` say
  which); the table starts sorted by rank. On a narrow screen conditioning moves under the
  model name and a table still too wide scrolls sideways inside its box with the model
  column kept in view, so no score column is cut off;
* one chart per family: the per-horizon score of every row (x: seconds since the first frame,
  y: 0-100, ticks on both axes, the horizon buckets shaded), the ceiling and the floor drawn
  in their own colours and named at the curve ends; each row keeps its colour in the table;
* every measure's score and raw value (with its unit), in a collapsed table.

Reference rows are tagged for what they are (``ceiling``, ``trivial baseline``,
``reference``); ``floor`` only on a reference row that scores lowest (``Board.floor``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
# Board and Row (wildbench.leaderboard) are only named in annotations: importing them here
# would make a loop (the leaderboard imports this module to render).

__all__ = ["render_page"]

_PALETTE = ("#0969da", "#bc4c00", "#8250df", "#bf3989", "#0a7b83", "#6e5600", "#1f6feb", "#953800", "#5a32a3", "#99286e")
_ROLE_COLOUR = {"ceiling": "#1a7f37", "floor": "#cf222e"}
_REFERENCE_PALETTE = ("#6e7781", "#9a6b3f", "#4f7a8a", "#8a5f8f")  # muted: baselines stay in the background

_STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa; --accent: #0969da;
        --ceiling: #1a7f37; --floor: #cf222e; --ref: #6e7781; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0 auto; padding: 1.25rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: 0 0 .4rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .4rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
code { font-size: .85em; background: var(--head); padding: 0 .25em; border-radius: 3px; }
.note { color: var(--muted); font-size: .9rem; max-width: 62em; margin: .4rem 0; }
nav.tracks a { margin-right: 1em; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll-hint { display: none; color: var(--muted); font-size: .8rem; margin: .2rem 0 0; }
.scroll.overflows + .scroll-hint { display: block; }
table { border-collapse: separate; border-spacing: 0; width: 100%; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
thead th { background: var(--head); font-weight: 600; white-space: nowrap; }
th button { font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; }
th button:hover { color: var(--accent); }
th button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
th .arrow { display: inline-block; min-width: 1em; color: var(--accent); }
th.num, td.num { text-align: right; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num .value { font-weight: 600; }
td.num .ci { display: block; font-size: .75rem; color: var(--muted); }
.bar { display: block; position: relative; width: 6em; height: 6px; margin: 3px 0 1px auto; background: #eaeef2;
       border-radius: 3px; }
.bar .range { position: absolute; top: 0; bottom: 0; min-width: 2px; background: #6ea6ec; border-radius: 3px; }
.bar .dot { position: absolute; top: -2px; width: 2px; height: 10px; margin-left: -1px; background: var(--fg); }
tbody tr { background: #fff; }
tbody tr.ceiling { background: #eef7f0; }
tbody tr.trivial, tbody tr.reference { background: #f6f7f9; }
tbody tr.floor { background: #fdf0f0; }
tbody tr.focus td { box-shadow: inset 0 -2px var(--accent); }
th.model, td.model { position: sticky; left: 0; z-index: 1; min-width: 9em; max-width: 18em; background: inherit; }
thead th.model { z-index: 2; background: var(--head); }
td.model { white-space: normal; overflow-wrap: anywhere; }
td.model .name { font-weight: 600; }
td.model .version { display: block; font-size: .78rem; color: var(--muted); }
td.model .warn { display: block; font-size: .75rem; color: #9a6700; }
td.cond { font-size: .85rem; color: var(--muted); min-width: 7em; }
td.model .cond-inline { display: none; font-size: .75rem; color: var(--muted); }
.tag { display: inline-block; font-size: .72rem; line-height: 1.3; padding: 0 6px; margin: 0 0 0 4px; border: 1px solid;
       border-radius: 10px; white-space: nowrap; font-weight: 500; }
.tag.ceiling { color: var(--ceiling); } .tag.floor { color: var(--floor); }
.tag.trivial, .tag.reference { color: var(--ref); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); gap: 1rem; margin: 1rem 0; }
figure { margin: 0; padding: .6rem; border: 1px solid var(--line); border-radius: 6px; min-width: 0; }
figcaption { font-size: .9rem; font-weight: 600; margin-bottom: .3rem; }
figcaption .sub { display: block; font-weight: 400; font-size: .78rem; color: var(--muted); }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font-size: 12px; fill: var(--muted); }
svg.chart .grid { stroke: #eaeef2; } svg.chart .axis { stroke: #8c959f; }
svg.chart .bucket { fill: #f6f8fa; }
svg.chart path.curve { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
svg.chart path.curve[data-role="ceiling"] { stroke-width: 2.6; stroke-dasharray: 7 3; }
svg.chart path.curve[data-role="floor"] { stroke-width: 2.6; stroke-dasharray: 2 3; }
svg.chart path.curve[data-role="trivial"], svg.chart path.curve[data-role="reference"] { stroke-width: 1.6; stroke-dasharray: 5 3; }
svg.chart text.end { font-weight: 600; }
svg.chart.focused path.curve:not(.focus), svg.chart.focused circle:not(.focus) { opacity: .18; }
ul.legend { list-style: none; padding: 0; margin: .4rem 0 0; font-size: .8rem; display: flex; flex-wrap: wrap; gap: .2rem 1rem; }
ul.legend li { cursor: default; white-space: nowrap; }
.swatch { display: inline-block; width: 20px; vertical-align: middle; margin-right: 5px; border-top: 3px solid; }
.swatch.ceiling { border-top-style: dashed; } .swatch.floor { border-top-style: dotted; }
.swatch.trivial, .swatch.reference { border-top-style: dashed; border-top-width: 2px; }
td.model .swatch { width: 14px; margin-right: 4px; }
details.measures { margin: .8rem 0; } details.measures summary { cursor: pointer; color: var(--accent); }
details.measures td, details.measures th { font-size: .85rem; }
details.measures .raw { display: block; color: var(--muted); font-size: .75rem; }
@media (max-width: 600px) {
  body { padding: .6rem; font-size: 14px; }
  th, td { padding: 5px 6px; }
  thead th { white-space: normal; }  /* a long family name takes two lines, not the score's room */
  th.model, td.model { min-width: 7.5em; max-width: 10em; }
  th.cond, td.cond { display: none; }  /* conditioning moves under the model name */
  td.model .cond-inline { display: block; }
  .bar { width: 4.5em; }
  figure { padding: .3rem; }
  svg.chart text { font-size: 13.5px; }  /* the chart scales down with the screen; its text less so */
}
"""

_SCRIPT = r"""
"use strict";
// Sorting: scores sort highest first, a second click reverses; rank and text columns start
// ascending. Missing values stay last either way; ties keep the rank order.
function sortBy(table, col) {
  const th = table.tHead.rows[0].cells[col];
  const was = th.getAttribute("aria-sort");
  const dir = was === "descending" ? "ascending" : was === "ascending" ? "descending"
            : (th.dataset.kind === "score" ? "descending" : "ascending");
  const sign = dir === "ascending" ? 1 : -1;
  const rank = r => parseFloat(r.dataset.row);
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
    const mx = x === undefined || x === "", my = y === undefined || y === "";
    if (mx || my) return (mx - my) || (rank(a) - rank(b));
    const c = th.dataset.kind === "text" ? x.localeCompare(y) : parseFloat(x) - parseFloat(y);
    return sign * c || (rank(a) - rank(b));
  });
  rows.forEach(r => body.appendChild(r));
  for (const h of table.tHead.rows[0].cells) {
    h.removeAttribute("aria-sort");
    const arrow = h.querySelector(".arrow");
    if (arrow) arrow.textContent = "";
  }
  th.setAttribute("aria-sort", dir);
  th.querySelector(".arrow").textContent = dir === "ascending" ? "\u25B2" : "\u25BC";
}
document.addEventListener("click", e => {
  const button = e.target.closest("th button[data-col]");
  if (button) sortBy(button.closest("table"), parseInt(button.dataset.col, 10));
});
// Pointing at a row (or a legend entry) picks out its curves in that track's charts.
function focusRow(section, row) {
  section.querySelectorAll("svg.chart").forEach(svg => {
    svg.classList.toggle("focused", row !== null);
    svg.querySelectorAll("[data-row]").forEach(el => el.classList.toggle("focus", el.dataset.row === row));
  });
  section.querySelectorAll("table.board tbody tr").forEach(tr => tr.classList.toggle("focus", tr.dataset.row === row));
}
document.querySelectorAll("section.track").forEach(section => {
  section.querySelectorAll("table.board tbody tr[data-row], ul.legend li[data-row]").forEach(el => {
    el.addEventListener("mouseenter", () => focusRow(section, el.dataset.row));
    el.addEventListener("mouseleave", () => focusRow(section, null));
  });
});
// Say when a table is wider than the screen (it then scrolls sideways in its box).
function markOverflow() {
  document.querySelectorAll(".scroll").forEach(s => s.classList.toggle("overflows", s.scrollWidth > s.clientWidth + 1));
}
window.addEventListener("resize", markOverflow);
markOverflow();
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _role(row: "Row", floor: str | None) -> str:
    """What a row is on this board: ceiling, floor, trivial, reference or model."""
    if row.model == floor:
        return "floor"
    kind = row.reference or ""
    return {"ceiling": "ceiling", "trivial": "trivial", "floor": "trivial", "reference": "reference"}.get(kind, "model")


def _tags(row: "Row", floor: str | None) -> str:
    kind = {"ceiling": "ceiling", "reference": "reference"}.get(row.reference or "", "trivial")
    tags = [(kind, row.label)] if row.label else []
    if row.model == floor:
        tags.append(("floor", "floor"))
    return "".join(f' <span class="tag {k}">{_esc(text)}</span>' for k, text in tags)


def _score_cell(value: float | None, ci: list[float] | None) -> str:
    if value is None:
        return '<td class="num" data-v="">-</td>'
    clip = lambda v: min(100.0, max(0.0, v))  # noqa: E731 - the bar is drawn on the 0-100 scale
    bar = f'<span class="dot" style="left:{clip(value):.1f}%"></span>'
    interval = ""
    if ci:
        lo, hi = clip(ci[0]), clip(ci[1])
        bar = f'<span class="range" style="left:{lo:.1f}%;width:{hi - lo:.1f}%"></span>' + bar
        interval = f'<span class="ci" title="95% bootstrap interval">[{ci[0]:.1f}, {ci[1]:.1f}]</span>'
    return (f'<td class="num" data-v="{value:.6f}"><span class="value">{value:.1f}</span>{interval}'
            f'<span class="bar" aria-hidden="true">{bar}</span></td>')


def _model_cell(row: "Row", floor: str | None, colour: str | None) -> str:
    swatch = _swatch(_role(row, floor), colour) if colour else ""  # the row's line in the charts
    warnings = "".join(f'<span class="warn">{_esc(name)}: {rate:.0%} of cases failed (scored as the worst)</span>'
                       for name, rate in sorted(row.failures.items()))
    conditioning = ", ".join(row.conditioning) or "-"
    return (f'<td class="model" data-v="{_esc(row.model)}">{swatch}<span class="name">{_esc(row.model)}</span>{_tags(row, floor)}'
            f'<span class="version">version {_esc(row.version)}</span>'
            f'<span class="cond-inline">conditioning: {_esc(conditioning)}</span>{warnings}</td>')


def _header(index: int, label: str, kind: str, *, css: str = "", sorted_as: str | None = None, hint: str = "") -> str:
    arrow = {"ascending": "\u25B2", "descending": "\u25BC"}.get(sorted_as or "", "")
    aria = f' aria-sort="{sorted_as}"' if sorted_as else ""
    title = f' title="{_esc(hint)}"' if hint else ""
    return (f'<th class="{css}" data-kind="{kind}"{aria} scope="col"><button type="button" data-col="{index}"{title}>'
            f'{_esc(label)}<span class="arrow" aria-hidden="true">{arrow}</span></button></th>')


def _table(board: "Board", table_id: str) -> str:
    families = board.families
    overall = len(families) > 1  # one family: its column is the ranking already
    heads = [_header(0, "#", "rank", css="num", sorted_as="ascending", hint="rank (1 = best)"),
             _header(1, "model", "text", css="model"), _header(2, "conditioning", "text", css="cond")]
    heads += [_header(3 + i, f, "score", css="num", hint=f"{f}: 0-100, highest first") for i, f in enumerate(families)]
    if overall:
        heads.append(_header(3 + len(families), "overall", "score", css="num", hint="mean of the family scores"))
    floor, colours = board.floor, _colours(board)
    body = []
    for rank, row in enumerate(board.rows, 1):
        role = _role(row, floor)
        conditioning = ", ".join(row.conditioning)
        swatch = colours[rank] if any(row.curves.values()) else None
        cells = [f'<td class="num" data-v="{rank}">{rank}</td>', _model_cell(row, floor, swatch),
                 f'<td class="cond" data-v="{_esc(conditioning)}">{_esc(conditioning or "-")}</td>']
        cells += [_score_cell(row.families.get(f), row.intervals.get(f)) for f in families]
        if overall:
            cells.append(_score_cell(row.overall, None))
        css = f' class="{role}"' if role != "model" else ""
        body.append(f'<tr{css} data-row="{rank}" data-model="{_esc(row.model)}">' + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table id="{_esc(table_id)}" class="board"><thead><tr>{"".join(heads)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            '<p class="scroll-hint">The table is wider than the screen: scroll it sideways for every column.</p>')


def _colours(board: "Board") -> dict[int, str]:
    """One colour per row (by rank), the same in every chart of a board and in its table: the
    ceiling green, the floor red, other references muted, models by rank from a bright palette."""
    floor, colours, models, baselines = board.floor, {}, 0, 0
    for rank, row in enumerate(board.rows, 1):
        role = _role(row, floor)
        if role in _ROLE_COLOUR:
            colours[rank] = _ROLE_COLOUR[role]
        elif role == "model":
            colours[rank], models = _PALETTE[models % len(_PALETTE)], models + 1
        else:
            colours[rank], baselines = _REFERENCE_PALETTE[baselines % len(_REFERENCE_PALETTE)], baselines + 1
    return colours


def _names(board: "Board") -> dict[int, str]:
    """What a row is called in charts (by rank): its model, with the version where two rows share it."""
    counts: dict[str, int] = {}
    for row in board.rows:
        counts[row.model] = counts.get(row.model, 0) + 1
    return {rank: row.model if counts[row.model] == 1 else f"{row.model} {row.version}" for rank, row in enumerate(board.rows, 1)}


def _swatch(role: str, colour: str) -> str:
    return f'<span class="swatch {role}" style="border-top-color:{colour}" aria-hidden="true"></span>'


def _tick_step(span: float, *, most: int = 8) -> float:
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600):
        if span / step <= most:
            return float(step)
    return span / most


def _curve_measure(board: "Board", family: str) -> str:
    """The label of the measure a family's curves show (the first row that says)."""
    for row in board.rows:
        key = row.curve_measures.get(family)
        if key and key in row.measures:
            measure = row.measures[key]
            return f"{measure.get('label') or key} ({key})"
    return ""


@dataclass(frozen=True)
class _Frame:
    """A chart's geometry: SVG units for seconds (x) and 0-100 scores (y)."""

    seconds: float  # the x axis runs from 0 to here
    width: int = 460
    height: int = 260
    left: int = 46
    right: int = 52  # holds the ceiling/floor end labels
    top: int = 12
    bottom: int = 42

    @property
    def bottom_y(self) -> float:
        return self.height - self.bottom

    def x(self, t: float) -> float:
        return self.left + (self.width - self.left - self.right) * t / self.seconds

    def y(self, score: float) -> float:
        return self.top + (self.bottom_y - self.top) * (1 - min(100.0, max(0.0, score)) / 100.0)


def _axes(frame: _Frame, buckets: list) -> list[str]:
    """Every other horizon bucket shaded (the span a point averages), the grid, ticks and names."""
    x, y, end_x, base = frame.x, frame.y, frame.width - frame.right, frame.bottom_y
    parts = [f'<rect class="bucket" x="{x(t0):.1f}" y="{frame.top}" width="{x(t1) - x(t0):.1f}" height="{base - frame.top}">'
             f"<title>bucket {t0:g}-{t1:g} s</title></rect>" for i, (t0, t1) in enumerate(buckets) if i % 2 == 0]
    for v in range(0, 101, 20):
        parts.append(f'<line class="grid" x1="{frame.left}" x2="{end_x}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<line class="axis" x1="{frame.left - 4}" x2="{frame.left}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text class="ytick" x="{frame.left - 7}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    step = _tick_step(frame.seconds)
    for i in range(int(frame.seconds / step + 1e-9) + 1):
        t = round(i * step, 6)
        parts.append(f'<line class="axis" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{base}" y2="{base + 4}"/>'
                     f'<text class="xtick" x="{x(t):.1f}" y="{base + 16}" text-anchor="middle">{t:g}</text>')
    mid = (frame.top + base) / 2
    parts.append(f'<line class="axis" x1="{frame.left}" x2="{end_x}" y1="{base}" y2="{base}"/>'
                 f'<line class="axis" x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{base}"/>'
                 f'<text class="xlabel" x="{(frame.left + end_x) / 2:.0f}" y="{frame.height - 6}" text-anchor="middle">'
                 "time since the first frame (s)</text>"
                 f'<text class="ylabel" x="13" y="{mid:.0f}" text-anchor="middle" transform="rotate(-90 13 {mid:.0f})">'
                 "score (0-100)</text>")
    return parts


def _end_labels(frame: _Frame, ends: list[list]) -> list[str]:
    """``ceiling`` / ``floor`` at their curves' last points, apart and above the x axis."""
    ends = sorted(ends)
    for previous, current in zip(ends, ends[1:]):
        current[0] = max(current[0], previous[0] + 13)
    overshoot = max([end[0] - (frame.bottom_y - 3) for end in ends] + [0.0])
    return [f'<text class="end" data-role="{role}" x="{end_x + 6:.1f}" y="{label_y - overshoot:.1f}" style="fill:{colour}">'
            f"{role}</text>" for label_y, role, colour, end_x in ends]


def _chart(board: "Board", family: str, chart_id: str) -> str:
    """One family's per-horizon curves: x in seconds since the first frame, y the 0-100 score."""
    floor, colours, names = board.floor, _colours(board), _names(board)
    ranked = [(rank, r) for rank, r in enumerate(board.rows, 1) if r.curves.get(family) and r.buckets.get(family)]
    if not ranked:
        return ""
    frame = _Frame(seconds=max(b[1] for _, r in ranked for b in r.buckets[family]) or 1.0)
    parts = _axes(frame, max((r.buckets[family] for _, r in ranked), key=len))
    ends = []
    for rank, row in sorted(ranked, key=lambda item: _role(item[1], floor) == "model"):  # references under models
        role, colour, name = _role(row, floor), colours[rank], _esc(names[rank])
        mids = [(b[0] + b[1]) / 2 for b in row.buckets[family]]
        points = [(t, v) for t, v in zip(mids, row.curves[family]) if v is not None]
        if not points:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{frame.x(t):.1f},{frame.y(v):.1f}" for i, (t, v) in enumerate(points))
        values = ", ".join(f"{t:g} s: {v:.1f}" for t, v in points)
        parts.append(f'<path class="curve" data-row="{rank}" data-model="{_esc(row.model)}" data-role="{role}" '
                     f'stroke="{colour}" d="{d}"><title>{name}: {values}</title></path>')
        parts += [f'<circle class="point" data-row="{rank}" data-model="{_esc(row.model)}" cx="{frame.x(t):.1f}" '
                  f'cy="{frame.y(v):.1f}" r="2.8" fill="{colour}"><title>{name}, {t:g} s: {v:.1f}</title></circle>'
                  for t, v in points]
        if role in ("ceiling", "floor"):
            ends.append([frame.y(points[-1][1]) + 4, role, colour, frame.x(points[-1][0])])
    parts += _end_labels(frame, ends)
    legend = "".join(f'<li data-row="{rank}">{_swatch(_role(r, floor), colours[rank])}{_esc(names[rank])}{_tags(r, floor)}</li>'
                     for rank, r in ranked)  # in rank order, as the table
    measure = _curve_measure(board, family)
    aria = f"{family}: score per horizon bucket of {len(ranked)} rows, 0 to {frame.seconds:g} seconds"
    return (f'<figure id="{_esc(chart_id)}"><figcaption>{_esc(family)} by horizon'
            f'<span class="sub">{_esc(measure) + ": " if measure else ""}mean score over each horizon bucket (shaded), '
            "drawn at its middle</span></figcaption>"
            f'<svg class="chart" data-family="{_esc(family)}" viewBox="0 0 {frame.width} {frame.height}" role="img" '
            f'aria-label="{_esc(aria)}">' + "".join(parts) + f'</svg><ul class="legend">{legend}</ul></figure>')


def _measures_table(board: "Board") -> str:
    """Every measure of the board: its 0-100 score and raw mean (with unit and interval) per row."""
    if not board.measures:
        return ""
    declared = {k: r.measures[k] for r in reversed(board.rows) for k in board.measures if k in r.measures}
    heads = "".join(f'<th class="num" scope="col">{_esc(declared[k].get("label") or k)}<br><code>{_esc(k)}</code>'
                    f'{" (headline)" if declared[k].get("headline") else ""}</th>' for k in board.measures)
    body = []
    for name, row in zip(_names(board).values(), board.rows):
        cells = []
        for key in board.measures:
            m = row.measures.get(key) or {}
            unit = f" {m['unit']}" if m.get("unit") else ""
            raw = "-" if m.get("raw") is None else f"{m['raw']:.4g}{unit}"
            if m.get("ci95"):
                raw += f" [{m['ci95'][0]:.4g}, {m['ci95'][1]:.4g}]"
            better = {"higher": "higher is better", "lower": "lower is better"}.get(m.get("direction", ""), "")
            cells.append(f'<td class="num" title="{_esc(better)}">{_fmt(m.get("score"))}<span class="raw">{_esc(raw)}</span></td>')
        body.append(f'<tr><td class="model">{_esc(name)}</td>{"".join(cells)}</tr>')
    return ('<details class="measures"><summary>Every measure: its 0-100 score and raw mean (95% interval)</summary>'
            f'<div class="scroll"><table><thead><tr><th class="model" scope="col">model</th>{heads}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            '<p class="note">Headline measures make the family scores; the others are shown for diagnosis.</p></details>')


def _section(board: "Board", index: int) -> str:
    anchor = f"track-{index}-{board.track}"
    charts = "".join(_chart(board, family, f"{anchor}-chart-{i}") for i, family in enumerate(board.families))
    not_computed = sorted({(n, why) for r in board.rows for n, why in r.not_computed.items()})
    notes = "".join(f"<li><code>{_esc(n)}</code>: {_esc(why)}</li>" for n, why in not_computed)
    ranked_by = "the overall score" if len(board.families) > 1 else (board.families[0] if board.families else "-")
    seconds = board.horizon / board.fps if board.fps else 0.0
    return (f'<section class="track" id="{_esc(anchor)}" data-track="{_esc(board.track)}">'
            f'<h2>{_esc(board.track)} track</h2>'
            f'<p class="note">Split <code>{_esc(board.split_checksum[:12])}</code>: {board.cases} cases of {board.horizon} '
            f'frames ({seconds:.1f} s at {board.fps:g} fps), scoring {_esc(board.scoring.get("version", "?"))}. Ranked by '
            f'{_esc(ranked_by)}. Scores are 0-100 (100 = best); under each, its 95% bootstrap interval. Click a column '
            'header to sort (scores highest first; click again to reverse).</p>'
            + _table(board, f"board-{index}-{board.track}")
            + (f"<h3>Per-horizon curves</h3><div class=\"charts\">{charts}</div>" if charts else "")
            + _measures_table(board)
            + (f'<p class="note">Not computed:</p><ul class="note">{notes}</ul>' if notes else "")
            + "</section>")


def render_page(boards: list["Board"]) -> str:
    """The whole page for ``build_boards``' boards (one section per track)."""
    scoring = boards[0].scoring if boards else {"version": "?"}
    rules = "".join(f"<li>{_esc(k)}: {_esc(v)}</li>" for k, v in scoring.items() if k != "version")
    nav = ""
    if len(boards) > 1:
        nav = '<nav class="tracks">Tracks: ' + "".join(f'<a href="#track-{i}-{_esc(b.track)}">{_esc(b.track)}</a>'
                                                        for i, b in enumerate(boards)) + "</nav>"
    sections = "".join(_section(board, i) for i, board in enumerate(boards)) or '<p class="note">No results.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light"><title>WildBench leaderboard</title><style>{_STYLE}</style></head><body>
<h1>WildBench leaderboard</h1>
<p class="note">Reference rows are tagged for what they are: <span class="tag ceiling">ceiling</span> the true video;
<span class="tag trivial">trivial baseline</span> the first frame held, or another case's true video;
<span class="tag reference">reference</span> re-simulated with other actions (right scene, wrong actions). A reference
row is also tagged <span class="tag floor">floor</span> only where it scores lowest of all rows.</p>
{nav}{sections}
<h2>Scoring {_esc(scoring.get('version'))}</h2><ul class="note">{rules}</ul>
<script>{_SCRIPT}</script>
</body></html>
"""
