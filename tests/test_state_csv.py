"""state.csv reader: cell parser (hypothesis), typing, missing values, errors, fast = careful."""

from __future__ import annotations

import csv
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wildworld import FormatError, MissingFileError, read_state_csv
from wildworld.release._examples import example_state_columns
from wildworld.release import state_csv
from wildworld.release._tuple_cells import bulk_tuple_values
from wildworld.release.state_csv import _read_careful, _read_cells, _sniff, _type_column, parse_tuple_cell
from wildworld.release.writer import format_cell, write_state_csv

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
number = st.one_of(finite, st.just(math.nan), st.just(-0.0), st.just(0.0))


def _spell(value: float, style: int) -> str:
    if math.isnan(value):
        return ["nan", "NaN", "-nan", "None", "NAN"][style % 5]
    return [repr(value), f"{value:.17e}", f"{value:.17g}", f"{value:.17E}"][style % 4]


@given(values=st.lists(number, min_size=1, max_size=6), style=st.integers(0, 19), spaces=st.sampled_from(["", " ", "  "]))
def test_parse_tuple_cell_round_trips(values, style, spaces):
    text = "(" + ("," + spaces).join(_spell(v, style + i) for i, v in enumerate(values)) + ")"
    parsed = parse_tuple_cell(text, len(values))
    assert len(parsed) == len(values)
    for got, want in zip(parsed, values):
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == want
            assert math.copysign(1.0, got) == math.copysign(1.0, want)  # negative zero survives


@pytest.mark.parametrize("text", ["", "nan", "NaN", " nan ", "None", "null"])
def test_missing_cells_are_nan_tuples(text):
    assert all(math.isnan(v) for v in parse_tuple_cell(text, 3))
    assert parse_tuple_cell(text) is None


@pytest.mark.parametrize("text", ["(1, 2", "1, 2, 3", "(1, x, 3)", "(1, 2, 3, 4)", "(1;2;3)", "((1, 2, 3))"])
def test_malformed_cells_raise(text):
    with pytest.raises(ValueError):
        parse_tuple_cell(text, 3)


def _write(path, columns):
    write_state_csv(path, columns, decimals=None)
    return path


def _careful(path):
    header, widths, _ = _sniff(path)
    cols = _read_careful(path, header, widths)
    return pa.table({name: _type_column(path, name, cols[name]) for name in header})


