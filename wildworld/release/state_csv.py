"""Read the release's ``state.csv`` into a typed ``pyarrow.Table``, fast.

Column typing (see ``schemas/state.v1.json`` and ``schemas/camera.v1.json``):

* tuple cells ``(a, b, ...)`` become ``fixed_size_list<double>[k]``; a missing tuple (bare
  ``nan``, an empty cell, or ``nan`` components) becomes NaN components;
* id columns of the schema become ``int64`` with nulls for missing values (``float64`` if a
  value is not integral); other numeric columns become ``float64`` with NaN for missing;
* text columns (``cond`` and unknown text) stay strings, with null for missing;
* unknown columns are kept: all-integer columns without gaps as ``int64``, other numeric ones
  as ``float64``, tuples as fixed-size lists, the rest as strings.

Speed: tuple cells are parsed in bulk by Arrow's multi-threaded CSV parser, never cell by
cell in Python. The fast path reads the file once with quoting disabled so that each tuple
splits into k plain fields; the inner components are parsed as floats in that same pass and
all first/last components (which carry the ``"(`` and ``)"``) are parsed together in one more
bulk call. Anything the fast path cannot prove well-formed sends the file to a careful path
(one Arrow parse per tuple column) that handles every missing-value spelling and names the row
and column of a malformed cell.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import FormatError, MissingFileError
from ..schemas import FieldSpec, load_record_schema, load_state_schema

__all__ = ["read_state_csv", "parse_tuple_cell", "MISSING_SPELLINGS", "state_column_spec"]

#: Numeric cell texts read as a missing value (compared case-insensitively).
MISSING_SPELLINGS = ("", "nan", "-nan", "+nan", "none", "null", "na", "n/a", "#n/a")
#: Text cell spellings of a missing value (compared case-insensitively after trimming), plus
#: Python's ``None`` exactly. Lower-case ``none`` is not among them: it is a ``cond`` category.
TEXT_MISSING = tuple(word for word in MISSING_SPELLINGS if word != "none")
TEXT_MISSING_EXACT = ("None",)
_NULL_VALUES = sorted(
    {s for word in MISSING_SPELLINGS for s in (word, word.upper(), word.capitalize())} | {"NaN", "-NaN"}
)
_SNIFF_ROWS = 64
_FLOAT = pa.float64()


class _FallBack(Exception):
    """The fast path cannot prove the file well-formed; use the careful path."""


# --------------------------------------------------------------------------- cells


def _parse_number(text: str) -> float:
    token = text.strip()
    if token.lower() in MISSING_SPELLINGS:
        return math.nan
    value = float(token)  # accepts 1e-3, -0.0, inf, nan
    return value


def parse_tuple_cell(text: str | None, width: int | None = None) -> tuple[float, ...] | None:
    """Parse one tuple cell such as ``"(1.0, nan, -2e-3)"``.

    Returns the components as floats (missing components as NaN), ``None`` for a missing cell
    (empty, ``nan``, ``None``...), or raises ``ValueError`` for anything else. With ``width``
    the number of components must match; a missing cell is then returned as NaNs.
    """
    if text is None or text.strip().lower() in MISSING_SPELLINGS:
        return None if width is None else (math.nan,) * width
    body = text.strip()
    if not (body.startswith("(") and body.endswith(")")):
        raise ValueError(f"expected a tuple like (x, y, z), found {text!r}")
    inner = body[1:-1].strip()
    parts = inner.split(",") if inner else []
    if len(parts) > 1 and parts[-1].strip() == "":  # Python's 1-tuple spelling "(5.0,)"
        parts = parts[:-1]
    try:
        values = tuple(_parse_number(part) for part in parts)
    except ValueError:
        raise ValueError(f"expected numbers inside the tuple, found {text!r}") from None
    if width is not None and len(values) != width:
        raise ValueError(f"expected {width} components, found {len(values)} in {text!r}")
    return values


# --------------------------------------------------------------------------- schema


def state_column_spec(column: str) -> FieldSpec | None:
    """The schema field behind a state.csv column (camera, global or entity), or ``None``."""
    for spec in load_record_schema("camera").fields:
        if spec.csv == column:
            return spec
    return load_state_schema().column_spec(column)


def _looks_like_tuple(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith("(") and stripped.endswith(")")


def _sniff(path: Path) -> tuple[list[str], dict[str, int], bool]:
    """Header names, the tuple width of every tuple column (schema, else the first rows), and
    whether any data row follows the header."""
    try:
        with open(path, "rb") as handle:
            head = handle.readline()
            sample_lines = [handle.readline() for _ in range(_SNIFF_ROWS)]
    except FileNotFoundError:
        raise MissingFileError(f"{path}: state.csv not found") from None
    except IsADirectoryError:
        raise FormatError("is a directory, expected a state.csv file", path=path) from None
    try:
        text = (head + b"".join(sample_lines)).decode("utf-8-sig")  # a leading byte-order mark is dropped
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    try:  # newline="": CR, LF and CRLF line endings alike (Arrow reads all three)
        rows = list(itertools.islice(csv.reader(io.StringIO(text, newline="")), _SNIFF_ROWS + 1))
    except csv.Error as exc:
        raise FormatError(f"malformed CSV in its first {_SNIFF_ROWS} rows: {exc}", path=path) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise FormatError("empty file: expected a header line with column names", path=path)
    header = rows[0]
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            raise FormatError("the header has an empty column name", path=path)
        if name in seen:
            raise FormatError("the header names this column twice", path=path, column=name)
        seen.add(name)
    widths: dict[str, int] = {}
    for col_index, name in enumerate(header):
        spec = state_column_spec(name)
        if spec is not None:
            if spec.width:
                widths[name] = spec.width
            continue
        for row in rows[1:]:
            if col_index < len(row) and _looks_like_tuple(row[col_index]):
                try:
                    parsed = parse_tuple_cell(row[col_index])
                except ValueError:
                    parsed = None  # the careful path will name this cell
                if parsed:
                    widths[name] = len(parsed)
                break
    # Arrow skips blank lines but reads a line of empty fields (",,,") as a row (all missing).
    has_rows = any(row for row in rows[1:]) or _content_after_header(path)
    return header, widths, has_rows


def _content_after_header(path: Path) -> bool:
    """Whether anything but blank lines follows the header anywhere in the file (the sniff
    looks at the first rows only; this runs only when those are all blank)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
        ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
        if not ends:
            return False
        chunk = head[min(ends) + 1 :]
        while True:
            if chunk.strip(b" \t\r\n"):
                return True
            chunk = handle.read(1 << 20)
            if not chunk:
                return False


