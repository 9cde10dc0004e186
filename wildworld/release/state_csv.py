"""Read the release's ``state.csv`` into a typed ``pyarrow.Table``, fast.

Column typing (see ``schemas/state.v1.json`` and ``schemas/camera.v1.json``):

* tuple cells ``(a, b, ...)`` become ``fixed_size_list<double>[k]``; a missing tuple (bare
  ``nan``, an empty cell, or ``nan`` components) becomes NaN components;
* id columns of the schema become ``int64`` with nulls for missing values (``float64`` if a
  value is not integral); other numeric columns become ``float64`` with NaN for missing;
* text columns (``cond`` and unknown text) stay strings, with null for missing;
* unknown columns are kept: all-integer columns without gaps as ``int64``, other numeric ones
  as ``float64``, tuples as fixed-size lists, the rest as strings.

Missing values are any of ``MISSING_SPELLINGS`` (any case), anywhere: whole cells, tuple
components, empty cells (see ``_tuple_cells``).

Speed: the file is read once by Arrow's multi-threaded CSV parser, tuple cells kept as text
and the schema's numbers declared so Arrow parses them straight away. Each tuple column is
then parsed in bulk (``bulk_tuple_values``: comma positions found by NumPy in the column's
bytes, every component parsed by one Arrow cast of a zero-copy string array), a few columns at
a time on threads, whatever mix of tuples and missing spellings it holds. A column the bulk
parse cannot vouch for goes to the careful parse, which accepts every spelling the cell parser
does and names the row and column of a malformed cell; a file Arrow cannot read with declared
numbers is read again with inferred types, which names the cell or row at fault.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import FormatError, MissingFileError
from ..schemas import FieldSpec, load_record_schema, load_state_schema
from ._tuple_cells import (
    MISSING_SPELLINGS,
    bulk_tuple_values,
    careful_tuple_values,
    components_to_float,
    missing_mask,
    parse_number,
    parse_tuple_cell,
)

__all__ = ["read_state_csv", "parse_tuple_cell", "MISSING_SPELLINGS", "state_column_spec"]

#: Text cell spellings of a missing value (compared case-insensitively after trimming), plus
#: Python's ``None`` exactly. Lower-case ``none`` is not among them: it is a ``cond`` category.
TEXT_MISSING = tuple(word for word in MISSING_SPELLINGS if word != "none")
TEXT_MISSING_EXACT = ("None",)
#: What Arrow reads as null in number columns (other spellings, e.g. ``nAn``, are typed later).
_NULL_VALUES = sorted(
    {s for word in MISSING_SPELLINGS for s in (word, word.upper(), word.capitalize())} | {"NaN", "-NaN"}
)
_SNIFF_ROWS = 64
_FLOAT = pa.float64()
#: Tuple columns up to this much text are parsed in one piece (Arrow string offsets are int32).
_COMBINE_LIMIT = 2**31 - 1


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


# --------------------------------------------------------------------------- reading


def _text_types(header: list[str]) -> dict[str, pa.DataType]:
    """Schema text columns are read as text: inference would turn an all-``none`` column null."""
    return {name: pa.string() for name in header if (spec := state_column_spec(name)) is not None and spec.is_text}


def _number_types(header: list[str]) -> dict[str, pa.DataType]:
    """Schema numbers that are not ids, declared ``float64`` so that Arrow converts them
    without inferring a type first; ids stay inferred (int64 keeps every digit)."""
    return {
        name: _FLOAT
        for name in header
        if (spec := state_column_spec(name)) is not None and not (spec.is_text or spec.is_id or spec.width)
    }


def _read_cells(path: Path, header: list[str], widths: dict[str, int], *, declare_numbers: bool, source=None) -> pa.Table:
    """One multi-threaded Arrow read: tuple and text columns as text, numbers parsed, every
    missing spelling Arrow knows as null (other spellings are left as text and typed later)."""
    types = {**(_number_types(header) if declare_numbers else {}), **_text_types(header), **{name: pa.string() for name in widths}}
    return pcsv.read_csv(
        path if source is None else source,
        read_options=pcsv.ReadOptions(column_names=header, skip_rows=1),
        convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False, null_values=_NULL_VALUES),
    )


def _tuple_block(path: Path, column: pa.ChunkedArray | pa.Array, name: str, width: int, *, careful: bool = False) -> pa.Array:
    """A text column of tuples -> ``fixed_size_list<double>[width]``: in bulk where the bulk
    parse vouches for every cell, else carefully (naming the first malformed cell)."""
    if isinstance(column, pa.ChunkedArray):
        # One pass over the whole column; a column past 2 GiB of text goes chunk by chunk.
        chunks = [column.combine_chunks()] if column.nbytes < _COMBINE_LIMIT else column.chunks
        starts = np.cumsum([0] + [len(chunk) for chunk in chunks])
        parts = [_tuple_values(path, chunk, name, width, careful=careful, first_row=int(start)) for chunk, start in zip(chunks, starts)]
        block = np.concatenate(parts) if parts else np.empty((0, width))
    else:
        block = _tuple_values(path, column, name, width, careful=careful, first_row=0)
    return pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), width)


def _tuple_values(path: Path, array: pa.Array, name: str, width: int, *, careful: bool, first_row: int) -> np.ndarray:
    block = None if careful else bulk_tuple_values(array, width)
    if block is not None:
        return block
    try:
        return careful_tuple_values(path, array, name, width)
    except FormatError as exc:
        if first_row == 0 or exc.row is None:
            raise
        raise FormatError(exc.reason, path=path, row=exc.row + first_row, column=name) from None


def _read_columns(path: Path, header: list[str], widths: dict[str, int], *, careful: bool = False, source=None) -> dict[str, pa.Array]:
    """Every column, tuple columns parsed. The fast read declares the schema's numbers; if that
    read fails (text in a numeric column, a bad row), an inferring read finds the culprit."""
    table = None
    if not careful:
        try:
            table = _read_cells(path, header, widths, declare_numbers=True, source=source)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    if table is None:
        try:
            table = _read_cells(path, header, widths, declare_numbers=False, source=source)
        except pa.ArrowInvalid as exc:
            raise _describe_arrow_error(path, exc, header) from None
    tuple_names = [name for name in header if name in widths]

    def parse(name: str) -> pa.Array:
        return _tuple_block(path, table.column(name), name, widths[name], careful=careful)

    # NumPy and Arrow release the GIL on whole-column work, so tuple columns parse on a few threads.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        tuples = dict(zip(tuple_names, pool.map(parse, tuple_names)))
    return {name: tuples[name] if name in widths else table.column(name) for name in header}


def _read_careful(path: Path, header: list[str], widths: dict[str, int], source=None) -> dict[str, pa.Array]:
    """The reference read: inferred numbers and the careful tuple parse for every column."""
    return _read_columns(path, header, widths, careful=True, source=source)


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
        # A text column holds few distinct values (cond has nine): spell-check those, not every cell.
        values = pc.unique(text)
        missing = values.filter(pc.or_(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(values)), value_set=pa.array(list(TEXT_MISSING))),
                                       pc.is_in(values, value_set=pa.array(list(TEXT_MISSING_EXACT)))))
        if len(missing) == 0:
            return text
        return pc.if_else(pc.is_in(text, value_set=missing), pa.scalar(None, pa.string()), text)
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
            return pc.fill_null(column.cast(_FLOAT, safe=False), math.nan)  # past 2**53: the nearest double
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
        return pa.array(components_to_float(column))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for row, text in enumerate(column.to_pylist()):
            if text is None:
                continue
            try:
                parse_number(text)
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
        columns = _read_columns(path, header, widths)
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
    present = pc.invert(pc.fill_null(missing_mask(array), True))
    cells = pc.utf8_trim_whitespace(array).filter(present)
    if len(cells) == 0 or not pc.all(pc.and_(pc.starts_with(cells, "("), pc.ends_with(cells, ")"))).as_py():
        return column
    try:
        width = len(parse_tuple_cell(cells[0].as_py()) or ())
    except ValueError:
        width = 0
    if width == 0:
        return column
    try:
        return _tuple_block(path, array, name, width)
    except FormatError:  # not every present cell is a tuple of that width: keep the text
        return column