def _assert_tables_equal(a: pa.Table, b: pa.Table):
    assert a.schema == b.schema
    for name in a.column_names:
        x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(x.type):
            np.testing.assert_array_equal(np.asarray(x.flatten()), np.asarray(y.flatten()))
        elif pa.types.is_floating(x.type):
            np.testing.assert_array_equal(x.to_numpy(zero_copy_only=False), y.to_numpy(zero_copy_only=False))
        else:
            assert x.equals(y), name


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 40), players=st.integers(1, 3), monsters=st.integers(0, 3), seed=st.integers(0, 10_000))
def test_fast_path_equals_careful_path(tmp_path_factory, rows, players, monsters, seed):
    path = tmp_path_factory.mktemp("csv") / "state.csv"
    _write(path, example_state_columns(rows, players=players, monsters=monsters, seed=seed, invalid_camera_rows=rows // 3))
    _assert_tables_equal(read_state_csv(path), _careful(path))


def test_types_entities_and_values(tmp_path):
    columns = example_state_columns(50, players=2, monsters=2, seed=1, invalid_camera_rows=5)
    columns["custom.extra"] = ["hello"] * 50
    columns["custom.counter"] = np.arange(50)
    columns["custom.vec"] = np.ones((50, 2))
    table = read_state_csv(_write(tmp_path / "state.csv", columns))
    assert table.column_names == list(columns)
    assert table.schema.field("camera.K").type == pa.list_(pa.float64(), 4)
    assert table.schema.field("npc.list.1.pos").type == pa.list_(pa.float64(), 3)
    assert table.schema.field("monster.list.1.rot").type == pa.list_(pa.float64(), 4)
    assert table.schema.field("npc.list.0.motion_id").type == pa.int64()
    assert table.schema.field("npc.list.0.hp").type == pa.float64()
    assert pa.types.is_string(table.schema.field("monster.list.0.cond").type)
    assert table.schema.field("custom.extra").type == pa.string()
    assert table.schema.field("custom.counter").type == pa.int64()
    assert table.schema.field("custom.vec").type == pa.list_(pa.float64(), 2)
    got = np.asarray(table.column("npc.list.1.pos").combine_chunks().flatten()).reshape(-1, 3)
    np.testing.assert_array_equal(got, columns["npc.list.1.pos"])
    invalid = np.isnan(np.asarray(table.column("camera.K").combine_chunks().flatten()).reshape(-1, 4)).all(1)
    assert invalid.sum() == 5


def test_every_missing_spelling(tmp_path):
    """Bare nan, empty cells and nan components give NaN (or null ids); nothing raises."""
    lines = [
        "camera.K,camera.pos,npc.tracking,npc.list.0.member_id,npc.list.0.hp,monster.list.0.type_id,monster.list.0.pos,monster.list.0.cond",
        '"(1.0, 2.0, 3.0, 4.0)","(1.0, 2.0, 3.0)",7,7,100.0,21,"(0.0, 0.0, 0.0)",none',
        'nan,,7,7,nan,nan,nan,nan',
        ',"(nan, nan, nan)",7,7,,,"(NaN, -nan, None)",',
        '"(1e-3, -0.0, 2.5E+2, -4)","(0, 0, 0)",7,7,5,21,"(1, 2, 3)",angry',
    ]
    path = tmp_path / "state.csv"
    path.write_text("\n".join(lines) + "\n")
    table = read_state_csv(path)
    K = np.asarray(table.column("camera.K").combine_chunks().flatten()).reshape(-1, 4)
    assert np.isnan(K[1]).all() and np.isnan(K[2]).all()
    np.testing.assert_array_equal(K[3], [1e-3, -0.0, 250.0, -4.0])
    assert math.copysign(1.0, K[3, 1]) == -1.0
    pos = np.asarray(table.column("camera.pos").combine_chunks().flatten()).reshape(-1, 3)
    assert np.isnan(pos[1]).all() and np.isnan(pos[2]).all()
    assert table.column("monster.list.0.type_id").to_pylist() == [21, None, None, 21]
    assert table.schema.field("monster.list.0.type_id").type == pa.int64()
    hp = table.column("npc.list.0.hp").to_numpy()
    assert hp[0] == 100.0 and np.isnan(hp[1]) and np.isnan(hp[2])
    assert table.column("monster.list.0.cond").to_pylist() == ["none", None, None, "angry"]


def test_malformed_cell_names_file_row_and_column(tmp_path):
    columns = example_state_columns(30, players=1, monsters=1, seed=3)
    path = _write(tmp_path / "state.csv", columns)
    lines = path.read_text().splitlines()
    cells = lines[11].split('"')  # data row 10 (frame 10)
    header = lines[0].split(",")
    lines[11] = lines[11].replace(cells[3], cells[3].replace(",", ", oops,", 1), 1)  # camera.pos gets 4 parts
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError) as info:
        read_state_csv(path)
    error = info.value
    assert error.row == 10 and error.column == "camera.pos" and str(path) in str(error)
    assert header[1] == "camera.pos"


def test_a_row_with_too_many_fields_is_named(tmp_path):
    path = _write(tmp_path / "state.csv", example_state_columns(20, seed=1))
    lines = path.read_text().splitlines()
    lines[9] += ",extra"  # data row 8
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError) as info:
        read_state_csv(path)
    assert info.value.row == 8 and "fields" in str(info.value)


def test_text_in_a_numeric_column_is_named(tmp_path):
    columns = example_state_columns(12, seed=4)
    columns["npc.list.0.hp"] = list(columns["npc.list.0.hp"])
    columns["npc.list.0.hp"][5] = "lots"
    with pytest.raises(FormatError) as info:
        read_state_csv(_write(tmp_path / "state.csv", columns))
    assert info.value.row == 5 and info.value.column == "npc.list.0.hp"


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(MissingFileError):
        read_state_csv(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FormatError, match="empty"):
        read_state_csv(tmp_path / "empty.csv")