# --------------------------------------------------------------------------- fast path


def _string_parts(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (into the data buffer) and data bytes of a string array, zero-copy."""
    if array.type != pa.string():
        raise _FallBack()
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8) if array.buffers()[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def _edge_values(column: pa.ChunkedArray, *, first: bool) -> np.ndarray:
    """Parse the first (``"(<x>``) or last (``<x>)"``) components of a tuple column.

    Zero-copy: a new string array over the same bytes alternates null "junk" entries (the
    ``"(`` or ``)"`` markers and surrounding spaces) with the numbers, so one Arrow cast parses
    all numbers. Anything unexpected (a missing marker, text inside a number) raises
    ``_FallBack``; nothing can shift silently between rows.
    """
    array = column.combine_chunks()
    n = len(array)
    if array.null_count or n == 0:
        raise _FallBack()
    offsets, data = _string_parts(array)
    starts, ends = offsets[:-1], offsets[1:]
    if np.any(ends - starts < 3):
        raise _FallBack()
    if first:
        ok = (data[starts] == ord('"')) & (data[starts + 1] == ord("("))
        value_start, value_end = starts + 2, ends.copy()
    else:
        ok = (data[ends - 1] == ord('"')) & (data[ends - 2] == ord(")"))
        value_start, value_end = starts.copy(), ends - 2
    if not ok.all():
        raise _FallBack()
    for _ in range(8):  # trim a few spaces on either side, vectorised
        lead = (value_start < value_end) & (data[np.minimum(value_start, len(data) - 1)] == ord(" "))
        trail = (value_end > value_start) & (data[np.maximum(value_end - 1, 0)] == ord(" "))
        if not (lead.any() or trail.any()):
            break
        value_start = value_start + lead
        value_end = value_end - trail
    interleaved = np.empty(2 * n + 2, dtype=np.int32)
    interleaved[0] = offsets[0]
    interleaved[1 : 2 * n : 2] = value_start
    interleaved[2 : 2 * n + 1 : 2] = value_end
    interleaved[-1] = offsets[-1]
    validity = np.full((2 * n + 1 + 7) // 8, 0b10101010, dtype=np.uint8)  # odd entries valid
    numbers = pa.StringArray.from_buffers(
        2 * n + 1, pa.py_buffer(interleaved), array.buffers()[2], pa.py_buffer(validity)
    )
    try:
        parsed = pc.cast(numbers, _FLOAT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _FallBack() from None
    # Null slots hold unspecified values; only the (valid) odd entries are read.
    values = np.frombuffer(parsed.buffers()[1], dtype=np.float64)[parsed.offset : parsed.offset + len(parsed)]
    return values[1::2]


def _text_types(header: list[str]) -> dict[str, pa.DataType]:
    """Schema text columns are read as text: inference would turn an all-``none`` column null."""
    return {name: pa.string() for name in header if (spec := state_column_spec(name)) is not None and spec.is_text}


def _read_fast(path: Path, header: list[str], widths: dict[str, int]) -> dict[str, pa.ChunkedArray | pa.Array]:
    """Quoting off: each tuple splits into k fields; inner ones parse as floats in this pass."""
    names: list[str] = []
    types: dict[str, pa.DataType] = _text_types(header)
    for name in header:
        width = widths.get(name)
        if not width:
            names.append(name)
            continue
        if width < 2:
            raise _FallBack()
        parts = [f"{name}\x00{i}" for i in range(width)]
        names += parts
        types.update({part: pa.string() for part in (parts[0], parts[-1])})
        types.update({part: _FLOAT for part in parts[1:-1]})
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(quote_char=False),
            convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=_NULL_VALUES),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _FallBack() from None
    n_rows = table.num_rows
    # Plain text columns must not have needed quoting (the fast path disabled it).
    for name in header:
        if name not in widths:
            column = table.column(name)
            if pa.types.is_string(column.type) and n_rows and pc.any(pc.starts_with(column, '"')).as_py():
                raise _FallBack()
    if n_rows == 0:
        raise _FallBack()

    def assemble(name: str) -> pa.Array:
        width = widths[name]
        block = np.empty((n_rows, width), dtype=np.float64)
        block[:, 0] = _edge_values(table.column(f"{name}\x000"), first=True)
        block[:, -1] = _edge_values(table.column(f"{name}\x00{width - 1}"), first=False)
        for i in range(1, width - 1):
            block[:, i] = table.column(f"{name}\x00{i}").to_numpy()
        return pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), width)

    # Arrow releases the GIL while casting, so tuple columns are assembled on a few threads.
    tuple_names = [name for name in header if name in widths]
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        tuples = dict(zip(tuple_names, pool.map(assemble, tuple_names)))
    return {name: tuples[name] if name in widths else table.column(name) for name in header}


# --------------------------------------------------------------------------- careful path


def _parse_cells(path: Path, cells: Sequence[str | None], column: str, width: int, row_ids: np.ndarray) -> np.ndarray:
    """Cell by cell with ``parse_tuple_cell`` (the reference): slow, used only when the bulk
    parse cannot vouch for a column. Raises ``FormatError`` naming the first bad cell."""
    out = np.empty((len(cells), width))
    for position, text in enumerate(cells):
        try:
            out[position] = parse_tuple_cell(text, width)
        except ValueError as exc:
            raise FormatError(str(exc), path=path, row=int(row_ids[position]), column=column) from None
    return out


def _parse_tuple_column(path: Path, column: pa.Array, name: str, width: int) -> pa.Array:
    """Careful bulk parse of one tuple column read as strings; names the first bad cell."""
    n_rows = len(column)
    if pa.types.is_null(column.type):
        return pa.FixedSizeListArray.from_arrays(pa.array(np.full(n_rows * width, np.nan)), width)
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    missing = pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(column)), value_set=pa.array(list(MISSING_SPELLINGS)))
    present = ~pc.fill_null(missing, True).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(present)
    cells = column.filter(pa.array(present)) if len(rows) != n_rows else column
    block = np.full((n_rows, width), np.nan)
    if len(rows):
        cells = pc.utf8_trim_whitespace(cells)
        offsets, data = _string_parts(cells)
        chunk = data[offsets[0] : offsets[-1]]
        starts = offsets[:-1] - offsets[0]
        ends = offsets[1:] - offsets[0]
        well_formed = bool(np.all(ends > starts)) and bool(
            np.all(chunk[starts] == ord("(")) and np.all(chunk[np.maximum(ends - 1, 0)] == ord(")"))
        )

        def per_cell(byte: str) -> np.ndarray:
            counts = np.concatenate([[0], np.cumsum(chunk == ord(byte))])
            return counts[ends] - counts[starts]

        # exactly one "(" and one ")" (the ends), width - 1 commas, no line breaks inside
        well_formed = well_formed and bool(
            np.all(per_cell(",") == width - 1) and np.all(per_cell("(") == 1) and np.all(per_cell(")") == 1)
            and not np.any(per_cell("\n")) and not np.any(per_cell("\r"))
        )
        if not well_formed:
            block[rows] = _parse_cells(path, cells.to_pylist(), name, width, rows)
            return pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), width)
        lut = np.arange(256, dtype=np.uint8)
        lut[ord("(")] = ord("\n")
        lut[ord(")")] = ord(" ")
        buffer = lut[chunk].tobytes()
        names = [str(i) for i in range(width)]
        try:
            parsed = pcsv.read_csv(
                io.BytesIO(buffer),
                read_options=pcsv.ReadOptions(column_names=names),
                parse_options=pcsv.ParseOptions(quote_char=False),
                convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}),
            )
            components = [_components_to_float(parsed.column(i)) for i in range(width)]
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            components = None
        if components is None or parsed.num_rows != len(rows):
            block[rows] = _parse_cells(path, cells.to_pylist(), name, width, rows)
        else:
            block[rows] = np.stack(components, axis=1)
    return pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), width)


def _components_to_float(strings: pa.ChunkedArray) -> np.ndarray:
    """Trimmed tuple components -> float64; every missing spelling (any case) becomes NaN."""
    trimmed = pc.utf8_trim_whitespace(strings)
    missing = pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(list(MISSING_SPELLINGS)))
    values = pc.cast(pc.if_else(missing, pa.scalar(None, pa.string()), trimmed), _FLOAT)
    return values.to_numpy()


def _read_careful(path: Path, header: list[str], widths: dict[str, int], source=None) -> dict[str, pa.Array]:
    types = {**_text_types(header), **{name: pa.string() for name in widths}}
    try:
        table = pcsv.read_csv(
            path if source is None else source,
            read_options=pcsv.ReadOptions(column_names=header, skip_rows=1),
            convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=_NULL_VALUES),
        )
    except pa.ArrowInvalid as exc:
        raise _describe_arrow_error(path, exc, header) from None
    out: dict[str, pa.Array] = {}
    for name in header:
        column = table.column(name).combine_chunks()
        out[name] = _parse_tuple_column(path, column, name, widths[name]) if name in widths else column
    return out


def _describe_arrow_error(path: Path, exc: Exception, header: list[str]) -> FormatError:
    """Name the first row whose field count is wrong, or the first cell that is not UTF-8
    (error path only: a Python scan)."""
    if "UTF8" in str(exc) or "UTF-8" in str(exc):
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row, fields in enumerate(reader):
                for column, cell in zip(header, fields):
                    if "\ufffd" in cell:
                        return FormatError("not UTF-8 text", path=path, row=row, column=column)
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row, fields in enumerate(reader):
            if len(fields) != len(header):
                return FormatError(f"malformed CSV: expected {len(header)} fields as in the header, found {len(fields)}", path=path, row=row)
    return FormatError(f"malformed CSV: {str(exc).splitlines()[0][:200]}", path=path)


# --------------------------------------------------------------------------- typing


def _type_column(path: Path, name: str, column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Give a parsed column its schema type (see the module docstring)."""
    if pa.types.is_fixed_size_list(column.type):
        return column
    spec = state_column_spec(name)
    n_rows = len(column)
    if (spec is not None and spec.is_text) or (spec is None and pa.types.is_string(column.type)):
        text = column if pa.types.is_string(column.type) else column.cast(pa.string())
        missing = pc.or_(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(text)), value_set=pa.array(list(TEXT_MISSING))),
                         pc.is_in(text, value_set=pa.array(list(TEXT_MISSING_EXACT))))
        return pc.if_else(missing, pa.scalar(None, pa.string()), text)
    if pa.types.is_null(column.type):
        if spec is not None and spec.is_id:
            return pa.nulls(n_rows, pa.int64())
        return pa.array(np.full(n_rows, np.nan))
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = _strings_to_float(path, name, column)
    if pa.types.is_boolean(column.type):
        column = column.cast(pa.int64())
    if pa.types.is_integer(column.type):
        if (spec is not None and not spec.is_id) or (spec is None and column.null_count):
            return pc.fill_null(column.cast(_FLOAT), math.nan)
        return column.cast(pa.int64())
    if pa.types.is_floating(column.type):
        column = column.cast(_FLOAT)
        if spec is not None and spec.is_id:
            values = column.to_numpy(zero_copy_only=False)
            infinite = np.flatnonzero(np.isinf(values))
            if len(infinite):
                raise FormatError(f"an id cannot be {values[infinite[0]]}", path=path, row=int(infinite[0]), column=name)
            finite = np.isfinite(values)
            if np.all(values[finite] == np.round(values[finite])) and np.all(np.abs(values[finite]) < 2**62):
                return pa.array(np.where(finite, values, 0).astype(np.int64), mask=~finite)
        return pc.fill_null(column, math.nan) if column.null_count else column
    raise FormatError(f"unexpected column type {column.type}", path=path, column=name)


