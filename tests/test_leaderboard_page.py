"""The leaderboard page in a real browser: headless Chromium (Debian's package) driven by
Playwright. Sorting, curves, intervals, reference tags, narrow screens, no network.

Skips (with the reason) where Chromium or Playwright is missing; ``.ci/run`` installs
Chromium and sets ``WILDBENCH_REQUIRE_BROWSER=1``, which turns that skip into a failure.
``WILDBENCH_PAGE_SHOTS=DIR`` keeps the screenshots the tests take (else they go to tmp).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from wildbench import build_boards, evaluate, to_html
from wildbench.leaderboard import Board, Row

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Root, no network, no GPU: the flags that let Debian's Chromium start here and stay offline.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage"]
DESKTOP, NARROW = {"width": 1280, "height": 900}, {"width": 400, "height": 860}


def _why_no_browser() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _why_no_browser()
    if why:
        if os.environ.get("WILDBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"WILDBENCH_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def shots(tmp_path) -> Path:
    kept = os.environ.get("WILDBENCH_PAGE_SHOTS")
    path = Path(kept) if kept else tmp_path / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Loaded:
    """A page opened from a file, with every request it tried and every script error."""

    def __init__(self, browser, page_html: str, path: Path, viewport: dict):
        path.write_text(page_html, encoding="utf-8")
        self.context = browser.new_context(viewport=viewport)
        self.requests: list[str] = []
        self.errors: list[str] = []

        def route(r):  # the page itself is the only thing it may load
            self.requests.append(r.request.url)
            (r.continue_() if r.request.url == path.as_uri() else r.abort())

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.goto(path.as_uri())
        self.uri = path.as_uri()

    def close(self):
        assert self.requests == [self.uri], f"the page asked for more than itself: {self.requests}"
        assert self.errors == [], self.errors
        self.context.close()

    def order(self, table) -> list[str]:
        return table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.model)")

    def arrows(self, table) -> dict[str, str]:
        return dict(table.locator("thead th").evaluate_all(
            "hs => hs.map(h => [h.innerText.replace(/[\\u25B2\\u25BC]/g, '').trim(), "
            "(h.getAttribute('aria-sort') || '') + (h.querySelector('.arrow').textContent)])"))


# --- synthetic boards: Board/Row as build_boards makes them (ranked, curves 0-100 per bucket) ---
BUCKETS = [[float(t), float(t + 1)] for t in range(5)]  # 5 s horizon, 1 s buckets


def _row(model, scores, *, reference=None, ci=None, curve_shift=0.0, failures=None):
    families = dict(scores)
    curves = {f: [max(0.0, min(100.0, v + curve_shift * (2 - i))) for i in range(len(BUCKETS))] for f, v in scores.items()}
    overall = sum(families.values()) / len(families)
    return Row(model, "1.0", reference, ("actions", "first_frame"), families, {f: (ci or {}).get(f) for f in families},
               overall, curves=curves, buckets={f: BUCKETS for f in families}, failures=dict(failures or {}),
               source=f"{model}.json")


def _board(track, families, rows):
    rows = sorted(rows, key=lambda r: -(r.overall if len(families) > 1 else r.families[families[0]]))
    return Board(track, "ab" * 32, 12, 150, 30.0, families, [], rows, {"version": "test", "family": "mean"})


def synthetic_boards() -> list[Board]:
    short = _board("short", ["Motion", "Visual"], [
        _row("oracle", {"Motion": 98, "Visual": 99}, reference="ceiling", curve_shift=1),
        _row("alpha", {"Motion": 70, "Visual": 60}, ci={"Motion": [64.0, 76.0], "Visual": [55.5, 64.5]}, curve_shift=8),
        _row("beta", {"Motion": 55, "Visual": 72}, ci={"Motion": [50.0, 61.0], "Visual": [68.0, 75.0]}, curve_shift=12),
        _row("resim", {"Motion": 40, "Visual": 30}, reference="reference", curve_shift=4),
        _row("frozen", {"Motion": 30, "Visual": 35}, reference="trivial", curve_shift=10),
        _row("shuffled", {"Motion": 20, "Visual": 25}, reference="floor", curve_shift=2),
    ])
    long = _board("long", ["Motion"], [
        _row("oracle", {"Motion": 97}, reference="ceiling", curve_shift=1),
        _row("frozen", {"Motion": 45}, reference="trivial", curve_shift=10),
        _row("gamma", {"Motion": 30}, curve_shift=6, failures={"state_alignment": 0.25}),
    ])
    return [short, long]


@pytest.fixture()
def synthetic(browser, tmp_path):
    boards = synthetic_boards()
    loaded = Loaded(browser, to_html(boards), tmp_path / "board.html", DESKTOP)
    yield boards, loaded
    loaded.close()


def test_a_clicked_score_column_sorts_descending_first_then_ascending(synthetic):
    boards, loaded = synthetic
    short = loaded.page.locator("section.track").nth(0).locator("table.board")
    long = loaded.page.locator("section.track").nth(1).locator("table.board")
    ranked = [r.model for r in boards[0].rows]
    assert loaded.order(short) == ranked and loaded.arrows(short)["#"] == "ascending\u25B2"  # starts by rank
    by_visual = [r.model for r in sorted(boards[0].rows, key=lambda r: r.families["Visual"], reverse=True)]
    assert by_visual != ranked  # the click must change something to be checked
    short.get_by_role("button", name=re.compile("^Visual")).click()
    assert loaded.order(short) == by_visual
    arrows = loaded.arrows(short)
    assert arrows["Visual"] == "descending\u25BC" and arrows["#"] == "" and arrows["overall"] == ""
    short.get_by_role("button", name=re.compile("^Visual")).click()
    assert loaded.order(short) == by_visual[::-1] and loaded.arrows(short)["Visual"] == "ascending\u25B2"
    short.get_by_role("button", name=re.compile("^overall")).click()  # a new column starts descending again
    assert loaded.order(short) == ranked and loaded.arrows(short)["overall"] == "descending\u25BC"
    short.get_by_role("button", name=re.compile("^model")).click()  # text: A to Z first
    assert loaded.order(short) == sorted(ranked)
    short.get_by_role("button", name=re.compile("^#")).click()
    assert loaded.order(short) == ranked
    assert loaded.order(long) == [r.model for r in boards[1].rows]  # the other track's table is its own


def test_one_table_per_track_and_overall_only_with_two_families(synthetic):
    boards, loaded = synthetic
    sections = loaded.page.locator("section.track")
    assert sections.count() == len(boards) and loaded.page.locator("table.board").count() == len(boards)
    for index, board in enumerate(boards):
        heads = list(loaded.arrows(sections.nth(index).locator("table.board")))
        assert heads == ["#", "model", "conditioning", *board.families] + (["overall"] if len(board.families) > 1 else [])
        assert sections.nth(index).locator("h2").inner_text() == f"{board.track} track"


def test_intervals_and_reference_tags_show_without_hovering(synthetic):
    boards, loaded = synthetic
    short, long = (loaded.page.locator("section.track").nth(i).locator("table.board") for i in (0, 1))
    alpha = short.locator('tr[data-model="alpha"]')
    interval = alpha.locator("td.num .ci").first
    assert interval.is_visible() and interval.inner_text() == "[64.0, 76.0]"
    bar, score_range = alpha.locator(".bar").first.bounding_box(), alpha.locator(".bar .range").first.bounding_box()
    assert score_range["width"] > 0 and score_range["height"] > 0
    # The interval bar spans 64-76 of the 0-100 track.
    assert score_range["x"] - bar["x"] == pytest.approx(0.64 * bar["width"], abs=1.5)
    assert score_range["width"] == pytest.approx(0.12 * bar["width"], abs=1.5)

    def tags(table, model):
        return table.locator(f'tr[data-model="{model}"] .tag').all_inner_texts()

    assert tags(short, "oracle") == ["ceiling"] and tags(short, "resim") == ["reference"]
    assert tags(short, "frozen") == ["trivial baseline"] and tags(short, "alpha") == []
    assert boards[0].floor == "shuffled" and tags(short, "shuffled") == ["trivial baseline", "floor"]
    # On the long board a model scores lowest: no reference row is called the floor.
    assert boards[1].floor is None and tags(long, "frozen") == ["trivial baseline"]
    assert "failed" in long.locator('tr[data-model="gamma"] .warn').inner_text()


def test_curves_render_with_axes_ticks_seconds_and_the_ceiling_and_floor(synthetic, shots):
    boards, loaded = synthetic
    loaded.page.screenshot(path=str(shots / "synthetic-desktop.png"), full_page=True)
    for index, board in enumerate(boards):
        section = loaded.page.locator("section.track").nth(index)
        charts = section.locator("svg.chart")
        assert charts.count() == len(board.families)
        for c, family in enumerate(board.families):
            chart = charts.nth(c)
            assert chart.get_attribute("data-family") == family
            box = chart.bounding_box()
            assert box["width"] > 300 and box["height"] > 150
            curves = chart.locator("path.curve")
            assert curves.count() == len(board.rows)
            for i in range(curves.count()):
                curve = curves.nth(i).bounding_box()
                assert curve["width"] > 0.6 * box["width"] and curve["height"] > 0
            assert chart.locator("circle.point").count() == len(board.rows) * len(BUCKETS)
            # Axes: y ticks 0-100, x ticks in seconds up to the horizon, both axes named.
            assert chart.locator("text.ytick").all_text_contents() == ["0", "20", "40", "60", "80", "100"]
            x_ticks = [float(t) for t in chart.locator("text.xtick").all_text_contents()]
            assert x_ticks[0] == 0 and x_ticks == sorted(x_ticks) and x_ticks[-1] == BUCKETS[-1][1] and len(x_ticks) >= 4
            assert "(s)" in chart.locator("text.xlabel").text_content() and "0-100" in chart.locator("text.ylabel").text_content()
            ceiling = chart.locator('path.curve[data-role="ceiling"]')
            assert ceiling.count() == 1 and ceiling.get_attribute("data-model") == "oracle"
            floor = chart.locator('path.curve[data-role="floor"]')
            ends = chart.locator("text.end").all_text_contents()
            if board.floor:
                assert floor.count() == 1 and floor.get_attribute("data-model") == board.floor
                assert ends == ["ceiling", "floor"]
                # Higher scores are drawn higher: the ceiling sits above the floor.
                assert ceiling.bounding_box()["y"] + ceiling.bounding_box()["height"] < floor.bounding_box()["y"]
            else:
                assert floor.count() == 0 and ends == ["ceiling"]
            # The x axis is time: the points of a curve go left to right, bucket by bucket.
            xs = chart.locator('circle.point[data-model="oracle"]').evaluate_all("cs => cs.map(c => c.getBoundingClientRect().x)")
            assert xs == sorted(xs) and len(set(xs)) == len(BUCKETS)
            for row in board.rows:  # a row's line in the table's swatch is its curve's colour
                swatch = section.locator(f'table.board tr[data-model="{row.model}"] .swatch')
                colour = swatch.evaluate("s => getComputedStyle(s).borderTopColor")
                stroke = chart.locator(f'path.curve[data-model="{row.model}"]').evaluate("p => getComputedStyle(p).stroke")
                assert colour == stroke, (row.model, colour, stroke)
            legend = section.locator("ul.legend").nth(c).locator("li").all_inner_texts()
            assert len(legend) == len(board.rows) and any("ceiling" in item for item in legend)


def test_every_score_column_is_reachable_on_a_400_px_screen(browser, tmp_path, shots):
    boards = synthetic_boards()
    loaded = Loaded(browser, to_html(boards), tmp_path / "narrow.html", NARROW)
    page = loaded.page
    page.screenshot(path=str(shots / "synthetic-400px.png"), full_page=True)
    # The page itself never scrolls sideways; a wide table scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    for index in range(len(boards)):
        section = page.locator("section.track").nth(index)
        box = section.locator("div.scroll").first
        assert box.evaluate("b => getComputedStyle(b).overflowX") == "auto"
        frame = box.bounding_box()
        assert frame["x"] >= 0 and frame["x"] + frame["width"] <= NARROW["width"]
        for head in section.locator('table.board th[data-kind="score"]').all():
            head.scroll_into_view_if_needed()
            cell = head.bounding_box()
            assert frame["x"] - 1 <= cell["x"] and cell["x"] + cell["width"] <= frame["x"] + frame["width"] + 1, head.inner_text()
            model = section.locator("table.board td.model").first.bounding_box()  # kept in view while scrolled
            assert model["x"] >= frame["x"] - 1 and model["x"] + model["width"] <= cell["x"] + 1
        for chart in section.locator("svg.chart").all():
            drawn = chart.bounding_box()
            assert drawn["x"] >= 0 and drawn["x"] + drawn["width"] <= NARROW["width"] and drawn["height"] > 100
    # Two families and overall overflow 400 px and say so; one family fits whole, no scrolling needed.
    wide, fits = (page.locator("section.track").nth(i).locator("div.scroll").first for i in (0, 1))
    assert wide.evaluate("b => b.scrollWidth > b.clientWidth") and page.locator(".scroll-hint").nth(0).is_visible()
    assert fits.evaluate("b => b.scrollWidth <= b.clientWidth") and not page.locator(".scroll-hint").nth(1).is_visible()
    # Conditioning moves under the model name (its column would push the scores off screen).
    assert not page.locator("th.cond").first.is_visible() and page.locator("td.model .cond-inline").first.is_visible()
    wide.evaluate("b => b.scrollLeft = 0")
    page.screenshot(path=str(shots / "synthetic-400px-top.png"))
    loaded.close()


def test_the_page_is_self_contained():
    page = to_html(synthetic_boards())
    for outside in ("http://", "https://", "src=", "url(", "@import", "@font-face", "<link"):
        assert outside not in page, outside
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_a_page_from_real_results(browser, bench, tmp_path, shots):
    paths = [tmp_path / f"{name}.json" for name in ("oracle", "frozen", "shuffled")]
    for path, name in zip(paths, ("oracle", "frozen", "shuffled")):
        evaluate(bench["subs"][name], bench["split_dir"], path, workers=2)
    boards = build_boards(paths)
    assert len(boards) == 1 and len(boards[0].rows) == 3
    board = boards[0]
    for viewport, name in ((DESKTOP, "real-desktop.png"), (NARROW, "real-400px.png")):
        loaded = Loaded(browser, to_html(boards), tmp_path / f"real-{viewport['width']}.html", viewport)
        page = loaded.page
        page.screenshot(path=str(shots / name), full_page=True)
        table = page.locator("table.board")
        assert loaded.order(table) == [r.model for r in board.rows]
        assert page.locator("svg.chart").count() == sum(1 for f in board.families if any(r.curves.get(f) for r in board.rows))
        assert page.locator("path.curve").count() == sum(1 for f in board.families for r in board.rows if r.curves.get(f))
        assert table.locator('tr[data-model="oracle"] .tag').all_inner_texts() == ["ceiling"]
        frame = page.locator("div.scroll").first.bounding_box()  # one family: its scores fit, even at 400 px
        for cell in table.locator("tbody td.num:last-child").all():
            box = cell.bounding_box()
            assert box["x"] >= frame["x"] and box["x"] + box["width"] <= min(frame["x"] + frame["width"], viewport["width"])
        lowest = board.rows[-1]
        assert board.floor == lowest.model and "floor" in table.locator(f'tr[data-model="{lowest.model}"] .tag').all_inner_texts()
        family = board.families[-1]
        table.get_by_role("button", name=re.compile("^" + re.escape(family))).click()
        shown = table.locator(f"tbody td.num[data-v]:nth-child({4 + board.families.index(family)})").evaluate_all(
            "cells => cells.map(c => parseFloat(c.dataset.v))")
        assert shown == pytest.approx(sorted((r.families[family] for r in board.rows), reverse=True), abs=1e-5)
        loaded.close()


def test_rows_sharing_a_model_name_keep_their_own_colour_and_name():
    first, second = _row("same", {"Motion": 60}), _row("same", {"Motion": 50})
    second = Row(**{**second.__dict__, "version": "2.0"})
    page = to_html([_board("short", ["Motion"], [first, second, _row("oracle", {"Motion": 90}, reference="ceiling")])])
    strokes = dict(re.findall(r'<path class="curve" data-row="(\d)" data-model="same" data-role="model" stroke="(#\w+)"', page))
    assert sorted(strokes) == ["2", "3"] and len(set(strokes.values())) == 2
    assert ">same 1.0<" in page and ">same 2.0<" in page