def test_format_cell_conventions():
    assert format_cell(np.array([1.0, np.nan, -0.0])) == "(1.0, nan, -0.0)"
    assert format_cell(None) == "nan"
    assert format_cell(12) == "12"


# ---------------------------------------------------------------- variants found by fuzzing


def _example(tmp_path, rows=20, edits=None):
    edits = edits or {}
    columns = example_state_columns(rows, players=1, monsters=1, seed=7)
    for (name, row), text in edits.items():
        columns[name] = list(columns[name])
        columns[name][row] = text
    return _write(tmp_path / "state.csv", columns)


def test_byte_order_mark_and_line_endings_read_like_plain_lf(tmp_path):
    path = _example(tmp_path)
    plain = read_state_csv(path)
    data = path.read_bytes()
    for name, variant in {"bom": b"\xef\xbb\xbf" + data, "crlf": data.replace(b"\n", b"\r\n"), "cr": data.replace(b"\n", b"\r")}.items():
        other = tmp_path / f"{name}.csv"
        other.write_bytes(variant)
        _assert_tables_equal(read_state_csv(other), plain)


def test_a_header_alone_gives_zero_typed_rows(tmp_path):
    path = _example(tmp_path)
    header = path.read_text().splitlines()[0]
    for ending in ("\n", ""):
        path.write_text(header + ending)
        table = read_state_csv(path)
        assert table.num_rows == 0 and table.column_names == header.split(",")
        assert pa.types.is_fixed_size_list(table.schema.field("camera.pos").type)


@pytest.mark.parametrize("spelling", [" (1.0, 2.0, 3.0)", "(1.0, 2.0, 3.0) ", "(1.0, 2.0, 3.0,)", "(1.0,\n 2.0, 3.0)"])
def test_every_spelling_the_cell_parser_accepts_is_read(tmp_path, spelling):
    table = read_state_csv(_example(tmp_path, edits={("camera.pos", 9): spelling}))
    assert table.column("camera.pos")[9].as_py() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("spelling", ["(1.0), 2.0, 3.0)", "((1.0, 2.0, 3.0))", "()1.0, 2.0, 3.0)", "(1.0, 2.0), 3.0)"])
def test_stray_parentheses_are_refused_with_row_and_column(tmp_path, spelling):
    with pytest.raises(FormatError) as info:
        read_state_csv(_example(tmp_path, edits={("camera.pos", 9): spelling}))
    assert info.value.row == 9 and info.value.column == "camera.pos"


def test_unknown_tuple_column_is_typed_even_when_its_first_rows_are_missing(tmp_path):
    columns = example_state_columns(100, players=1, monsters=0, seed=2)
    columns["mod.extra"] = ["nan"] * 80 + ["(1.5, -2.0)"] * 20
    table = read_state_csv(_write(tmp_path / "state.csv", columns))
    assert table.schema.field("mod.extra").type == pa.list_(pa.float64(), 2)
    assert table.column("mod.extra")[99].as_py() == [1.5, -2.0] and math.isnan(table.column("mod.extra")[0].as_py()[0])


def test_text_missing_spellings_and_the_none_category(tmp_path):
    spellings = ["-NaN", "+nan", "NA", "n/a", "#N/A", "None", "null", ""]
    edits = {("monster.list.0.cond", row): text for row, text in enumerate(spellings)}
    edits[("monster.list.0.cond", 10)] = "none"
    cond = read_state_csv(_example(tmp_path, edits=edits)).column("monster.list.0.cond").to_pylist()
    assert cond[: len(spellings)] == [None] * len(spellings) and cond[10] == "none"


def test_an_infinite_id_is_refused(tmp_path):
    with pytest.raises(FormatError) as info:
        read_state_csv(_example(tmp_path, edits={("monster.list.0.type_id", 4): "inf"}))
    assert info.value.row == 4 and info.value.column == "monster.list.0.type_id"