def _strings_to_float(path: Path, name: str, column: pa.Array) -> pa.Array:
    """A numeric column that Arrow left as text (odd missing spellings, or a bad cell)."""
    try:
        return pa.array(_components_to_float(column))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for row, text in enumerate(column.to_pylist()):
            if text is None:
                continue
            try:
                _parse_number(text)
            except ValueError:
                raise FormatError(f"expected a number, found {text!r}", path=path, row=row, column=name) from None
        raise FormatError("expected numbers", path=path, column=name) from None


# --------------------------------------------------------------------------- public


def read_state_csv(path: str | os.PathLike[str]) -> pa.Table:
    """Read a release ``state.csv`` into a typed table (see the module docstring for types).

    Raises ``MissingFileError`` if the file is absent and ``FormatError`` naming the file, row
    (0-based frame index) and column of a malformed cell.
    """
    path = Path(path)
    header, widths, has_rows = _sniff(path)
    if not has_rows:  # a header alone (with or without its line break): zero typed rows
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(header)
        columns = _read_careful(path, header, widths, source=io.BytesIO(line.getvalue().encode()))
    else:
        try:
            columns = _read_fast(path, header, widths)
        except _FallBack:
            columns = _read_careful(path, header, widths)
    for name in header:
        if name not in widths and state_column_spec(name) is None:
            columns[name] = _late_tuple_column(path, name, columns[name])
    typed = {name: _type_column(path, name, columns[name]) for name in header}
    return pa.table(typed)


def _late_tuple_column(path: Path, name: str, column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """An unknown column whose first rows were all missing, so the sniff saw no tuple: if every
    present cell is a tuple, parse it as one (the width from the first)."""
    if not pa.types.is_string(column.type):
        return column
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    trimmed = pc.utf8_trim_whitespace(array)
    present = pc.invert(pc.fill_null(pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(list(MISSING_SPELLINGS))), True))
    cells = trimmed.filter(present)
    if len(cells) == 0 or not pc.all(pc.and_(pc.starts_with(cells, "("), pc.ends_with(cells, ")"))).as_py():
        return column
    try:
        width = len(parse_tuple_cell(cells[0].as_py()) or ())
    except ValueError:
        width = 0
    if width == 0:
        return column
    try:
        return _parse_tuple_column(path, array, name, width)
    except FormatError:  # not every present cell is a tuple of that width: keep the text
        return column