def test_bad_utf8_late_in_the_file_names_row_and_column(tmp_path):
    path = _example(tmp_path, rows=100, edits={("monster.list.0.cond", 90): "angry"})
    data = path.read_bytes().splitlines(keepends=True)
    data[91] = data[91].replace(b"angry", b"an\xffgry")
    path.write_bytes(b"".join(data))
    with pytest.raises(FormatError) as info:
        read_state_csv(path)
    assert info.value.row == 90 and info.value.column == "monster.list.0.cond" and "UTF-8" in str(info.value)


def test_a_huge_cell_in_the_first_rows_is_a_format_error(tmp_path):
    with pytest.raises(FormatError):
        read_state_csv(_example(tmp_path, edits={("monster.list.0.cond", 2): "x" * 200_000}))


def test_blank_or_empty_rows_before_the_data_do_not_hide_it(tmp_path):
    path = _example(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    width = len(lines[0].split(","))
    plain = read_state_csv(path)
    blank = tmp_path / "blank.csv"
    blank.write_text(lines[0] + "\n" * 70 + "".join(lines[1:]))
    assert read_state_csv(blank).num_rows == plain.num_rows  # Arrow skips blank lines
    empty = tmp_path / "empty_rows.csv"
    empty.write_text(lines[0] + ("," * (width - 1) + "\n") * 70 + "".join(lines[1:]))
    table = read_state_csv(empty)  # a line of empty fields is a frame with every value missing
    assert table.num_rows == plain.num_rows + 70 and math.isnan(table.column("camera.pos")[0].as_py()[0])


def test_an_unknown_column_that_only_looks_like_tuples_stays_text(tmp_path):
    columns = example_state_columns(100, players=1, monsters=0, seed=2)
    columns["mod.note"] = ["nan"] * 80 + ["(1)"] * 10 + ["(ok)"] * 10
    table = read_state_csv(_write(tmp_path / "state.csv", columns))
    assert pa.types.is_string(table.schema.field("mod.note").type) and table.column("mod.note")[99].as_py() == "(ok)"


# ---------------------------------------------------------------- missing values at full speed (issue 12)

# The missing spellings docs/release-format.md lists, written out here (not imported) so that
# the independent parse below shares nothing with the reader. Numbers and tuples: all of them;
# text columns: all but the lower-case "none" category (Python's "None" is missing there too).
NUMBER_MISSING = ["", "nan", "NaN", "NAN", "-nan", "+nan", "-NaN", "None", "none", "NONE", "null", "NULL", "Null",
                  "NA", "na", "n/a", "N/A", "#N/A", "#n/a"]
TEXT_MISSING = ["", "nan", "NaN", "NAN", "-nan", "+nan", "-NaN", "None", "null", "NULL", "NA", "n/a", "N/A", "#N/A"]
_NUMBER_MISSING_LOWER = {word.lower() for word in NUMBER_MISSING}
_TEXT_MISSING_LOWER = {word.lower() for word in TEXT_MISSING if word != "None"}

_KINDS = {  # column -> (kind, tuple width), as the schema and docs/release-format.md type them
    "camera.K": ("tuple", 4), "camera.pos": ("tuple", 3), "camera.rot": ("tuple", 4),
    "npc.count": ("id", 0), "npc.tracking": ("id", 0), "monster.count": ("id", 0),
    "npc.list.0.member_id": ("id", 0), "npc.list.0.pos": ("tuple", 3), "npc.list.0.rot": ("tuple", 4),
    "npc.list.0.motion_id": ("id", 0), "npc.list.0.motion_frame": ("float", 0), "npc.list.0.hp": ("float", 0),
    "monster.list.0.type_id": ("id", 0), "monster.list.0.pos": ("tuple", 3), "monster.list.0.rot": ("tuple", 4),
    "monster.list.0.hp": ("float", 0), "monster.list.0.cond": ("text", 0),
}
_MONSTER = [name for name in _KINDS if name.startswith("monster.list.0.")]


def _independent_number(text: str) -> float:
    return math.nan if text.strip().lower() in _NUMBER_MISSING_LOWER else float(text)


def _independent_parse(path) -> dict[str, list]:
    """csv module + float, cell by cell: what every cell of the file means."""
    with open(path, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    out: dict[str, list] = {}
    for position, name in enumerate(header):
        kind, width = _KINDS[name]
        cells = [row[position] for row in rows]
        if kind == "tuple":
            out[name] = [
                [math.nan] * width if cell.strip().lower() in _NUMBER_MISSING_LOWER
                else [_independent_number(part) for part in cell.strip()[1:-1].split(",")]
                for cell in cells
            ]
        elif kind == "id":
            out[name] = [None if cell.strip().lower() in _NUMBER_MISSING_LOWER else int(cell) for cell in cells]
        elif kind == "float":
            out[name] = [_independent_number(cell) for cell in cells]
        else:
            out[name] = [None if cell == "None" or cell.strip().lower() in _TEXT_MISSING_LOWER else cell for cell in cells]
    return out


def _assert_same_floats(got: np.ndarray, want: np.ndarray, name: str) -> None:
    np.testing.assert_array_equal(got, want, err_msg=name)  # NaN equals NaN here
    present = ~np.isnan(want)  # and -0.0 stays -0.0
    assert np.array_equal(np.signbit(got[present]), np.signbit(want[present])), name


def _assert_matches_independent_parse(table: pa.Table, path) -> None:
    expected = _independent_parse(path)
    assert table.column_names == list(expected)
    for name, want in expected.items():
        kind, width = _KINDS[name]
        column = table.column(name).combine_chunks()
        if kind == "tuple":
            assert column.type == pa.list_(pa.float64(), width), name
            got = np.asarray(column.flatten()).reshape(-1, width)
            _assert_same_floats(got, np.array(want, dtype=float).reshape(-1, width), name)
        elif kind == "float":
            assert column.type == pa.float64(), name
            _assert_same_floats(column.to_numpy(zero_copy_only=False), np.array(want, dtype=float), name)
        else:
            assert column.type == (pa.int64() if kind == "id" else pa.string()), name
            assert column.to_pylist() == want, name


def _assert_fast_path_covers(path) -> None:
    """The declared-number read takes every scalar cell and the bulk parse vouches for every
    tuple column: nothing went to the careful path."""
    header, widths, _ = _sniff(path)
    table = _read_cells(path, header, widths, declare_numbers=True)  # raises if a scalar spelling needs the inferring read
    for name, width in widths.items():
        assert bulk_tuple_values(table.column(name).combine_chunks(), width) is not None, name


_number_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:.6e}"),
    st.integers(-10_000, 10_000).map(str),
    st.just("-0.0"),
)
_missing_text = st.sampled_from(NUMBER_MISSING)


@st.composite
def _tuple_cell(draw, width: int) -> str:
    if draw(st.integers(0, 3)) == 0:
        return draw(_missing_text)  # the whole cell
    separator = draw(st.sampled_from([", ", ","]))
    # Any spelling may stand for a component, the empty one too, except last (Python's "(1.0,)")
    components = [draw(st.one_of(_number_text, _missing_text)) for _ in range(width - 1)]
    components.append(draw(st.one_of(_number_text, st.sampled_from([word for word in NUMBER_MISSING if word]))))
    return "(" + separator.join(components) + ")"


def _cell(kind: str, width: int):
    if kind == "tuple":
        return _tuple_cell(width)
    if kind == "id":
        return st.one_of(st.integers(0, 2**40).map(str), _missing_text)
    if kind == "float":
        return st.one_of(_number_text, _missing_text)
    return st.one_of(st.sampled_from(["none", "angry", "stun", "parry"]), st.sampled_from(TEXT_MISSING))


@st.composite
def _state_file_cells(draw) -> dict[str, list[str]]:
    rows = draw(st.integers(1, 30))
    columns = {name: draw(st.lists(_cell(*_KINDS[name]), min_size=rows, max_size=rows)) for name in _KINDS}
    # The monster absent for a stretch: every one of its cells missing, in one spelling per column.
    start = draw(st.integers(0, rows - 1))
    stop = draw(st.integers(start, rows))
    for name in _MONSTER:
        spelling = draw(st.sampled_from(NUMBER_MISSING if _KINDS[name][0] != "text" else TEXT_MISSING))
        whole = spelling if _KINDS[name][0] != "tuple" or draw(st.booleans()) else "(" + ", ".join([spelling or "nan"] * _KINDS[name][1]) + ")"
        columns[name][start:stop] = [whole] * (stop - start)
    return columns


def _write_cells(path, columns: dict[str, list[str]]):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values()))
    return path


@settings(max_examples=40, deadline=None)
@given(columns=_state_file_cells())
def test_every_missing_spelling_reads_fast_and_cell_by_cell_like_an_independent_parse(tmp_path_factory, columns):
    path = _write_cells(tmp_path_factory.mktemp("csv") / "state.csv", columns)
    table = read_state_csv(path)
    _assert_matches_independent_parse(table, path)
    _assert_tables_equal(table, _careful(path))
    _assert_fast_path_covers(path)


def _realistic_columns(rows: int) -> dict[str, list]:
    """What real files look like (issue 12): camera cells empty on a few rows every 500 and
    all-NaN tuples on a few others; a monster absent for long stretches, written the way Python
    writes NaN (bare nan, (nan, nan, nan)) and the way pandas does (empty cells)."""
    base = example_state_columns(rows, players=1, monsters=1, seed=11)
    columns = {name: list(base[name]) for name in _KINDS}
    for block in range(0, rows, 500):
        for offset, spelling in ((7, ""), (91, ""), (250, None), (333, None)):
            if block + offset < rows:
                for name in ("camera.K", "camera.pos", "camera.rot"):
                    columns[name][block + offset] = spelling if spelling is not None else np.full(_KINDS[name][1], np.nan)
    python_style = {"monster.list.0.pos": "nan", "monster.list.0.rot": np.full(4, np.nan), "monster.list.0.type_id": "nan",
                    "monster.list.0.hp": "nan", "monster.list.0.cond": ""}
    for row in range(rows // 10, rows * 6 // 10):
        for name in _MONSTER:
            columns[name][row] = python_style[name]
    for row in range(rows * 8 // 10, rows * 9 // 10):
        for name in _MONSTER:
            columns[name][row] = ""
    return columns


def test_a_realistic_file_with_long_absences_reads_fast_and_like_an_independent_parse(tmp_path):
    path = _write(tmp_path / "state.csv", _realistic_columns(3000))  # several Arrow blocks
    table = read_state_csv(path)
    _assert_matches_independent_parse(table, path)
    _assert_tables_equal(table, _careful(path))
    _assert_fast_path_covers(path)
    pos = np.asarray(table.column("monster.list.0.pos").combine_chunks().flatten()).reshape(-1, 3)
    assert np.isnan(pos[300:1800]).all() and np.isnan(pos[2400:2700]).all() and not np.isnan(pos[:300]).any()


def test_a_realistic_file_reads_the_same_when_tuple_columns_go_chunk_by_chunk(tmp_path, monkeypatch):
    path = _write(tmp_path / "state.csv", _realistic_columns(3000))
    whole = read_state_csv(path)
    monkeypatch.setattr(state_csv, "_COMBINE_LIMIT", 0)  # as for a column past 2 GiB of text
    _assert_tables_equal(read_state_csv(path), whole)


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("column, bad", [("monster.list.0.pos", "(1.0, 2.0)"), ("camera.rot", "(1, 2, x, 4)"),
                                          ("monster.list.0.rot", "nan nan"), ("monster.list.0.hp", "lots")])
def test_a_malformed_cell_among_missing_values_is_named_deep_in_the_file(tmp_path, monkeypatch, chunked, column, bad):
    columns = _realistic_columns(3000)
    columns[column][2500] = bad
    if chunked:
        monkeypatch.setattr(state_csv, "_COMBINE_LIMIT", 0)
    with pytest.raises(FormatError) as info:
        read_state_csv(_write(tmp_path / "state.csv", columns))
    assert info.value.row == 2500 and info.value.column == column and str(tmp_path) in str(info.value)


@pytest.mark.parametrize("spelling", ["nULL", " nan ", "nAn", " None", "n/A"])
def test_odd_case_and_spaced_missing_spellings_still_read(tmp_path, spelling):
    """Spellings Arrow's null list does not hold take the slower reads, with the same meaning."""
    edits = {("npc.list.0.hp", 3): spelling, ("camera.pos", 4): spelling, ("monster.list.0.type_id", 5): spelling,
             ("camera.rot", 6): f"({spelling}, 1.0, 2.0, 3.0)"}
    table = read_state_csv(_example(tmp_path, edits=edits))
    assert math.isnan(table.column("npc.list.0.hp")[3].as_py())
    assert all(math.isnan(v) for v in table.column("camera.pos")[4].as_py())
    assert table.column("monster.list.0.type_id")[5].as_py() is None
    rot = table.column("camera.rot")[6].as_py()
    assert math.isnan(rot[0]) and rot[1:] == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------- the bulk tuple parser itself

_FRAGMENTS = ["(", ")", ",", ", ", " ", "1.5", "-0.0", "2e3", "7", "nan", "NaN", "-nan", "None", "null", "#N/A", "n/a",
              "", "inf", "x", "nan(1)", "1_0", ";", "\n", "(1.0, 2.0)", "()"]


@st.composite
def _any_tuple_text(draw, width: int) -> str:
    shape = draw(st.integers(0, 2))
    if shape == 0:
        return draw(_tuple_cell(width))
    if shape == 1:  # tuple-shaped, odd components, sometimes one too few or too many
        count = width + draw(st.integers(-1, 1))
        parts = ["".join(draw(st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=2))) for _ in range(count)]
        return "(" + draw(st.sampled_from([", ", ","])).join(parts) + ")"
    return "".join(draw(st.lists(st.sampled_from(_FRAGMENTS), max_size=8)))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), width=st.integers(2, 4), skip=st.integers(0, 2))
def test_bulk_tuple_parse_never_disagrees_with_the_cell_parser(data, width, skip):
    """Whatever the cells, the bulk parse either gives parse_tuple_cell's answer for every cell
    or gives up (the careful parse then decides): no value shifts between cells."""
    # Mostly writer-made cells around one odd one: the column is vouched for only if that one is.
    cells = data.draw(st.lists(_tuple_cell(width), max_size=6))
    cells.insert(data.draw(st.integers(0, len(cells))), data.draw(_any_tuple_text(width)))
    array = pa.array(["(9, 9, 9, 9)"] * skip + cells, pa.string())[skip:]  # a sliced array: offsets not at 0
    block = bulk_tuple_values(array, width)
    if block is None:
        return
    assert block.shape == (len(cells), width)
    for cell, row in zip(cells, block):
        want = np.array(parse_tuple_cell(cell, width), dtype=float)  # raises if the bulk parse took a bad cell
        np.testing.assert_array_equal(row, want, err_msg=repr(cell))
        assert np.array_equal(np.signbit(row[~np.isnan(want)]), np.signbit(want[~np.isnan(want)])), cell


@settings(max_examples=100, deadline=None)
@given(data=st.data(), width=st.integers(2, 4))
def test_bulk_tuple_parse_vouches_for_every_spelling_a_writer_produces(data, width):
    cells = data.draw(st.lists(_tuple_cell(width), min_size=1, max_size=12))
    block = bulk_tuple_values(pa.array(cells, pa.string()), width)
    assert block is not None
    np.testing.assert_array_equal(block, np.array([parse_tuple_cell(cell, width) for cell in cells], dtype=float))


@pytest.mark.parametrize("cell", ["(nan(1), 2.0)", "(1.0, 2.0,)", "((1.0, 2.0))", "(1.0; 2.0)", "(1.0 , 2.0)", "( 1.0,  2.0)"])
def test_bulk_tuple_parse_leaves_odd_cells_to_the_careful_parse(cell):
    assert bulk_tuple_values(pa.array(["(1.0, 2.0)", cell, "nan"]), 2) is None


@pytest.mark.parametrize("cells", [["(1, 2, 3)", "(4)"], ["(4)", "nan", "(1, 2, 3)"], ["(1, 2)", "(3, 4, 5)", "(6)", "(7, 8)"]])
def test_bulk_tuple_parse_counts_commas_per_tuple_not_per_column(cells):
    """The right number of commas in the column, but not in every tuple."""
    assert bulk_tuple_values(pa.array(cells), 2) is None
